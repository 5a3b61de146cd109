package commands

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Command prefixes.
//
// Platforms differ in how a command starts. Telegram and the console use
// "/". On Matrix, Element intercepts every "/word" it does not know (an
// "Unknown command" dialog) and runs its own /help, /invite, /join and
// /remove (a kick!) itself (Element Web's SlashCommands.tsx), so those never
// reach a bot; Matrix bots use "!" instead, and the Matrix adapter sets
// Request.Prefix to MatrixPrefix.
//
// The handler keeps one canonical form, "/word": a request whose text starts
// with its prefix and a command word is turned into "/word" before anything
// else looks at it, so the secret, rate-limit and group rules (and the
// command table they come from) see exactly what a "/" command gets. Its
// replies are written with "/word" and rewritten to the request's prefix on
// the way out (Localize). "/" keeps working on every platform, for clients
// that pass it through.

// DefaultPrefix is the canonical command prefix, and the one used when a
// Request names none.
const DefaultPrefix = "/"

// MatrixPrefix is the prefix Matrix people type ("!code binance").
const MatrixPrefix = "!"

// prefixOf is the prefix texts for req should show.
func prefixOf(req Request) string {
	if req.Prefix == "" {
		return DefaultPrefix
	}
	return req.Prefix
}

// isCommandWord reports whether w (lower case) names a command of the
// table, by its name or an alias.
func isCommandWord(w string) bool {
	if w == "" {
		return false
	}
	for _, c := range commandTable() {
		if c.name == w || slices.Contains(c.aliases, w) {
			return true
		}
	}
	return false
}

// canonical is Canonical for one request: besides command words, any
// "!word" is read as a command (an unknown one gets the unknown-command
// rules: a suggestion, and deletion when its arguments look secret, as for
// "/word") unless the bot waits for an answer from the person, which may
// well start with "!".
func (h *Handler) canonical(req Request) string {
	prefix := req.Prefix
	if prefix == "" || prefix == DefaultPrefix {
		return req.Text
	}
	if c := Canonical(prefix, req.Text); c != req.Text || h.hasPending(req.Person) {
		return c
	}
	rest, ok := strings.CutPrefix(strings.TrimLeft(req.Text, " \t\r\n"), prefix)
	if ok && rest != "" && (rest[0] >= 'a' && rest[0] <= 'z' || rest[0] >= 'A' && rest[0] <= 'Z') {
		return DefaultPrefix + rest
	}
	return req.Text
}

// Canonical turns text that starts with prefix and a command word ("!code
// binance") into the canonical form ("/code binance"). Only command words
// count, so an answer to a question that happens to start with the prefix
// (a passphrase "!Secret1") stays what it is. Leading white space is kept
// out of the result's prefix check, as splitCommand trims it anyway.
func Canonical(prefix, text string) string {
	if prefix == "" || prefix == DefaultPrefix {
		return text
	}
	trimmed := strings.TrimLeft(text, " \t\r\n")
	rest, ok := strings.CutPrefix(trimmed, prefix)
	if !ok {
		return text
	}
	if isCommandWord(leadingWord(rest)) {
		return DefaultPrefix + rest
	}
	return text
}

// leadingWord is the lower-cased command word at the start of s: up to a
// space, a line break or "@" (as splitCommand reads it).
func leadingWord(s string) string {
	end := strings.IndexAny(s, " \t\r\n@")
	if end < 0 {
		end = len(s)
	}
	return strings.ToLower(s[:end])
}

// Localize rewrites the command mentions ("/code", "/help") in replies'
// texts, captions and button labels to prefix. Button data stays canonical:
// adapters send it back as it is. A "/" counts only at the start of a word
// and only before a command word, so links (otpauth://totp/…), paths and
// account names like team/code are left alone.
func Localize(prefix string, replies []Reply) []Reply {
	if prefix == "" || prefix == DefaultPrefix {
		return replies
	}
	out := make([]Reply, len(replies))
	for i, r := range replies {
		if len(r.Parts) > 0 {
			parts := make([]Part, len(r.Parts))
			for j, p := range r.Parts {
				parts[j] = Part{Text: localizeText(prefix, p.Text), Code: p.Code}
			}
			r.Parts = parts
		}
		for _, f := range []**File{&r.Image, &r.File} {
			if *f != nil && (*f).Caption != "" {
				c := **f
				c.Caption = localizeText(prefix, c.Caption)
				*f = &c
			}
		}
		if len(r.Buttons) > 0 {
			rows := make([][]Button, len(r.Buttons))
			for j, row := range r.Buttons {
				rows[j] = make([]Button, len(row))
				for k, b := range row {
					rows[j][k] = Button{Label: localizeText(prefix, b.Label), Data: b.Data}
				}
			}
			r.Buttons = rows
		}
		out[i] = r
	}
	return out
}

func localizeText(prefix, s string) string {
	if !strings.Contains(s, DefaultPrefix) {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '/' || !wordStart(s, i) {
			continue
		}
		j := i + 1
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		if j < len(s) && (s[j] == '/' || s[j] == ':') && j+1 < len(s) && s[j+1] != ' ' {
			continue // a path or a link, not a command
		}
		if !isCommandWord(strings.ToLower(s[i+1 : j])) {
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(prefix)
		last = i + 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// wordStart: the "/" at i begins a word (start of text, after white space
// or an opening bracket or quote).
func wordStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	switch r {
	case ' ', '\n', '\t', '(', '[', '"', '\'', '“', '‘', '«':
		return true
	}
	return false
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
