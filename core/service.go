package core

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/authbot/authbot/core/seal"
)

// Record kinds in the Store.
const (
	kindMeta    = "meta"
	kindPerson  = "person"
	kindAccount = "account"
	kindIndex   = "index"
)

// keyCheckText is sealed under a key derived from the master key when a
// database is created, so a wrong master key is told apart from a corrupt
// record at start-up instead of at the first /code.
const keyCheckText = "authbot key check v1"

// Service is what every adapter calls (through bots/commands). Each method
// takes the acting person's stable id ("telegram:42", "local", ...); core
// turns it into an opaque owner id before it reaches the Store.
type Service struct {
	store  Store
	clock  Clock
	master seal.Key
	root   seal.Key // derivation root, stable across key rotations (rotate.go)
	ids    seal.Key // HMAC key for opaque owner ids
}

// NewService checks that master opens the database behind store (creating
// the check record on a new database) and returns the service.
// Errors: ErrWrongMasterKey, a wrapped ErrCorrupt, or a Store error.
func NewService(ctx context.Context, store Store, master seal.Key, clock Clock) (*Service, error) {
	s := &Service{store: store, clock: clock, master: master}
	if err := s.checkMasterKey(ctx); err != nil {
		return nil, err
	}
	// The ids come from the derivation root, not the master key, so a
	// master key rotation (rotate.go) leaves every owner id in place.
	err := store.View(ctx, func(tx Tx) error {
		var err error
		s.root, err = loadRoot(tx, &s.master)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.ids = seal.Derive(&s.root, "owner-ids")
	return s, nil
}

func (s *Service) checkMasterKey(ctx context.Context) error {
	checkKey := seal.Derive(&s.master, "key-check")
	ref := Ref{Kind: kindMeta, ID: "keycheck"}
	ad := []byte("meta|keycheck")
	var missing bool
	err := s.store.View(ctx, func(tx Tx) error {
		sealed, err := tx.Get(ref)
		if errors.Is(err, ErrNotFound) {
			people, err := tx.List(kindPerson, "")
			if err != nil {
				return err
			}
			if len(people) > 0 {
				// Data without its check record: never guess, never overwrite.
				return fmt.Errorf("key check record is missing but %d people are stored: %w", len(people), ErrCorrupt)
			}
			missing = true
			return nil
		}
		if err != nil {
			return err
		}
		plain, err := seal.Open(&checkKey, sealed, ad)
		if err != nil || string(plain) != keyCheckText {
			return ErrWrongMasterKey
		}
		return nil
	})
	if err != nil || !missing {
		return err
	}
	sealed, err := seal.Seal(&checkKey, []byte(keyCheckText), ad)
	if err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		if _, err := tx.Get(ref); err == nil {
			return nil // another process won the race; it checked the same key file
		}
		return tx.Put(ref, sealed)
	})
}

// owner is the opaque storage id of a person's own vault.
func (s *Service) owner(person string) string {
	return seal.OpaqueID(&s.ids, "person:"+person)
}

// vault is one person's accounts opened inside a transaction.
type vault struct {
	tx    Tx
	owner string
	key   seal.Key
	index []indexEntry
}

// indexEntry is what the sealed index keeps per account, so /code and
// /list open one small record instead of every account.
type indexEntry struct {
	Summary
	// Fingerprint is a keyed hash of the secret, to report duplicates
	// without opening every account.
	Fingerprint string
}

// openVault loads owner's data key and index. With create, a missing
// person gets a new data key; without, ErrNoAccounts.
func (s *Service) openVault(tx Tx, owner string, create bool) (*vault, error) {
	v := &vault{tx: tx, owner: owner}
	personRef := Ref{Kind: kindPerson, ID: owner}
	wrapped, err := tx.Get(personRef)
	switch {
	case errors.Is(err, ErrNotFound) && create:
		if v.key, err = seal.NewKey(); err != nil {
			return nil, err
		}
		w, err := seal.Wrap(&s.master, &v.key, personAD(owner))
		if err != nil {
			return nil, err
		}
		if err := tx.Put(personRef, w); err != nil {
			return nil, err
		}
		return v, nil
	case errors.Is(err, ErrNotFound):
		return nil, ErrNoAccounts
	case err != nil:
		return nil, err
	}
	if v.key, err = seal.Unwrap(&s.master, wrapped, personAD(owner)); err != nil {
		return nil, &CorruptRecordError{What: "person key", Err: err}
	}
	sealed, err := tx.Get(Ref{Kind: kindIndex, Owner: owner, ID: "accounts"})
	if errors.Is(err, ErrNotFound) {
		return v, nil
	}
	if err != nil {
		return nil, err
	}
	plain, err := seal.Open(&v.key, sealed, indexAD(owner))
	if err != nil {
		return nil, &CorruptRecordError{What: "account index", Err: err}
	}
	if v.index, err = decodeIndex(plain); err != nil {
		return nil, &CorruptRecordError{What: "account index", Err: err}
	}
	return v, nil
}

