package commands

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/lang"
)

// One person's accounts: /code, /list, /add, /rename, /del,
// /recovery-codes and /check (core/accounts.go and core/verify.go).

// cmdCode: /code NAME gives one code; /code alone gives all codes, or a
// keyboard to pick from on platforms with buttons.
func (h *Handler) cmdCode(ctx context.Context, req Request, args string) []Reply {
	if args == "" {
		if req.Buttons && !req.Callback {
			return h.pickAccount(ctx, req, req.printer().T("code.which"))
		}
		codes, err := h.svc.Codes(ctx, req.Person)
		if err != nil {
			return h.fail(req, err)
		}
		return []Reply{h.codesReply(req, codes)}
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
		return []Reply{h.choose(req.printer().N("code.which_of", len(amb.Matches), "Query", args), amb.Matches, "/code")}
	}
	if errors.As(err, &nf) {
		if n := h.nearestName(ctx, req.Person, query); n != "" {
			return []Reply{{Parts: plain(req.printer().T("code.not_found_near", "Query", query, "Name", n)), Sensitive: true}}
		}
	}
	if err != nil {
		return h.fail(req, err)
	}
	return []Reply{h.codeReply(req, c)}
}

// pickAccount answers with one button per account.
func (h *Handler) pickAccount(ctx context.Context, req Request, question string) []Reply {
	list, err := h.svc.List(ctx, req.Person)
	if err != nil {
		return h.fail(req, err)
	}
	if len(list) == 0 {
		return h.fail(req, core.ErrNoAccounts)
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
// next one, since typing it takes a few seconds. core gives the next code
// under core.NextCodeWithin, which must be longer (TestNextCodeOffered).
const nextCodeUnder = 5

func (h *Handler) codeReply(req Request, c core.Code) Reply {
	p := req.printer()
	now := h.opts.Clock.Now()
	r := Reply{Sensitive: true, ExpiresAt: now.Add(h.opts.CodeDeleteAfter)}
	r.Parts = []Part{{Text: c.Account.Name() + ": "}, {Text: c.Code, Code: true}}
	if c.Account.Kind == otp.HOTP {
		r.Parts = append(r.Parts, Part{Text: " " + p.T("code.hotp")})
	} else if left := h.secondsLeft(c); left < nextCodeUnder && c.Next != "" && c.Period >= 2*nextCodeUnder*time.Second {
		// (Periods too short for that, a few seconds, only ever appear in
		// tests; their next code would be as short-lived.)
		// Too little time to type it: the next code, and from when.
		r.Parts = append(r.Parts, sayN(p, "code.then_next", left, "Next", lang.Code(c.Next), "From", c.ValidUntil.In(now.Location()).Format("15:04:05"))...)
		r.CodeValidUntil = c.ValidUntil.Add(c.Period)
	} else {
		r.Parts = append(r.Parts, Part{Text: p.N("code.valid_for", left)})
		r.CodeValidUntil = c.ValidUntil
	}
	r.Buttons = [][]Button{{{Label: p.T("code.button_refresh"), Data: "/code #" + c.Account.ID, Typed: "/code " + c.Account.Name()}}}
	return r
}

func (h *Handler) codesReply(req Request, codes []core.Code) Reply {
	p := req.printer()
	now := h.opts.Clock.Now()
	r := Reply{Sensitive: true, ExpiresAt: now.Add(h.opts.CodeDeleteAfter)}
	for i, c := range codes {
		if i > 0 {
			r.Parts = append(r.Parts, Part{Text: "\n"})
		}
		if c.Code == "" {
			r.Parts = append(r.Parts, Part{Text: c.Account.Name() + ": " + p.T("code.hotp_all", "Name", c.Account.Name())})
			continue
		}
		r.Parts = append(r.Parts, Part{Text: c.Account.Name() + ": "}, Part{Text: c.Code, Code: true},
			Part{Text: p.N("code.left_short", h.secondsLeft(c))})
		if r.CodeValidUntil.IsZero() || c.ValidUntil.Before(r.CodeValidUntil) {
			r.CodeValidUntil = c.ValidUntil
		}
	}
	r.Buttons = [][]Button{{{Label: p.T("code.button_refresh"), Data: "/code"}}}
	return r
}

func (h *Handler) cmdList(ctx context.Context, req Request, args string) []Reply {
	list, err := h.svc.List(ctx, req.Person)
	if err != nil {
		return h.fail(req, err)
	}
	if len(list) == 0 {
		return h.fail(req, core.ErrNoAccounts)
	}
	var b strings.Builder
	b.WriteString(req.printer().N("list.title", len(list)))
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
		return []Reply{{Parts: plain(req.printer().T("add.ask"))}}
	}
	fields := strings.Fields(args)
	if len(fields) == 1 && !strings.Contains(strings.ToLower(args), "://") && !looksLikeKey(args) {
		label := core.CleanLabel(fields[0])
		h.setPending(req.Person, pending{kind: "add", label: label})
		return []Reply{{Parts: plain(req.printer().T("add.ask_key", "Name", label))}}
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
			return []Reply{{Parts: plain(h.explain(req, err) + deleted), DeleteRequest: true, refused: true}}
		}
		key = k
	} else if name, ok := webLink(text); ok {
		// A web page's address where the key belongs: no character of it
		// is "bad", the whole thing is the wrong kind of text.
		if label != "" {
			name = label
		}
		if name = core.CleanLabel(name); name == "" {
			name = "NAME"
		}
		parts := say(req.printer(), "add.web_link", "Command", lang.Code("/add "+name+" KEY"))
		if deleted != "" {
			parts = append(parts, plain(deleted)...)
		}
		return []Reply{{Parts: parts, DeleteRequest: true, refused: true}}
	} else {
		var words []string
		if label == "" {
			fields := strings.Fields(text)
			if len(fields) < 2 {
				return []Reply{{Parts: plain(req.printer().T("add.no_name") + deleted), DeleteRequest: true, refused: true}}
			}
			label, words = fields[0], fields[1:]
		} else {
			words = strings.Fields(text)
		}
		rd := readAddKey(label, words)
		switch {
		case rd.code > 0:
			return []Reply{{Parts: plain(req.printer().T("add.looks_like_code", "Digits", rd.code) + deleted), DeleteRequest: true, refused: true}}
		case rd.err != nil:
			return []Reply{{Parts: plain(h.explain(req, rd.err) + deleted), DeleteRequest: true, refused: true}}
		case rd.ask:
			name := core.CleanLabel(rd.label)
			h.setPending(req.Person, pending{kind: "confirm-add", label: name, secret: rd.secret})
			return []Reply{{Parts: plain(req.printer().T("add.confirm", "Name", name, "Key", maskedKey(rd.secret)) + deleted),
				DeleteRequest: true, Sensitive: true}}
		}
		key = otp.Key{Params: otp.Default(otp.TOTP)}
		key.Params.Secret = rd.secret
	}
	return h.storeKey(ctx, req, label, key)
}

