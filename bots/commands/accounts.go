package commands

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
)

// One person's accounts: /code, /list, /add, /rename, /del,
// /recovery-codes and /check (core/accounts.go and core/verify.go).

// cmdCode: /code NAME gives one code; /code alone gives all codes, or a
// keyboard to pick from on platforms with buttons.
func (h *Handler) cmdCode(ctx context.Context, req Request, args string) []Reply {
	if args == "" {
		if req.Buttons && !req.Callback {
			return h.pickAccount(ctx, req, "Which account?")
		}
		codes, err := h.svc.Codes(ctx, req.Person)
		if err != nil {
			return h.fail(err)
		}
		return []Reply{h.codesReply(codes)}
	}
	query, reason := args, ""
	c, err := h.svc.Code(ctx, req.Person, query)
	var nf *core.NotFoundError
	if errors.As(err, &nf) && strings.Contains(args, " ") {
		// "/code team/aws REASON": names never hold spaces, so the rest
		// is the reason for an approval request.
		query, reason, _ = strings.Cut(args, " ")
		c, err = h.svc.Code(ctx, req.Person, query)
	}
	var need *core.ApprovalNeededError
	if errors.As(err, &need) {
		return h.codeWithApproval(ctx, req, query, strings.TrimSpace(reason), need)
	}
	if amb, ok := asAmbiguous(err); ok {
		return []Reply{h.choose(fmt.Sprintf("%d accounts match %q. Which one?", len(amb.Matches), args), amb.Matches, "/code")}
	}
	if errors.As(err, &nf) {
		if n := h.nearestName(ctx, req.Person, query); n != "" {
			return []Reply{{Parts: plain(fmt.Sprintf("No account matches %q. Did you mean /code %s?", query, n)), Sensitive: true}}
		}
	}
	if err != nil {
		return h.fail(err)
	}
	return []Reply{h.codeReply(c)}
}

// pickAccount answers with one button per account.
func (h *Handler) pickAccount(ctx context.Context, req Request, question string) []Reply {
	list, err := h.svc.List(ctx, req.Person)
	if err != nil {
		return h.fail(err)
	}
	if len(list) == 0 {
		return h.fail(core.ErrNoAccounts)
	}
	return []Reply{h.choose(question, list, "/code")}
}

// choose lists accounts as buttons whose data runs cmd on that account.
// Buttons carry the account id, not its name: ids always fit Telegram's
// 64-byte callback limit and never match the wrong account.
func (h *Handler) choose(question string, accounts []core.Summary, cmd string) Reply {
	r := Reply{Parts: plain(question), Sensitive: true}
	var row []Button
	for _, a := range accounts {
		row = append(row, Button{Label: a.Name(), Data: cmd + " #" + a.ID, Typed: cmd + " " + a.Name()})
		if len(row) == 2 {
			r.Buttons = append(r.Buttons, row)
			row = nil
		}
	}
	if row != nil {
		r.Buttons = append(r.Buttons, row)
	}
	return r
}

func (h *Handler) secondsLeft(c core.Code) int {
	return int(math.Ceil(c.ValidUntil.Sub(h.opts.Clock.Now()).Seconds()))
}

// nextCodeUnder: a code with fewer seconds left than this comes with the
// next one, since typing it takes a few seconds.
const nextCodeUnder = 5

func (h *Handler) codeReply(c core.Code) Reply {
	now := h.opts.Clock.Now()
	r := Reply{Sensitive: true, ExpiresAt: now.Add(h.opts.CodeDeleteAfter)}
	r.Parts = []Part{{Text: c.Account.Name() + ": "}, {Text: c.Code, Code: true}}
	if c.Account.Kind == otp.HOTP {
		r.Parts = append(r.Parts, Part{Text: " (counter-based: valid until you use it; the next /code gives a new one)"})
	} else if left := h.secondsLeft(c); left < nextCodeUnder && c.Next != "" && c.Period >= 2*nextCodeUnder*time.Second {
		// (Periods too short for that, a few seconds, only ever appear in
		// tests; their next code would be as short-lived.)
		// Too little time to type it: the next code, and from when.
		r.Parts = append(r.Parts, Part{Text: ", then "}, Part{Text: c.Next, Code: true},
			Part{Text: fmt.Sprintf(" from %s (%d s left on the first)", c.ValidUntil.In(now.Location()).Format("15:04:05"), left)})
		r.CodeValidUntil = c.ValidUntil.Add(c.Period)
	} else {
		r.Parts = append(r.Parts, Part{Text: fmt.Sprintf(" — valid for %d s", left)})
		r.CodeValidUntil = c.ValidUntil
	}
	r.Buttons = [][]Button{{{Label: "Refresh", Data: "/code #" + c.Account.ID, Typed: "/code " + c.Account.Name()}}}
	return r
}

