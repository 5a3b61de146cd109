package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/authbot/authbot/core"
)

// tx implements core.Tx over one bbolt transaction.
type tx struct {
	btx    *bbolt.Tx
	path   string
	err    error // sticky: set when a page turned out damaged
	done   bool
	layout layout // of the snapshot; only flat-2 is written, the others are read as they are

	// rec is the records bucket once looked up (recOpen; nil: a read
	// found none) and cur its one cursor: every read is a Seek on it,
	// which keeps its stack's capacity, where each Get makes a cursor
	// whose stack grows from nothing.
	rec     *bbolt.Bucket
	recOpen bool
	cur     bbolt.Cursor // a copy of rec.Cursor(): one allocation fewer than keeping bbolt's pointer
	// kinds and nums cache kind codes and owner numbers looked up or
	// given here (a /code reads several records of one person).
	kinds [4]kindSlot
	nextK int
	nums  [4]numSlot
	nextN int
	key   [96]byte // scratch for lookup keys (never for Put's, bbolt keeps those)
	fills []fill   // kinds written (Put), for noteFill

	// dict is the Store's cache of the dictionaries (reads only: nil in a
	// write) and gen its generation when this snapshot was taken; forgot
	// is the owners this write took out of the owner dictionary.
	dict   *dictCache
	gen    uint64
	forgot []string
}

// kindSlot is a cached kind code; ok false caches "no code".
type kindSlot struct {
	name string
	code byte
	ok   bool
	used bool
}

// fill is what noteFill knows of a kind this transaction wrote to.
type fill struct {
	code byte
	// after is the kind's last key when this transaction first put a
	// record of it (nil: it had none); appends is whether every key put
	// since sorts after it.
	after   []byte
	appends bool
}

// numSlot is a cached owner number; ok false caches "no number".
type numSlot struct {
	owner string
	num   uint32
	ok    bool
	used  bool
}

// do runs one operation, turning a bbolt panic into a sticky corrupt error.
func (t *tx) do(op func() error) (err error) {
	if t.done {
		return errors.New("store: transaction used after it ended")
	}
	if t.err != nil {
		return t.err
	}
	defer func() {
		if r := recover(); r != nil {
			t.err = corruptErr(t.path, panicReason(r))
			err = t.err
		}
	}()
	return op()
}

func checkRef(ref core.Ref) error {
	switch {
	case ref.Kind == "" || ref.ID == "":
		return errors.New("store: ref needs a kind and an id")
	case len(ref.Kind) > maxNameLen || len(ref.Owner) > maxNameLen || len(ref.ID) > maxNameLen:
		return fmt.Errorf("store: ref part longer than %d bytes", maxNameLen)
	case ref.Owner == ownerlessBucket:
		return errors.New("store: reserved owner name")
	case strings.HasPrefix(ref.Kind, reservedPrefix):
		return errors.New("store: reserved kind name")
	}
	return nil
}

// records returns the records bucket, opening it on first use (create:
// creating it, a write); nil when a read finds none.
func (t *tx) records(create bool) (*bbolt.Bucket, error) {
	if t.rec != nil || (t.recOpen && !create) {
		return t.rec, nil
	}
	if create {
		b, err := t.btx.CreateBucketIfNotExists([]byte(recordsBucket))
		if err != nil {
			return nil, err
		}
		t.rec = b
	} else {
		t.rec = t.btx.Bucket([]byte(recordsBucket))
	}
	t.recOpen = true
	if t.rec != nil {
		t.cur = *t.rec.Cursor()
	}
	return t.rec, nil
}

// seekExact returns the value under key (nil: none), valid in this
// transaction only. The records bucket must be open.
func (t *tx) seekExact(key []byte) []byte {
	k, v := t.cur.Seek(key)
	if !bytes.Equal(k, key) {
		return nil
	}
	return v // nil for a nested bucket, not ours
}

var errKindDamaged = errors.New("kind dictionary entry is not a kind code")

