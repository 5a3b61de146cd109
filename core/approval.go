package core

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
)

// Approval of codes.
//
// A vault can require approval: a member who is not an admin then gets a
// code only after an admin approved the request, for a while or once.
// Requests and grants live in memory (a restart forgets them: people ask
// again); every request and decision is in the audit log.

// ApprovalRequest is one member's request for a code.
type ApprovalRequest struct {
	ID      string
	Person  string // who asks
	Vault   string
	Account Summary
	Reason  string
	Admins  []string // who may decide
	Expires time.Time
}

// approvalTTL is how long a request waits for a decision.
const approvalTTL = 30 * time.Minute

// maxPendingApprovals bounds the requests kept in memory; one person may
// have maxPendingPerPerson open at once, so nobody can fill the table and
// keep everyone else's requests out.
const (
	maxPendingApprovals = 1000
	maxPendingPerPerson = 5
	maxGrants           = 10_000
	errTooManyApprovals = approvalError("too many pending approval requests")
	errTooManyOfYours   = approvalError("you have too many open approval requests; wait for an admin to decide them")
)

// OnceGrantTTL is how long an approval "once" waits for its code to be
// fetched.
const OnceGrantTTL = approvalTTL

type approvalError string

func (e approvalError) Error() string { return string(e) }

func (e approvalError) Is(target error) bool { return target == ErrTooManyRequests }

type grant struct {
	until time.Time // with once: when the unused grant lapses
	once  bool
}

type approvals struct {
	mu       sync.Mutex
	requests map[string]*ApprovalRequest
	grants   map[string]grant // person|vault|account id
}

func newApprovals() *approvals {
	return &approvals{requests: map[string]*ApprovalRequest{}, grants: map[string]grant{}}
}

func grantKey(person, vault, account string) string { return person + "|" + vault + "|" + account }

// checkApproval refuses a code from a vault that needs approval unless
// the person is an admin of it or holds a grant; a one-time grant is used
// up here.
func (s *Service) checkApproval(sp *spaces, v *vault, e *indexEntry) error {
	if !v.shared() || !v.meta.Approval || v.role == RoleAdmin {
		return nil
	}
	a := s.approvals
	a.mu.Lock()
	defer a.mu.Unlock()
	k := grantKey(sp.person, v.owner, e.ID)
	g, ok := a.grants[k]
	switch {
	case ok && g.once && s.now().Before(g.until):
		delete(a.grants, k)
		return nil
	case ok && s.now().Before(g.until):
		return nil
	case ok:
		delete(a.grants, k)
	}
	return &ApprovalNeededError{Vault: v.name, Account: v.sum(e)}
}

// SetApproval turns approval for codes on or off (vault admins only).
// Errors: ErrNoAccounts, *NoVaultError, *RoleError{Admin: true}.
func (s *Service) SetApproval(ctx context.Context, person, vaultName string, on bool) (VaultInfo, error) {
	var out VaultInfo
	err := s.update(ctx, person, false, func(sp *spaces) error {
		v, err := sp.adminVault(vaultName)
		if err != nil {
			return err
		}
		v.meta.Approval = on
		if err := v.saveMeta(); err != nil {
			return err
		}
		out = v.info()
		detail := "approval off"
		if on {
			detail = "approval on"
		}
		return s.auditTx(ctx, sp.tx, Event{Type: EventApproval, Person: person, Vault: v.name, Detail: detail})
	})
	return out, noVault(err, vaultName)
}

// RequestCode files a request for a code of the account query names in a
// vault that needs approval, and returns it with the admins to ask.
// Errors: as Resolve; ErrBadLabel if the account needs no approval.
func (s *Service) RequestCode(ctx context.Context, person, query, reason string) (ApprovalRequest, error) {
	// The reason goes to the admins and into the audit log: one line of
	// visible text, whatever was sent.
	reason = strings.TrimSpace(cleanAuditText(reason))
	var out ApprovalRequest
	err := s.update(ctx, person, false, func(sp *spaces) error {
		v, e, err := sp.find(query)
		if err != nil {
			return err
		}
		if !v.shared() || !v.meta.Approval || v.role == RoleAdmin {
			return ErrNoApprovalNeeded
		}
		out = ApprovalRequest{ID: newID()[:8], Person: person, Vault: v.name, Account: v.sum(e),
			Reason: reason, Expires: s.now().Add(approvalTTL)}
		for _, m := range v.meta.Members {
			if m.Role == RoleAdmin {
				out.Admins = append(out.Admins, m.Person)
			}
		}
		return s.auditTx(ctx, sp.tx, Event{Type: EventApproval, Person: person, Vault: v.name, Account: e.Label, Detail: "requested: " + reason})
	})
	if err != nil {
		return out, err
	}
	a := s.approvals
	a.mu.Lock()
	defer a.mu.Unlock()
	now := s.now()
	for id, r := range a.requests {
		if !now.Before(r.Expires) {
			delete(a.requests, id)
		}
	}
	mine := 0
	for _, r := range a.requests {
		if r.Person == person {
			mine++
		}
	}
	if mine >= maxPendingPerPerson {
		return ApprovalRequest{}, errTooManyOfYours
	}
	if len(a.requests) >= maxPendingApprovals {
		return ApprovalRequest{}, errTooManyApprovals
	}
	a.requests[out.ID] = &out
	return out, nil
}

// Decide approves (for d, or once when d is 0) or denies a request. Only
// an admin of the request's vault may. Errors: ErrNoRequest, *RoleError.
func (s *Service) Decide(ctx context.Context, admin, id string, approve bool, d time.Duration) (ApprovalRequest, error) {
	a := s.approvals
	a.mu.Lock()
	r, ok := a.requests[id]
	a.mu.Unlock()
	if !ok || !s.now().Before(r.Expires) {
		return ApprovalRequest{}, ErrNoRequest
	}
	req := *r
	err := s.update(ctx, admin, false, func(sp *spaces) error {
		v, err := sp.adminVault(req.Vault)
		if err != nil {
			return err
		}
		detail := "denied"
		if approve {
			detail = "approved once"
			if d > 0 {
				detail = "approved for " + d.String()
			}
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if _, ok := a.requests[id]; !ok {
			return ErrNoRequest // another admin decided meanwhile
		}
		delete(a.requests, id)
		if approve {
			g := grant{once: d == 0, until: s.now().Add(OnceGrantTTL)}
			if d > 0 {
				g.until = s.now().Add(d)
			}
			a.sweepGrants(s.now())
			a.grants[grantKey(req.Person, v.owner, req.Account.ID)] = g
		}
		return s.auditTx(ctx, sp.tx, Event{Type: EventApproval, Person: admin, Vault: v.name, Account: req.Account.Label, Subject: req.Person, Detail: detail})
	})
	if err != nil {
		var nv *NoVaultError
		if errors.As(err, &nv) {
			return ApprovalRequest{}, ErrNoRequest
		}
		return ApprovalRequest{}, err
	}
	return req, nil
}

// sweepGrants drops lapsed grants, and when the table is still full the
// ones that lapse first; a.mu is held.
func (a *approvals) sweepGrants(now time.Time) {
	for k, g := range a.grants {
		if !now.Before(g.until) {
			delete(a.grants, k)
		}
	}
	for len(a.grants) >= maxGrants {
		var first string
		for k, g := range a.grants {
			if first == "" || g.until.Before(a.grants[first].until) {
				first = k
			}
		}
		delete(a.grants, first)
	}
}
