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
// secrets, and no more than maxCacheBytes of them (estimated).
type indexCache struct {
	mu       sync.Mutex
	m        map[string]cachedIndex
	bytes    int // estimated size of everything in m
	maxBytes int
	owners   map[string]string // person id -> owner id (a people record read otherwise)
}

type cachedIndex struct {
	sealed  []byte
	entries []indexEntry // shared by readers: never modified (see mutableIndex)
	sorted  bool         // labelsSorted(entries)
	cost    int
}

// maxCachedIndexes bounds the owner-id map (a few dozen bytes each).
const maxCachedIndexes = 4096

// maxCacheBytes bounds the decoded indexes by the memory they hold: 4 MiB
// is about 240 vaults of 50 accounts, everyone in a family or a small team.
// Bounded by count (4096 vaults) the cache held 17 MB at 1,000 people × 50
// accounts, which doubled the Go heap and took authbot serve to 85 MB peak
// RSS in BenchmarkLoad, over the 80 MB target; the decode it saves is a few
// per cent of a /code's CPU there (the Bot API round trip dominates).
const maxCacheBytes = 4 << 20

// Estimated memory of one cached entry besides its strings' bytes: the
// indexEntry struct and its share of the slice and map.
const entryOverhead = 176

func newIndexCache() *indexCache {
	return &indexCache{m: map[string]cachedIndex{}, owners: map[string]string{}, maxBytes: maxCacheBytes}
}

// indexCost estimates what caching entries decoded from sealed keeps alive.
func indexCost(key string, sealed []byte, entries []indexEntry) int {
	n := len(key) + len(sealed) + 64
	for i := range entries {
		e := &entries[i]
		n += entryOverhead + len(e.ID) + len(e.Label) + len(e.Issuer) + len(e.User) + len(e.Kind) + len(e.Vault) + len(e.Fingerprint)
	}
	return n
}

// ownerCached returns person's owner id if it is known.
func (c *indexCache) ownerCached(person string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.owners[person]
	return id, ok
}

// setOwner remembers person's owner id (owners.go), so /code reads no
// people record.
func (c *indexCache) setOwner(person, owner string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.owners) >= maxCachedIndexes {
		clear(c.owners)
	}
	c.owners[person] = owner
}

// dropOwners forgets every owner id: after a removal or a new person took
// a name, the next lookup reads the people records again.
func (c *indexCache) dropOwners() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.owners)
}

// get returns the entries decoded from sealed, and whether they are
// sorted by label (labelsSorted).
func (c *indexCache) get(key string, sealed []byte) (entries []indexEntry, sorted, ok bool) {
	if c == nil {
		return nil, false, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || !bytes.Equal(e.sealed, sealed) {
		return nil, false, false
	}
	return e.entries, e.sorted, true
}

// put keeps entries, decoded from sealed; sorted is labelsSorted(entries).
func (c *indexCache) put(key string, sealed []byte, entries []indexEntry, sorted bool) {
	if c == nil {
		return
	}
	cost := indexCost(key, sealed, entries)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[key]; ok {
		delete(c.m, key)
		c.bytes -= old.cost
	}
	if cost > c.maxBytes/4 {
		return // one huge vault must not push everyone else out
	}
	// Evict at random (map order) until it fits: no bookkeeping per hit,
	// and with more active vaults than fit, every vault keeps the same
	// chance of a hit instead of the whole cache starting over.
	for k, e := range c.m {
		if c.bytes+cost <= c.maxBytes {
			break
		}
		delete(c.m, k)
		c.bytes -= e.cost
	}
	c.m[key] = cachedIndex{sealed: sealed, entries: entries, sorted: sorted, cost: cost}
	c.bytes += cost
}

// mutableIndex gives v its own copy of an index shared with the cache
// before anything changes it; it is then no longer known to be sorted.
func (v *vault) mutableIndex() {
	v.labelsSorted = false
	if v.indexShared {
		v.index = slices.Clone(v.index)
		v.indexShared = false
	}
}

// labelsSorted reports whether every label in entries is ASCII and the
// entries are in ascending order of their lower-case labels, as saveIndex
// writes them: an exact label can then be found by binary search
// (findLabel) instead of a comparison with every entry, which was the
// largest part of a /code's own work besides the HMAC and the AEAD.
func labelsSorted(entries []indexEntry) bool {
	for i := range entries {
		if !isASCII(entries[i].Label) || i > 0 && compareASCIIFold(entries[i-1].Label, entries[i].Label) > 0 {
			return false
		}
	}
	return true
}

// compareASCIIFold compares a and b as their ASCII lower-case forms.
func compareASCIIFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := lowerASCII(a[i]), lowerASCII(b[i])
		if ca != cb {
			return int(ca) - int(cb)
		}
	}
	return len(a) - len(b)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// findLabel returns the position of the first entry whose label is q in
// any case, in an index whose labelsSorted holds; q is lower-case ASCII.
// For ASCII strings strings.EqualFold is exactly this comparison.
func (v *vault) findLabel(q string) (int, bool) {
	i, found := slices.BinarySearchFunc(v.index, q, func(e indexEntry, q string) int {
		return compareASCIIFold(e.Label, q)
	})
	return i, found
}
