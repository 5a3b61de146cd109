package core

import (
	"context"
	"errors"

	"github.com/authbot/authbot/core/seal"
)

// Master key rotation.
//
// The master key wraps each person's data key and the derivation root, and
// seals the key check. Every other key comes from the root: the sub-keys of
// the people, lock, audit and key-pair records and the Matrix pickle key
// (DeriveKey). Before the first rotation the root is the master key itself
// (so databases from before rotation read unchanged); a rotation makes a
// new random root and stores it in "meta/root", wrapped under the new
// master key.
//
// A rotation re-keys everything it can reach, in one Store transaction:
// each person whose data key the master key opens gets a new data key and
// a new key pair, and their accounts and index are re-sealed; every shared
// vault a member's key opens gets a new vault key, its records re-sealed
// and wrapped for every member (to the public key of those who are
// locked); the people, lock, key-pair and audit records are re-sealed
// under the new root's sub-keys (the audit chain re-hashed). So the old
// master key, even with an old copy of the database, opens nothing written
// after the rotation. What it cannot reach is not its to protect: a locked
// person's data key is wrapped only under their passphrase, and a vault
// whose every member is locked keeps its key until one of them unlocks
// (RotateReport counts both).
//
// Two things keep their value, by design, and are only re-wrapped: the
// lookup key that turns names into record ids ("meta/ids"; it opens
// nothing, and changing it would need every name, including invite tokens
// the database does not hold), and, until the Matrix adapter re-pickles
// its files, the old keys of the Matrix pickles and sealed cross-signing
// keys ("meta/prev-key:PURPOSE", see PendingDerivedKey).

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

// DeriveKey returns a sub-key of the derivation root for purpose (for
// example the Matrix store's pickle key). Until the first rotation it
// equals seal.Derive(master, purpose). A rotation changes it: a file
// sealed under it outside the Store must be re-sealed, with the old key
// from PendingDerivedKey (only purposes listed in adapterPurposes are kept).
func (s *Service) DeriveKey(purpose string) seal.Key {
	return seal.Derive(&s.root, purpose)
}

// RotateReport says what a rotation re-keyed.
type RotateReport struct {
	People int // people given a new data key and key pair
	Locked int // locked people: their data key is under their passphrase, not the master key
	Vaults int // shared vaults given a new key
	// Unreachable counts shared vaults whose every member is locked (or
	// with a member locked since before key pairs): their key stays until
	// a member unlocks.
	Unreachable int
	Records     int // records re-sealed in all
}

var (
	// adapterPurposes are the DeriveKey purposes of keys that seal files
	// outside the Store (the Matrix state dir). A rotation changes them;
	// the old key is kept, under the new root, until the adapter has
	// re-sealed its files (PendingDerivedKey).
	adapterPurposes = []string{PurposeMatrixPickle, PurposeMatrixCrossSigning}
	rotatedKinds    = []string{kindPeople, kindIdentity, kindInvite, kindRetired} // sealed under the "people" sub-key
	rotatedLockAD   = map[string]func(string) []byte{kindLock: lockAD, kindLockFail: failAD, kindSettings: settingsAD}
	errRotateFirst  = errors.New("rotate master key: the database has no key check record yet; start authbot once first")
)

// loadIDs returns the lookup key (see above): stored since the first
// rotation, derived from the root before.
func loadIDs(tx Tx, root *seal.Key) (seal.Key, error) {
	w, err := tx.Get(idsRef)
	if errors.Is(err, ErrNotFound) {
		return seal.Derive(root, purposeOwnerIDs), nil
	}
	if err != nil {
		return seal.Key{}, err
	}
	k, err := seal.Unwrap(root, w, idsAD)
	if err != nil {
		return seal.Key{}, &CorruptRecordError{What: "lookup key", Err: err}
	}
	return k, nil
}

// RotateMasterKey re-keys the database from oldKey to newKey (see the top
// of this file), in one Store transaction: either all of it lands or none
// of it. Run it with the database not in use by a Service (the service
// keeps the old keys in memory). The caller must make newKey durable
// (master.key.new, fsynced) before calling, and move it into place only
// after this returned nil; then let the Matrix adapter re-pickle its store
// (PendingPickleKey).
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
				return errRotateFirst
			}
			return err
		}
		oldRoot, err := loadRoot(tx, oldKey)
		if err != nil {
			return err
		}
		newRoot, err := seal.NewKey()
		if err != nil {
			return err
		}
		ids, err := loadIDs(tx, &oldRoot)
		if err != nil {
			return err
		}
		// Two views of the same keys: so reads the old records, sn writes
		// the new ones, with the same helpers the service uses.
		so := &Service{master: *oldKey, root: oldRoot, ids: ids, clock: SystemClock{}, locks: newLockCache()}
		sn := &Service{master: *newKey, root: newRoot, ids: ids, clock: SystemClock{}, locks: newLockCache()}
		defer func() {
			for _, k := range []*seal.Key{&so.master, &so.root, &sn.master, &sn.root, &so.ids} {
				seal.Zero(k)
			}
		}()
		rt := &rotation{tx: tx, so: so, sn: sn, r: &r}
		return rt.run(ctx, oldKey, newKey)
	})
	return r, err
}

