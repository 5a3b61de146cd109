package core

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"
)

// People added at runtime.
//
// Config users are the operator's; everyone else arrives with an invite: an
// admin's /invite NAME makes a one-time token (a Telegram deep link, or a
// code to send on Matrix) that registers the platform identity that
// presents it. One person may hold identities on several platforms: /link
// on one side gives a one-time code that, sent from the other side, links
// that identity to the same person. Records (their layout is in
// records.go):
//
//	kind "people",   id OpaqueID("people:"+name)          sealed Person
//	kind "identity", id OpaqueID("identity:"+plat+":"+id)  sealed person name
//	kind "invite",   id OpaqueID("invite:"+token)          sealed invite
//
// all under a sub-key of the derivation root, so the file holds no names
// and no identity can be looked up without the key. Link codes live in
// memory (ten minutes; a restart forgets them).

// Identity is one chat identity: platform "telegram" with the numeric user
// id, or "matrix" with the user id "@bob:example.org".
type Identity struct {
	Platform string `json:"platform"`
	ID       string `json:"id"`
}

// Person is someone added at runtime (or a config user with linked extra
// identities).
type Person struct {
	Name       string     `json:"name"`
	Identities []Identity `json:"identities"`
	Added      time.Time  `json:"added"`
	AddedBy    string     `json:"added_by,omitempty"`
	// Owner is the person's random storage id (owners.go).
	Owner string `json:"owner,omitempty"`
	// Config is set for a person first seen without an invite (a config
	// user, or local): their record exists only to hold Owner and linked
	// identities, and an invite of that name makes a new person.
	Config bool `json:"config,omitempty"`
	// Admin is set for the person who claimed the bot with its claim
	// code (claim.go); invites never make an admin.
	Admin bool `json:"admin,omitempty"`
}

// InviteTTL is how long an invite stays usable.
const InviteTTL = 48 * time.Hour

// linkTTL is how long a link code stays usable.
const linkTTL = 10 * time.Minute

type invite struct {
	Name    string    `json:"name"`
	By      string    `json:"by"`
	Expires time.Time `json:"expires"`
}

type linkCodes struct {
	mu    sync.Mutex
	codes map[string]linkCode
}

type linkCode struct {
	person  string
	expires time.Time
	// runtime: the person had a people record when the code was made, so
	// Link requires it still to exist (config users have none until
	// their first link).
	runtime bool
}

// CreateInvite makes a one-time invite for a new person called name.
// Callers check that by is an admin and that name is not a config user.
// Errors: ErrBadPersonName, ErrPersonExists.
func (s *Service) CreateInvite(ctx context.Context, by, name string) (token string, expires time.Time, err error) {
	name, err = cleanVaultName(name)
	if err != nil {
		return "", time.Time{}, ErrBadPersonName
	}
	if reservedName(name) {
		return "", time.Time{}, ErrReservedName
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", time.Time{}, err
	}
	// 26 characters of [a-z2-7]: fits Telegram's start parameter and is
	// easy to type on Matrix.
	token = strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	expires = s.now().Add(InviteTTL).UTC()
	err = s.writeTx(ctx, func(tx Tx) error {
		var p Person
		if ok, err := getPeople(s, tx, s.peopleRef(name), &p); err != nil || ok && !p.Config {
			if err == nil {
				err = ErrPersonExists
			}
			return err
		}
		if err := putPeople(s, tx, s.inviteRef(token), invite{Name: name, By: by, Expires: expires}); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, Event{Type: EventPeople, Person: by, Subject: name, Detail: "invited"})
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return token, expires, nil
}

// AcceptInvite registers id as the person the invite token names and uses
// the invite up. Errors: ErrInviteInvalid, ErrIdentityTaken.
func (s *Service) AcceptInvite(ctx context.Context, token string, id Identity) (string, error) {
	token = strings.ToLower(strings.TrimSpace(token))
	if token == "" || len(token) > 64 {
		return "", ErrInviteInvalid
	}
	var name string
	err := s.writeTx(ctx, func(tx Tx) error {
		var inv invite
		ok, err := getPeople(s, tx, s.inviteRef(token), &inv)
		if err != nil {
			return err
		}
		if !ok || !s.now().Before(inv.Expires) {
			return ErrInviteInvalid
		}
		if err := tx.Delete(s.inviteRef(token)); err != nil {
			return err
		}
		name = inv.Name
		if err := s.retire(tx, name); err != nil {
			return err
		}
		if err := s.addIdentity(tx, name, inv.By, id); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, Event{Type: EventPeople, Person: name, Subject: inv.By, Detail: "joined on " + id.Platform})
	})
	if err == nil {
		s.indexes.dropOwners()
	}
	return name, err
}

