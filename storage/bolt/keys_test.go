package bolt

import (
	"bytes"
	"testing"
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