// kindCode returns kind's code; ok is false when it has none. With create
// set (Put) a kind without one is given one.
func (t *tx) kindCode(kind string, create bool) (code byte, ok bool, err error) {
	for i := range t.kinds {
		if s := &t.kinds[i]; s.used && s.name == kind && (s.ok || !create) {
			return s.code, s.ok, nil
		}
	}
	rb, err := t.records(create)
	if err != nil || rb == nil {
		return 0, false, err
	}
	if t.dict != nil {
		if code, ok := t.dict.kind(kind); ok {
			return code, true, nil
		}
	}
	if v := t.seekExact(dictKey(t.key[:0], dictKind, kind)); v != nil {
		if len(v) != 1 || v[0] == dictCode {
			return 0, false, corruptErr(t.path, fmt.Errorf("kind %q: %w", kind, errKindDamaged))
		}
		code, ok = v[0], true
		if t.dict != nil {
			t.dict.addKind(t.gen, kind, code)
		}
	} else if create {
		if code, err = t.newKindCode(); err != nil {
			return 0, false, err
		}
		if err := rb.Put(dictKey(nil, dictKind, kind), []byte{code}); err != nil {
			return 0, false, fmt.Errorf("kind dictionary: %w", err)
		}
		ok = true
	}
	s := &t.kinds[t.nextK]
	for i := range t.kinds {
		if t.kinds[i].used && t.kinds[i].name == kind {
			s = &t.kinds[i]
		}
	}
	if s == &t.kinds[t.nextK] {
		t.nextK = (t.nextK + 1) % len(t.kinds)
	}
	*s = kindSlot{name: kind, code: code, ok: ok, used: true}
	return code, ok, nil
}

// kindEntry is a kind with its code.
type kindEntry struct {
	name string
	code byte
}

// allKinds returns the kinds with a code, in byte order of their names.
func (t *tx) allKinds() ([]kindEntry, error) {
	if rb, err := t.records(false); err != nil || rb == nil {
		return nil, err
	}
	prefix := dictKey(t.key[:0], dictKind, "")
	var out []kindEntry
	var seen [maxKinds + 1]bool
	for k, v := t.cur.Seek(prefix); bytes.HasPrefix(k, prefix); k, v = t.cur.Next() {
		if len(k) == len(prefix) || len(v) != 1 || v[0] == dictCode || seen[v[0]] {
			return nil, corruptErr(t.path, errKindDamaged)
		}
		seen[v[0]] = true
		out = append(out, kindEntry{string(k[len(prefix):]), v[0]})
	}
	return out, nil
}

// newKindCode returns the lowest code no kind has.
func (t *tx) newKindCode() (byte, error) {
	kinds, err := t.allKinds()
	if err != nil {
		return 0, err
	}
	var taken [maxKinds + 1]bool
	for _, k := range kinds {
		taken[k.code] = true
	}
	for code := 1; code <= maxKinds; code++ {
		if !taken[code] {
			return byte(code), nil
		}
	}
	return 0, errTooManyKinds
}

// numberKey appends the key of owner number num's dictionary entry.
func numberKey(dst []byte, num uint32) []byte {
	return appendNum(append(dst, dictCode, dictNumber), num)
}

// ownerNum returns owner's number; ok is false when it has none. With
// create set (Put) an owner without one is given the next.
func (t *tx) ownerNum(owner string, create bool) (num uint32, ok bool, err error) {
	if owner == "" {
		return 0, true, nil
	}
	for i := range t.nums {
		if s := &t.nums[i]; s.used && s.owner == owner && (s.ok || !create) {
			return s.num, s.ok, nil
		}
	}
	rb, err := t.records(create)
	if err != nil || rb == nil {
		return 0, false, err
	}
	if t.dict != nil {
		if num, ok := t.dict.owner(owner); ok {
			return num, true, nil
		}
	}
	if v := t.seekExact(dictKey(t.key[:0], dictOwner, owner)); v != nil {
		n := 0
		if num, n, err = readNum(v); err != nil || n != len(v) || num == 0 {
			return 0, false, corruptErr(t.path, errDictDamaged)
		}
		ok = true
		if t.dict != nil {
			t.dict.addOwner(t.gen, owner, num)
		}
	} else if create {
		seq, err := rb.NextSequence()
		if err != nil {
			return 0, false, fmt.Errorf("owner dictionary: %w", err)
		}
		if seq > math.MaxUint32 {
			return 0, false, errors.New("owner dictionary: out of owner numbers")
		}
		num, ok = uint32(seq), true
		// bbolt keeps keys and values until commit: all our own.
		enc := appendNum(nil, num)
		if err := rb.Put(numberKey(nil, num), []byte(owner)); err != nil {
			return 0, false, fmt.Errorf("owner dictionary: %w", err)
		}
		if err := rb.Put(dictKey(nil, dictOwner, owner), enc); err != nil {
			return 0, false, fmt.Errorf("owner dictionary: %w", err)
		}
	}
	t.cacheNum(owner, num, ok)
	return num, ok, nil
}

func (t *tx) cacheNum(owner string, num uint32, ok bool) {
	for i := range t.nums {
		if s := &t.nums[i]; s.used && s.owner == owner {
			*s = numSlot{owner: owner, num: num, ok: ok, used: true}
			return
		}
	}
	t.nums[t.nextN] = numSlot{owner: owner, num: num, ok: ok, used: true}
	t.nextN = (t.nextN + 1) % len(t.nums)
}