// rotation is one RotateMasterKey transaction.
type rotation struct {
	tx     Tx
	so, sn *Service
	r      *RotateReport
	data   map[string]*seal.Key // owner -> new data key, for people re-keyed
	vkeys  map[string]seal.Key  // vault id -> its current key, from a member's copy
}

func (rt *rotation) run(ctx context.Context, oldKey, newKey *seal.Key) error {
	tx, so, sn := rt.tx, rt.so, rt.sn
	rt.data, rt.vkeys = map[string]*seal.Key{}, map[string]seal.Key{}
	defer func() {
		for _, k := range rt.data {
			seal.Zero(k)
		}
		for id, k := range rt.vkeys {
			seal.Zero(&k)
			delete(rt.vkeys, id)
		}
	}()
	// Keys of the adapters' files: keep the ones the files are still
	// under (an earlier rotation's, if the adapter has not caught up).
	prevs := map[string]*seal.Key{}
	for _, purpose := range adapterPurposes {
		prev, err := pendingKey(tx, &so.root, purpose)
		if err != nil {
			return err
		}
		if prev == nil {
			k := so.DeriveKey(purpose)
			prev = &k
		}
		defer seal.Zero(prev)
		prevs[purpose] = prev
	}
	// Locked people first: their key pair record moves to the new root
	// (its private half stays under their data key, which only their
	// passphrase opens), so the vaults below can seal to them.
	locked, err := tx.List(kindLock, "")
	if err != nil {
		return err
	}
	people, err := tx.List(kindPerson, "")
	if err != nil {
		return err
	}
	for _, owner := range locked {
		rt.r.Locked++
		if err := rt.resealWith(keyPairRef(owner), keyPairAD(owner), so.keyPairKey(), sn.keyPairKey()); err != nil {
			return err
		}
	}
	for _, owner := range people {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := rt.person(owner); err != nil {
			return err
		}
	}
	if err := rt.vaults(ctx); err != nil {
		return err
	}
	for _, kind := range rotatedKinds {
		ids, err := tx.List(kind, "")
		if err != nil {
			return err
		}
		for _, id := range ids {
			ref := Ref{Kind: kind, ID: id}
			if err := rt.resealWith(ref, peopleAD(ref), so.peopleKey(), sn.peopleKey()); err != nil {
				return err
			}
		}
	}
	for kind, ad := range rotatedLockAD {
		ids, err := tx.List(kind, "")
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := rt.resealWith(Ref{Kind: kind, ID: id}, ad(id), so.lockKey(), sn.lockKey()); err != nil {
				return err
			}
		}
	}
	// Pending edits and deletions of chat messages (bots/outbox), one
	// owner per platform.
	platforms, err := tx.Owners(KindOutbox)
	if err != nil {
		return err
	}
	for _, p := range platforms {
		ids, err := tx.List(KindOutbox, p)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := rt.resealWith(Ref{Kind: KindOutbox, Owner: p, ID: id}, OutboxAD(p, id), so.DeriveKey(PurposeOutbox), sn.DeriveKey(PurposeOutbox)); err != nil {
				return err
			}
		}
	}
	n, err := rewriteAudit(tx, so.auditKey(), sn.auditKey(), nil)
	if err != nil {
		return err
	}
	rt.r.Records += n
	type wrap struct {
		ref Ref
		kek *seal.Key
		k   *seal.Key
		ad  []byte
	}
	wraps := []wrap{{idsRef, &sn.root, &sn.ids, idsAD}, {rootRef, newKey, &sn.root, rootAD}}
	for _, purpose := range adapterPurposes {
		wraps = append(wraps, wrap{prevKeyRef(purpose), &sn.root, prevs[purpose], prevKeyAD(purpose)})
	}
	for _, w := range wraps {
		b, err := seal.Wrap(w.kek, w.k, w.ad)
		if err != nil {
			return err
		}
		if err := tx.Put(w.ref, b); err != nil {
			return err
		}
	}
	sealed, err := sealKeyCheck(newKey)
	if err != nil {
		return err
	}
	return tx.Put(keyCheckRef, sealed)
}

