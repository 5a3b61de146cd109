package core

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/authbot/authbot/core/seal"
)

// Service is what every adapter calls (through bots/commands). Each method
// takes the acting person by their person name: a config user's or an
// invitee's name ("alice"), or LocalPerson — never a chat identity, which
// bots/commands resolves first. core turns the name into the person's
// opaque owner id (owners.go) before anything reaches the Store.
//
// Errors: every method that reads a person's accounts may also return
// ErrLocked (the person locked with a passphrase and has not unlocked), a
// *CorruptRecordError (a record that does not open) or a Store error; each
// method's "Errors:" line names the others, the ones a person is told.
type Service struct {
	store  Store
	clock  Clock
	master seal.Key
	root   seal.Key // derivation root, stable across key rotations (rotate.go)
	ids    seal.Key // lookup key: names and tokens to opaque record ids (records.go)

	// locks holds the data keys of people who unlocked with their
	// passphrase, until they expire (lock.go).
	locks    *lockCache
	unlockMu sync.Mutex // one Unlock at a time (lock.go)
	// approvals holds code requests and grants (approval.go).
	approvals *approvals
	// links holds one-time link codes (people.go).
	links *linkCodes
	// claim is the open claim code, if any (claim.go).
	claim claimState
	// audit buffers personal code events between writes (audit.go).
	audit *auditBuffer
	// opts are the tunables of NewServiceWith.
	opts ServiceOptions
	// indexes caches decoded account indexes (indexcache.go).
	indexes *indexCache
	// keys caches unwrapped data keys, checked against their records
	// (keycache.go).
	keys *keyCache
	// dir holds the config users (directory.go).
	dir directory
}

// ServiceOptions tune a Service. Zero values get the defaults.
type ServiceOptions struct {
	// UnlockFor is how long /unlock keeps a locked person's data key in
	// memory. Default 15 minutes.
	UnlockFor time.Duration
	// Argon2 are the passphrase KDF costs for new locks. Default
	// seal.DefaultArgon2; tests pass cheaper ones.
	Argon2 seal.Argon2Params
	// Users are the config file's people (directory.go). Offline tools
	// that answer no chat pass none.
	Users []ConfigUser
}

func (o *ServiceOptions) defaults() {
	if o.UnlockFor <= 0 {
		o.UnlockFor = 15 * time.Minute
	}
	if o.Argon2 == (seal.Argon2Params{}) {
		o.Argon2 = seal.DefaultArgon2
	}
}

// readOnlyStore is an optional Store extension (storage/bolt opened
// read-only implements it).
type readOnlyStore interface{ ReadOnly() bool }

// NewService checks that master opens the database behind store (creating
// the check record on a new database) and returns the service.
// Errors: ErrWrongMasterKey, a wrapped ErrCorrupt, or a Store error.
func NewService(ctx context.Context, store Store, master seal.Key, clock Clock) (*Service, error) {
	return NewServiceWith(ctx, store, master, clock, ServiceOptions{})
}

// NewServiceWith is NewService with options.
func NewServiceWith(ctx context.Context, store Store, master seal.Key, clock Clock, opts ServiceOptions) (*Service, error) {
	opts.defaults()
	s := &Service{store: store, clock: clock, master: master, opts: opts, locks: newLockCache(), audit: &auditBuffer{}, approvals: newApprovals(),
		links: &linkCodes{codes: map[string]linkCode{}}, indexes: newIndexCache(), keys: newKeyCache(), dir: newDirectory(opts.Users)}
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
	err = store.View(ctx, func(tx Tx) error {
		var err error
		s.ids, err = loadIDs(tx, &s.root)
		return err
	})
	if err != nil {
		return nil, err
	}
	// Migrations write; a read-only open (authbot audit, verifying a
	// backup) reads older records as they are (ownerOf knows them) and
	// leaves the writing to the next read-write open.
	if ro, ok := store.(readOnlyStore); !ok || !ro.ReadOnly() {
		if err := s.migrateOwners(ctx); err != nil {
			return nil, fmt.Errorf("migrate people's storage ids: %w", err)
		}
		if err := s.migrateKeyPairs(ctx); err != nil {
			return nil, fmt.Errorf("migrate people's key pairs: %w", err)
		}
	}
	return s, nil
}

