package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/authbot/authbot/core"
)

// tx implements core.Tx over one bbolt transaction.
type tx struct {
	btx      *bbolt.Tx
	path     string
	err      error // sticky: set when a page turned out damaged
	done     bool
	flat     bool // the snapshot is in the flat layout; false: nested, read-only
	pageSize int

	// kinds caches the kind buckets this transaction has opened: bbolt
	// reopens a bucket (and allocates for it) on every lookup in a read
	// transaction, and /code looks up a few records of the same kinds.
	kinds [4]kindSlot
	nextK int
	key   [96]byte // scratch for lookup keys (never for Put's, bbolt keeps those)
}

type kindSlot struct {
	name string
	b    *bbolt.Bucket
	// For Put: whether every key put so far in this transaction went
	// after the bucket's last key (appends), and that key.
	appendOnly, started bool
	last                []byte
	bytes               int // put in this transaction (keys, values, headers)
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
	case ref.Kind == metaBucket:
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

// lookup returns the stored bytes of ref (nil: none), valid in this
// transaction only.
func (t *tx) lookup(ref core.Ref) []byte {
	if !t.flat {
		return t.nestedGet(ref)
	}
	b := t.kindBucket(ref.Kind)
	if b == nil {
		return nil
	}
	return b.Get(appendKey(t.key[:0], ref.Owner, ref.ID))
}

// Get returns a copy of the record, or core.ErrNotFound.
func (t *tx) Get(ref core.Ref) ([]byte, error) {
	if err := checkRef(ref); err != nil {
		return nil, err
	}
	var out []byte
	err := t.do(func() error {
		v := t.lookup(ref)
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
		v := t.lookup(ref)
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
		// bbolt keeps key and value until commit: both are our own.
		key := appendKey(nil, ref.Owner, ref.ID)
		t.noteFill(s, key, len(key)+len(sealed))
		if err := s.b.Put(key, bytes.Clone(sealed)); err != nil {
			return fmt.Errorf("put: %w", err)
		}
		return nil
	})
}

// noteFill sets the kind bucket's FillPercent, which bbolt applies when
// it splits the pages this transaction wrote, at commit. It is 1 (pages
// filled to the brim) when every key put in this transaction so far went
// after the bucket's last key (appends: nothing will be written between
// them later), or when the transaction put at least a page's worth of
// records (an import: one person's accounts, contiguous under their owner
// prefix, then fill whole pages of their own instead of leaving a trail of
// half-empty ones; at bbolt's default of half, a new person's 50 accounts
// took twice the pages). Otherwise, a few records put among existing ones,
// it stays at bbolt's default, so a full page is not split into a full one
// and a nearly empty one for each record. The handle, and so the setting,
// lasts for this transaction only.
func (t *tx) noteFill(s *kindSlot, key []byte, size int) {
	if !s.started {
		s.started, s.appendOnly = true, true
		if last, _ := s.b.Cursor().Last(); last != nil {
			s.last = bytes.Clone(last)
		}
	}
	s.bytes += size + 16 // bbolt's leaf element header
	if s.appendOnly && s.last != nil && bytes.Compare(key, s.last) <= 0 {
		s.appendOnly = false
	}
	if s.appendOnly {
		s.last = key
	}
	if s.appendOnly || s.bytes >= t.pageSize {
		s.b.FillPercent = 1.0
	} else {
		s.b.FillPercent = bbolt.DefaultFillPercent
	}
}

// Delete removes the record, or returns core.ErrNotFound. An owner left
// with no records of the kind disappears from Owners.
func (t *tx) Delete(ref core.Ref) error {
	if err := checkRef(ref); err != nil {
		return err
	}
	if !t.flat {
		return errNestedWrite
	}
	return t.do(func() error {
		b := t.kindBucket(ref.Kind)
		key := appendKey(t.key[:0], ref.Owner, ref.ID)
		if b == nil || b.Get(key) == nil {
			return core.ErrNotFound
		}
		if err := b.Delete(key); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		return nil
	})
}

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
		prefix := appendOwner(t.key[:0], owner)
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			ids = append(ids, string(k[len(prefix):]))
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
		// One seek per owner: from an owner's first key straight past
		// its last.
		c := b.Cursor()
		var next []byte
		for k, _ := c.First(); k != nil; k, _ = c.Seek(next) {
			owner, idAt, err := splitKey(k)
			if err != nil {
				return corruptErr(t.path, fmt.Errorf("kind %q: %w", kind, err))
			}
			if owner != "" {
				owners = append(owners, owner)
			}
			next = append(append(next[:0], k[:idAt-len(ownerEnd)]...), ownerAfter...)
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
			return t.btx.ForEach(func(kind []byte, kb *bbolt.Bucket) error {
				if string(kind) == metaBucket {
					return nil
				}
				c := kb.Cursor()
				for k, v := c.First(); k != nil; k, v = c.Next() {
					if v == nil { // a nested bucket, not ours
						continue
					}
					owner, idAt, err := splitKey(k)
					if err != nil {
						return corruptErr(t.path, fmt.Errorf("kind %q: %w", kind, err))
					}
					if err := fn(core.Ref{Kind: string(kind), Owner: owner, ID: string(k[idAt:])}, v); err != nil {
						return err
					}
				}
				return nil
			})
		})
	})
}
