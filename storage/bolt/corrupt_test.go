package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbot/authbot/internal/testkit/damage"

	bbolt "go.etcd.io/bbolt"

	"github.com/authbot/authbot/core"
)

// marker makes one record's bytes findable in the file.
var marker = bytes.Repeat([]byte("MARKER!!"), 64)

// fillDB writes a database of a few pages with one marked record and
// returns its path, closed.
func fillDB(t *testing.T) string {
	t.Helper()
	path := dbPath(t)
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	err = s.Update(context.Background(), func(tx core.Tx) error {
		for i := range 200 {
			v := make([]byte, 300)
			for j := range v {
				v[j] = byte(rng.Uint32())
			}
			if err := tx.Put(core.Ref{Kind: "vault", Owner: fmt.Sprint("owner", i%7), ID: fmt.Sprint("id", i)}, v); err != nil {
				return err
			}
		}
		return tx.Put(core.Ref{Kind: "vault", Owner: "owner0", ID: "marked"}, marker)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantCorrupt opens path, expects core.ErrCorrupt naming the file, and
// checks the file is byte-for-byte unchanged and not left locked.
func wantCorrupt(t *testing.T, path string) {
	t.Helper()
	before := readFile(t, path)
	for range 2 { // the second try proves the first released the lock
		s, err := Open(context.Background(), path, Options{Timeout: 100 * 1e6})
		if err == nil {
			s.Close()
			t.Fatal("Open of a damaged file succeeded")
		}
		if !errors.Is(err, core.ErrCorrupt) || !strings.Contains(err.Error(), path) {
			t.Fatalf("Open err = %v, want ErrCorrupt naming %s", err, path)
		}
		t.Logf("Open: %v", err)
	}
	if !bytes.Equal(before, readFile(t, path)) {
		t.Fatal("Open changed the damaged file")
	}
}

func TestTruncatedFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		size func(n int) int
	}{
		{"half", func(n int) int { return n / 2 }},
		{"last used page cut", func(int) int { return -1 }},
		{"100 bytes", func(int) int { return 100 }},
		{"one byte", func(int) int { return 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := fillDB(t)
			n := tc.size(len(readFile(t, path)))
			if n < 0 {
				n = int(highWater(t, path)) - 1
			}
			if err := os.Truncate(path, int64(n)); err != nil {
				t.Fatal(err)
			}
			wantCorrupt(t, path)
		})
	}
}

// highWater is the end of the last page the database uses; bbolt may have
// grown the file beyond it.
func highWater(t *testing.T, path string) int64 {
	s := openT(t, path, Options{ReadOnly: true})
	defer s.Close()
	var n int64
	_ = s.db.View(func(tx *bbolt.Tx) error { n = tx.Size(); return nil })
	return n
}

func TestGarbageFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 64<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	for name, content := range map[string][]byte{
		"random 64 KiB": random,
		"random 3 B":    random[:3],
		"text":          []byte("data_dir: ./data\ntelegram:\n  token: x\n"),
		"zeros 32 KiB":  make([]byte, 32<<10),
	} {
		t.Run(name, func(t *testing.T) {
			path := dbPath(t)
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			wantCorrupt(t, path)
		})
	}
}

func TestBothMetaPagesBroken(t *testing.T) {
	path := fillDB(t)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Flip a byte inside each meta's checksummed fields (the second meta
	// is the file's second page).
	for _, off := range []int64{40, pageSize + 40} {
		if _, err := f.WriteAt([]byte{0xAA}, off); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	wantCorrupt(t, path)
}

// smashMarkedPage overwrites the page holding the marked record with
// random bytes, through its own file handle.
func smashMarkedPage(t *testing.T, path string) { damage.SmashPage(t, path, marker, pageSize) }

func TestPageOverwrittenBeforeOpen(t *testing.T) {
	path := fillDB(t)
	smashMarkedPage(t, path)
	wantCorrupt(t, path)
}

func TestPageOverwrittenWhileOpen(t *testing.T) {
	path := fillDB(t)
	s := openT(t, path, Options{})
	smashMarkedPage(t, path) // bbolt maps the file shared: it sees this
	ref := core.Ref{Kind: "vault", Owner: "owner0", ID: "marked"}
	_, err := get(t, s, ref)
	if !errors.Is(err, core.ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Get of damaged page err = %v, want ErrCorrupt naming the file", err)
	}
	t.Logf("Get: %v", err)
	// A failed read must not commit anything on top of damage either.
	err = s.Update(context.Background(), func(tx core.Tx) error {
		_, _ = tx.Get(ref) // the error is ignored on purpose
		return tx.Put(core.Ref{Kind: "vault", Owner: "owner0", ID: "after"}, []byte("x"))
	})
	if !errors.Is(err, core.ErrCorrupt) {
		t.Fatalf("Update touching a damaged page err = %v, want ErrCorrupt", err)
	}
}

func TestBadPermissions(t *testing.T) {
	if runAsNobody(t) {
		return
	}
	t.Run("read-only directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "authbot.db")
		_, err := Open(context.Background(), path, Options{})
		if err == nil || !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), path) {
			t.Fatalf("Open in read-only dir = %v, want permission error naming %s", err, path)
		}
		t.Logf("Open: %v", err)
	})
	t.Run("read-only file", func(t *testing.T) {
		path := fillDB(t)
		if err := os.Chmod(path, 0o400); err != nil {
			t.Fatal(err)
		}
		_, err := Open(context.Background(), path, Options{})
		if err == nil || !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), path) {
			t.Fatalf("read-write Open of a 0400 file = %v, want permission error naming it", err)
		}
		t.Logf("Open: %v", err)
		s := openT(t, path, Options{ReadOnly: true}) // reading is still fine
		if _, err := get(t, s, core.Ref{Kind: "vault", Owner: "owner0", ID: "marked"}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("unreadable directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "locked")
		if err := os.Mkdir(dir, 0o000); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "authbot.db")
		_, err := Open(context.Background(), path, Options{})
		if err == nil || !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), path) {
			t.Fatalf("Open in unreadable dir = %v, want permission error naming %s", err, path)
		}
	})
}
