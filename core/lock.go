package core

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/authbot/authbot/core/seal"
)

// isLocked reports whether owner's data key is wrapped only under a
// passphrase.
func isLocked(tx Tx, owner string) (bool, error) {
	_, err := tx.Get(lockRef(owner))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// lockCache holds the data keys of people who unlocked, until they expire.
type lockCache struct {
	mu   sync.Mutex
	keys map[string]unlocked // by owner
}

type unlocked struct {
	key   seal.Key
	until time.Time
}

func newLockCache() *lockCache { return &lockCache{keys: map[string]unlocked{}} }

func (c *lockCache) get(owner string, now time.Time) (seal.Key, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.keys) == 0 {
		return seal.Key{}, false
	}
	u, ok := c.keys[owner]
	if ok && !now.Before(u.until) {
		seal.Zero(&u.key)
		delete(c.keys, owner)
		return seal.Key{}, false
	}
	return u.key, ok
}

func (c *lockCache) put(owner string, k seal.Key, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keys[owner] = unlocked{key: k, until: until}
}

func (c *lockCache) drop(owner string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u, ok := c.keys[owner]; ok {
		seal.Zero(&u.key)
		delete(c.keys, owner)
	}
}

// The personal lock.
//
// /lock PASSPHRASE wraps the person's data key under a key derived from the
// passphrase with Argon2id (salt random per passphrase, costs stored beside
// it) and deletes the copy wrapped under the master key: from then on the
// operator's master key alone opens nothing of theirs — not their accounts,
// not their copies of shared vault keys. /unlock keeps the data key in
// memory for ServiceOptions.UnlockFor. Wrong passphrases are counted in a
// sealed record that survives restarts; from the third on, each failure
// makes the next attempt wait twice as long (8 s, 16 s, ... capped at a
// day), and attempts are refused during the wait. Unlocks run one at a time
// (unlockMu): Argon2id takes 64 MiB per call, and parallel guesses must not
// slip past the counter.

// MinPassphrase is the shortest passphrase /lock accepts, in characters.
const MinPassphrase = 10

// lockRecord is stored sealed under the "lock" sub-key at lockRef(owner).
type lockRecord struct {
	Salt    []byte            `json:"salt"`
	Params  seal.Argon2Params `json:"params"`
	Wrapped []byte            `json:"wrapped"` // the data key under the passphrase key
}

// lockFailures counts wrong passphrases, at failRef(owner).
type lockFailures struct {
	Count int       `json:"count"`
	Until time.Time `json:"until"`
}

// lockDelay is the wait after n wrong passphrases in a row.
func lockDelay(n int) time.Duration {
	if n < 3 {
		return 0
	}
	if n > 16 {
		return 24 * time.Hour
	}
	return min(time.Duration(1<<n)*time.Second, 24*time.Hour)
}

// SetPassphrase locks person's data key under pass (see above), or changes
// the passphrase of a person who is unlocked. The person is locked when it
// returns. Errors: ErrWeakPassphrase, ErrLocked (locked and not unlocked).
//
// Locking makes a new data key rather than re-wrapping the old one: an old
// backup holds the old key wrapped under the master key, and must open
// nothing stored after the lock. So the person's accounts and index are
// re-sealed under the new key, their vault key copies re-wrapped, their
// key pair replaced, and each shared vault whose only master-reachable
// copy was theirs gets a new vault key. Their audit entries lose their
// account names (the operator reads the log).
func (s *Service) SetPassphrase(ctx context.Context, person, pass string) error {
	if utf8.RuneCountInString(pass) < MinPassphrase {
		return ErrWeakPassphrase
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return err
	}
	p := s.opts.Argon2
	kek := seal.PassphraseKey([]byte(pass), salt, p) // slow: outside the transaction
	defer seal.Zero(&kek)
	// Buffered personal entries land before the log is scrubbed below.
	if err := s.FlushAudit(ctx); err != nil {
		return err
	}
	var owner string
	err := s.writeTx(ctx, func(tx Tx) error {
		sp, err := s.openSpaces(tx, person, true)
		if err != nil {
			return err
		}
		owner = sp.own.owner
		key, err := seal.NewKey()
		if err != nil {
			return err
		}
		defer seal.Zero(&key)
		if err := sp.own.resealUnder(key); err != nil {
			return err
		}
		if len(sp.own.index) > 0 {
			if err := sp.own.saveIndex(); err != nil {
				return err
			}
		} else if err := tx.Delete(sp.own.indexRef()); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		for _, v := range sp.shared {
			need, err := s.lockNeedsRekey(tx, v, owner)
			if err != nil {
				return err
			}
			if need {
				if err := s.rekey(tx, v); err != nil {
					return err
				}
				if err := v.saveIndex(); err != nil {
					return err
				}
			}
			if err := putVaultKey(tx, &key, owner, v.owner, &v.key); err != nil {
				return err
			}
		}
		if err := s.putKeyPair(tx, owner, &key); err != nil {
			return err
		}
		w, err := seal.Wrap(&kek, &key, personAD(owner))
		if err != nil {
			return err
		}
		if err := putSealed(tx, s.lockKey(), lockRef(owner), lockAD(owner), lockRecord{Salt: salt, Params: p, Wrapped: w}); err != nil {
			return err
		}
		for _, ref := range []Ref{personRef(owner), failRef(owner)} {
			if err := tx.Delete(ref); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		s.keys.drop(owner) // it would miss anyway (the record is gone): zero it now
		if _, err := rewriteAudit(tx, s.auditKey(), s.auditKey(), func(e *Event) {
			if e.Person == person && e.Vault == "" {
				e.Account = ""
			}
		}); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, Event{Type: EventLock, Person: person, Detail: "passphrase set"})
	})
	if err == nil {
		s.locks.drop(owner)
	}
	return err
}

