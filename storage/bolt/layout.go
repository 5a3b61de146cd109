package bolt

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/authbot/authbot/core"
)

// The flat layout: one top-level bucket per Ref.Kind, and in it one key
// per record, the owner's number (appendNum: 1 to 5 bytes) then Ref.ID
// (appendID: 16 hex digits as 8 bytes). Beside
// the kinds, three reserved buckets: metaBucket records the layout,
// ownersBucket maps an owner to its number and numbersBucket the number
// back to the owner. Files without the layout marker are in the older
// nested layout (nested.go), which a read-write Open converts in one
// transaction.
//
// Why a number rather than the owner itself: owners are opaque ~30-byte
// ids, and every record of an owner would repeat theirs (the file grew by
// that much per record). The number's encoding is prefix-free and keeps
// order, so an owner's records are one run of keys found by a seek, and
// numbers are handed out in increasing order, so a new owner's records
// are appended after every other key and bbolt can fill their pages to
// the brim.
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

func isReserved(name []byte) bool { return bytes.HasPrefix(name, []byte(reservedPrefix)) }

// maxNumLen is the longest encoding of an owner number.
const maxNumLen = 5

// appendNum appends the encoding of an owner number to dst: its length in
// the first byte's leading one bits, then the number big-endian in the
// rest, always in the fewest bytes (0-127 in one byte, up to 16,383 in
// two, up to 2,097,151 in three, up to 268,435,455 in four, the rest of
// 32 bits in five). Byte order of encodings is the numbers' order, and no
// encoding is a prefix of another; the short forms keep the first hundred
// (one byte) and sixteen thousand (two) owners' keys as short as can be:
// measured, the 4-byte fixed form made an account record, with its
// header, 2 bytes too long for 13 of them to share a 2 KiB page.
func appendNum(dst []byte, num uint32) []byte {
	switch {
	case num < 1<<7:
		return append(dst, byte(num))
	case num < 1<<14:
		return append(dst, 0x80|byte(num>>8), byte(num))
	case num < 1<<21:
		return append(dst, 0xC0|byte(num>>16), byte(num>>8), byte(num))
	case num < 1<<28:
		return append(dst, 0xE0|byte(num>>24), byte(num>>16), byte(num>>8), byte(num))
	}
	return append(dst, 0xF0, byte(num>>24), byte(num>>16), byte(num>>8), byte(num))
}

var errBadNum = errors.New("owner number badly encoded")

// readNum decodes the owner number at the start of b and returns its
// length. The bytes come from the file: a short, over-long (not the
// fewest bytes) or unknown form is an error, since keys in such a form
// would sort out of order.
func readNum(b []byte) (num uint32, n int, err error) {
	if len(b) == 0 {
		return 0, 0, errBadNum
	}
	first := b[0]
	switch {
	case first < 0x80:
		return uint32(first), 1, nil
	case first < 0xC0:
		n, num = 2, uint32(first&0x3F)
	case first < 0xE0:
		n, num = 3, uint32(first&0x1F)
	case first < 0xF0:
		n, num = 4, uint32(first&0x0F)
	case first == 0xF0:
		n = 5
	default:
		return 0, 0, errBadNum
	}
	if len(b) < n {
		return 0, 0, errBadNum
	}
	for _, c := range b[1:n] {
		num = num<<8 | uint32(c)
	}
	if len(appendNum(make([]byte, 0, maxNumLen), num)) != n {
		return 0, 0, errBadNum
	}
	return num, n, nil
}

// appendKey appends the flat key of (num, id) to dst.
func appendKey(dst []byte, num uint32, id string) []byte {
	return appendID(appendNum(dst, num), id)
}

// An id follows the owner number in a key. core's ids are mostly 16
// lowercase hex digits (newID: 8 random bytes); those are stored as their
// 8 bytes after the tag idPacked, 7 bytes shorter (measured: 13 account
// records to a 2 KiB page instead of 12). Any other id is stored as it
// is, after the tag idEscaped when it starts with a byte that is a tag.
// Every id has one form, and packed ids keep their order among
// themselves, but not against others: List and ForEach sort what they
// read (already in order unless an owner has both forms).
const (
	idPacked  = 0x00
	idEscaped = 0x01
	packedLen = 16 // hex digits
)

func packable(id string) bool {
	if len(id) != packedLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

// appendID appends the stored form of a non-empty id to dst.
func appendID(dst []byte, id string) []byte {
	switch {
	case packable(id):
		dst = append(dst, idPacked)
		for i := 0; i < len(id); i += 2 {
			dst = append(dst, unhex(id[i])<<4|unhex(id[i+1]))
		}
		return dst
	case id != "" && id[0] <= idEscaped:
		dst = append(dst, idEscaped)
	}
	return append(dst, id...)
}

var errBadID = errors.New("record key with a badly stored id")

// readID returns the id stored as b. The bytes come from the file: any
// form appendID would not have written is an error (a record stored so
// could be listed but never found).
func readID(b []byte) (string, error) {
	switch {
	case len(b) == 0:
	case b[0] == idPacked:
		if len(b) == 1+packedLen/2 {
			return hex.EncodeToString(b[1:]), nil
		}
	case b[0] == idEscaped:
		if len(b) > 1 && b[1] <= idEscaped {
			return string(b[1:]), nil
		}
	default:
		if id := string(b); !packable(id) {
			return id, nil
		}
	}
	return "", errBadID
}

var errBadKey = errors.New("record key without an owner number and an id")

// splitKey returns the owner number of a flat key and its stored id.
func splitKey(k []byte) (num uint32, id []byte, err error) {
	num, n, err := readNum(k)
	if err != nil || n == len(k) {
		return 0, nil, errBadKey
	}
	return num, k[n:], nil
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
		// Packed ids sort apart from the others: put in key order.
		slices.SortFunc(recs, func(a, b rec) int { return bytes.Compare(a.key, b.key) })
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

var errDictDamaged = errors.New("owner dictionary entry is not an owner number")

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
	num, n, err := readNum(v)
	if err != nil || n != len(v) {
		return 0, false, errDictDamaged
	}
	return num, true, nil
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
	key := appendNum(make([]byte, 0, maxNumLen), num)
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
	var scratch [maxNumLen]byte
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
