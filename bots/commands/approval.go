package commands

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/authbot/authbot/core"
)

// Approvals: in a vault that needs them, "/code team/aws REASON" asks the
// vault's admins (replies with To set, delivered to their private chats),
// whose buttons run /approve ID [once|MINUTES] or /deny ID; the member
// then gets the code (or the refusal) in their own private chat.

// defaultApproval is how long one tap on "Approve" lets codes through.
const defaultApproval = 15 * time.Minute

// codeWithApproval handles a code request that core refused for want of
// approval: with a reason it files the request, without one it asks for it.
func (h *Handler) codeWithApproval(ctx context.Context, req Request, query, reason string, need *core.ApprovalNeededError) []Reply {
	if reason == "" {
		return []Reply{{Parts: plain(req.printer().T("approval.need_reason", "Vault", need.Vault, "Name", need.Account.Name())), Sensitive: true}}
	}
	if len(reason) > 200 {
		reason = reason[:200]
	}
	ar, err := h.svc.RequestCode(ctx, req.Person, query, reason)
	if err != nil {
		return h.fail(req, err)
	}
	out := []Reply{{Parts: plain(req.printer().T("approval.asked", "Vault", ar.Vault, "Admins", strings.Join(ar.Admins, ", "), "Name", ar.Account.Name())), Sensitive: true}}
	for _, admin := range ar.Admins {
		// In the admin's language, not the asker's.
		ap := h.to(ctx, admin).printer()
		out = append(out, Reply{
			To:        admin,
			Sensitive: true,
			Parts:     plain(ap.T("approval.request", "Person", ar.Person, "Name", ar.Account.Name(), "Reason", ar.Reason)),
			Buttons: [][]Button{{
				{Label: ap.T("approval.button_approve", "Minutes", int(defaultApproval.Minutes())), Data: "/approve " + ar.ID},
				{Label: ap.T("approval.button_once"), Data: "/approve " + ar.ID + " once"},
				{Label: ap.T("approval.button_deny"), Data: "/deny " + ar.ID},
			}},
			ExpiresAt: ar.Expires,
		})
	}
	return out
}

func (h *Handler) cmdApprove(ctx context.Context, req Request, args string) []Reply {
	fields := strings.Fields(args)
	if len(fields) == 0 || len(fields) > 2 {
		return []Reply{{Parts: plain(req.printer().T("approval.approve_usage"))}}
	}
	d := defaultApproval
	if len(fields) == 2 {
		if fields[1] == "once" {
			d = 0
		} else if m, err := strconv.Atoi(fields[1]); err == nil && m > 0 && m <= 24*60 {
			d = time.Duration(m) * time.Minute
		} else {
			return []Reply{{Parts: plain(req.printer().T("approval.bad_minutes"))}}
		}
	}
	ar, err := h.svc.Decide(ctx, req.Person, fields[0], true, d)
	if err != nil {
		return h.fail(req, err)
	}
	msg := req.printer().T("approval.approved_once", "ID", ar.ID, "Person", ar.Person, "Name", ar.Account.Name())
	if d > 0 {
		msg = req.printer().T("approval.approved_for", "ID", ar.ID, "Person", ar.Person, "Name", ar.Account.Name(), "Wait", waitWords(req.printer(), d))
	}
	out := []Reply{{Parts: plain(msg), Sensitive: true}}
	member := h.to(ctx, ar.Person)
	mp := member.printer()
	if d == 0 {
		// A one-time grant is used up by the code it lets through, so the
		// member fetches that code in their own chat: were it sent from
		// here, a member with no identity on this platform would never
		// see it and the grant would be gone.
		return append(out, Reply{To: ar.Person, Sensitive: true,
			Parts:   plain(mp.T("approval.granted_once", "Admin", req.Person, "Name", ar.Account.Name(), "Wait", waitWords(mp, core.OnceGrantTTL))),
			Buttons: [][]Button{{{Label: mp.T("approval.button_get_code"), Data: "/code #" + ar.Account.ID}}}})
	}
	// A timed grant is not used up: the member's code goes straight to
	// their private chat (and /code gets another while the grant lasts).
	c, err := h.svc.Code(ctx, ar.Person, "#"+ar.Account.ID)
	if err != nil {
		msg, _ := h.describe(member, err)
		return append(out, Reply{To: ar.Person, Parts: plain(msg)})
	}
	r := h.codeReply(member, c)
	r.To = ar.Person
	r.Parts = append([]Part{{Text: mp.T("approval.granted", "Admin", req.Person) + "\n"}}, r.Parts...)
	return append(out, r)
}

func (h *Handler) cmdDeny(ctx context.Context, req Request, args string) []Reply {
	id := strings.TrimSpace(args)
	if id == "" || strings.Contains(id, " ") {
		return []Reply{{Parts: plain(req.printer().T("approval.deny_usage"))}}
	}
	ar, err := h.svc.Decide(ctx, req.Person, id, false, 0)
	if err != nil {
		return h.fail(req, err)
	}
	return []Reply{
		{Parts: plain(req.printer().T("approval.denied", "Person", ar.Person, "Name", ar.Account.Name())), Sensitive: true},
		{To: ar.Person, Parts: plain(h.to(ctx, ar.Person).printer().T("approval.denied_member", "Admin", req.Person, "Name", ar.Account.Name())), Sensitive: true},
	}
}
