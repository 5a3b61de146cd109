package commands

import (
	"context"
	"fmt"
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
		return []Reply{{Parts: plain(fmt.Sprintf("Codes in %s need an admin's approval. Send /code %s REASON, for example /code %s deploy fix, and I will ask them.",
			need.Vault, need.Account.Name(), need.Account.Name())), Sensitive: true}}
	}
	if len(reason) > 200 {
		reason = reason[:200]
	}
	ar, err := h.svc.RequestCode(ctx, req.Person, query, reason)
	if err != nil {
		return h.fail(err)
	}
	out := []Reply{{Parts: plain(fmt.Sprintf("I asked the admins of %s (%s) to approve a code for %s. You get it here once one of them does.",
		ar.Vault, strings.Join(ar.Admins, ", "), ar.Account.Name())), Sensitive: true}}
	for _, admin := range ar.Admins {
		out = append(out, Reply{
			To:        admin,
			Sensitive: true,
			Parts:     plain(fmt.Sprintf("%s asks for a code for %s: %q. Approve?", ar.Person, ar.Account.Name(), ar.Reason)),
			Buttons: [][]Button{{
				{Label: fmt.Sprintf("Approve %d min", int(defaultApproval.Minutes())), Data: "/approve " + ar.ID},
				{Label: "Once", Data: "/approve " + ar.ID + " once"},
				{Label: "Deny", Data: "/deny " + ar.ID},
			}},
			ExpiresAt: ar.Expires,
		})
	}
	return out
}

func (h *Handler) cmdApprove(ctx context.Context, req Request, args string) []Reply {
	fields := strings.Fields(args)
	if len(fields) == 0 || len(fields) > 2 {
		return []Reply{{Parts: plain("Use: /approve ID [once|MINUTES] — the buttons under a request do this for you.")}}
	}
	d := defaultApproval
	if len(fields) == 2 {
		if fields[1] == "once" {
			d = 0
		} else if m, err := strconv.Atoi(fields[1]); err == nil && m > 0 && m <= 24*60 {
			d = time.Duration(m) * time.Minute
		} else {
			return []Reply{{Parts: plain("Say once, or a number of minutes up to 1440.")}}
		}
	}
	ar, err := h.svc.Decide(ctx, req.Person, fields[0], true, d)
	if err != nil {
		return h.fail(err)
	}
	how := "once"
	if d > 0 {
		how = "for " + waitWords(d)
	}
	out := []Reply{{Parts: plain(fmt.Sprintf("Approved %s: %s gets codes for %s %s.", ar.ID, ar.Person, ar.Account.Name(), how)), Sensitive: true}}
	if d == 0 {
		// A one-time grant is used up by the code it lets through, so the
		// member fetches that code in their own chat: were it sent from
		// here, a member with no identity on this platform would never
		// see it and the grant would be gone.
		return append(out, Reply{To: ar.Person, Sensitive: true,
			Parts:   plain(fmt.Sprintf("%s approved your request for one code for %s. Send /code %s (or tap below) within %s to get it.", req.Person, ar.Account.Name(), ar.Account.Name(), waitWords(core.OnceGrantTTL))),
			Buttons: [][]Button{{{Label: "Get the code", Data: "/code #" + ar.Account.ID}}}})
	}
	// A timed grant is not used up: the member's code goes straight to
	// their private chat (and /code gets another while the grant lasts).
	c, err := h.svc.Code(ctx, ar.Person, "#"+ar.Account.ID)
	if err != nil {
		msg, _ := h.describe(err)
		return append(out, Reply{To: ar.Person, Parts: plain(msg)})
	}
	r := h.codeReply(c)
	r.To = ar.Person
	r.Parts = append([]Part{{Text: req.Person + " approved your request.\n"}}, r.Parts...)
	return append(out, r)
}

func (h *Handler) cmdDeny(ctx context.Context, req Request, args string) []Reply {
	id := strings.TrimSpace(args)
	if id == "" || strings.Contains(id, " ") {
		return []Reply{{Parts: plain("Use: /deny ID — the buttons under a request do this for you.")}}
	}
	ar, err := h.svc.Decide(ctx, req.Person, id, false, 0)
	if err != nil {
		return h.fail(err)
	}
	return []Reply{
		{Parts: plain(fmt.Sprintf("Denied: %s gets no code for %s.", ar.Person, ar.Account.Name())), Sensitive: true},
		{To: ar.Person, Parts: plain(fmt.Sprintf("%s did not approve your request for a code for %s.", req.Person, ar.Account.Name())), Sensitive: true},
	}
}
