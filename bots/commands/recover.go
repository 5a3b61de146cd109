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
	g := h.recovery.Guide(h.printer(req).Tag(), st.Name, issuer, st)
	return []Reply{{Parts: plain(g.Text()), Sensitive: st.HaveKey}}
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
