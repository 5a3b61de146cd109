package bolt

import (
	"bytes"
	"context"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/authbot/authbot/core"
)

// FuzzKeyForms: whatever bytes a file holds, a key part that reads as an
// owner number or an id is the one form appendNum or appendID writes for
// it, so reading and writing agree on every record (no record that ForEach
// lists but Get cannot find), and every id written reads back.
func FuzzKeyForms(f *testing.F) {
	for _, seed := range [][]byte{{0x05}, {0x80, 0x80}, {0xF0, 1, 2, 3, 4}, {0x00, 1, 2, 3, 4, 5, 6, 7, 8}, {0x01, 0x00}, []byte("accounts"), []byte("0123456789abcdef")} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if num, n, err := readNum(b); err == nil {
			if enc := appendNum(nil, num); !bytes.Equal(enc, b[:n]) {
				t.Fatalf("readNum(%x) = %d, which appendNum writes as %x", b, num, enc)
			}
		}
		if id, err := readID(b); err == nil {
			if enc := appendID(nil, id); !bytes.Equal(enc, b) {
				t.Fatalf("readID(%x) = %q, which appendID writes as %x", b, id, enc)
			}
		}
		if len(b) > 0 {
			id := string(b)
			if got, err := readID(appendID(nil, id)); err != nil || got != id {
				t.Fatalf("readID(appendID(%q)) = %q, %v", id, got, err)
			}
		}
	})
}

// TestFillPercent: a kind bucket's pages are filled to the brim only when
// every record this transaction put sorts after the bucket's last one
// before it (a new owner's, in any order of ids); a record among existing
// ones puts it back to bbolt's default for the rest of the transaction.
func TestFillPercent(t *testing.T) {
	s := openT(t, dbPath(t), Options{})
	ctx := context.Background()
	fillAfter := func(refs ...core.Ref) float64 {
		var got float64
		err := s.Update(ctx, func(ctx core.Tx) error {
			for _, r := range refs {
				if err := ctx.Put(r, []byte("v")); err != nil {
					return err
				}
			}
			got = ctx.(*tx).rec.FillPercent
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	a := func(id string) core.Ref { return core.Ref{Kind: "k", Owner: "a", ID: id} }
	b := func(id string) core.Ref { return core.Ref{Kind: "k", Owner: "b", ID: id} }
	for _, tc := range []struct {
		name string
		refs []core.Ref
		want float64
	}{
		{"new bucket, ids in any order", []core.Ref{a("5"), a("1"), a("9")}, 1.0},
		{"new owner after the others", []core.Ref{b("7"), b("2")}, 1.0},
		{"among existing records", []core.Ref{a("3")}, bbolt.DefaultFillPercent},
		{"appends, then one among", []core.Ref{b("8"), a("4")}, bbolt.DefaultFillPercent},
	} {
		if got := fillAfter(tc.refs...); got != tc.want {
			t.Errorf("%s: FillPercent %v, want %v", tc.name, got, tc.want)
		}
	}
}