// resealWith opens ref with oldK and seals it again under newK (both are
// zeroed); a missing record is skipped.
func (rt *rotation) resealWith(ref Ref, ad []byte, oldK, newK seal.Key) error {
	defer seal.Zero(&oldK)
	defer seal.Zero(&newK)
	b, err := rt.tx.Get(ref)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	plain, err := seal.Open(&oldK, b, ad)
	if err != nil {
		return &CorruptRecordError{What: ref.Kind, Err: err}
	}
	defer clear(plain)
	if b, err = seal.Seal(&newK, plain, ad); err != nil {
		return err
	}
	rt.r.Records++
	return rt.tx.Put(ref, b)
}

// person gives owner a new data key and key pair, re-seals their accounts
// and index, and collects the keys of their vaults.
func (rt *rotation) person(owner string) error {
	tx, so, sn := rt.tx, rt.so, rt.sn
	oldDK, _, err := so.personKey(tx, owner, false)
	if err != nil {
		return err
	}
	defer seal.Zero(&oldDK)
	ids, err := tx.List(kindVaultKey, owner)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, ok := rt.vkeys[id]; ok {
			continue
		}
		vk, _, err := so.openVaultKey(tx, &oldDK, owner, id)
		if err != nil {
			return err
		}
		rt.vkeys[id] = vk
	}
	newDK, err := seal.NewKey()
	if err != nil {
		return err
	}
	v := &vault{tx: tx, owner: owner, key: oldDK, kAccount: kindAccount, kIndex: kindIndex}
	if err := v.loadIndex(); err != nil {
		return err
	}
	if err := v.resealUnder(newDK); err != nil {
		return err
	}
	if len(v.index) > 0 {
		if err := v.saveIndex(); err != nil {
			return err
		}
	} else if err := tx.Delete(v.indexRef()); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	rt.r.Records += len(v.index) + 1
	if err := sn.putKeyPair(tx, owner, &newDK); err != nil {
		return err
	}
	w, err := seal.Wrap(&sn.master, &newDK, personAD(owner))
	if err != nil {
		return err
	}
	if err := tx.Put(personRef(owner), w); err != nil {
		return err
	}
	k := newDK
	rt.data[owner] = &k
	rt.r.People++
	return nil
}

// vaults gives every shared vault a member's key opened a new key, and
// wraps it for each member: under their new data key, or sealed to the
// public key of those who are locked.
func (rt *rotation) vaults(ctx context.Context) error {
	tx, sn := rt.tx, rt.sn
	ids, err := tx.List(kindVaultMeta, "")
	if err != nil {
		return err
	}
	holders, err := tx.Owners(kindVaultKey)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		vk, ok := rt.vkeys[id]
		if !ok {
			rt.r.Unreachable++
			continue
		}
		v := &vault{tx: tx, owner: id, key: vk, kAccount: kindVaultAccount, kIndex: kindVaultIndex}
		if err := v.loadMeta(); err != nil {
			return err
		}
		reach, err := rt.reachesAll(v)
		if err != nil {
			return err
		}
		if !reach {
			// The vault keeps its key; the copies of the people re-keyed
			// above move to their new data keys.
			rt.r.Unreachable++
			for i := range v.meta.Members {
				owner := sn.memberOwner(&v.meta.Members[i])
				if dk, ok := rt.data[owner]; ok {
					if err := putVaultKey(tx, dk, owner, id, &vk); err != nil {
						return err
					}
				}
			}
			continue
		}
		if err := v.loadIndex(); err != nil {
			return err
		}
		nk, err := seal.NewKey()
		if err != nil {
			return err
		}
		if err := v.resealUnder(nk); err != nil {
			return err
		}
		v.meta.Gen++
		if err := v.saveMeta(); err != nil {
			return err
		}
		if err := v.saveIndex(); err != nil {
			return err
		}
		rt.r.Records += len(v.index) + 2
		members := map[string]bool{}
		for i := range v.meta.Members {
			owner := sn.memberOwner(&v.meta.Members[i])
			members[owner] = true
			if dk, ok := rt.data[owner]; ok {
				if err := putVaultKey(tx, dk, owner, id, &v.key); err != nil {
					return err
				}
				continue
			}
			pub, _, ok, err := sn.keyPair(tx, owner)
			if err != nil {
				return err
			}
			if !ok {
				continue // a member entry with no data at all: nobody to give a key
			}
			w, err := seal.WrapTo(pub, &v.key, vaultKeyAD(owner, id))
			if err != nil {
				return err
			}
			if err := tx.Put(vaultKeyRef(owner, id), w); err != nil {
				return err
			}
		}
		for _, h := range holders {
			if members[h] {
				continue
			}
			// A copy held by someone not in the members list opens
			// nothing current: drop it rather than leave an old key.
			if err := tx.Delete(vaultKeyRef(h, id)); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		seal.Zero(&v.key)
		rt.r.Vaults++
	}
	return nil
}

