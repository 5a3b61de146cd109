package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/recovery"
)

// maxRecoveryCodes bounds how many codes one account keeps; services hand
// out 5 to 16.
const maxRecoveryCodes = 64

// cmdRecover: /recover NAME gives guidance for that service; /recover NAME
// used CODE marks a recovery code used; /recover alone is a checklist.
func (h *Handler) cmdRecover(ctx context.Context, req Request, args string) []Reply {
	if args == "" {
		return h.recoverChecklist(ctx, req)
	}
	query, used, isUse := strings.Cut(args, " used ")
	if isUse {
		sum, err := h.svc.UseRecoveryCode(ctx, req.Person, query, strings.TrimSpace(used))
		if errors.Is(err, core.ErrNotRecoveryCode) {
			return []Reply{{Parts: plain("That is not one of the unused recovery codes stored for this account. Nothing was changed."), DeleteRequest: true}}
		}
		if err != nil {
			return h.fail(err)
		}
		return []Reply{{Parts: plain(fmt.Sprintf("Marked as used. %s has %d unused recovery %s left.", sum.Name(), sum.RecoveryLeft, plural(sum.RecoveryLeft, "code", "codes"))),
			DeleteRequest: true, Sensitive: true}}
	}
	st := h.recoveryState(args)
	issuer := ""
	sum, err := h.svc.Resolve(ctx, req.Person, args)
	var amb *core.AmbiguousError
	switch {
	case err == nil:
		st.Name, st.HaveKey, issuer = sum.Label, true, sum.Issuer
		st.Steam = sum.Kind == otp.Steam
		st.Confirmed = sum.Confirmed
		st.HasRecoveryCodes, st.RecoveryCodesLeft = sum.RecoveryCodes > 0, sum.RecoveryLeft
	case errors.As(err, &amb):
		return []Reply{h.choose(fmt.Sprintf("%d accounts match %q. Which one?", len(amb.Matches), args), amb.Matches, "/recover")}
	case errors.Is(err, core.ErrNoAccounts), isNotFound(err):
		// Guidance for a service whose key is not stored here.
	default:
		return h.fail(err)
	}
	if h.recovery == nil {
		return []Reply{{Parts: plain("Recovery guidance is not available right now."), failed: true}}
	}
	// The whole answer comes from core/recovery, so the screen-size and
	// wording tests there measure exactly what the person reads.
	g := h.recovery.Guide(recovery.English, st.Name, issuer, st)
	return []Reply{{Parts: plain(g.Text()), Sensitive: st.HaveKey}}
}

func isNotFound(err error) bool {
	var nf *core.NotFoundError
	return errors.As(err, &nf)
}

func (h *Handler) recoveryState(name string) recovery.State {
	return recovery.State{Name: core.CleanLabel(name)}
}

// checklistMax bounds the accounts the checklist names, so it stays one
// phone screen; the count says how many more there are.
const checklistMax = 6

// recoverChecklist lists the accounts that would be hardest to get back:
// those with neither a /check (so the stored key is unproven) nor recovery
// codes, each with the one command that fixes it.
func (h *Handler) recoverChecklist(ctx context.Context, req Request) []Reply {
	list, err := h.svc.List(ctx, req.Person)
	if err != nil {
		return h.fail(err)
	}
	if len(list) == 0 {
		return h.fail(core.ErrNoAccounts)
	}
	var todo, low []core.Summary
	for _, a := range list {
		if a.RecoveryCodes == 0 && !a.Confirmed {
			todo = append(todo, a)
		}
		if a.RecoveryCodes > 0 && a.RecoveryLeft <= 2 {
			low = append(low, a)
		}
	}
	var b strings.Builder
	switch len(todo) {
	case 0:
		b.WriteString("Every account here is checked against your phone or has recovery codes stored.")
	case 1:
		b.WriteString("One account has neither a /check nor recovery codes. Fix it while your phone still works:")
	default:
		fmt.Fprintf(&b, "%d accounts have neither a /check nor recovery codes. Fix each while your phone still works:", len(todo))
	}
	for i, a := range todo {
		if i == checklistMax {
			fmt.Fprintf(&b, "\n• and %d more: /list shows them all.", len(todo)-checklistMax)
			break
		}
		fmt.Fprintf(&b, "\n• /check %s CODE", a.Name())
	}
	if len(todo) > 0 {
		b.WriteString("\nCODE is what your phone's authenticator app shows now for that account.")
	}
	for i, a := range low {
		if i == 2 {
			break
		}
		if a.RecoveryLeft == 1 {
			fmt.Fprintf(&b, "\n%s has 1 unused recovery code left: make new ones at the service.", a.Name())
		} else {
			fmt.Fprintf(&b, "\n%s has %d unused recovery codes left: make new ones at the service.", a.Name(), a.RecoveryLeft)
		}
	}
	b.WriteString("\nLost a phone? /recover NAME says what to do.")
	return []Reply{{Parts: plain(b.String()), Sensitive: true}}
}

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
