package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/authbot/authbot/core"
)

// The flat layout: one top-level bucket per Ref.Kind, and in it one key
// per record, the owner's number (4 bytes, big-endian) then Ref.ID. Beside
// the kinds, three reserved buckets: metaBucket records the layout,
// ownersBucket maps an owner to its number and numbersBucket the number
// back to the owner. Files without the layout marker are in the older
// nested layout (nested.go), which a read-write Open converts in one
// transaction.
//
// Why a number rather than the owner itself: owners are opaque ~30-byte
// ids, and every record of an owner would repeat theirs (the file grew by
// that much per record). A fixed-width prefix is prefix-free, so an
// owner's records are one run of keys found by a seek, and numbers are
// handed out in increasing order, so a new owner's records are appended
// after every other key and bbolt can fill their pages to the brim.
// Compared with a bucket per owner, a lookup opens one bucket instead of
// two, and the records of many small owners share pages instead of each
// owner rounding up to pages of its own.
//
// The empty owner is number 0 and has no dictionary entry; the others
// count up from 1 (numbersBucket's bbolt sequence) and a number is never
// handed out twice. When an owner's last record of every kind is deleted
// its dictionary entries go too: a forgotten person leaves no trace.
//
// Owners and ForEach return owners in byte order, as the nested layout
// did; they sort what they find, since numbers follow arrival, not names.

const (
	// reservedPrefix starts the names of the buckets that are not kinds;
	// checkRef refuses kinds that start so.
	reservedPrefix = "\x00authbot"
	metaBucket     = reservedPrefix
	ownersBucket   = reservedPrefix + "-owners"
	numbersBucket  = reservedPrefix + "-numbers"
	layoutKey      = "layout"
	layoutFlat     = "flat-1"
)

// numLen is the width of an owner number in a record key.
const numLen = 4

func isReserved(name []byte) bool { return bytes.HasPrefix(name, []byte(reservedPrefix)) }

// appendNum appends the 4-byte big-endian owner number to dst.
func appendNum(dst []byte, num uint32) []byte { return binary.BigEndian.AppendUint32(dst, num) }

// appendKey appends the flat key of (num, id) to dst.
func appendKey(dst []byte, num uint32, id string) []byte {
	return append(appendNum(dst, num), id...)
}

var errBadKey = errors.New("record key shorter than an owner number and an id")

// splitKey returns the owner number of a flat key and its id.
func splitKey(k []byte) (num uint32, id []byte, err error) {
	if len(k) <= numLen {
		return 0, nil, errBadKey
	}
	return binary.BigEndian.Uint32(k), k[numLen:], nil
}

// isFlat reports whether the snapshot of btx is in the flat layout.
func isFlat(btx *bbolt.Tx) bool {
	mb := btx.Bucket([]byte(metaBucket))
	return mb != nil && string(mb.Get([]byte(layoutKey))) == layoutFlat
}

// setLayout finds the file's layout and, when migrate is set (a read-write
// store whose file has passed its check), converts a nested file to the
// flat layout in one transaction: a crash or error before its commit leaves
// the file as it was.
func (s *Store) setLayout(migrate bool) error {
	var flat bool
	err := guard(s.path, func() error {
		return s.db.View(func(btx *bbolt.Tx) error { flat = isFlat(btx); return nil })
	})
	if err != nil {
		return err
	}
	if !flat && migrate {
		err = guard(s.path, func() error {
			return s.db.Update(func(btx *bbolt.Tx) error {
				if isFlat(btx) {
					return nil
				}
				return migrateTx(btx, s.onMigratePut)
			})
		})
		if err != nil {
			if errors.Is(err, core.ErrCorrupt) {
				return err
			}
			return pathErr("convert the database to the flat layout", s.path, err)
		}
		flat = true
	}
	s.flat.Store(flat)
	return nil
}

// migrateTx rewrites every kind bucket of btx from the nested layout to
// the flat one, builds the owner dictionary and records the layout. onPut
// (tests) runs before each record's put; its error aborts the transaction.
func migrateTx(btx *bbolt.Tx, onPut func(n int) error) error {
	var kinds [][]byte
	if err := btx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
		if !isReserved(name) {
			kinds = append(kinds, bytes.Clone(name))
		}
		return nil
	}); err != nil {
		return err
	}
	// Number the owners of every kind in byte order, so each kind's
	// records, read in (owner, id) order, arrive in key order too and
	// the new buckets' pages can be filled to the brim.
	nums := map[string]uint32{}
	var owners []string
	for _, kind := range kinds {
		kb := btx.Bucket(kind)
		if kb == nil {
			continue
		}
		for _, o := range nestedOwnersOf(kb) {
			if _, ok := nums[o]; !ok {
				nums[o] = 0
				owners = append(owners, o)
			}
		}
	}
	slices.Sort(owners)
	d, err := createDict(btx)
	if err != nil {
		return err
	}
	for _, o := range owners {
		if o == "" {
			continue // number 0, no entry
		}
		num, err := d.assign(o)
		if err != nil {
			return err
		}
		nums[o] = num
	}
	n := 0
	for _, kind := range kinds {
		kb := btx.Bucket(kind)
		if kb == nil {
			continue
		}
		type rec struct{ key, val []byte }
		var recs []rec
		err := nestedForEachKind(string(kind), kb, func(ref core.Ref, sealed []byte) error {
			recs = append(recs, rec{appendKey(nil, nums[ref.Owner], ref.ID), bytes.Clone(sealed)})
			return nil
		})
		if err != nil {
			return err
		}
		if err := btx.DeleteBucket(kind); err != nil {
			return fmt.Errorf("kind %q: %w", kind, err)
		}
		nb, err := btx.CreateBucket(kind)
		if err != nil {
			return fmt.Errorf("kind %q: %w", kind, err)
		}
		nb.FillPercent = 1.0 // appends only, see above
		for _, r := range recs {
			if onPut != nil {
				if err := onPut(n); err != nil {
					return err
				}
			}
			n++
			if err := nb.Put(r.key, r.val); err != nil {
				return fmt.Errorf("kind %q: %w", kind, err)
			}
		}
	}
	mb, err := btx.CreateBucketIfNotExists([]byte(metaBucket))
	if err != nil {
		return err
	}
	return mb.Put([]byte(layoutKey), []byte(layoutFlat))
}

