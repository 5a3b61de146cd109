package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/authbot/authbot/core"
)

// tx implements core.Tx over one bbolt transaction.
type tx struct {
	btx  *bbolt.Tx
	path string
	err  error // sticky: set when a page turned out damaged
	done bool
	flat bool // the snapshot is in the flat layout; false: nested, read-only

	// kinds caches the kind buckets this transaction has opened: bbolt
	// reopens a bucket (and allocates for it) on every lookup in a read
	// transaction, and /code looks up a few records of the same kinds.
	kinds [4]kindSlot
	nextK int
	// dict is the owner dictionary's buckets once opened (openDict);
	// nums caches owner numbers looked up or assigned here (a /code
	// reads several records of one person).
	dict       dict
	ownersOpen bool // dict.owners was looked up (nil: the file has none)
	dictMade   bool // both dictionary buckets exist (created if need be)
	nums       [4]numSlot
	nextN      int
	key        [96]byte // scratch for lookup keys (never for Put's, bbolt keeps those)
	fills      []fill   // kinds written (Put), for noteFill
}

type kindSlot struct {
	name string
	b    *bbolt.Bucket
}

// fill is what noteFill knows of a kind bucket this transaction wrote to.
type fill struct {
	kind string
	// after is the bucket's last key when this transaction first put
	// into it (nil: it was empty); appends is whether every key put
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

// slot returns the cached slot of kind, opening (create: creating) the
// bucket when not cached; nil when the kind has no bucket.
func (t *tx) slot(kind string, create bool) (*kindSlot, error) {
	for i := range t.kinds {
		if s := &t.kinds[i]; s.b != nil && s.name == kind {
			return s, nil
		}
	}
	var b *bbolt.Bucket
	if create {
		var err error
		if b, err = t.btx.CreateBucketIfNotExists([]byte(kind)); err != nil {
			return nil, err
		}
	} else if b = t.btx.Bucket([]byte(kind)); b == nil {
		return nil, nil
	}
	s := &t.kinds[t.nextK]
	t.nextK = (t.nextK + 1) % len(t.kinds)
	*s = kindSlot{name: kind, b: b}
	return s, nil
}

func (t *tx) kindBucket(kind string) *bbolt.Bucket {
	s, _ := t.slot(kind, false)
	if s == nil {
		return nil
	}
	return s.b
}

// openDict opens the dictionary's owners bucket (with numbers set, also
// the numbers bucket), creating both when create is set (a write); a read
// of a file without them finds no owners. A lookup opens only the owners
// bucket: each bucket opened costs bbolt a few allocations per
// transaction.
func (t *tx) openDict(create, numbers bool) error {
	if create {
		if !t.dictMade {
			d, err := createDict(t.btx)
			if err != nil {
				return err
			}
			t.dict, t.dictMade = d, true
		}
		return nil
	}
	if !t.ownersOpen {
		t.dict.owners = t.btx.Bucket([]byte(ownersBucket))
		t.ownersOpen = true
	}
	if numbers && t.dict.numbers == nil {
		t.dict.numbers = t.btx.Bucket([]byte(numbersBucket))
	}
	return nil
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
	if err := t.openDict(create, false); err != nil {
		return 0, false, err
	}
	num, ok, err = t.dict.lookup(owner, t.key[:0])
	if err != nil {
		return 0, false, corruptErr(t.path, err)
	}
	if !ok && create {
		if num, err = t.dict.assign(owner); err != nil {
			return 0, false, err
		}
		ok = true
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

// lookup returns the stored bytes of ref (nil: none), valid in this
// transaction only.
func (t *tx) lookup(ref core.Ref) ([]byte, error) {
	if !t.flat {
		return t.nestedGet(ref), nil
	}
	b := t.kindBucket(ref.Kind)
	if b == nil {
		return nil, nil
	}
	num, ok, err := t.ownerNum(ref.Owner, false)
	if err != nil || !ok {
		return nil, err
	}
	return b.Get(appendKey(t.key[:0], num, ref.ID)), nil
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

// Put stores a copy of sealed under ref, replacing any previous value.
func (t *tx) Put(ref core.Ref, sealed []byte) error {
	if err := checkRef(ref); err != nil {
		return err
	}
	if len(sealed) == 0 {
		// A sealed record is never empty; storing nothing is a bug.
		return errors.New("store: empty record")
	}
	if !t.flat {
		return errNestedWrite
	}
	return t.do(func() error {
		s, err := t.slot(ref.Kind, true)
		if err != nil {
			return fmt.Errorf("put: %w", err)
		}
		num, _, err := t.ownerNum(ref.Owner, true)
		if err != nil {
			return fmt.Errorf("put: %w", err)
		}
		// bbolt keeps key and value until commit: both are our own.
		key := appendKey(make([]byte, 0, maxNumLen+1+len(ref.ID)), num, ref.ID)
		t.noteFill(s.b, ref.Kind, key)
		if err := s.b.Put(key, bytes.Clone(sealed)); err != nil {
			return fmt.Errorf("put: %w", err)
		}
		return nil
	})
}

// noteFill sets the kind bucket's FillPercent, which bbolt applies when
// it splits the pages this transaction wrote, at commit. It is 1 (pages
// filled to the brim) when every key put into the bucket in this
// transaction sorts after the bucket's last key before it (appends:
// nothing will be written between them later). A new owner's records
// always are, whatever their ids, its number being the highest: an
// import's accounts then fill whole pages instead of leaving a trail of
// half-empty ones. Otherwise, records put among existing ones, it stays at
// bbolt's default, so a full page is not split into a full one and a
// nearly empty one for each record (BenchmarkDBSize, ten imports of 100
// accounts by one person: 625 bytes per account when any import of a
// page's worth was put at 1, 500 so). The handle, and so the setting,
// lasts for this transaction only.
func (t *tx) noteFill(b *bbolt.Bucket, kind string, key []byte) {
	i := slices.IndexFunc(t.fills, func(f fill) bool { return f.kind == kind })
	if i < 0 {
		f := fill{kind: kind, appends: true}
		if last, _ := b.Cursor().Last(); last != nil {
			f.after = bytes.Clone(last)
		}
		t.fills = append(t.fills, f)
		i = len(t.fills) - 1
	}
	f := &t.fills[i]
	if f.appends && f.after != nil && bytes.Compare(key, f.after) <= 0 {
		f.appends = false
	}
	if f.appends {
		b.FillPercent = 1.0
	} else {
		b.FillPercent = bbolt.DefaultFillPercent
	}
}

// Delete removes the record, or returns core.ErrNotFound. An owner left
// with no records of the kind disappears from Owners; one left with no
// records at all also from the owner dictionary.
func (t *tx) Delete(ref core.Ref) error {
	if err := checkRef(ref); err != nil {
		return err
	}
	if !t.flat {
		return errNestedWrite
	}
	return t.do(func() error {
		b := t.kindBucket(ref.Kind)
		if b == nil {
			return core.ErrNotFound
		}
		num, ok, err := t.ownerNum(ref.Owner, false)
		if err != nil {
			return err
		}
		key := appendKey(t.key[:0], num, ref.ID)
		if !ok || b.Get(key) == nil {
			return core.ErrNotFound
		}
		if err := b.Delete(key); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		if num == 0 || hasNum(b, num, t.key[:0]) {
			return nil
		}
		return t.forgetIfGone(ref.Owner, num)
	})
}

// forgetIfGone drops owner's dictionary entries when no kind holds a
// record of its number any more.
func (t *tx) forgetIfGone(owner string, num uint32) error {
	gone := true
	err := t.btx.ForEach(func(name []byte, b *bbolt.Bucket) error {
		if !isReserved(name) && hasNum(b, num, t.key[:0]) {
			gone = false
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	if !gone {
		return nil
	}
	if err := t.openDict(true, true); err != nil {
		return err
	}
	if err := t.dict.forget(owner, num); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	t.cacheNum(owner, 0, false)
	return nil
}

var errStop = errors.New("stop")

// List returns the ids under kind and owner in byte order; none is not an
// error.
func (t *tx) List(kind, owner string) ([]string, error) {
	if err := checkRef(core.Ref{Kind: kind, Owner: owner, ID: "-"}); err != nil {
		return nil, err
	}
	var ids []string
	err := t.do(func() error {
		if !t.flat {
			ids = t.nestedList(kind, owner)
			return nil
		}
		b := t.kindBucket(kind)
		if b == nil {
			return nil
		}
		num, ok, err := t.ownerNum(owner, false)
		if err != nil || !ok {
			return err
		}
		prefix := appendNum(t.key[:0], num)
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
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
		if !t.flat {
			owners = t.nestedOwners(kind)
			return nil
		}
		b := t.kindBucket(kind)
		if b == nil {
			return nil
		}
		if err := t.openDict(false, true); err != nil {
			return err
		}
		found, err := ownersOf(b, t.dict)
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
			if !t.flat {
				return nestedForEach(t.btx, fn)
			}
			if err := t.openDict(false, true); err != nil {
				return err
			}
			return t.btx.ForEach(func(kind []byte, kb *bbolt.Bucket) error {
				if isReserved(kind) {
					return nil
				}
				owners, err := ownersOf(kb, t.dict)
				if err != nil {
					return corruptErr(t.path, fmt.Errorf("kind %q: %w", kind, err))
				}
				c := kb.Cursor()
				var run []record
				for _, o := range owners {
					prefix := appendNum(t.key[:0], o.num)
					run = run[:0]
					for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
						if v == nil { // a nested bucket, not ours
							continue
						}
						id, err := readID(k[len(prefix):])
						if err != nil {
							return corruptErr(t.path, fmt.Errorf("kind %q: %w", kind, err))
						}
						run = append(run, record{id, v})
					}
					// Both forms of id (appendID) sort apart.
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
		})
	})
}

// record is one of an owner's records as ForEach reads them.
type record struct {
	id     string
	sealed []byte
}

func cmpRecord(a, b record) int { return strings.Compare(a.id, b.id) }
