package bolt

import (
	"sync"
	"sync/atomic"
)

// dictCache keeps kind codes and owner numbers between read transactions.
// Each read otherwise seeks the dictionary once per kind and once per
// owner before it seeks the record itself: a /code read three records
// and paid five seeks for their keys (a third of its time in bbolt).
//
// What makes it safe without a check against the file:
//   - a kind's code never changes once given, and kinds are never taken
//     out of the dictionary, so a cached code is right for every later
//     snapshot of this Store's file;
//   - an owner's number is never handed out twice, and it leaves the
//     dictionary only in a write transaction of this Store (forgetIfGone),
//     which drops it from the cache after its commit (forget) while it
//     still holds writeMu, so no later write can give the owner a new
//     number before the old one is gone from here. A read that looked a
//     number up in a snapshot from before that commit could put it back
//     afterwards; gen stops it: it changes on every forget, and a read
//     adds only what it found under the gen it started with.
//
// Only reads of the flat-2 layout use it; nothing here is a secret (kinds
// are core's own words, owners opaque ids), and it is bounded.
type dictCache struct {
	gen atomic.Uint64

	mu     sync.RWMutex
	kinds  map[string]byte
	owners map[string]uint32
}

// maxCachedOwners bounds the owner numbers kept (some 60 bytes each).
const maxCachedOwners = 8192

func newDictCache() *dictCache {
	return &dictCache{kinds: map[string]byte{}, owners: map[string]uint32{}}
}

func (c *dictCache) kind(name string) (byte, bool) {
	c.mu.RLock()
	code, ok := c.kinds[name]
	c.mu.RUnlock()
	return code, ok
}

func (c *dictCache) owner(name string) (uint32, bool) {
	c.mu.RLock()
	num, ok := c.owners[name]
	c.mu.RUnlock()
	return num, ok
}

// addKind keeps a kind's code read in a snapshot taken under gen.
func (c *dictCache) addKind(gen uint64, name string, code byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() == gen && len(c.kinds) < maxKinds {
		c.kinds[name] = code
	}
}

// addOwner keeps an owner's number read in a snapshot taken under gen.
func (c *dictCache) addOwner(gen uint64, name string, num uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if len(c.owners) >= maxCachedOwners {
		clear(c.owners)
	}
	c.owners[name] = num
}

// forget drops owners whose dictionary entries a committed write removed.
func (c *dictCache) forget(owners []string) {
	if len(owners) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	for _, o := range owners {
		delete(c.owners, o)
	}
}
