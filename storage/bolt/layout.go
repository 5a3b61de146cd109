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

// The flat-2 layout: every record in one bucket, recordsBucket, under the
// key kind code (1 byte) || owner number (appendNum: 1 to 5 bytes) ||
// Ref.ID (appendID: 16 hex digits as 8 bytes). The kind and owner
// dictionaries live in the same bucket under the reserved kind code
// dictCode:
//
//	dictCode 'k' kind          -> its code (1 to maxKinds, one byte)
//	dictCode 'n' owner number  -> the owner
//	dictCode 'o' owner         -> its number
//
// Beside it, metaBucket records the layout. Files with "flat-1" there are
// in the layout before it (flat1.go: a bucket per kind, the owner
// dictionary in buckets of its own), files without a marker in the nested
// layout before that (nested.go); a read-write Open converts either in one
// transaction.
//
// Why one bucket: bbolt allocates for every bucket a transaction opens and
// for every Get (a fresh cursor whose stack grows from nothing). A /code
// read five records of four kinds and the owner dictionary: five bucket
// opens and five cursors, 20 of its 24 allocations. Here a transaction
// opens one bucket and seeks with one cursor, whose stack keeps its
// capacity from one seek to the next.
//
// Why a number rather than the owner itself: owners are opaque ~30-byte
// ids, and every record of an owner would repeat theirs (the file grew by
// that much per record). The number's encoding is prefix-free and keeps
// order, so an owner's records of a kind are one run of keys found by a
// seek, and numbers are handed out in increasing order, so a new owner's
// records are appended after every other key of their kind and bbolt can
// fill their pages to the brim.
//
// The empty owner is number 0 and has no dictionary entry; the others
// count up from 1 (recordsBucket's bbolt sequence) and a number is never
// handed out twice. When an owner's last record of every kind is deleted
// its dictionary entries go too: a forgotten person leaves no trace. A
// kind keeps its code once given one (kinds are core's few words, not a
// person's).
//
// Owners and ForEach return owners in byte order, as the nested layout
// did; they sort what they find, since numbers follow arrival, not names.