// ownerName returns the owner of num (0: the empty owner).
func (t *tx) ownerName(num uint32) (string, error) {
	if num == 0 {
		return "", nil
	}
	if v := t.seekExact(numberKey(t.key[:0], num)); v != nil {
		return string(v), nil
	}
	return "", fmt.Errorf("owner number %d has no dictionary entry", num)
}

// numsOf returns the owner numbers with records of kind code, in number
// order: one seek per owner, from its first key straight past its last.
func (t *tx) numsOf(code byte) ([]uint32, error) {
	var nums []uint32
	next := append(t.key[:0], code)
	for k, _ := t.cur.Seek(next); len(k) > 0 && k[0] == code; k, _ = t.cur.Seek(next) {
		num, n, err := readNum(k[1:])
		if err != nil || 1+n == len(k) {
			return nil, errBadKey
		}
		nums = append(nums, num)
		if num == math.MaxUint32 {
			break
		}
		next = appendNum(append(t.key[:0], code), num+1)
	}
	return nums, nil
}

// ownersOf returns the owners with records of kind code, in byte order of
// their names, the empty owner first.
func (t *tx) ownersOf(code byte) ([]ownerNum, error) {
	nums, err := t.numsOf(code)
	if err != nil {
		return nil, err
	}
	return namedOwners(nums, t.ownerName)
}

// hasNum reports whether kind code holds a record of owner number num.
func (t *tx) hasNum(code byte, num uint32) bool {
	prefix := appendNum(append(t.key[:0], code), num)
	k, _ := t.cur.Seek(prefix)
	return bytes.HasPrefix(k, prefix)
}

// lookup returns the stored bytes of ref (nil: none), valid in this
// transaction only.
func (t *tx) lookup(ref core.Ref) ([]byte, error) {
	switch t.layout {
	case layoutNested:
		return t.nestedGet(ref), nil
	case layoutFlat1:
		v, err := flat1Lookup(t.btx, ref)
		if err != nil {
			return nil, corruptErr(t.path, err)
		}
		return v, nil
	}
	code, ok, err := t.kindCode(ref.Kind, false)
	if err != nil || !ok {
		return nil, err
	}
	num, ok, err := t.ownerNum(ref.Owner, false)
	if err != nil || !ok {
		return nil, err
	}
	return t.seekExact(recordKey(t.key[:0], code, num, ref.ID)), nil
}

// Get returns a copy of the record, or core.ErrNotFound.
func (t *tx) Get(ref core.Ref) ([]byte, error) {
	if err := checkRef(ref); err != nil {
		return nil, err
	}
	var out []byte
	err := t.do(func() error {
		v, err := t.lookup(ref)
		if err != nil {
			return err
		}
		if v == nil {
			return core.ErrNotFound
		}
		// bbolt's slice points into the memory map and is only valid
		// inside this transaction; the caller gets its own copy.
		out = bytes.Clone(v)
		return nil
	})
	return out, err
}

// Peek calls fn with the record itself, without a copy; fn must not keep
// or change it (it points into the memory map). core uses it to check a
// cached index against the stored bytes without copying them.
func (t *tx) Peek(ref core.Ref, fn func(sealed []byte) error) error {
	if err := checkRef(ref); err != nil {
		return err
	}
	return t.do(func() error {
		v, err := t.lookup(ref)
		if err != nil {
			return err
		}
		if v == nil {
			return core.ErrNotFound
		}
		return fn(v)
	})
}

var _ core.Peeker = (*tx)(nil)

var errOldLayoutWrite = errors.New("store: the database is in an older layout; open it read-write once to convert it")

// Put stores a copy of sealed under ref, replacing any previous value.
func (t *tx) Put(ref core.Ref, sealed []byte) error {
	if err := checkRef(ref); err != nil {
		return err
	}
	if len(sealed) == 0 {
		// A sealed record is never empty; storing nothing is a bug.
		return errors.New("store: empty record")
	}
	if t.layout != layoutFlat2 {
		return errOldLayoutWrite
	}
	return t.do(func() error {
		rb, err := t.records(true)
		if err != nil {
			return fmt.Errorf("put: %w", err)
		}
		code, _, err := t.kindCode(ref.Kind, true)
		if err != nil {
			return fmt.Errorf("put: %w", err)
		}
		num, _, err := t.ownerNum(ref.Owner, true)
		if err != nil {
			return fmt.Errorf("put: %w", err)
		}
		// bbolt keeps key and value until commit: both are our own.
		key := recordKey(make([]byte, 0, 1+maxNumLen+1+len(ref.ID)), code, num, ref.ID)
		if num != 0 {
			t.noteFill(code, key)
		}
		if err := rb.Put(key, bytes.Clone(sealed)); err != nil {
			return fmt.Errorf("put: %w", err)
		}
		return nil
	})
}

