package core

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/authbot/authbot/core/seal"
)

// Storage ids of people.
//
// A person's records are stored under an opaque owner id. It is new
// (newOwnerID), made when the person is first seen, and kept in the sealed
// people record (kind "people", looked up by name): a name is only a label
// for it. So a new "bob" invited after the old one left the config gets a
// new, empty owner, never the old bob's accounts or vault memberships.
//
// Databases written before this (owner id = HMAC of the name, legacyOwner)
// are migrated in place: at start-up every people record without an owner
// gets the id its records already live under, and a config user with no
// people record adopts that id the first time they are seen, but only when
// data exists under it. Runtime people always get a new id when they
// join, so an invite can never adopt anyone's data.

// LocalPerson is the person of `authbot chat` and `authbot import`.
const LocalPerson = "local"

// reservedName reports whether name may never be given to an invitee.
func reservedName(name string) bool { return strings.EqualFold(strings.TrimSpace(name), LocalPerson) }

// hasData reports whether anything is stored under owner: a data key, a
// lock, or a vault membership.
func hasData(tx Tx, owner string) (bool, error) {
	for _, ref := range []Ref{personRef(owner), lockRef(owner)} {
		if _, err := tx.Get(ref); err == nil {
			return true, nil
		} else if !errors.Is(err, ErrNotFound) {
			return false, err
		}
	}
	ids, err := tx.List(kindVaultKey, owner)
	return len(ids) > 0, err
}

// Owner ids are 22 characters of base64url's alphabet, as seal.NewID's:
// a sequence number (ownerSeqLen characters) one above the highest among
// the people's data key records, then 64 random bits. Random throughout,
// the records stored under an owner id alone (person, keypair, lock,
// settings, and storage/bolt's owner dictionary) were put among each
// other in key order, and bbolt, which fills a page to the brim when a
// transaction appends (a new person's accounts), split theirs into a full
// page and a nearly empty one: they took pages 20 to 40% full
// (BenchmarkDBSize 1000x50: 256.7 B/account, 248.4 with these). What the
// number reveals: the order in which people were first stored, which
// storage/bolt's owner numbers already give away, and nothing a person
// sent. The random part keeps ids from clashing when two are made from
// the same highest one (an invitee's id is in their people record before
// any data key, and a shared store may run two such transactions at
// once).
const (
	ownerIDLen  = 22
	ownerSeqLen = 11
	// ownerIDDigits is base64url's alphabet in byte order: numbers
	// written with these digits sort as the numbers do.
	ownerIDDigits = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)

var ownerIDRandom = base64.NewEncoding(ownerIDDigits).WithPadding(base64.NoPadding)

// newOwnerID returns a new owner id (see above) inside tx. It lists the
// data key records: one per person, read only when someone new is first
// stored. When no number is left above the highest (a file of hand-made
// ids), the id is random as seal.NewID's. Errors: a Store error, or
// crypto/rand's.
func newOwnerID(tx Tx) (string, error) {
	ids, err := tx.List(kindPerson, "")
	if err != nil {
		return "", err
	}
	seq := []byte(strings.Repeat(ownerIDDigits[:1], ownerSeqLen)) // below every other
	for _, id := range ids {
		if len(id) == ownerIDLen && id[:ownerSeqLen] > string(seq) && ownerSeq(id[:ownerSeqLen]) {
			copy(seq, id)
		}
	}
	if !nextOwnerSeq(seq) {
		return seal.NewID()
	}
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("read random id: %w", err)
	}
	return string(seq) + ownerIDRandom.EncodeToString(r[:]), nil
}

// ownerSeq reports whether s is written in ownerIDDigits only.
func ownerSeq(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(ownerIDDigits, s[i]) < 0 {
			return false
		}
	}
	return true
}

