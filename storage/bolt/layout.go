package bolt

import (
	"bytes"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/authbot/authbot/core"
)

// The flat layout: one top-level bucket per Ref.Kind, and in it one key
// per record, flatKey(Owner, ID). Beside the kinds, metaBucket records the
// layout. Files without it are in the older nested layout (nested.go),
// which a read-write Open converts in one transaction.
//
// A flat key is the owner with every 0x00 byte written as 0x00 0xFF, then
// the terminator 0x00 0x01, then the id. The encoding is prefix-free (no
// owner's prefix starts another owner's keys) and keeps byte order: keys
// sort by (owner, id), the empty owner first, so an owner's records are
// one run of keys found by a prefix seek. Compared with a bucket per
// owner, a lookup opens one bucket instead of two, and the records of many
// small owners share pages instead of each owner rounding up to its own.

const (
	// metaBucket holds the layout marker. No kind can be named so
	// (checkRef refuses it).
	metaBucket = "\x00authbot"
	layoutKey  = "layout"
	layoutFlat = "flat-1"
)

// ownerEnd is what follows the escaped owner in a flat key; ownerAfter
// sorts after every key of that owner and before the next owner's.
var (
	ownerEnd   = []byte{0x00, 0x01}
	ownerAfter = []byte{0x00, 0x02}
)

// appendOwner appends the escaped owner and its terminator to dst.
func appendOwner(dst []byte, owner string) []byte {
	for i := 0; i < len(owner); i++ {
		dst = append(dst, owner[i])
		if owner[i] == 0 {
			dst = append(dst, 0xFF)
		}
	}
	return append(dst, ownerEnd...)
}

// appendKey appends the flat key of (owner, id) to dst.
func appendKey(dst []byte, owner, id string) []byte {
	return append(appendOwner(dst, owner), id...)
}

var errBadKey = errors.New("record key without an owner terminator")

// splitKey returns the owner of a flat key and where its id starts.
func splitKey(k []byte) (owner string, idAt int, err error) {
	var esc []byte // the unescaped owner so far, once a NUL was seen
	start := 0
	for i := 0; i+1 < len(k); i++ {
		if k[i] != 0 {
			continue
		}
		switch k[i+1] {
		case 0x01:
			if esc == nil {
				return string(k[:i]), i + 2, nil
			}
			return string(append(esc, k[start:i]...)), i + 2, nil
		case 0xFF:
			esc = append(esc, k[start:i+1]...) // up to and with the NUL
			start = i + 2
			i++
		default:
			return "", 0, errBadKey
		}
	}
	return "", 0, errBadKey
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
// the flat one and records the layout. onPut (tests) runs before each
// record's put; its error aborts the transaction.
func migrateTx(btx *bbolt.Tx, onPut func(n int) error) error {
	var kinds [][]byte
	if err := btx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
		kinds = append(kinds, bytes.Clone(name))
		return nil
	}); err != nil {
		return err
	}
	n := 0
	for _, kind := range kinds {
		if string(kind) == metaBucket {
			continue
		}
		kb := btx.Bucket(kind)
		if kb == nil {
			continue
		}
		type rec struct{ key, val []byte }
		var recs []rec
		err := nestedForEachKind(string(kind), kb, func(ref core.Ref, sealed []byte) error {
			recs = append(recs, rec{appendKey(nil, ref.Owner, ref.ID), bytes.Clone(sealed)})
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
		// The records arrive in key order (nestedForEachKind's order is
		// the flat keys' order), so the pages can be filled to the brim.
		nb.FillPercent = 1.0
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
