package bolt

import (
	"bytes"

	bbolt "go.etcd.io/bbolt"

	"github.com/authbot/authbot/core"
)

// The nested layout of files written before the flat one (layout.go): one
// top-level bucket per kind, inside it one bucket per owner (the empty
// owner under ownerlessBucket), keys are ids. A read-write Open converts
// it to flat-2; a read-only Open reads it through the functions
// here, which only read.

// ownerlessBucket holds, in the nested layout, records whose Ref.Owner is
// empty (bbolt refuses empty bucket names). Owners are opaque ids in
// base64url, which never contain a NUL byte, so this name cannot collide
// with one; checkRef still refuses it as an owner.
const ownerlessBucket = "\x00"

func nestedOwnerKey(owner string) []byte {
	if owner == "" {
		return []byte(ownerlessBucket)
	}
	return []byte(owner)
}

func (t *tx) nestedBucket(kind, owner string) *bbolt.Bucket {
	kb := t.btx.Bucket([]byte(kind))
	if kb == nil {
		return nil
	}
	return kb.Bucket(nestedOwnerKey(owner))
}

func (t *tx) nestedGet(ref core.Ref) []byte {
	b := t.nestedBucket(ref.Kind, ref.Owner)
	if b == nil {
		return nil
	}
	return b.Get([]byte(ref.ID))
}

func (t *tx) nestedList(kind, owner string) []string {
	b := t.nestedBucket(kind, owner)
	if b == nil {
		return nil
	}
	var ids []string
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v != nil { // nil marks a nested bucket, not ours
			ids = append(ids, string(k))
		}
	}
	return ids
}

func (t *tx) nestedOwners(kind string) []string {
	kb := t.btx.Bucket([]byte(kind))
	if kb == nil {
		return nil
	}
	owners := nestedOwnersOf(kb)
	if len(owners) > 0 && owners[0] == "" {
		owners = owners[1:]
	}
	return owners
}

// nestedOwnersOf returns the owners with at least one record in nested
// kind bucket kb, in byte order, the empty owner first.
func nestedOwnersOf(kb *bbolt.Bucket) []string {
	var owners []string
	hasRecord := func(ob *bbolt.Bucket) bool {
		c := ob.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v != nil {
				return true
			}
		}
		return false
	}
	if ob := kb.Bucket([]byte(ownerlessBucket)); ob != nil && hasRecord(ob) {
		owners = append(owners, "")
	}
	c := kb.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v != nil || string(k) == ownerlessBucket {
			continue
		}
		if ob := kb.Bucket(k); ob != nil && hasRecord(ob) {
			owners = append(owners, string(k))
		}
	}
	return owners
}

// nestedForEach calls fn with every record of the nested layout in
// (kind, owner, id) order, the empty owner first within its kind.
func nestedForEach(btx *bbolt.Tx, fn func(ref core.Ref, sealed []byte) error) error {
	return btx.ForEach(func(kind []byte, kb *bbolt.Bucket) error {
		if isReserved(kind) {
			return nil
		}
		return nestedForEachKind(string(kind), kb, fn)
	})
}

func nestedForEachKind(kind string, kb *bbolt.Bucket, fn func(ref core.Ref, sealed []byte) error) error {
	visit := func(owner string, ob *bbolt.Bucket) error {
		c := ob.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v == nil {
				continue
			}
			if err := fn(core.Ref{Kind: kind, Owner: owner, ID: string(k)}, v); err != nil {
				return err
			}
		}
		return nil
	}
	if ob := kb.Bucket([]byte(ownerlessBucket)); ob != nil {
		if err := visit("", ob); err != nil {
			return err
		}
	}
	c := kb.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v != nil || bytes.Equal(k, []byte(ownerlessBucket)) {
			continue
		}
		if ob := kb.Bucket(k); ob != nil {
			if err := visit(string(k), ob); err != nil {
				return err
			}
		}
	}
	return nil
}
