package core

import (
	"fmt"
	"testing"
)

func testEntries(n int) []indexEntry {
	out := make([]indexEntry, n)
	for i := range out {
		out[i] = indexEntry{Summary: Summary{ID: fmt.Sprintf("id%014d", i), Label: fmt.Sprintf("account%d", i), Issuer: "Issuer", Kind: "totp"}, Fingerprint: "fp0123456789abcdef"}
	}
	return out
}

func TestIndexCacheStaysWithinItsBudget(t *testing.T) {
	c := newIndexCache()
	c.maxBytes = 64 << 10
	sealed := make([]byte, 2000)
	entries := testEntries(20)
	cost := indexCost("index|owner0000", sealed, entries)
	for i := range 500 {
		key := fmt.Sprintf("index|owner%04d", i)
		c.put(key, sealed, entries, false)
		if c.bytes > c.maxBytes {
			t.Fatalf("after %d puts the cache holds %d bytes, budget %d", i+1, c.bytes, c.maxBytes)
		}
		if _, _, ok := c.get(key, sealed); !ok {
			t.Fatalf("the entry just put is not there")
		}
	}
	if want := c.maxBytes / cost; len(c.m) < want-1 || len(c.m) > want {
		t.Errorf("%d vaults cached, want about %d", len(c.m), want)
	}
	sum := 0
	for _, e := range c.m {
		sum += e.cost
	}
	if sum != c.bytes {
		t.Errorf("bytes %d, entries add up to %d", c.bytes, sum)
	}
}

func TestIndexCacheReplaceAndOversize(t *testing.T) {
	c := newIndexCache()
	c.maxBytes = 64 << 10
	a, b := []byte("sealed-a"), []byte("sealed-b")
	c.put("k", a, testEntries(3), false)
	c.put("k", b, testEntries(5), false)
	if _, _, ok := c.get("k", a); ok {
		t.Error("a replaced version is still served")
	}
	if e, _, ok := c.get("k", b); !ok || len(e) != 5 {
		t.Errorf("get = %d entries, %v", len(e), ok)
	}
	if want := indexCost("k", b, testEntries(5)); c.bytes != want {
		t.Errorf("bytes %d after replacing, want %d", c.bytes, want)
	}
	// A vault bigger than a quarter of the budget is not kept, and a
	// smaller version of it is dropped.
	c.put("k", b, testEntries(200), false)
	if _, _, ok := c.get("k", b); ok || c.bytes != 0 || len(c.m) != 0 {
		t.Errorf("oversized vault cached: %d bytes, %d vaults", c.bytes, len(c.m))
	}
	var nilCache *indexCache
	nilCache.put("k", a, nil, false)
	if _, _, ok := nilCache.get("k", a); ok {
		t.Error("a nil cache hit")
	}
}