// webLink reports whether text holds a web address where a key belongs
// ("/add kraken https://www.kraken.com/…"), with the account name typed
// before it, if any.
func webLink(text string) (name string, ok bool) {
	fields := strings.Fields(text)
	for i, f := range fields {
		l := strings.ToLower(f)
		if strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "www.") {
			if i > 0 {
				name = fields[0]
			}
			return name, true
		}
	}
	return "", false
}

// storeKey adds the account and shows the key as read, masked, so the
// person can compare it with the site.
func (h *Handler) storeKey(ctx context.Context, req Request, label string, key otp.Key) []Reply {
	deleted := deletionNote(req)
	sum, err := h.svc.Add(ctx, req.Person, core.NewAccount{Label: label, Key: key})
	if err != nil {
		return []Reply{{Parts: plain(h.explain(req, err) + deleted), DeleteRequest: true, refused: true}}
	}
	p := req.printer()
	msg := p.T("add.added", "Name", sum.Name(), "Check", keyCheck(p, key.Params.Secret))
	if sum.Kind == otp.HOTP {
		msg += " " + p.T("add.added_hotp")
	}
	return []Reply{{Parts: plain(msg + deleted), DeleteRequest: true, Sensitive: true}}
}

// answerAdd takes yes or no to "Is the name … and the key …?".
func (h *Handler) answerAdd(ctx context.Context, req Request, q pending, yes bool) []Reply {
	if !yes {
		return []Reply{{Parts: plain(req.printer().T("add.confirm_no", "Name", q.label))}}
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
		return []Reply{{Parts: plain(req.printer().T("rename.one_word", "Old", fields[0], "New", joined)), Sensitive: true}}
	}
	if len(fields) != 2 {
		return []Reply{{Parts: plain(req.printer().T("rename.usage"))}}
	}
	old, err := h.svc.Resolve(ctx, req.Person, fields[0])
	if amb, ok := asAmbiguous(err); ok {
		return []Reply{{Parts: plain(req.printer().N("rename.ambiguous", len(amb.Matches), "Query", fields[0], "Names", labels(amb.Matches))), Sensitive: true}}
	}
	if err != nil {
		return h.fail(req, err)
	}
	sum, err := h.svc.Rename(ctx, req.Person, "#"+old.ID, fields[1])
	var taken *core.NameTakenError
	switch {
	case errors.As(err, &taken):
		return []Reply{{Parts: plain(req.printer().T("rename.taken", "Old", old.Name(), "New", fields[1], "Taken", taken.Label)), Sensitive: true}}
	case errors.Is(err, core.ErrBadLabel):
		return []Reply{{Parts: plain(req.printer().T("rename.bad_name", "Old", old.Name(), "New", fields[1], "Max", core.MaxLabelLen)), Sensitive: true}}
	case err != nil:
		return h.fail(req, err)
	}
	return []Reply{{Parts: plain(req.printer().T("rename.done", "Old", old.Name(), "New", sum.Name())), Sensitive: true}}
}