func (s *Service) checkMasterKey(ctx context.Context) error {
	var missing bool
	err := s.store.View(ctx, func(tx Tx) error {
		err := checkKey(tx, &s.master)
		if !errors.Is(err, ErrNotFound) {
			return err
		}
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
	})
	if err != nil || !missing {
		return err
	}
	sealed, err := sealKeyCheck(&s.master)
	if err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		if _, err := tx.Get(keyCheckRef); err == nil {
			return nil // another process won the race; it checked the same key file
		}
		return tx.Put(keyCheckRef, sealed)
	})
}

// vault is one set of accounts opened inside a transaction: a person's own
// (name "") or a shared vault (vault.go). Both are sealed the same way, under
// their own key; only the record kinds and the key's wrapping differ.
type vault struct {
	tx    Tx
	owner string
	key   seal.Key
	index []indexEntry

	// Shared vaults only.
	name     string     // the vault's name: "team" in "team/aws"
	role     Role       // the acting person's role in it
	meta     *vaultMeta // its sealed metadata
	kAccount string     // record kinds: personal or shared
	kIndex   string
	dirty    bool // the index changed and must be saved
	boxed    bool // the acting person's copy of the key is sealed to their public key (keypair.go)
	locked   bool // a person's own vault, opened with their passphrase: the audit names no account

	cache       *indexCache
	indexShared bool // index is the cache's copy: call mutableIndex before changing it
	// labelsSorted: index holds only ASCII labels in lower-case order
	// (labelsSorted), so findIn may binary-search it.
	labelsSorted bool
}

func (v *vault) shared() bool { return v.meta != nil }

// auditName is the account name v's audit entries may carry: none for a
// locked person's own accounts, which the operator must not learn from
// the log.
func (v *vault) auditName(label string) string {
	if v.locked {
		return ""
	}
	return label
}

// sum is e's summary as the person sees it: with the vault's name.
func (v *vault) sum(e *indexEntry) Summary {
	out := e.Summary
	out.Vault = v.name
	return out
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
	v := &vault{}
	if err := s.openVaultInto(v, tx, owner, create); err != nil {
		return nil, err
	}
	return v, nil
}

// openVaultInto is openVault into v, which the caller allocated.
func (s *Service) openVaultInto(v *vault, tx Tx, owner string, create bool) error {
	*v = vault{tx: tx, owner: owner, kAccount: kindAccount, kIndex: kindIndex, cache: s.indexes}
	if k, ok := s.locks.get(owner, s.now()); ok {
		v.key, v.locked = k, true
		return v.loadIndex()
	}
	// Not personKeyInto: the unlocked keys were just looked at.
	created, err := s.storedPersonKeyInto(&v.key, tx, owner, create)
	if err != nil {
		return err
	}
	if created {
		return nil
	}
	return v.loadIndex()
}

// personKey returns owner's data key: from the unlocked keys in memory,
// else unwrapped with the master key. With create, a person with no key
// and no lock gets a new one (created is then true); without, ErrNoAccounts.
// A person whose key is wrapped only under a passphrase and who has not
// unlocked gets ErrLocked: there is nothing the master key can open.
func (s *Service) personKey(tx Tx, owner string, create bool) (key seal.Key, created bool, err error) {
	created, err = s.personKeyInto(&key, tx, owner, create)
	return key, created, err
}