// Associated data binds every sealed value to its owner and id, so a
// record copied to another person or another slot fails to open.
func personAD(owner string) []byte      { return []byte("person|" + owner) }
func indexAD(owner string) []byte       { return []byte("index|" + owner) }
func accountAD(owner, id string) []byte { return []byte("account|" + owner + "|" + id) }
func accountRef(owner, id string) Ref   { return Ref{Kind: kindAccount, Owner: owner, ID: id} }
func (v *vault) indexRef() Ref          { return Ref{Kind: kindIndex, Owner: v.owner, ID: "accounts"} }

func (v *vault) account(id string) (*Account, error) {
	sealed, err := v.tx.Get(accountRef(v.owner, id))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			// The index names an account that is not there: damage, not absence.
			return nil, &CorruptRecordError{What: "account", Err: err}
		}
		return nil, err
	}
	plain, err := seal.Open(&v.key, sealed, accountAD(v.owner, id))
	if err != nil {
		return nil, &CorruptRecordError{What: "account", Err: err}
	}
	var a Account
	if err := json.Unmarshal(plain, &a); err != nil {
		return nil, &CorruptRecordError{What: "account", Err: err}
	}
	return &a, nil
}

// putAccount writes a and refreshes its index entry (not the index itself).
func (v *vault) putAccount(a *Account) error {
	plain, err := json.Marshal(a)
	if err != nil {
		return err
	}
	sealed, err := seal.Seal(&v.key, plain, accountAD(v.owner, a.ID))
	if err != nil {
		return err
	}
	if err := v.tx.Put(accountRef(v.owner, a.ID), sealed); err != nil {
		return err
	}
	e := indexEntry{Summary: a.summary(), Fingerprint: v.fingerprint(a.OTP.Secret)}
	for i := range v.index {
		if v.index[i].ID == a.ID {
			v.index[i] = e
			return nil
		}
	}
	v.index = append(v.index, e)
	return nil
}

func (v *vault) fingerprint(secret []byte) string {
	return seal.OpaqueID(&v.key, "secret:"+string(secret))
}

func (v *vault) saveIndex() error {
	sort.Slice(v.index, func(i, j int) bool {
		return strings.ToLower(v.index[i].Label) < strings.ToLower(v.index[j].Label)
	})
	sealed, err := seal.Seal(&v.key, encodeIndex(v.index), indexAD(v.owner))
	if err != nil {
		return err
	}
	return v.tx.Put(v.indexRef(), sealed)
}

func (v *vault) labelTaken(label, exceptID string) bool {
	for _, e := range v.index {
		if e.ID != exceptID && equalFold(e.Label, label) {
			return true
		}
	}
	return false
}

// find resolves what a person typed: an exact label (any case) wins, then a
// unique label prefix, then a unique issuer prefix.
func (v *vault) find(query string) (*indexEntry, error) {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return nil, &NotFoundError{Query: query}
	}
	if len(v.index) == 0 {
		return nil, ErrNoAccounts
	}
	if strings.HasPrefix(q, "#") { // buttons refer to accounts by id
		for i := range v.index {
			if "#"+strings.ToLower(v.index[i].ID) == q {
				return &v.index[i], nil
			}
		}
		return nil, &NotFoundError{Query: query}
	}
	for i := range v.index {
		if strings.ToLower(v.index[i].Label) == q {
			return &v.index[i], nil
		}
	}
	for _, field := range []func(e *indexEntry) string{
		func(e *indexEntry) string { return e.Label },
		func(e *indexEntry) string { return e.Issuer },
	} {
		var matches []*indexEntry
		for i := range v.index {
			if strings.HasPrefix(strings.ToLower(field(&v.index[i])), q) {
				matches = append(matches, &v.index[i])
			}
		}
		if len(matches) == 1 {
			return matches[0], nil
		}
		if len(matches) > 1 {
			sums := make([]Summary, len(matches))
			for i, m := range matches {
				sums[i] = m.Summary
			}
			return nil, &AmbiguousError{Matches: sums}
		}
	}
	return nil, &NotFoundError{Query: query}
}

func newID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the OS has no entropy: nothing is safe
	}
	return hex.EncodeToString(b[:])
}

func (s *Service) view(ctx context.Context, person string, fn func(v *vault) error) error {
	owner := s.owner(person)
	return s.store.View(ctx, func(tx Tx) error {
		v, err := s.openVault(tx, owner, false)
		if err != nil {
			return err
		}
		return fn(v)
	})
}

func (s *Service) update(ctx context.Context, person string, create bool, fn func(v *vault) error) error {
	owner := s.owner(person)
	return s.store.Update(ctx, func(tx Tx) error {
		v, err := s.openVault(tx, owner, create)
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
		return v.saveIndex()
	})
}

// now is the service's time, truncated to the second like every OTP step.
func (s *Service) now() time.Time { return s.clock.Now() }
