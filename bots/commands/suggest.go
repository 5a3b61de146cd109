package commands

import (
	"context"
	"strings"

	"github.com/hbollon/go-edlib"
)

// Suggestions for near misses: "/cod binance", "code binance", a bare
// "binance", "/code binanse" all get "Did you mean /code binance?". Only
// commands and the asking person's own account names (what svc.List shows
// them: their own and their vaults') are ever suggested, so a typo cannot
// reveal anyone else's names.

// nearestName is the person's account name closest to word (within
// maxSuggestDistance edits), "" for none.
func (h *Handler) nearestName(ctx context.Context, person, word string) string {
	list, err := h.svc.List(ctx, person)
	if err != nil {
		return ""
	}
	word = strings.ToLower(word)
	best, bestD := "", maxSuggestDistance+1
	for _, a := range list {
		for _, n := range []string{a.Name(), a.Label} {
			d := edlib.OSADamerauLevenshteinDistance(word, strings.ToLower(n))
			if d < bestD && d < len([]rune(word)) {
				best, bestD = a.Name(), d
			}
		}
	}
	return best
}

// didYouMean is the suggestion for free text that is not a command:
// "code binance" or "binance". "" when nothing is near.
func (h *Handler) didYouMean(ctx context.Context, req Request, text string) string {
	fields := strings.Fields(text)
	if len(fields) == 0 || len(fields) > 2 || looksLikeSecret(strings.Join(fields[1:], " ")) {
		return ""
	}
	word := strings.ToLower(strings.TrimPrefix(fields[0], "/"))
	// Chat ("hello there") is not a command: only a command word typed
	// without its slash, or one edit from it, that takes an argument.
	if c, spelling := h.nearest(word); c != nil && len(fields) == 2 && c.args != "" && edlib.OSADamerauLevenshteinDistance(word, spelling) <= 1 {
		arg := fields[1]
		if n := h.nearestName(ctx, req.Person, arg); n != "" {
			arg = n
		}
		return req.printer().T("msg.did_you_mean", "Command", "/"+spelling+" "+arg)
	}
	if len(fields) == 1 {
		if n := h.nearestName(ctx, req.Person, word); n != "" {
			return req.printer().T("msg.did_you_mean", "Command", "/code "+n)
		}
	}
	return ""
}

// maxSuggestDistance is how far (in edits: a letter added, dropped,
// changed, or two swapped) a typo may be from a command to be suggested.
const maxSuggestDistance = 2

// nearest is the command (and its spelling) closest to word by optimal
// string alignment distance (Damerau–Levenshtein with adjacent swaps, so
// "unlokc" is one edit from "unlock"), nil when none is close enough.
func (h *Handler) nearest(word string) (*command, string) {
	var best *command
	bestName, bestD := "", maxSuggestDistance+1
	for _, c := range commandTable() {
		for _, n := range append([]string{c.name}, c.aliases...) {
			d := edlib.OSADamerauLevenshteinDistance(word, n)
			if d < bestD && d < len([]rune(word)) {
				best, bestName, bestD = c, n, d
			}
		}
	}
	return best, bestName
}
