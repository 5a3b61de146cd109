package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"

	bbolt "go.etcd.io/bbolt"

	"github.com/authbot/authbot/core"
)

// The flat-1 layout of files written before flat-2 (layout.go): one
// top-level bucket per kind, key = owner number || id, and the owner
// dictionary in two reserved buckets, ownersBucket (owner -> number) and
// numbersBucket (number -> owner). A read-write Open converts it to
// flat-2; a read-only Open reads it through the functions here, which only
// read. Their errors are the file's damage: the caller wraps them with
// corruptErr.

const (
	ownersBucket  = reservedPrefix + "-owners"
	numbersBucket = reservedPrefix + "-numbers"
)

// flat1Dict is flat-1's owner dictionary: nil buckets when the file has
// none.
type flat1Dict struct {
	owners, numbers *bbolt.Bucket
}

func openFlat1Dict(btx *bbolt.Tx) flat1Dict {
	return flat1Dict{owners: btx.Bucket([]byte(ownersBucket)), numbers: btx.Bucket([]byte(numbersBucket))}
}

// lookup returns the number of a non-empty owner; ok is false when it has
// none.
func (d flat1Dict) lookup(owner string) (num uint32, ok bool, err error) {
	if d.owners == nil {
		return 0, false, nil
	}
	v := d.owners.Get([]byte(owner))
	if v == nil {
		return 0, false, nil
	}
	num, n, err := readNum(v)
	if err != nil || n != len(v) {
		return 0, false, errDictDamaged
	}
	return num, true, nil
}

// owner returns the owner of num (0: the empty owner).
func (d flat1Dict) owner(num uint32) (string, error) {
	if num == 0 {
		return "", nil
	}
	if d.numbers != nil {
		if v := d.numbers.Get(appendNum(nil, num)); v != nil {
			return string(v), nil
		}
	}
	return "", fmt.Errorf("owner number %d has no dictionary entry", num)
}

// flat1Num returns owner's number (the empty owner's is 0).
func flat1Num(btx *bbolt.Tx, owner string) (num uint32, ok bool, err error) {
	if owner == "" {
		return 0, true, nil
	}
	return openFlat1Dict(btx).lookup(owner)
}

func flat1Lookup(btx *bbolt.Tx, ref core.Ref) ([]byte, error) {
	b := btx.Bucket([]byte(ref.Kind))
	if b == nil {
		return nil, nil
	}
	num, ok, err := flat1Num(btx, ref.Owner)
	if err != nil || !ok {
		return nil, err
	}
	return b.Get(appendKey(nil, num, ref.ID)), nil
}

func flat1List(btx *bbolt.Tx, kind, owner string) ([]string, error) {
	b := btx.Bucket([]byte(kind))
	if b == nil {
		return nil, nil
	}
	num, ok, err := flat1Num(btx, owner)
	if err != nil || !ok {
		return nil, err
	}
	var ids []string
	prefix := appendNum(nil, num)
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		id, err := readID(k[len(prefix):])
		if err != nil {
			return nil, fmt.Errorf("kind %q: %w", kind, err)
		}
		ids = append(ids, id)
	}
	if !slices.IsSorted(ids) { // both forms of id (appendID)
		slices.Sort(ids)
	}
	return ids, nil
}

func flat1Owners(btx *bbolt.Tx, kind string) ([]string, error) {
	b := btx.Bucket([]byte(kind))
	if b == nil {
		return nil, nil
	}
	found, err := flat1OwnersOf(b, openFlat1Dict(btx))
	if err != nil {
		return nil, fmt.Errorf("kind %q: %w", kind, err)
	}
	var owners []string
	for _, o := range found {
		if o.name != "" {
			owners = append(owners, o.name)
		}
	}
	return owners, nil
}

// flat1ForEach calls fn with every record in (kind, owner, id) byte
// order, the empty owner first within its kind. Errors of fn are returned
// as they are; errors of the file are wrapped in errFlat1Damaged.
func flat1ForEach(btx *bbolt.Tx, fn func(ref core.Ref, sealed []byte) error) error {
	d := openFlat1Dict(btx)
	return btx.ForEach(func(kind []byte, kb *bbolt.Bucket) error {
		if isReserved(kind) {
			return nil
		}
		owners, err := flat1OwnersOf(kb, d)
		if err != nil {
			return fmt.Errorf("%w: kind %q: %w", errFlat1Damaged, kind, err)
		}
		c := kb.Cursor()
		var run []record
		for _, o := range owners {
			prefix := appendNum(nil, o.num)
			run = run[:0]
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				if v == nil { // a nested bucket, not ours
					continue
				}
				id, err := readID(k[len(prefix):])
				if err != nil {
					return fmt.Errorf("%w: kind %q: %w", errFlat1Damaged, kind, err)
				}
				run = append(run, record{id, v})
			}
			if !slices.IsSortedFunc(run, cmpRecord) {
				slices.SortFunc(run, cmpRecord)
			}
			for _, r := range run {
				if err := fn(core.Ref{Kind: string(kind), Owner: o.name, ID: r.id}, r.sealed); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

var errFlat1Damaged = errors.New("flat-1 layout damaged")

// flat1Nums returns the owner numbers with records in kind bucket b, in
// number order: one seek per owner, from its first key straight past its
// last.
func flat1Nums(b *bbolt.Bucket) ([]uint32, error) {
	var nums []uint32
	c := b.Cursor()
	var next []byte
	for k, _ := c.First(); k != nil; k, _ = c.Seek(next) {
		num, _, err := splitKey(k)
		if err != nil {
			return nil, err
		}
		nums = append(nums, num)
		if num == math.MaxUint32 {
			break
		}
		next = appendNum(next[:0], num+1)
	}
	return nums, nil
}

// flat1OwnersOf returns the owners with records in kind bucket b, in byte
// order of their names, the empty owner first.
func flat1OwnersOf(b *bbolt.Bucket, d flat1Dict) ([]ownerNum, error) {
	nums, err := flat1Nums(b)
	if err != nil {
		return nil, err
	}
	return namedOwners(nums, d.owner)
}

// splitKey returns the owner number of a flat-1 key and its stored id.
func splitKey(k []byte) (num uint32, id []byte, err error) {
	num, n, err := readNum(k)
	if err != nil || n == len(k) {
		return 0, nil, errBadKey
	}
	return num, k[n:], nil
}