// reachesAll reports whether a new key for v can be given to every member
// who holds a copy of the old one: re-keyed now, or with a key pair to
// seal to. A member locked since before key pairs has neither; the vault
// then keeps its key (as one whose members are all locked does), rather
// than lock them out of it.
func (rt *rotation) reachesAll(v *vault) (bool, error) {
	for i := range v.meta.Members {
		owner := rt.sn.memberOwner(&v.meta.Members[i])
		if _, ok := rt.data[owner]; ok {
			continue
		}
		if _, err := rt.tx.Get(vaultKeyRef(owner, v.owner)); errors.Is(err, ErrNotFound) {
			continue // holds no copy: nothing to lose
		} else if err != nil {
			return false, err
		}
		if _, _, ok, err := rt.sn.keyPair(rt.tx, owner); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// rewriteAudit re-seals every audit block from oldK to newK (zeroing
// both), re-linking the hash chain and the head, and applies edit to each
// event first when edit is not nil. It returns the records written.
func rewriteAudit(tx Tx, oldK, newK seal.Key, edit func(*Event)) (int, error) {
	defer seal.Zero(&oldK)
	defer seal.Zero(&newK)
	head, err := readHead(tx, &oldK)
	if err != nil {
		return 0, err
	}
	ids, err := tx.List(kindAudit, "")
	if err != nil {
		return 0, err
	}
	prevOld, prevNew := "", ""
	for _, id := range ids {
		sealed, err := tx.Get(auditRef(id))
		if err != nil {
			return 0, err
		}
		var b auditBlock
		if err := openAuditBlock(&oldK, sealed, auditAD(id), "audit record", &b); err != nil {
			return 0, err
		}
		if b.Prev != prevOld {
			return 0, &CorruptRecordError{What: "audit log", Err: errors.New("chain broken")}
		}
		prevOld = hashRecord(sealed)
		b.Prev = prevNew
		if edit != nil {
			for i := range b.Events {
				edit(&b.Events[i])
			}
		}
		if sealed, err = sealAuditBlock(&newK, auditAD(id), &b); err != nil {
			return 0, err
		}
		if err := tx.Put(auditRef(id), sealed); err != nil {
			return 0, err
		}
		prevNew = hashRecord(sealed)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	if prevOld != head.Hash {
		return 0, &CorruptRecordError{What: "audit log", Err: errors.New("head does not match the last block")}
	}
	head.Hash = prevNew
	sealed, err := sealJSON(&newK, auditHeadAD, head)
	if err != nil {
		return 0, err
	}
	return len(ids) + 1, tx.Put(auditHeadRef, sealed)
}

// pendingKey returns the key for purpose that an adapter's files are still
// under after a rotation, or nil.
func pendingKey(tx Tx, root *seal.Key, purpose string) (*seal.Key, error) {
	w, err := tx.Get(prevKeyRef(purpose))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	k, err := seal.Unwrap(root, w, prevKeyAD(purpose))
	if err != nil {
		return nil, &CorruptRecordError{What: "old " + purpose + " key", Err: err}
	}
	return &k, nil
}

// PendingDerivedKey returns the key DeriveKey(purpose) gave before a
// master key rotation, while the files sealed under it (the Matrix store's
// pickles for "matrix-pickle", the bot's sealed cross-signing keys for
// "matrix-cross-signing") have not been re-sealed: the adapter opens them
// with it, seals them again under DeriveKey(purpose), then calls
// DerivedKeyRekeyed. ok is false when nothing is pending. Purposes are
// PurposeMatrixPickle and PurposeMatrixCrossSigning (records.go).
// Errors: *CorruptRecordError, a Store error.
func (s *Service) PendingDerivedKey(ctx context.Context, purpose string) (old seal.Key, ok bool, err error) {
	err = s.store.View(ctx, func(tx Tx) error {
		k, err := pendingKey(tx, &s.root, purpose)
		if k != nil {
			old, ok = *k, true
			seal.Zero(k)
		}
		return err
	})
	return old, ok, err
}

// DerivedKeyRekeyed forgets the old key for purpose once the adapter's
// files are sealed under the current one. Errors: a Store error.
func (s *Service) DerivedKeyRekeyed(ctx context.Context, purpose string) error {
	return s.store.Update(ctx, func(tx Tx) error {
		err := tx.Delete(prevKeyRef(purpose))
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
}

// PendingPickleKey is PendingDerivedKey(PurposeMatrixPickle).
func (s *Service) PendingPickleKey(ctx context.Context) (seal.Key, bool, error) {
	return s.PendingDerivedKey(ctx, PurposeMatrixPickle)
}

// PickleRekeyed is DerivedKeyRekeyed(PurposeMatrixPickle).
func (s *Service) PickleRekeyed(ctx context.Context) error {
	return s.DerivedKeyRekeyed(ctx, PurposeMatrixPickle)
}
