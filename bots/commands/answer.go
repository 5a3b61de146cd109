package commands

import (
	"context"
	"strings"
)

// Questions the bot asks ("Delete binance?", "Show the backup key?", "Is
// the name … and the key …?") take a plain yes or no as the next message.

// yesNo reads an answer: yes, no, or neither.
func yesNo(text string) (yes, no bool) {
	switch strings.ToLower(strings.Trim(strings.TrimSpace(text), ".!")) {
	// The questions are asked in the person's language, so the answer may
	// come in any of them (es, pt-BR, ru, uk, tr, id, de after English).
	case "yes", "y", "yeah", "yep", "ok", "okay", "sure",
		"sí", "si", "sim", "да", "так", "evet", "ya", "iya", "ja":
		return true, false
	case "no", "n", "nope", "cancel", "stop",
		"não", "nao", "нет", "ні", "hayır", "hayir", "tidak", "nein":
		return false, true
	}
	return false, false
}

// answer takes the reply to a pending question; anything but yes or no
// asks again (and keeps the question).
func (h *Handler) answer(ctx context.Context, req Request, q pending, text string) []Reply {
	yes, no := yesNo(text)
	if !yes && !no {
		h.setPending(req.Person, q)
		return []Reply{{Parts: plain(req.printer().T("answer.yes_or_no"))}}
	}
	switch q.kind {
	case "confirm-add":
		return h.answerAdd(ctx, req, q, yes)
	case "confirm-del":
		if no {
			return []Reply{{Parts: plain(req.printer().T("answer.kept", "Name", q.label)), Sensitive: true}}
		}
		return h.cmdDel(ctx, req, "#"+q.id+" yes")
	case "confirm-export":
		if no {
			return []Reply{{Parts: plain(req.printer().T("answer.not_shown", "Name", q.label)), Sensitive: true}}
		}
		return h.cmdExport(ctx, req, "#"+q.id+" yes")
	}
	return []Reply{{Parts: plain(req.printer().T("answer.ok"))}}
}

// inlineYes splits "NAME yes" off a command's arguments. An inline yes
// counts only after the exact account name (or a button's #id): a prefix
// such as "/del b yes" must never delete binance unasked.
func inlineYes(args string) (query string, yes bool) {
	query, yes = strings.CutSuffix(args, " yes")
	return query, yes
}

// exactName: query names the account exactly (any case) or by id.
func exactName(query, name, id string) bool {
	return strings.EqualFold(strings.TrimSpace(query), name) || strings.EqualFold(strings.TrimSpace(query), "#"+id)
}