// noteFill sets the records bucket's FillPercent, which bbolt applies
// when it splits the pages this transaction wrote, at commit. It is 1
// (pages filled to the brim) when every record put in this transaction
// sorts after the last record of its kind before it (appends: nothing
// will be written between them later). A new owner's records always do,
// whatever their ids, its number being the highest: an import's accounts
// then fill whole pages instead of leaving a trail of half-empty ones.
// Otherwise, records put among existing ones, it stays at bbolt's
// default, so a full page is not split into a full one and a nearly empty
// one for each record (BenchmarkDBSize, ten imports of 100 accounts by
// one person: 625 bytes per account when any import of a page's worth
// was put at 1, 500 so). The handle, and so the setting, lasts for this
// transaction only. Dictionary entries do not count (a new owner's is
// put among the others, but there is one per owner, not per record), nor
// do records of the empty owner: core's people records are keyed by a
// keyed hash of the name, and with one FillPercent for every kind a new
// person's import would put its accounts' pages at bbolt's default too
// (BenchmarkDBSize 1000x50: 452 B/account instead of 277; their own
// pages, split full and nearly empty, cost the 277 against flat-1's 267,
// where each kind's bucket had its own setting, until core's owner ids,
// and so the keys of person and keypair records and of the owner
// dictionary, came to follow each other).
func (t *tx) noteFill(code byte, key []byte) {
	i := slices.IndexFunc(t.fills, func(f fill) bool { return f.code == code })
	if i < 0 {
		t.fills = append(t.fills, fill{code: code, after: t.lastOf(code), appends: true})
		i = len(t.fills) - 1
	}
	if f := &t.fills[i]; f.appends && f.after != nil && bytes.Compare(key, f.after) <= 0 {
		f.appends = false
	}
	t.rec.FillPercent = 1.0
	for _, f := range t.fills {
		if !f.appends {
			t.rec.FillPercent = bbolt.DefaultFillPercent
		}
	}
}

// lastOf returns a copy of the last key of kind code (nil: it has none).
func (t *tx) lastOf(code byte) []byte {
	var k []byte
	if code == maxKinds {
		k, _ = t.cur.Last()
	} else if k, _ = t.cur.Seek(append(t.key[:0], code+1)); k == nil {
		k, _ = t.cur.Last()
	} else {
		k, _ = t.cur.Prev()
	}
	if len(k) == 0 || k[0] != code {
		return nil
	}
	return bytes.Clone(k)
}

// Delete removes the record, or returns core.ErrNotFound. An owner left
// with no records of the kind disappears from Owners; one left with no
// records at all also from the owner dictionary.
func (t *tx) Delete(ref core.Ref) error {
	if err := checkRef(ref); err != nil {
		return err
	}
	if t.layout != layoutFlat2 {
		return errOldLayoutWrite
	}
	return t.do(func() error {
		code, ok, err := t.kindCode(ref.Kind, false)
		if err != nil {
			return err
		}
		if !ok {
			return core.ErrNotFound
		}
		num, ok, err := t.ownerNum(ref.Owner, false)
		if err != nil {
			return err
		}
		key := recordKey(t.key[:0], code, num, ref.ID)
		if !ok || t.seekExact(key) == nil {
			return core.ErrNotFound
		}
		if err := t.rec.Delete(key); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		if num == 0 || t.hasNum(code, num) {
			return nil
		}
		return t.forgetIfGone(ref.Owner, num)
	})
}

// forgetIfGone drops owner's dictionary entries when no kind holds a
// record of its number any more.
func (t *tx) forgetIfGone(owner string, num uint32) error {
	kinds, err := t.allKinds()
	if err != nil {
		return err
	}
	for _, k := range kinds {
		if t.hasNum(k.code, num) {
			return nil
		}
	}
	if err := t.rec.Delete(dictKey(t.key[:0], dictOwner, owner)); err != nil {
		return fmt.Errorf("delete: owner dictionary: %w", err)
	}
	if err := t.rec.Delete(numberKey(t.key[:0], num)); err != nil {
		return fmt.Errorf("delete: owner dictionary: %w", err)
	}
	t.cacheNum(owner, 0, false)
	t.forgot = append(t.forgot, owner)
	return nil
}

