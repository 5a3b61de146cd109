package core

import (
	"errors"
	"sync"
	"time"

	"github.com/authbot/authbot/core/seal"
)

// ServiceOptions tune a Service. Zero values get the defaults.
type ServiceOptions struct {
	// UnlockFor is how long /unlock keeps a locked person's data key in
	// memory. Default 15 minutes.
	UnlockFor time.Duration
	// Argon2 are the passphrase KDF costs for new locks. Default
	// seal.DefaultArgon2; tests pass cheaper ones.
	Argon2 seal.Argon2Params
}

func (o *ServiceOptions) defaults() {
	if o.UnlockFor <= 0 {
		o.UnlockFor = 15 * time.Minute
	}
	if o.Argon2 == (seal.Argon2Params{}) {
		o.Argon2 = seal.DefaultArgon2
	}
}

const kindLock = "lock"

func lockRef(owner string) Ref { return Ref{Kind: kindLock, ID: owner} }

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