// dict is the owner dictionary of one transaction: nil buckets when the
// file has none yet (a read transaction never creates them).
type dict struct {
	owners, numbers *bbolt.Bucket
}

func createDict(btx *bbolt.Tx) (dict, error) {
	ob, err := btx.CreateBucketIfNotExists([]byte(ownersBucket))
	if err != nil {
		return dict{}, fmt.Errorf("owner dictionary: %w", err)
	}
	nb, err := btx.CreateBucketIfNotExists([]byte(numbersBucket))
	if err != nil {
		return dict{}, fmt.Errorf("owner dictionary: %w", err)
	}
	return dict{owners: ob, numbers: nb}, nil
}

var errDictDamaged = errors.New("owner dictionary entry of the wrong size")

// lookup returns the number of a non-empty owner; ok is false when it has
// none.
func (d dict) lookup(owner string, scratch []byte) (num uint32, ok bool, err error) {
	if d.owners == nil {
		return 0, false, nil
	}
	v := d.owners.Get(append(scratch[:0], owner...))
	if v == nil {
		return 0, false, nil
	}
	if len(v) != numLen {
		return 0, false, errDictDamaged
	}
	return binary.BigEndian.Uint32(v), true, nil
}

// assign gives a non-empty owner the next number and records both ways.
func (d dict) assign(owner string) (uint32, error) {
	seq, err := d.numbers.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("owner dictionary: %w", err)
	}
	if seq > math.MaxUint32 {
		return 0, errors.New("owner dictionary: owner numbers used up")
	}
	num := uint32(seq)
	key := appendNum(make([]byte, 0, numLen), num)
	// Numbers only grow: every new entry is the bucket's last key.
	d.numbers.FillPercent = 1.0
	if err := d.numbers.Put(key, []byte(owner)); err != nil {
		return 0, fmt.Errorf("owner dictionary: %w", err)
	}
	if err := d.owners.Put([]byte(owner), key); err != nil {
		return 0, fmt.Errorf("owner dictionary: %w", err)
	}
	return num, nil
}

// owner returns the owner of num (0: the empty owner).
func (d dict) owner(num uint32, scratch []byte) (string, error) {
	if num == 0 {
		return "", nil
	}
	if d.numbers != nil {
		if v := d.numbers.Get(appendNum(scratch[:0], num)); v != nil {
			return string(v), nil
		}
	}
	return "", fmt.Errorf("owner number %d has no dictionary entry", num)
}

// forget removes both entries of owner, whose number is num.
func (d dict) forget(owner string, num uint32) error {
	if err := d.owners.Delete([]byte(owner)); err != nil {
		return fmt.Errorf("owner dictionary: %w", err)
	}
	if err := d.numbers.Delete(appendNum(nil, num)); err != nil {
		return fmt.Errorf("owner dictionary: %w", err)
	}
	return nil
}

// hasNum reports whether kind bucket b holds a record of owner number num.
func hasNum(b *bbolt.Bucket, num uint32, scratch []byte) bool {
	prefix := appendNum(scratch[:0], num)
	k, _ := b.Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}

// numsOf returns the owner numbers with records in kind bucket b, in
// number order: one seek per owner, from its first key straight past its
// last.
func numsOf(b *bbolt.Bucket) ([]uint32, error) {
	var nums []uint32
	c := b.Cursor()
	var next [numLen]byte
	for k, _ := c.First(); k != nil; k, _ = c.Seek(next[:]) {
		num, _, err := splitKey(k)
		if err != nil {
			return nil, err
		}
		nums = append(nums, num)
		if num == math.MaxUint32 {
			break
		}
		binary.BigEndian.PutUint32(next[:], num+1)
	}
	return nums, nil
}

// ownerNum is an owner with its number.
type ownerNum struct {
	name string
	num  uint32
}

// ownersOf returns the owners with records in kind bucket b, in byte order
// of their names, the empty owner first.
func ownersOf(b *bbolt.Bucket, d dict) ([]ownerNum, error) {
	nums, err := numsOf(b)
	if err != nil {
		return nil, err
	}
	out := make([]ownerNum, 0, len(nums))
	var scratch [numLen]byte
	for _, num := range nums {
		name, err := d.owner(num, scratch[:])
		if err != nil {
			return nil, err
		}
		out = append(out, ownerNum{name, num})
	}
	slices.SortFunc(out, func(a, b ownerNum) int { return strings.Compare(a.name, b.name) })
	return out, nil
}