func (h *Handler) codesReply(codes []core.Code) Reply {
	now := h.opts.Clock.Now()
	r := Reply{Sensitive: true, ExpiresAt: now.Add(h.opts.CodeDeleteAfter)}
	for i, c := range codes {
		if i > 0 {
			r.Parts = append(r.Parts, Part{Text: "\n"})
		}
		if c.Code == "" {
			r.Parts = append(r.Parts, Part{Text: c.Account.Name() + ": counter-based, send /code " + c.Account.Name()})
			continue
		}
		r.Parts = append(r.Parts, Part{Text: c.Account.Name() + ": "}, Part{Text: c.Code, Code: true},
			Part{Text: fmt.Sprintf(" — %d s", h.secondsLeft(c))})
		if r.CodeValidUntil.IsZero() || c.ValidUntil.Before(r.CodeValidUntil) {
			r.CodeValidUntil = c.ValidUntil
		}
	}
	r.Buttons = [][]Button{{{Label: "Refresh", Data: "/code"}}}
	return r
}

func (h *Handler) cmdList(ctx context.Context, req Request, args string) []Reply {
	list, err := h.svc.List(ctx, req.Person)
	if err != nil {
		return h.fail(err)
	}
	if len(list) == 0 {
		return h.fail(core.ErrNoAccounts)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Your accounts (%d):", len(list))
	for _, a := range list {
		b.WriteString("\n• " + a.Name())
		var extra []string
		if a.Issuer != "" && !strings.EqualFold(a.Issuer, a.Label) {
			extra = append(extra, a.Issuer)
		}
		if a.User != "" {
			extra = append(extra, a.User)
		}
		if a.Kind != otp.TOTP {
			extra = append(extra, strings.ToUpper(string(a.Kind)))
		}
		if len(extra) > 0 {
			b.WriteString(" (" + strings.Join(extra, ", ") + ")")
		}
	}
	return []Reply{{Parts: plain(b.String()), Sensitive: true}}
}

// cmdAdd: /add NAME KEY, /add LINK, /add NAME LINK, /add NAME (the next
// message is the key), /add alone.
func (h *Handler) cmdAdd(ctx context.Context, req Request, args string) []Reply {
	if args == "" {
		h.setPending(req.Person, pending{kind: "add"})
		return []Reply{{Parts: plain("Send me the new account as NAME KEY (for example: binance JBSW Y3DP EHPK 3PXP), or paste its otpauth:// link, or send a screenshot of its QR code. /cancel to stop.")}}
	}
	fields := strings.Fields(args)
	if len(fields) == 1 && !strings.Contains(strings.ToLower(args), "://") && !looksLikeKey(args) {
		label := core.CleanLabel(fields[0])
		h.setPending(req.Person, pending{kind: "add", label: label})
		return []Reply{{Parts: plain(fmt.Sprintf("Now send me the backup key for %s (the text shown next to the QR code while you set up 2FA). /cancel to stop.", label))}}
	}
	return h.addFromText(ctx, req, "", args)
}

// addFromText stores an account from "NAME KEY", "LINK", "NAME LINK" or,
// when label is given, a bare "KEY" or "LINK". The message carried a
// secret, so every reply asks for it to be deleted.
func (h *Handler) addFromText(ctx context.Context, req Request, label, text string) []Reply {
	deleted := deletionNote(req)
	text = strings.TrimSpace(text)
	lower := strings.ToLower(text)
	if strings.HasPrefix(lower, "otpauth-migration://") {
		return h.importText(ctx, req, text)
	}
	var key otp.Key
	if i := strings.Index(lower, "otpauth://"); i >= 0 {
		if label == "" && i > 0 {
			label = strings.TrimSpace(text[:i])
		}
		k, err := otp.ParseURI(text[i:])
		if err != nil {
			return []Reply{{Parts: plain(h.explain(err) + deleted), DeleteRequest: true, refused: true}}
		}
		key = k
	} else {
		var words []string
		if label == "" {
			fields := strings.Fields(text)
			if len(fields) < 2 {
				return []Reply{{Parts: plain("Give the account a name before the key, for example: /add binance JBSW Y3DP EHPK 3PXP." + deleted), DeleteRequest: true, refused: true}}
			}
			label, words = fields[0], fields[1:]
		} else {
			words = strings.Fields(text)
		}
		rd := readAddKey(label, words)
		switch {
		case rd.code > 0:
			return []Reply{{Parts: plain(fmt.Sprintf("That looks like a %d-digit code from an app, not the backup key; the backup key is the long text shown beside the QR code while you turn on two-factor login. Nothing was stored.", rd.code) + deleted), DeleteRequest: true, refused: true}}
		case rd.err != nil:
			return []Reply{{Parts: plain(h.explain(rd.err) + deleted), DeleteRequest: true, refused: true}}
		case rd.ask:
			name := core.CleanLabel(rd.label)
			h.setPending(req.Person, pending{kind: "confirm-add", label: name, secret: rd.secret})
			return []Reply{{Parts: plain(fmt.Sprintf("Is the name '%s' and the key %s? Answer yes or no.", name, maskedKey(rd.secret)) + deleted),
				DeleteRequest: true, Sensitive: true}}
		}
		key = otp.Key{Params: otp.Default(otp.TOTP)}
		key.Params.Secret = rd.secret
	}
	return h.storeKey(ctx, req, label, key)
}

// storeKey adds the account and shows the key as read, masked, so the
// person can compare it with the site.
func (h *Handler) storeKey(ctx context.Context, req Request, label string, key otp.Key) []Reply {
	deleted := deletionNote(req)
	sum, err := h.svc.Add(ctx, req.Person, core.NewAccount{Label: label, Key: key})
	if err != nil {
		return []Reply{{Parts: plain(h.explain(err) + deleted), DeleteRequest: true, refused: true}}
	}
	msg := fmt.Sprintf("Added %s. %s Send /code %s for its code.", sum.Name(), keyCheck(key.Params.Secret), sum.Name())
	if sum.Kind == otp.HOTP {
		msg += " It is counter-based: each /code uses the next counter."
	}
	return []Reply{{Parts: plain(msg + deleted), DeleteRequest: true, Sensitive: true}}
}

// answerAdd takes yes or no to "Is the name … and the key …?".
func (h *Handler) answerAdd(ctx context.Context, req Request, q pending, yes bool) []Reply {
	if !yes {
		return []Reply{{Parts: plain(fmt.Sprintf("OK, nothing was stored. Send it again as /add NAME KEY: the name as one word (for example %s), then the key exactly as the site shows it.", q.label))}}
	}
	key := otp.Key{Params: otp.Default(otp.TOTP)}
	key.Params.Secret = q.secret
	return h.storeKey(ctx, req, q.label, key)
}

func (h *Handler) cmdRename(ctx context.Context, req Request, args string) []Reply {
	fields := strings.Fields(args)
	if len(fields) > 2 {
		// Names are one word: say so, with the word they can use.
		joined := core.CleanLabel(strings.Join(fields[1:], " "))
		return []Reply{{Parts: plain(fmt.Sprintf("I did not rename %s: names are one word, so use %s (send /rename %s %s).", fields[0], joined, fields[0], joined)), Sensitive: true}}
	}
	if len(fields) != 2 {
		return []Reply{{Parts: plain("Use: /rename OLD NEW, for example /rename binance binance-main.")}}
	}
	old, err := h.svc.Resolve(ctx, req.Person, fields[0])
	if amb, ok := asAmbiguous(err); ok {
		return []Reply{{Parts: plain(fmt.Sprintf("I did not rename anything: %d accounts match %q (%s). Send /rename with the whole name.", len(amb.Matches), fields[0], labels(amb.Matches))), Sensitive: true}}
	}
	if err != nil {
		return h.fail(err)
	}
	sum, err := h.svc.Rename(ctx, req.Person, "#"+old.ID, fields[1])
	var taken *core.NameTakenError
	switch {
	case errors.As(err, &taken):
		return []Reply{{Parts: plain(fmt.Sprintf("I did not rename %s to %s: you already have an account called %s. Pick another name.", old.Name(), fields[1], taken.Label)), Sensitive: true}}
	case errors.Is(err, core.ErrBadLabel):
		return []Reply{{Parts: plain(fmt.Sprintf("I did not rename %s: %q is not usable as a name (one word of up to %d characters, for example kraken-pro; no / except before a vault name).", old.Name(), fields[1], core.MaxLabelLen)), Sensitive: true}}
	case err != nil:
		return h.fail(err)
	}
	return []Reply{{Parts: plain(fmt.Sprintf("Renamed %s to %s.", old.Name(), sum.Name())), Sensitive: true}}
}

// cmdDel asks first; "/del NAME yes" (or the button) deletes. The button
// carries the account id, so it deletes exactly what was shown.
func (h *Handler) cmdDel(ctx context.Context, req Request, args string) []Reply {
	if args == "" {
		return []Reply{{Parts: plain("Use: /del NAME. I will ask before deleting anything.")}}
	}
	query, confirmed := inlineYes(args)
	sum, err := h.svc.Resolve(ctx, req.Person, query)
	if amb, ok := asAmbiguous(err); ok {
		return []Reply{h.choose(fmt.Sprintf("%d accounts match %q. Which one do you want to delete?", len(amb.Matches), query), amb.Matches, "/del")}
	}
	if err != nil {
		return h.fail(err)
	}
	if !confirmed || !exactName(query, sum.Name(), sum.ID) {
		h.setPending(req.Person, pending{kind: "confirm-del", id: sum.ID, label: sum.Name()})
		q := "Delete %s? Its backup key will be gone from here for good; make sure 2FA is off at the service or the key is stored elsewhere. Answer yes or no."
		if confirmed {
			q = "Delete %s? I delete without asking only when the whole name comes before yes. Its backup key will be gone from here for good. Answer yes or no."
		}
		return []Reply{{
			Parts:     plain(fmt.Sprintf(q, sum.Name())),
			Buttons:   [][]Button{{{Label: "Yes, delete " + sum.Name(), Data: "/del #" + sum.ID + " yes", Typed: "/del " + sum.Name() + " yes"}, {Label: "Keep it", Data: "/cancel"}}},
			Sensitive: true,
		}}
	}
	if _, err := h.svc.Delete(ctx, req.Person, sum.ID); err != nil {
		return h.fail(err)
	}
	return []Reply{{Parts: plain(fmt.Sprintf("Deleted %s.", sum.Name())), Sensitive: true}}
}

// maxRecoveryCodes bounds how many codes one account keeps; services hand
// out 5 to 16.
const maxRecoveryCodes = 64

// cmdRecoveryCodes stores an account's one-time recovery codes: given in
// the same message, or in the next one.
func (h *Handler) cmdRecoveryCodes(ctx context.Context, req Request, args string) []Reply {
	name, codes, _ := strings.Cut(args, " ")
	if name == "" {
		return []Reply{{Parts: plain("Use: /recovery-codes NAME CODE1 CODE2 … (the one-time codes the service gave you). I delete your message after reading it.")}}
	}
	sum, err := h.svc.Resolve(ctx, req.Person, name)
	if err != nil {
		r := h.failReply(err)
		r.DeleteRequest = codes != ""
		return []Reply{r}
	}
	if strings.TrimSpace(codes) == "" {
		h.setPending(req.Person, pending{kind: "recovery-codes", label: "#" + sum.ID})
		return []Reply{{Parts: plain(fmt.Sprintf("Send me the recovery codes for %s, separated by spaces or new lines. I delete your message after reading it. /cancel to stop.", sum.Name())), Sensitive: true}}
	}
	return h.storeRecoveryCodes(ctx, req, "#"+sum.ID, codes)
}

func (h *Handler) storeRecoveryCodes(ctx context.Context, req Request, query, text string) []Reply {
	codes := strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == '\n' || r == '\t' || r == ',' || r == ';' })
	if len(codes) == 0 {
		return []Reply{{Parts: plain("I found no codes in that message. Nothing was changed."), DeleteRequest: true}}
	}
	if len(codes) > maxRecoveryCodes {
		return []Reply{{Parts: plain(fmt.Sprintf("That is %d codes; services give at most a few dozen. Nothing was changed.", len(codes))), DeleteRequest: true}}
	}
	for _, c := range codes {
		if len(c) > 64 {
			return []Reply{{Parts: plain("One of those codes is longer than 64 characters; that is not a recovery code. Nothing was changed."), DeleteRequest: true}}
		}
	}
	sum, err := h.svc.SetRecoveryCodes(ctx, req.Person, query, codes)
	if err != nil {
		r := h.failReply(err)
		r.DeleteRequest = true
		return []Reply{r}
	}
	return []Reply{{Parts: plain(fmt.Sprintf("Stored %d recovery %s for %s, sealed like its key. /recover %s shows how many are left.%s",
		len(codes), plural(len(codes), "code", "codes"), sum.Name(), sum.Name(), deletionNote(req))), DeleteRequest: true, Sensitive: true}}
}

// cmdCheck compares a code from the person's phone with the stored key.
func (h *Handler) cmdCheck(ctx context.Context, req Request, args string) []Reply {
	name, code, _ := strings.Cut(args, " ")
	code = strings.TrimSpace(code)
	if name == "" || code == "" {
		return []Reply{{Parts: plain("Use: /check NAME CODE with the code your phone's authenticator app shows now. It tells you whether the backup key stored here is right.")}}
	}
	sum, ok, err := h.svc.Check(ctx, req.Person, name, code)
	if errors.Is(err, otp.ErrCodeFormat) {
		return []Reply{{Parts: plain("That is not a code: send the digits your authenticator app shows for this account, for example /check " + core.CleanLabel(name) + " 123456.")}}
	}
	if err != nil {
		return h.fail(err)
	}
	if ok {
		return []Reply{{Parts: plain(fmt.Sprintf("It matches: the backup key stored for %s is right. I noted it as checked.", sum.Name())), Sensitive: true}}
	}
	return []Reply{{Parts: plain(fmt.Sprintf("That code does not match %s. Check that you typed the code your app shows for this account right now, and that both clocks are right. If it still does not match, the key stored here is wrong: /del it and add it again.", sum.Name())), Sensitive: true}}
}