// personKeyInto is personKey writing the key to *out (the caller's vault,
// say), so the key takes no allocation of its own on every /code.
func (s *Service) personKeyInto(out *seal.Key, tx Tx, owner string, create bool) (created bool, err error) {
	if k, ok := s.locks.get(owner, s.now()); ok {
		*out = k
		return false, nil
	}
	return s.storedPersonKeyInto(out, tx, owner, create)
}

// storedPersonKeyInto is personKeyInto without the unlocked keys: the
// master-wrapped record, or a new key with create.
func (s *Service) storedPersonKeyInto(out *seal.Key, tx Tx, owner string, create bool) (created bool, err error) {
	ref := personRef(owner)
	if p, ok := tx.(Peeker); ok && s.keys != nil {
		switch hit, err := s.cachedPersonKey(p, out, ref, owner); {
		case hit:
			return false, nil
		case err != nil && !errors.Is(err, ErrNotFound):
			return false, err
		}
		// No record: the Get below finds none either and takes the
		// same path as without a cache.
	}
	wrapped, err := tx.Get(ref)
	switch {
	case errors.Is(err, ErrNotFound):
		locked, lerr := isLocked(tx, owner)
		if lerr != nil {
			return false, lerr
		}
		if locked {
			return false, ErrLocked
		}
		if !create {
			return false, ErrNoAccounts
		}
		if *out, err = seal.NewKey(); err != nil {
			return false, err
		}
		w, err := seal.Wrap(&s.master, out, personAD(owner))
		if err != nil {
			return false, err
		}
		if err := s.putKeyPair(tx, owner, out); err != nil {
			return false, err
		}
		return true, tx.Put(ref, w)
	case err != nil:
		return false, err
	}
	if err := seal.UnwrapTo(out, &s.master, wrapped, "person|", owner); err != nil {
		return false, &CorruptRecordError{What: "person key", Err: err}
	}
	return false, nil
}

// cachedPersonKey reads owner's person record without copying it and
// takes the key from s.keys when the record is the one cached, else
// unwraps it and caches it. hit is false with ErrNotFound for no record.
func (s *Service) cachedPersonKey(p Peeker, out *seal.Key, ref Ref, owner string) (hit bool, err error) {
	pk := personPeeks.Get().(*personPeek)
	pk.s, pk.out, pk.owner = s, out, owner
	err = p.Peek(ref, pk.fn)
	hit, unwrap := pk.hit, pk.unwrap
	pk.release()
	switch {
	case err != nil:
		return false, err
	case unwrap != nil:
		return false, &CorruptRecordError{What: "person key", Err: unwrap}
	}
	return hit, nil
}

// personPeek is the state of cachedPersonKey's Peek callback. A closure
// escapes through the Peeker interface (two allocations per /code, the
// closure and what it captured); a pooled state with its callback bound
// once takes none. It holds a pointer to the caller's key, never key
// bytes, and is cleared before it goes back.
type personPeek struct {
	s      *Service
	out    *seal.Key
	owner  string
	hit    bool
	unwrap error
	fn     func(wrapped []byte) error // pk.peek, bound once
}

var personPeeks = sync.Pool{New: func() any {
	pk := new(personPeek)
	pk.fn = pk.peek
	return pk
}}

func (pk *personPeek) peek(wrapped []byte) error {
	if pk.s.keys.get(pk.owner, wrapped, pk.out) {
		pk.hit = true
		return nil
	}
	if pk.unwrap = seal.UnwrapTo(pk.out, &pk.s.master, wrapped, "person|", pk.owner); pk.unwrap == nil {
		pk.s.keys.put(pk.owner, wrapped, pk.out)
		pk.hit = true
	}
	return nil
}

func (pk *personPeek) release() {
	fn := pk.fn
	*pk = personPeek{fn: fn}
	personPeeks.Put(pk)
}

