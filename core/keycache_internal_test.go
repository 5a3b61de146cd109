package core

import (
	"testing"

	"github.com/authbot/authbot/core/seal"
)

func TestKeyCache(t *testing.T) {
	k1, k2 := seal.Key{1}, seal.Key{2}
	w1, w2 := []byte("wrapped one"), []byte("wrapped two")
	c := newKeyCache()
	c.put("o", w1, &k1)
	w1[0] = 'X' // put keeps its own copy
	w1[0] = 'w'
	var got seal.Key
	for _, step := range []struct {
		name    string
		wrapped []byte
		hit     bool
		want    seal.Key
	}{
		{"same record", w1, true, k1},
		{"other record", w2, false, seal.Key{}},
		{"record gone", nil, false, seal.Key{}},
	} {
		got = seal.Key{}
		if hit := c.get("o", step.wrapped, &got); hit != step.hit || got != step.want {
			t.Errorf("%s: hit %v key %x", step.name, hit, got[:1])
		}
	}
	old := c.m["o"]
	c.put("o", w2, &k2)
	if old.key != (seal.Key{}) {
		t.Error("a replaced key was not zeroed")
	}
	if !c.get("o", w2, &got) || got != k2 || c.get("o", w1, &got) {
		t.Error("replaced entry")
	}
	e := c.m["o"]
	c.drop("o")
	if e.key != (seal.Key{}) || c.get("o", w2, &got) {
		t.Error("drop left the key")
	}
	for i := range maxCachedKeys + 1 {
		c.put(string(rune(i)), w1, &k1)
	}
	if len(c.m) > maxCachedKeys {
		t.Errorf("%d entries, bound %d", len(c.m), maxCachedKeys)
	}
	var nilCache *keyCache
	if nilCache.get("o", w1, &got) {
		t.Error("nil cache hit")
	}
}