const (
	// reservedPrefix starts the names of the buckets that are not kinds
	// in the older layouts; checkRef refuses kinds that start so.
	reservedPrefix = "\x00authbot"
	metaBucket     = reservedPrefix
	recordsBucket  = reservedPrefix + "-records"
	layoutKey      = "layout"
	flat1Marker    = "flat-1"
	flat2Marker    = "flat-2"

	dictCode   = 0x00 // the kind code of the dictionaries' keys
	dictKind   = 'k'
	dictNumber = 'n'
	dictOwner  = 'o'
	maxKinds   = 255
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

// layout is the layout of a file's snapshot.
type layout uint8

const (
	layoutNested layout = iota
	layoutFlat1
	layoutFlat2
)

func layoutOf(btx *bbolt.Tx) layout {
	mb := btx.Bucket([]byte(metaBucket))
	if mb == nil {
		return layoutNested
	}
	switch string(mb.Get([]byte(layoutKey))) {
	case flat2Marker:
		return layoutFlat2
	case flat1Marker:
		return layoutFlat1
	}
	return layoutNested
}

// setLayout finds the file's layout and, when migrate is set (a read-write
// store whose file has passed its check), converts an older file to
// flat-2 in one transaction: a crash or error before its commit leaves
// the file as it was.
func (s *Store) setLayout(migrate bool) error {
	var lay layout
	err := guard(s.path, func() error {
		return s.db.View(func(btx *bbolt.Tx) error { lay = layoutOf(btx); return nil })
	})
	if err != nil {
		return err
	}
	if lay != layoutFlat2 && migrate {
		err = guard(s.path, func() error {
			return s.db.Update(func(btx *bbolt.Tx) error {
				from := layoutOf(btx)
				if from == layoutFlat2 {
					return nil
				}
				return migrateTx(btx, from, s.onMigratePut)
			})
		})
		switch {
		case err == nil:
		case errors.Is(err, core.ErrCorrupt):
			return err
		case errors.Is(err, errFlat1Damaged):
			return corruptErr(s.path, err)
		default:
			return pathErr("convert the database to the flat-2 layout", s.path, err)
		}
		lay = layoutFlat2
	}
	s.flat.Store(lay == layoutFlat2)
	return nil
}

var errTooManyKinds = fmt.Errorf("store: more than %d kinds", maxKinds)

// migrateTx rewrites every record of btx, in layout from, into flat-2's
// records bucket, with both dictionaries, drops the old buckets and
// records the layout. Kind codes and owner numbers are given in byte
// order of the names, so the keys' order is the records' (kind, owner)
// order and every put is an append: the pages are filled to the brim.
// onPut (tests) runs before each record's put; its error aborts the
// transaction.
func migrateTx(btx *bbolt.Tx, from layout, onPut func(n int) error) error {
	type rec struct {
		ref    core.Ref
		sealed []byte
	}
	var recs []rec
	collect := func(ref core.Ref, sealed []byte) error {
		recs = append(recs, rec{ref, bytes.Clone(sealed)})
		return nil
	}
	var err error
	if from == layoutFlat1 {
		err = flat1ForEach(btx, collect)
	} else {
		err = nestedForEach(btx, collect)
	}
	if err != nil {
		return err
	}
	var kinds, owners []string
	for _, r := range recs {
		kinds = append(kinds, r.ref.Kind)
		if r.ref.Owner != "" {
			owners = append(owners, r.ref.Owner)
		}
	}
	slices.Sort(kinds)
	kinds = slices.Compact(kinds)
	slices.Sort(owners)
	owners = slices.Compact(owners)
	if len(kinds) > maxKinds {
		return errTooManyKinds
	}
	if len(owners) >= math.MaxUint32 {
		return errors.New("store: too many owners")
	}

	var old [][]byte
	if err := btx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
		if string(name) != metaBucket {
			old = append(old, bytes.Clone(name))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, name := range old {
		if err := btx.DeleteBucket(name); err != nil {
			return fmt.Errorf("bucket %q: %w", name, err)
		}
	}
	rb, err := btx.CreateBucket([]byte(recordsBucket))
	if err != nil {
		return err
	}
	rb.FillPercent = 1.0 // appends only, see above

	type kv struct {
		key, val []byte
		record   bool
	}
	puts := make([]kv, 0, len(recs)+len(kinds)+2*len(owners))
	codes := make(map[string]byte, len(kinds))
	for i, k := range kinds {
		code := byte(i + 1)
		codes[k] = code
		puts = append(puts, kv{key: dictKey(nil, dictKind, k), val: []byte{code}})
	}
	nums := make(map[string]uint32, len(owners)+1)
	for i, o := range owners {
		num := uint32(i + 1)
		nums[o] = num
		enc := appendNum(nil, num)
		puts = append(puts,
			kv{key: dictKey(nil, dictOwner, o), val: enc},
			kv{key: numberKey(nil, num), val: []byte(o)})
	}
	for _, r := range recs {
		key := recordKey(nil, codes[r.ref.Kind], nums[r.ref.Owner], r.ref.ID)
		puts = append(puts, kv{key: key, val: r.sealed, record: true})
	}
	slices.SortFunc(puts, func(a, b kv) int { return bytes.Compare(a.key, b.key) })
	n := 0
	for _, p := range puts {
		if p.record {
			if onPut != nil {
				if err := onPut(n); err != nil {
					return err
				}
			}
			n++
		}
		if err := rb.Put(p.key, p.val); err != nil {
			return err
		}
	}
	if err := rb.SetSequence(uint64(len(owners))); err != nil {
		return err
	}
	mb, err := btx.CreateBucketIfNotExists([]byte(metaBucket))
	if err != nil {
		return err
	}
	return mb.Put([]byte(layoutKey), []byte(flat2Marker))
}

// dictKey appends the key of a dictionary entry to dst.
func dictKey(dst []byte, which byte, name string) []byte {
	return append(append(dst, dictCode, which), name...)
}

// recordKey appends the key of a record to dst.
func recordKey(dst []byte, code byte, num uint32, id string) []byte {
	return appendKey(append(dst, code), num, id)
}

var errDictDamaged = errors.New("owner dictionary entry is not an owner number")

// ownerNum is an owner with its number.
type ownerNum struct {
	name string
	num  uint32
}

// namedOwners names each owner number through name and returns them in
// byte order of their names (the order Owners and ForEach give), the
// empty owner first: numbers follow arrival, not names.
func namedOwners(nums []uint32, name func(uint32) (string, error)) ([]ownerNum, error) {
	out := make([]ownerNum, 0, len(nums))
	for _, num := range nums {
		n, err := name(num)
		if err != nil {
			return nil, err
		}
		out = append(out, ownerNum{n, num})
	}
	slices.SortFunc(out, func(a, b ownerNum) int { return strings.Compare(a.name, b.name) })
	return out, nil
}
