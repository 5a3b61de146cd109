package core

import (
	"bytes"
	"slices"
	"sync"
)

// indexCache keeps decoded account indexes between transactions, keyed by
// the sealed record they came from: a hit needs the stored bytes to be
// exactly the ones decoded before, so it can never serve a stale or a
// substituted index, and a locked person's index is never reached (their
// data key cannot be unwrapped first). Opening and decoding the index was
// about half the cost of a /code. It holds names and issuers, never
// secrets, and no more than maxCachedIndexes vaults.
type indexCache struct {
	mu     sync.Mutex
	m      map[string]cachedIndex
	owners map[string]string // person id -> opaque owner id (an HMAC each time otherwise)
}

type cachedIndex struct {
	sealed  []byte
	entries []indexEntry // shared by readers: never modified (see mutableIndex)
}

// maxCachedIndexes bounds the cache: 4096 vaults of 50 accounts are ~50 MB
// at worst; when full it starts over.
const maxCachedIndexes = 4096

func newIndexCache() *indexCache {
	return &indexCache{m: map[string]cachedIndex{}, owners: map[string]string{}}
}

// owner returns person's opaque owner id, computing it with derive once.
func (c *indexCache) owner(person string, derive func() string) string {
	c.mu.Lock()
	id, ok := c.owners[person]
	c.mu.Unlock()
	if ok {
		return id
	}
	id = derive()
	c.mu.Lock()
	if len(c.owners) >= maxCachedIndexes {
		clear(c.owners)
	}
	c.owners[person] = id
	c.mu.Unlock()
	return id
}

func (c *indexCache) get(key string, sealed []byte) ([]indexEntry, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || !bytes.Equal(e.sealed, sealed) {
		return nil, false
	}
	return e.entries, true
}

func (c *indexCache) put(key string, sealed []byte, entries []indexEntry) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedIndexes {
		clear(c.m)
	}
	c.m[key] = cachedIndex{sealed: sealed, entries: entries}
}

// mutableIndex gives v its own copy of an index shared with the cache
// before anything changes it.
func (v *vault) mutableIndex() {
	if v.indexShared {
		v.index = slices.Clone(v.index)
		v.indexShared = false
	}
}