// nextOwnerSeq adds one to the number seq writes, in place; false when it
// has no digit left to carry into.
func nextOwnerSeq(seq []byte) bool {
	for i := len(seq) - 1; i >= 0; i-- {
		d := strings.IndexByte(ownerIDDigits, seq[i])
		if d < len(ownerIDDigits)-1 {
			seq[i] = ownerIDDigits[d+1]
			return true
		}
		seq[i] = ownerIDDigits[0]
	}
	return false
}

// ownerOf returns person's owner id inside tx. A person never seen gets
// "" without create, and with create a new id kept in a new people
// record (Config: first seen without an invite). Errors: a Store error or
// a *CorruptRecordError.
func (s *Service) ownerOf(tx Tx, person string, create bool) (string, error) {
	if o, ok := s.indexes.ownerCached(person); ok {
		return o, nil
	}
	var p Person
	ok, err := getPeople(s, tx, s.peopleRef(person), &p)
	if err != nil {
		return "", err
	}
	if ok && p.Owner != "" {
		if !create {
			s.indexes.setOwner(person, p.Owner)
		}
		return p.Owner, nil
	}
	if ok {
		// Not migrated yet (migrateOwners runs at start-up): the records
		// are where the old version put them.
		return s.legacyOwner(p.Name), nil
	}
	owner := s.legacyOwner(person)
	legacy, err := hasData(tx, owner)
	if err != nil {
		return "", err
	}
	if !legacy {
		if !create {
			return "", nil
		}
		if owner, err = newOwnerID(tx); err != nil {
			return "", err
		}
	}
	if !create {
		s.indexes.setOwner(person, owner)
		return owner, nil // adopted by the next write
	}
	p = Person{Name: person, Owner: owner, Config: true, Added: s.now().UTC()}
	// Not cached: the transaction may still fail or be run again (Store),
	// and a cached id whose record never landed would strand what is
	// written under it. The next read caches the committed record.
	if err := putPeople(s, tx, s.peopleRef(person), p); err != nil {
		return "", err
	}
	return owner, nil
}

// migrateOwners gives every people record written before random owner ids
// the id its records already live under. Config is guessed from how the
// record was made: a config user's record was made by /link, which names
// the person as its own adder; an invitee's names the admin.
func (s *Service) migrateOwners(ctx context.Context) error {
	var todo []Ref
	// One derivation for the whole pass, not one per record (getPeople):
	// the pass reads every person at every start, and with 1,000 people
	// HKDF was about half of its CPU (pprof of serve's start).
	key := s.peopleKey()
	defer seal.Zero(&key)
	err := s.store.View(ctx, func(tx Tx) error {
		ids, err := tx.List(kindPeople, "")
		if err != nil {
			return err
		}
		for _, id := range ids {
			var p Person
			ref := Ref{Kind: kindPeople, ID: id}
			if _, err := getSealed(tx, key, ref, peopleAD(ref), ref.Kind, &p); err != nil {
				return err
			}
			if p.Owner == "" {
				todo = append(todo, ref)
			}
		}
		return nil
	})
	if err != nil || len(todo) == 0 {
		return err // nothing to write: read-only opens keep working
	}
	return s.store.Update(ctx, func(tx Tx) error {
		for _, ref := range todo {
			var p Person
			if _, err := getPeople(s, tx, ref, &p); err != nil {
				return err
			}
			if p.Owner != "" {
				continue
			}
			p.Owner = s.legacyOwner(p.Name)
			p.Config = p.AddedBy == p.Name
			if err := putPeople(s, tx, ref, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// memberOwner is the owner id a vault member entry stands for: entries
// written before random owner ids carry only the name.
func (s *Service) memberOwner(m *Member) string {
	if m.Owner != "" {
		return m.Owner
	}
	return s.legacyOwner(m.Person)
}

// StorageID returns the opaque id person's records are stored under, ""
// for a person never seen. It is not secret (it is in every record's key)
// and reveals nothing about the name; tests and tools that look at raw
// records use it. Errors: *CorruptRecordError, a Store error.
func (s *Service) StorageID(ctx context.Context, person string) (string, error) {
	var o string
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		o, err = s.ownerOf(tx, person, false)
		return err
	})
	return o, err
}
