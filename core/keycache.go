package core

import (
	"bytes"
	"sync"

	"github.com/authbot/authbot/core/seal"
)

// keyCache keeps people's unwrapped data keys between transactions, keyed
// by owner and matched against the wrapped record they came from, the way
// indexCache matches indexes: a hit needs the stored person record to hold
// exactly the bytes unwrapped before. So it can never serve a key the store
// no longer has: /lock deletes the master-wrapped record (the key is then
// only under the passphrase, and the cache misses), a rotation or a new
// data key writes a new record (a fresh nonce, other bytes), and removing
// a person deletes it; another process sharing the store changes the same
// record. Unwrapping was one of the two AEAD opens of every /code.
//
// What it holds is no new exposure: the master key, which unwraps every one
// of these records, is in the same process memory. Keys of passphrase-only
// people are never here (they have no master-wrapped record; see
// unlockedKeys). Entries are zeroed when replaced, dropped or evicted.
type keyCache struct {
	mu sync.Mutex
	m  map[string]*cachedKey
}

type cachedKey struct {
	wrapped []byte // the person record as stored
	key     seal.Key
}

// maxCachedKeys bounds the cache (about 150 bytes an entry); when full it
// starts over, as the owner-id map does.
const maxCachedKeys = 4096

func newKeyCache() *keyCache { return &keyCache{m: map[string]*cachedKey{}} }

// get copies owner's key to *out if wrapped is the record it came from.
func (c *keyCache) get(owner string, wrapped []byte, out *seal.Key) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[owner]
	if !ok || !bytes.Equal(e.wrapped, wrapped) {
		return false
	}
	*out = e.key
	return true
}

// put remembers key as unwrapped from wrapped (which put copies).
func (c *keyCache) put(owner string, wrapped []byte, key *seal.Key) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[owner]; ok {
		seal.Zero(&old.key)
	} else if len(c.m) >= maxCachedKeys {
		c.clearLocked()
	}
	c.m[owner] = &cachedKey{wrapped: bytes.Clone(wrapped), key: *key}
}

// drop forgets owner's key (lock, removal): the record check alone would
// already refuse it, this zeroes it now.
func (c *keyCache) drop(owner string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[owner]; ok {
		seal.Zero(&e.key)
		delete(c.m, owner)
	}
}

func (c *keyCache) clearLocked() {
	for _, e := range c.m {
		seal.Zero(&e.key)
	}
	clear(c.m)
}
