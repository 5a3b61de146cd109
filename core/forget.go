package core

import (
	"context"
	"errors"
	"strings"
)

// Removal is complete: when a person goes, so does everything that could
// act for them or bring them back — their open link codes (a stale /link
// code would re-create them), the invites they made or that name them,
// their approval requests (as requester) and the grants they hold.

// forgetPerson drops name's in-memory link codes, approval requests and
// grants. Called after the removal's transaction committed.
func (s *Service) forgetPerson(name string) {
	l := s.links
	l.mu.Lock()
	for c, lc := range l.codes {
		if strings.EqualFold(lc.person, name) {
			delete(l.codes, c)
		}
	}
	l.mu.Unlock()
	a := s.approvals
	a.mu.Lock()
	for id, r := range a.requests {
		if strings.EqualFold(r.Person, name) {
			delete(a.requests, id)
		}
	}
	prefix := strings.ToLower(name) + "|"
	for k := range a.grants {
		if strings.HasPrefix(strings.ToLower(k), prefix) {
			delete(a.grants, k)
		}
	}
	a.mu.Unlock()
}

// dropInvitesTx deletes, inside tx, the invites made by name or made for
// name.
func (s *Service) dropInvitesTx(tx Tx, name string) error {
	ids, err := tx.List(kindInvite, "")
	if err != nil {
		return err
	}
	for _, id := range ids {
		ref := Ref{Kind: kindInvite, ID: id}
		var inv invite
		ok, err := getPeople(s, tx, ref, &inv)
		if err != nil {
			var bad *CorruptRecordError
			if errors.As(err, &bad) {
				continue // verify reports it; removal must not fail on it
			}
			return err
		}
		if ok && (strings.EqualFold(inv.By, name) || strings.EqualFold(inv.Name, name)) {
			if err := tx.Delete(ref); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
	}
	return nil
}

// personExists reports whether name has a people record.
func (s *Service) personExists(ctx context.Context, name string) (bool, error) {
	var ok bool
	err := s.store.View(ctx, func(tx Tx) error {
		var p Person
		var err error
		ok, err = getPeople(s, tx, s.peopleRef(name), &p)
		return err
	})
	return ok, err
}

// requirePersonTx refuses a link code whose runtime person is gone.
func (s *Service) requirePersonTx(tx Tx, lc linkCode) error {
	if !lc.runtime {
		return nil
	}
	var p Person
	ok, err := getPeople(s, tx, s.peopleRef(lc.person), &p)
	if err != nil {
		return err
	}
	if !ok {
		return ErrLinkInvalid
	}
	return nil
}

// PruneInvites deletes the open invites made by someone who is no longer a
// person (known says who is: config users and runtime people), so taking
// an admin out of the config also takes back the invites they handed out.
// serve calls it at start-up. It returns how many were deleted. An invite
// that does not open is left alone. Errors: a Store error.
func (s *Service) PruneInvites(ctx context.Context, known func(name string) bool) (int, error) {
	n := 0
	err := s.writeTx(ctx, func(tx Tx) error {
		n = 0
		ids, err := tx.List(kindInvite, "")
		if err != nil {
			return err
		}
		for _, id := range ids {
			ref := Ref{Kind: kindInvite, ID: id}
			var inv invite
			ok, err := getPeople(s, tx, ref, &inv)
			if err != nil || !ok || known(inv.By) {
				continue
			}
			if err := tx.Delete(ref); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