// retire makes room for an invitee called name: a record left by a person
// first seen without an invite (a config user since removed from the
// config) is moved to kind "retired" under its owner id, with its linked
// identities unlinked. Their data stays where it is, never lost, and
// nothing of it reaches the newcomer, who gets a new owner id.
func (s *Service) retire(tx Tx, name string) error {
	var p Person
	ok, err := getPeople(s, tx, s.peopleRef(name), &p)
	if err != nil || !ok {
		return err
	}
	if !p.Config {
		return ErrPersonExists
	}
	if p.Owner == "" {
		p.Owner = s.legacyOwner(p.Name)
	}
	for _, id := range p.Identities {
		if err := tx.Delete(s.identityRef(id)); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	if err := putPeople(s, tx, Ref{Kind: kindRetired, ID: p.Owner}, p); err != nil {
		return err
	}
	return tx.Delete(s.peopleRef(name))
}

func (s *Service) addIdentity(tx Tx, name, by string, id Identity) error {
	var taken string
	if ok, err := getPeople(s, tx, s.identityRef(id), &taken); err != nil || ok {
		if err == nil {
			err = ErrIdentityTaken
		}
		return err
	}
	var p Person
	ok, err := getPeople(s, tx, s.peopleRef(name), &p)
	if err != nil {
		return err
	}
	if !ok {
		// A new invitee: a new storage id, never one derived from the
		// name (owners.go).
		owner, err := newOwnerID(tx)
		if err != nil {
			return err
		}
		p = Person{Name: name, Added: s.now().UTC(), AddedBy: by, Owner: owner}
	}
	p.Identities = append(p.Identities, id)
	if err := putPeople(s, tx, s.peopleRef(name), p); err != nil {
		return err
	}
	return putPeople(s, tx, s.identityRef(id), name)
}

// PersonFor returns the runtime person an identity belongs to, or "" when
// it belongs to nobody added at runtime (adapters check config users first).
// Errors: *CorruptRecordError, a Store error.
func (s *Service) PersonFor(ctx context.Context, id Identity) (string, error) {
	var name string
	err := s.store.View(ctx, func(tx Tx) error {
		_, err := getPeople(s, tx, s.identityRef(id), &name)
		return err
	})
	return name, err
}

// LinkCode returns a one-time code that links another identity to person
// when sent from it (see Link). Errors: a Store error,
// *CorruptRecordError.
func (s *Service) LinkCode(ctx context.Context, person string) (string, time.Time, error) {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", time.Time{}, err
	}
	code := strings.ToLower(base32.StdEncoding.EncodeToString(b[:])) // 8 characters
	expires := s.now().Add(linkTTL)
	runtime, err := s.personExists(ctx, person)
	if err != nil {
		return "", time.Time{}, err
	}
	l := s.links
	l.mu.Lock()
	defer l.mu.Unlock()
	for c, lc := range l.codes {
		if !s.now().Before(lc.expires) {
			delete(l.codes, c)
		}
	}
	if len(l.codes) >= 1000 {
		return "", time.Time{}, errors.New("too many open link codes")
	}
	l.codes[code] = linkCode{person: person, expires: expires, runtime: runtime}
	return code, expires, nil
}