// lockNeedsRekey reports whether v must get a new key when owner locks:
// when no other member's data key is wrapped under the master key, owner's
// copy was the master key's only way in, and an old backup would keep it.
// A vault with a member locked since before key pairs (nothing to seal a
// new key to) keeps its key.
func (s *Service) lockNeedsRekey(tx Tx, v *vault, owner string) (bool, error) {
	for i := range v.meta.Members {
		o := s.memberOwner(&v.meta.Members[i])
		if o == owner {
			continue
		}
		if _, err := tx.Get(personRef(o)); err == nil {
			return false, nil
		} else if !errors.Is(err, ErrNotFound) {
			return false, err
		}
		if _, ok := s.locks.get(o, s.now()); ok {
			continue
		}
		if _, _, ok, err := s.keyPair(tx, o); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// LockNow forgets person's unlocked key. Errors: ErrNotLocked.
func (s *Service) LockNow(ctx context.Context, person string) error {
	var owner string
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if owner, err = s.ownerOf(tx, person, false); err != nil || owner == "" {
			if err == nil {
				err = ErrNotLocked
			}
			return err
		}
		locked, err := isLocked(tx, owner)
		if err == nil && !locked {
			return ErrNotLocked
		}
		return err
	})
	if err == nil {
		s.locks.drop(owner)
	}
	return err
}

// Unlock opens person's data key with pass and keeps it in memory until
// the returned time. Errors: ErrNotLocked, *LockoutError,
// *WrongPassphraseError.
func (s *Service) Unlock(ctx context.Context, person, pass string) (time.Time, error) {
	s.unlockMu.Lock()
	defer s.unlockMu.Unlock()
	var owner string
	var rec lockRecord
	var fails lockFailures
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if owner, err = s.ownerOf(tx, person, false); err != nil || owner == "" {
			if err == nil {
				err = ErrNotLocked
			}
			return err
		}
		ok, err := getSealed(tx, s.lockKey(), lockRef(owner), lockAD(owner), "lock", &rec)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotLocked
		}
		_, err = getSealed(tx, s.lockKey(), failRef(owner), failAD(owner), "lock failures", &fails)
		return err
	})
	if err != nil {
		return time.Time{}, err
	}
	now := s.now()
	if now.Before(fails.Until) {
		return time.Time{}, &LockoutError{Until: fails.Until}
	}
	kek := seal.PassphraseKey([]byte(pass), rec.Salt, rec.Params)
	defer seal.Zero(&kek)
	key, uerr := seal.Unwrap(&kek, rec.Wrapped, personAD(owner))
	if uerr != nil {
		fails.Count++
		fails.Until = time.Time{}
		if d := lockDelay(fails.Count); d > 0 {
			fails.Until = now.Add(d)
		}
		err := s.writeTx(ctx, func(tx Tx) error {
			if err := putSealed(tx, s.lockKey(), failRef(owner), failAD(owner), fails); err != nil {
				return err
			}
			return s.auditTx(ctx, tx, Event{Type: EventLock, Person: person, Detail: "wrong passphrase"})
		})
		if err != nil {
			return time.Time{}, err
		}
		return time.Time{}, &WrongPassphraseError{Failures: fails.Count, Until: fails.Until}
	}
	err = s.writeTx(ctx, func(tx Tx) error {
		if fails.Count > 0 {
			if err := tx.Delete(failRef(owner)); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		// Locked since before key pairs existed: make theirs now.
		if err := s.ensureKeyPair(tx, owner, &key); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, Event{Type: EventLock, Person: person, Detail: "unlocked"})
	})
	if err != nil {
		seal.Zero(&key)
		return time.Time{}, err
	}
	until := now.Add(s.opts.UnlockFor)
	s.locks.put(owner, key, until)
	return until, nil
}

// RemovePassphrase undoes SetPassphrase for a person who is unlocked: the
// data key is wrapped under the master key again. Errors: ErrNotLocked,
// ErrLocked.
func (s *Service) RemovePassphrase(ctx context.Context, person string) error {
	var owner string
	err := s.writeTx(ctx, func(tx Tx) error {
		var err error
		if owner, err = s.ownerOf(tx, person, false); err != nil || owner == "" {
			if err == nil {
				err = ErrNotLocked
			}
			return err
		}
		locked, err := isLocked(tx, owner)
		if err != nil {
			return err
		}
		if !locked {
			return ErrNotLocked
		}
		key, ok := s.locks.get(owner, s.now())
		if !ok {
			return ErrLocked
		}
		w, err := seal.Wrap(&s.master, &key, personAD(owner))
		if err != nil {
			return err
		}
		if err := tx.Put(personRef(owner), w); err != nil {
			return err
		}
		for _, ref := range []Ref{lockRef(owner), failRef(owner)} {
			if err := tx.Delete(ref); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		return s.auditTx(ctx, tx, Event{Type: EventLock, Person: person, Detail: "passphrase removed"})
	})
	if err == nil {
		s.locks.drop(owner)
	}
	return err
}