// loadIndex reads and opens v's index; a vault with no index yet has none.
func (v *vault) loadIndex() error {
	if p, ok := v.tx.(Peeker); ok && v.cache != nil {
		ip := indexPeeks.Get().(*indexPeek)
		ip.v = v
		err := p.Peek(v.indexRef(), ip.fn)
		hit := ip.hit
		ip.release()
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if hit {
			v.indexShared = true
			return nil
		}
	}
	sealed, err := v.tx.Get(v.indexRef())
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	plain, err := seal.Open(&v.key, sealed, indexAD(v.owner))
	if err != nil {
		return &CorruptRecordError{What: "account index", Err: err}
	}
	if v.index, err = decodeIndex(plain); err != nil {
		return &CorruptRecordError{What: "account index", Err: err}
	}
	v.labelsSorted = labelsSorted(v.index)
	v.cache.put(v.kIndex+"|"+v.owner, sealed, v.index, v.labelsSorted)
	v.indexShared = true
	return nil
}

// indexPeek is loadIndex's Peek callback state, pooled like personPeek:
// a closure would be an allocation per /code.
type indexPeek struct {
	v   *vault
	hit bool
	fn  func(sealed []byte) error // ip.peek, bound once
}

var indexPeeks = sync.Pool{New: func() any {
	ip := new(indexPeek)
	ip.fn = ip.peek
	return ip
}}

func (ip *indexPeek) peek(sealed []byte) error {
	v := ip.v
	v.index, v.labelsSorted, ip.hit = v.cache.get(v.kIndex+"|"+v.owner, sealed)
	return nil
}

func (ip *indexPeek) release() {
	fn := ip.fn
	*ip = indexPeek{fn: fn}
	indexPeeks.Put(ip)
}

func (v *vault) account(id string) (*Account, error) {
	a := new(Account)
	if err := v.accountInto(id, a); err != nil {
		return nil, err
	}
	return a, nil
}

// accountInto is account decoding into *a, which it overwrites.
func (v *vault) accountInto(id string, a *Account) error {
	sealed, err := v.tx.Get(v.accountRef(id))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			// The index names an account that is not there: damage, not absence.
			return &CorruptRecordError{What: "account", Err: err}
		}
		return err
	}
	// The parts of accountAD, joined by seal: no string per /code.
	plain, err := seal.OpenParts(&v.key, sealed, "account|", v.owner, "|", id)
	if err != nil {
		return &CorruptRecordError{What: "account", Err: err}
	}
	*a = Account{}
	if err := decodeAccount(plain, id, a); err != nil {
		return &CorruptRecordError{What: "account", Err: err}
	}
	a.Vault = v.name
	return nil
}

// putAccount writes a and refreshes its index entry (not the index itself).
func (v *vault) putAccount(a *Account) error {
	sealed, err := seal.Seal(&v.key, encodeAccount(a), accountAD(v.owner, a.ID))
	if err != nil {
		return err
	}
	if err := v.tx.Put(v.accountRef(a.ID), sealed); err != nil {
		return err
	}
	v.dirty = true
	v.mutableIndex()
	e := indexEntry{Summary: a.summary(), Fingerprint: v.fingerprint(a.OTP.Secret)}
	e.Vault = ""
	for i := range v.index {
		if v.index[i].ID == a.ID {
			v.index[i] = e
			return nil
		}
	}
	v.index = append(v.index, e)
	return nil
}

func (v *vault) saveIndex() error {
	v.mutableIndex()
	sort.Slice(v.index, func(i, j int) bool {
		return strings.ToLower(v.index[i].Label) < strings.ToLower(v.index[j].Label)
	})
	sealed, err := seal.Seal(&v.key, encodeIndex(v.index), indexAD(v.owner))
	if err != nil {
		return err
	}
	return v.tx.Put(v.indexRef(), sealed)
}

func newID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the OS has no entropy: nothing is safe
	}
	return hex.EncodeToString(b[:])
}

// now is the service's time, from its clock as it is (the OTP code
// functions find the time step themselves).
func (s *Service) now() time.Time { return s.clock.Now() }