// Link attaches id to the person who asked for code, and uses the code up.
// Errors: ErrLinkInvalid, ErrIdentityTaken.
func (s *Service) Link(ctx context.Context, code string, id Identity) (string, error) {
	code = strings.ToLower(strings.TrimSpace(code))
	l := s.links
	l.mu.Lock()
	lc, ok := l.codes[code]
	delete(l.codes, code)
	l.mu.Unlock()
	if !ok || !s.now().Before(lc.expires) {
		return "", ErrLinkInvalid
	}
	err := s.writeTx(ctx, func(tx Tx) error {
		if err := s.requirePersonTx(tx, lc); err != nil {
			return err
		}
		// A config user seen for the first time gets their record (and
		// storage id) here; runtime people have one already.
		if _, err := s.ownerOf(tx, lc.person, true); err != nil {
			return err
		}
		if err := s.addIdentity(tx, lc.person, lc.person, id); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, Event{Type: EventPeople, Person: lc.person, Detail: "linked " + id.Platform})
	})
	return lc.person, err
}

// People lists the people added at runtime (and config users with linked
// identities), by name. Errors: *CorruptRecordError, a Store error.
func (s *Service) People(ctx context.Context) ([]Person, error) {
	var out []Person
	err := s.store.View(ctx, func(tx Tx) error {
		ids, err := tx.List(kindPeople, "")
		if err != nil {
			return err
		}
		for _, id := range ids {
			var p Person
			if _, err := getPeople(s, tx, Ref{Kind: kindPeople, ID: id}, &p); err != nil {
				return err
			}
			if p.Config && len(p.Identities) == 0 {
				continue // only a storage id: a config user, not a runtime person
			}
			out = append(out, p)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// RemovePerson deletes a runtime person: their identities, their data key
// (master- or passphrase-wrapped), their accounts and index. A person who
// is still in shared vaults is refused (ErrInVaults): remove them there
// first, so each vault's key is rotated. Callers check that by is an admin
// and that name is not a config user. Errors: ErrNoPerson, ErrInVaults.
func (s *Service) RemovePerson(ctx context.Context, by, name string) error {
	var owner string
	err := s.writeTx(ctx, func(tx Tx) error {
		var p Person
		ok, err := getPeople(s, tx, s.peopleRef(name), &p)
		if err != nil {
			return err
		}
		if !ok || p.Config && len(p.Identities) == 0 {
			return ErrNoPerson
		}
		if owner, err = s.ownerOf(tx, name, false); err != nil {
			return err
		}
		if vs, err := tx.List(kindVaultKey, owner); err != nil || len(vs) > 0 {
			if err == nil {
				err = ErrInVaults
			}
			return err
		}
		for _, id := range p.Identities {
			if err := tx.Delete(s.identityRef(id)); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		ids, err := tx.List(kindAccount, owner)
		if err != nil {
			return err
		}
		refs := []Ref{s.peopleRef(name), personRef(owner), keyPairRef(owner), lockRef(owner), failRef(owner), settingsRef(owner), {Kind: kindIndex, Owner: owner, ID: indexID}}
		for _, id := range ids {
			refs = append(refs, accountRef(owner, id))
		}
		for _, ref := range refs {
			if err := tx.Delete(ref); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		s.keys.drop(owner)
		if err := s.dropInvitesTx(tx, name); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, Event{Type: EventPeople, Person: by, Subject: name, Detail: "removed"})
	})
	if err == nil {
		s.locks.drop(owner)
		s.forgetPerson(name)
		s.indexes.dropOwners()
	}
	return err
}

// ExpectsNewcomers reports whether an unexpired invite or link code exists.
// Only then may a chat adapter let an unknown identity open a chat with the
// bot (on Matrix, joining a stranger's room): otherwise strangers are
// refused outright. Errors: *CorruptRecordError, a Store error.
func (s *Service) ExpectsNewcomers(ctx context.Context) (bool, error) {
	now := s.now()
	s.links.mu.Lock()
	for _, c := range s.links.codes {
		if now.Before(c.expires) {
			s.links.mu.Unlock()
			return true, nil
		}
	}
	s.links.mu.Unlock()
	found := false
	err := s.store.View(ctx, func(tx Tx) error {
		ids, err := tx.List(kindInvite, "")
		if err != nil {
			return err
		}
		for _, id := range ids {
			var inv invite
			ok, err := getPeople(s, tx, Ref{Kind: kindInvite, ID: id}, &inv)
			if err != nil {
				return err
			}
			if ok && now.Before(inv.Expires) {
				found = true
				return nil
			}
		}
		return nil
	})
	return found, err
}
