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
			return []Reply{{Parts: plain(req.printer().T("recover.not_a_code")), DeleteRequest: true}}
		}
		if err != nil {
			return h.fail(req, err)
		}
		return []Reply{{Parts: plain(req.printer().N("recover.marked_used", sum.RecoveryLeft, "Name", sum.Name())),
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
		return []Reply{h.choose(req.printer().N("code.which_of", len(amb.Matches), "Query", args), amb.Matches, "/recover")}
	case errors.Is(err, core.ErrNoAccounts), isNotFound(err):
		// Guidance for a service whose key is not stored here.
	default:
		return h.fail(req, err)
	}
	base := h.recovery()
	if base == nil {
		return []Reply{{Parts: plain(req.printer().T("recover.unavailable")), failed: true}}
	}
	// The whole answer comes from core/recovery, so the screen-size and
	// wording tests there measure exactly what the person reads.
	g := base.Guide(h.printer(req).Tag(), st.Name, issuer, st)
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
		return h.fail(req, err)
	}
	if len(list) == 0 {
		return h.fail(req, core.ErrNoAccounts)
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
	p := req.printer()
	var b strings.Builder
	if len(todo) == 0 {
		b.WriteString(p.T("checklist.all_good"))
	} else {
		b.WriteString(p.N("checklist.todo", len(todo)))
	}
	for i, a := range todo {
		if i == checklistMax {
			b.WriteString("\n• " + p.N("checklist.more", len(todo)-checklistMax))
			break
		}
		fmt.Fprintf(&b, "\n• /check %s CODE", a.Name())
	}
	if len(todo) > 0 {
		b.WriteString("\n" + p.T("checklist.code_is"))
	}
	for i, a := range low {
		if i == 2 {
			break
		}
		b.WriteString("\n" + p.N("checklist.low", a.RecoveryLeft, "Name", a.Name()))
	}
	b.WriteString("\n" + p.T("checklist.lost_phone"))
	return []Reply{{Parts: plain(b.String()), Sensitive: true}}
}