// List returns the ids under kind and owner in byte order; none is not an
// error.
func (t *tx) List(kind, owner string) ([]string, error) {
	if err := checkRef(core.Ref{Kind: kind, Owner: owner, ID: "-"}); err != nil {
		return nil, err
	}
	var ids []string
	err := t.do(func() error {
		switch t.layout {
		case layoutNested:
			ids = t.nestedList(kind, owner)
			return nil
		case layoutFlat1:
			var err error
			if ids, err = flat1List(t.btx, kind, owner); err != nil {
				return corruptErr(t.path, err)
			}
			return nil
		}
		code, ok, err := t.kindCode(kind, false)
		if err != nil || !ok {
			return err
		}
		num, ok, err := t.ownerNum(owner, false)
		if err != nil || !ok {
			return err
		}
		prefix := appendNum(append(t.key[:0], code), num)
		for k, v := t.cur.Seek(prefix); bytes.HasPrefix(k, prefix); k, v = t.cur.Next() {
			if v == nil { // a nested bucket, not ours
				continue
			}
			id, err := readID(k[len(prefix):])
			if err != nil {
				return corruptErr(t.path, fmt.Errorf("kind %q: %w", kind, err))
			}
			ids = append(ids, id)
		}
		if !slices.IsSorted(ids) { // both forms of id (appendID)
			slices.Sort(ids)
		}
		return nil
	})
	return ids, err
}

// Owners returns the non-empty owners with at least one record under kind,
// in byte order. See core.Tx.
func (t *tx) Owners(kind string) ([]string, error) {
	if err := checkRef(core.Ref{Kind: kind, ID: "-"}); err != nil {
		return nil, err
	}
	var owners []string
	err := t.do(func() error {
		switch t.layout {
		case layoutNested:
			owners = t.nestedOwners(kind)
			return nil
		case layoutFlat1:
			var err error
			if owners, err = flat1Owners(t.btx, kind); err != nil {
				return corruptErr(t.path, err)
			}
			return nil
		}
		code, ok, err := t.kindCode(kind, false)
		if err != nil || !ok {
			return err
		}
		found, err := t.ownersOf(code)
		if err != nil {
			return corruptErr(t.path, fmt.Errorf("kind %q: %w", kind, err))
		}
		for _, o := range found {
			if o.name != "" {
				owners = append(owners, o.name)
			}
		}
		return nil
	})
	return owners, err
}

// ForEach calls fn with every record, in (kind, owner, id) byte order,
// from one read transaction; authbot migrate uses it to copy a whole
// store. Records of the empty owner come first within their kind (as
// PostgreSQL's empty bytea sorts first). sealed is valid only during fn.
func (s *Store) ForEach(ctx context.Context, fn func(ref core.Ref, sealed []byte) error) error {
	return s.View(ctx, func(ctx2 core.Tx) error {
		t := ctx2.(*tx)
		return t.do(func() error {
			switch t.layout {
			case layoutNested:
				return nestedForEach(t.btx, fn)
			case layoutFlat1:
				err := flat1ForEach(t.btx, fn)
				if errors.Is(err, errFlat1Damaged) {
					return corruptErr(t.path, err)
				}
				return err
			}
			kinds, err := t.allKinds()
			if err != nil {
				return err
			}
			var run []record
			for _, kind := range kinds {
				owners, err := t.ownersOf(kind.code)
				if err != nil {
					return corruptErr(t.path, fmt.Errorf("kind %q: %w", kind.name, err))
				}
				for _, o := range owners {
					prefix := appendNum(append(t.key[:0], kind.code), o.num)
					run = run[:0]
					for k, v := t.cur.Seek(prefix); bytes.HasPrefix(k, prefix); k, v = t.cur.Next() {
						if v == nil { // a nested bucket, not ours
							continue
						}
						id, err := readID(k[len(prefix):])
						if err != nil {
							return corruptErr(t.path, fmt.Errorf("kind %q: %w", kind.name, err))
						}
						run = append(run, record{id, v})
					}
					// Both forms of id (appendID) sort apart.
					if !slices.IsSortedFunc(run, cmpRecord) {
						slices.SortFunc(run, cmpRecord)
					}
					for _, r := range run {
						if err := fn(core.Ref{Kind: kind.name, Owner: o.name, ID: r.id}, r.sealed); err != nil {
							return err
						}
					}
				}
			}
			return nil
		})
	})
}

// record is one of an owner's records as ForEach reads them.
type record struct {
	id     string
	sealed []byte
}

func cmpRecord(a, b record) int { return strings.Compare(a.id, b.id) }
