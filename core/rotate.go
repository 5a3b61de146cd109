package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/authbot/authbot/core/seal"
)

// Master key rotation.
//
// The master key wraps each person's data key and seals the key check.
// Everything else the service derives — the opaque owner ids, and sub-keys
// adapters ask for with DeriveKey (the Matrix pickle key) — comes from a
// derivation root. Before the first rotation the root is the master key
// itself (so databases made before rotation existed read unchanged); a
// rotation stores the root in the "meta/root" record, wrapped under the new
// master key. Owner ids cannot be recomputed without the people's names,
// which the database does not hold, so keeping the root is what lets a
// rotation re-wrap keys without moving every record. The consequence, said
// plainly in the README: the old master key alone no longer opens any
// secret, but whoever holds both it and an old copy of the database still
// could; rotation protects the future, not old copies.

// ErrAlreadyRotated means the database already opens with the new key: a
// rotation committed but its key file was not yet renamed into place.
var ErrAlreadyRotated = errors.New("the database already uses the new master key")

var (
	rootRef     = Ref{Kind: kindMeta, ID: "root"}
	rootAD      = []byte("meta|root")
	keyCheckRef = Ref{Kind: kindMeta, ID: "keycheck"}
	keyCheckAD  = []byte("meta|keycheck")
)

// checkKey opens the key check record with master inside tx.
// Errors: ErrWrongMasterKey, ErrNotFound when there is no check record yet,
// or a Store error.
func checkKey(tx Tx, master *seal.Key) error {
	sealed, err := tx.Get(keyCheckRef)
	if err != nil {
		return err
	}
	k := seal.Derive(master, "key-check")
	defer seal.Zero(&k)
	plain, err := seal.Open(&k, sealed, keyCheckAD)
	if err != nil || string(plain) != keyCheckText {
		return ErrWrongMasterKey
	}
	return nil
}

// CheckMasterKey reports whether master opens the database behind store,
// without writing anything: nil, ErrWrongMasterKey, or ErrNotFound for a
// database with no key check yet (a new one). Start-up uses it to pick
// between master.key and master.key.new after an interrupted rotation.
func CheckMasterKey(ctx context.Context, store Store, master *seal.Key) error {
	return store.View(ctx, func(tx Tx) error { return checkKey(tx, master) })
}

// loadRoot returns the derivation root (see above) for a master key that
// passed the key check.
func loadRoot(tx Tx, master *seal.Key) (seal.Key, error) {
	wrapped, err := tx.Get(rootRef)
	if errors.Is(err, ErrNotFound) {
		return *master, nil
	}
	if err != nil {
		return seal.Key{}, err
	}
	root, err := seal.Unwrap(master, wrapped, rootAD)
	if err != nil {
		return seal.Key{}, &CorruptRecordError{What: "derivation root", Err: err}
	}
	return root, nil
}

// DeriveKey returns a sub-key for purpose that stays the same across master
// key rotations (for example the Matrix store's pickle key). Until the
// first rotation it equals seal.Derive(master, purpose).
func (s *Service) DeriveKey(purpose string) seal.Key {
	return seal.Derive(&s.root, purpose)
}

// RotateReport says what a rotation re-wrapped.
type RotateReport struct {
	People int // person data keys re-wrapped
}

// RotateMasterKey re-wraps every person's data key, the derivation root and
// the key check under newKey, in one Store transaction: either all of it
// lands or none of it. Run it with the database not in use by a Service
// (the service keeps the old key in memory). The caller must make newKey
// durable (master.key.new, fsynced) before calling, and move it into place
// only after this returned nil.
//
// Errors: ErrWrongMasterKey if oldKey does not open the database;
// ErrAlreadyRotated if newKey already does; a *CorruptRecordError naming
// the kind of a record that would not open (nothing is changed then); a
// Store error.
func RotateMasterKey(ctx context.Context, store Store, oldKey, newKey *seal.Key) (RotateReport, error) {
	var r RotateReport
	if *oldKey == *newKey {
		return r, errors.New("rotate master key: the new key equals the old one")
	}
	err := store.Update(ctx, func(tx Tx) error {
		r = RotateReport{}
		if err := checkKey(tx, newKey); err == nil {
			return ErrAlreadyRotated
		}
		if err := checkKey(tx, oldKey); err != nil {
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("rotate master key: the database has no key check record yet; start authbot once first")
			}
			return err
		}
		root, err := loadRoot(tx, oldKey)
		if err != nil {
			return err
		}
		defer seal.Zero(&root)
		w, err := seal.Wrap(newKey, &root, rootAD)
		if err != nil {
			return err
		}
		if err := tx.Put(rootRef, w); err != nil {
			return err
		}
		owners, err := tx.List(kindPerson, "")
		if err != nil {
			return err
		}
		for _, owner := range owners {
			if err := ctx.Err(); err != nil {
				return err
			}
			ref := Ref{Kind: kindPerson, ID: owner}
			wrapped, err := tx.Get(ref)
			if err != nil {
				return err
			}
			k, err := seal.Unwrap(oldKey, wrapped, personAD(owner))
			if err != nil {
				return &CorruptRecordError{What: "person key", Err: err}
			}
			w, err := seal.Wrap(newKey, &k, personAD(owner))
			seal.Zero(&k)
			if err != nil {
				return err
			}
			if err := tx.Put(ref, w); err != nil {
				return err
			}
			r.People++
		}
		ck := seal.Derive(newKey, "key-check")
		defer seal.Zero(&ck)
		sealed, err := seal.Seal(&ck, []byte(keyCheckText), keyCheckAD)
		if err != nil {
			return err
		}
		return tx.Put(keyCheckRef, sealed)
	})
	return r, err
}