// cmdDel asks first; "/del NAME yes" (or the button) deletes. The button
// carries the account id, so it deletes exactly what was shown.
func (h *Handler) cmdDel(ctx context.Context, req Request, args string) []Reply {
	if args == "" {
		return []Reply{{Parts: plain(req.printer().T("del.usage"))}}
	}
	query, confirmed := inlineYes(args)
	sum, err := h.svc.Resolve(ctx, req.Person, query)
	if amb, ok := asAmbiguous(err); ok {
		return []Reply{h.choose(req.printer().N("del.which", len(amb.Matches), "Query", query), amb.Matches, "/del")}
	}
	if err != nil {
		return h.fail(req, err)
	}
	if !confirmed || !exactName(query, sum.Name(), sum.ID) {
		h.setPending(req.Person, pending{kind: "confirm-del", id: sum.ID, label: sum.Name()})
		p := req.printer()
		q := p.T("del.confirm", "Name", sum.Name())
		if confirmed {
			q = p.T("del.confirm_whole", "Name", sum.Name())
		}
		return []Reply{{
			Parts:     plain(q),
			Buttons:   [][]Button{{{Label: p.T("del.button_yes", "Name", sum.Name()), Data: "/del #" + sum.ID + " yes", Typed: "/del " + sum.Name() + " yes"}, {Label: p.T("del.button_keep"), Data: "/cancel"}}},
			Sensitive: true,
		}}
	}
	if _, err := h.svc.Delete(ctx, req.Person, sum.ID); err != nil {
		return h.fail(req, err)
	}
	return []Reply{{Parts: plain(req.printer().T("del.done", "Name", sum.Name())), Sensitive: true}}
}

// maxRecoveryCodes bounds how many codes one account keeps; services hand
// out 5 to 16.
const maxRecoveryCodes = 64

// cmdRecoveryCodes stores an account's one-time recovery codes: given in
// the same message, or in the next one.
func (h *Handler) cmdRecoveryCodes(ctx context.Context, req Request, args string) []Reply {
	name, codes, _ := strings.Cut(args, " ")
	if name == "" {
		return []Reply{{Parts: plain(req.printer().T("rc.usage"))}}
	}
	sum, err := h.svc.Resolve(ctx, req.Person, name)
	if err != nil {
		r := h.failReply(req, err)
		r.DeleteRequest = codes != ""
		return []Reply{r}
	}
	if strings.TrimSpace(codes) == "" {
		h.setPending(req.Person, pending{kind: "recovery-codes", label: "#" + sum.ID})
		return []Reply{{Parts: plain(req.printer().T("rc.ask", "Name", sum.Name())), Sensitive: true}}
	}
	return h.storeRecoveryCodes(ctx, req, "#"+sum.ID, codes)
}

func (h *Handler) storeRecoveryCodes(ctx context.Context, req Request, query, text string) []Reply {
	codes := strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == '\n' || r == '\t' || r == ',' || r == ';' })
	if len(codes) == 0 {
		return []Reply{{Parts: plain(req.printer().T("rc.none")), DeleteRequest: true}}
	}
	if len(codes) > maxRecoveryCodes {
		return []Reply{{Parts: plain(req.printer().N("rc.too_many", len(codes))), DeleteRequest: true}}
	}
	for _, c := range codes {
		if len(c) > 64 {
			return []Reply{{Parts: plain(req.printer().T("rc.too_long")), DeleteRequest: true}}
		}
	}
	sum, err := h.svc.SetRecoveryCodes(ctx, req.Person, query, codes)
	if err != nil {
		r := h.failReply(req, err)
		r.DeleteRequest = true
		return []Reply{r}
	}
	return []Reply{{Parts: plain(req.printer().N("rc.stored", len(codes), "Name", sum.Name()) + deletionNote(req)), DeleteRequest: true, Sensitive: true}}
}

// cmdCheck compares a code from the person's phone with the stored key.
func (h *Handler) cmdCheck(ctx context.Context, req Request, args string) []Reply {
	name, code, _ := strings.Cut(args, " ")
	code = strings.TrimSpace(code)
	if name == "" || code == "" {
		return []Reply{{Parts: plain(req.printer().T("check.usage"))}}
	}
	sum, ok, err := h.svc.Check(ctx, req.Person, name, code)
	if errors.Is(err, otp.ErrCodeFormat) {
		return []Reply{{Parts: plain(req.printer().T("check.not_a_code", "Name", core.CleanLabel(name)))}}
	}
	if err != nil {
		return h.fail(req, err)
	}
	if ok {
		return []Reply{{Parts: plain(req.printer().T("check.match", "Name", sum.Name())), Sensitive: true}}
	}
	return []Reply{{Parts: plain(req.printer().T("check.no_match", "Name", sum.Name())), Sensitive: true}}
}
