package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/core"
)

func openT(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func dbPath(t testing.TB) string { return filepath.Join(t.TempDir(), "authbot.db") }

func put(t testing.TB, s *Store, refs ...core.Ref) {
	t.Helper()
	err := s.Update(context.Background(), func(tx core.Tx) error {
		for _, r := range refs {
			if err := tx.Put(r, []byte("sealed:"+r.Kind+"/"+r.Owner+"/"+r.ID)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func get(t testing.TB, s *Store, r core.Ref) ([]byte, error) {
	t.Helper()
	var v []byte
	err := s.View(context.Background(), func(tx core.Tx) error {
		var err error
		v, err = tx.Get(r)
		return err
	})
	return v, err
}

func TestPutGetListDeleteOwners(t *testing.T) {
	s := openT(t, dbPath(t), Options{})
	ctx := context.Background()
	a1 := core.Ref{Kind: "vault", Owner: "ownerA", ID: "id1"}
	a2 := core.Ref{Kind: "vault", Owner: "ownerA", ID: "id0"}
	b1 := core.Ref{Kind: "vault", Owner: "ownerB", ID: "id1"}
	p1 := core.Ref{Kind: "person", Owner: "ownerC", ID: "me"}
	g1 := core.Ref{Kind: "vault", Owner: "", ID: "global"}
	put(t, s, a1, a2, b1, p1, g1)

	for _, r := range []core.Ref{a1, a2, b1, p1, g1} {
		v, err := get(t, s, r)
		if want := "sealed:" + r.Kind + "/" + r.Owner + "/" + r.ID; err != nil || string(v) != want {
			t.Errorf("Get(%v) = %q, %v; want %q", r, v, err, want)
		}
	}
	missing := []core.Ref{
		{Kind: "vault", Owner: "ownerA", ID: "nope"},
		{Kind: "vault", Owner: "nobody", ID: "id1"},
		{Kind: "nokind", Owner: "ownerA", ID: "id1"},
		{Kind: "person", Owner: "ownerA", ID: "id1"},
	}
	for _, r := range missing {
		if _, err := get(t, s, r); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("Get(%v) err = %v, want ErrNotFound", r, err)
		}
	}

	err := s.View(ctx, func(tx core.Tx) error {
		checks := []struct {
			name string
			f    func() ([]string, error)
			want []string
		}{
			{"List ownerA", func() ([]string, error) { return tx.List("vault", "ownerA") }, []string{"id0", "id1"}},
			{"List ownerB", func() ([]string, error) { return tx.List("vault", "ownerB") }, []string{"id1"}},
			{"List global", func() ([]string, error) { return tx.List("vault", "") }, []string{"global"}},
			{"List unknown owner", func() ([]string, error) { return tx.List("vault", "zzz") }, nil},
			{"List unknown kind", func() ([]string, error) { return tx.List("nokind", "ownerA") }, nil},
			{"Owners vault", func() ([]string, error) { return tx.Owners("vault") }, []string{"ownerA", "ownerB"}},
			{"Owners person", func() ([]string, error) { return tx.Owners("person") }, []string{"ownerC"}},
			{"Owners unknown", func() ([]string, error) { return tx.Owners("nokind") }, nil},
		}
		for _, c := range checks {
			got, err := c.f()
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("%s = %q, %v; want %q", c.name, got, err, c.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Overwrite replaces.
	err = s.Update(ctx, func(tx core.Tx) error { return tx.Put(a1, []byte("new")) })
	if v, _ := get(t, s, a1); err != nil || string(v) != "new" {
		t.Fatalf("after overwrite Get = %q, %v", v, err)
	}

	// Delete; deleting the last record of an owner drops it from Owners.
	err = s.Update(ctx, func(tx core.Tx) error {
		if err := tx.Delete(b1); err != nil {
			return err
		}
		if err := tx.Delete(b1); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("second Delete err = %v, want ErrNotFound", err)
		}
		if err := tx.Delete(core.Ref{Kind: "nokind", Owner: "x", ID: "y"}); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("Delete of missing kind err = %v, want ErrNotFound", err)
		}
		return tx.Delete(a2)
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.View(ctx, func(tx core.Tx) error {
		owners, err := tx.Owners("vault")
		if err != nil || !slices.Equal(owners, []string{"ownerA"}) {
			t.Errorf("Owners after delete = %q, %v", owners, err)
		}
		ids, err := tx.List("vault", "ownerA")
		if err != nil || !slices.Equal(ids, []string{"id1"}) {
			t.Errorf("List after delete = %q, %v", ids, err)
		}
		return nil
	})
	if _, err := get(t, s, b1); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Get deleted = %v", err)
	}
}

func TestDurableAcrossReopen(t *testing.T) {
	path := dbPath(t)
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := core.Ref{Kind: "vault", Owner: "o", ID: "i"}
	put(t, s, r)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, path, Options{})
	if v, err := get(t, s, r); err != nil || len(v) == 0 {
		t.Fatalf("after reopen Get = %q, %v", v, err)
	}
	if s.Path() != path {
		t.Fatalf("Path = %q", s.Path())
	}
}

func TestCancelledContext(t *testing.T) {
	path := dbPath(t)
	s := openT(t, path, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	fn := func(core.Tx) error { called = true; return nil }
	if err := s.View(ctx, fn); !errors.Is(err, context.Canceled) {
		t.Errorf("View err = %v", err)
	}
	if err := s.Update(ctx, fn); !errors.Is(err, context.Canceled) {
		t.Errorf("Update err = %v", err)
	}
	if _, err := s.Backup(ctx, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Backup err = %v", err)
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "x.db"), Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Open err = %v", err)
	}
	if called {
		t.Error("fn ran under a cancelled context")
	}
}

func TestBadRefs(t *testing.T) {
	s := openT(t, dbPath(t), Options{})
	long := strings.Repeat("x", maxNameLen+1)
	bad := map[string]core.Ref{
		"no kind":        {Owner: "o", ID: "i"},
		"no id":          {Kind: "k", Owner: "o"},
		"reserved owner": {Kind: "k", Owner: ownerlessBucket, ID: "i"},
		"long id":        {Kind: "k", Owner: "o", ID: long},
		"long owner":     {Kind: "k", Owner: long, ID: "i"},
	}
	for name, r := range bad {
		t.Run(name, func(t *testing.T) {
			err := s.Update(context.Background(), func(tx core.Tx) error { return tx.Put(r, []byte("x")) })
			if err == nil {
				t.Fatal("Put accepted a bad ref")
			}
			if _, err := get(t, s, r); err == nil || errors.Is(err, core.ErrNotFound) {
				t.Fatalf("Get err = %v, want a ref error", err)
			}
		})
	}
	err := s.Update(context.Background(), func(tx core.Tx) error {
		return tx.Put(core.Ref{Kind: "k", Owner: "o", ID: "i"}, nil)
	})
	if err == nil {
		t.Fatal("Put accepted an empty record")
	}
}

func TestFnPanicIsNotCorruption(t *testing.T) {
	s := openT(t, dbPath(t), Options{})
	func() {
		defer func() {
			if r := recover(); r != "caller bug" {
				t.Fatalf("recovered %v, want the caller's own panic", r)
			}
		}()
		_ = s.Update(context.Background(), func(tx core.Tx) error {
			_ = tx.Put(core.Ref{Kind: "k", ID: "i"}, []byte("x"))
			panic("caller bug")
		})
	}()
	// The transaction was rolled back and the store still works.
	if _, err := get(t, s, core.Ref{Kind: "k", ID: "i"}); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Get after panicking Update = %v, want ErrNotFound", err)
	}
	put(t, s, core.Ref{Kind: "k", ID: "j"})
}

func TestCreatesPrivateFileAndDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "authbot.db")
	openT(t, path, Options{})
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode %o, want %o", p, got, want)
		}
	}
}

func TestLocked(t *testing.T) {
	path := dbPath(t)
	first := openT(t, path, Options{})
	short := Options{Timeout: 150 * time.Millisecond}
	for name, opts := range map[string]Options{"read-write": short, "read-only": {Timeout: short.Timeout, ReadOnly: true}} {
		t.Run(name, func(t *testing.T) {
			s, err := Open(context.Background(), path, opts)
			if err == nil {
				s.Close()
				t.Fatal("second Open of a locked file succeeded")
			}
			want := "the database " + path + " is in use by another authbot process"
			if !errors.Is(err, ErrLocked) || err.Error() != want {
				t.Fatalf("err = %q, want ErrLocked %q", err, want)
			}
		})
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	openT(t, path, short) // the lock is free again
}

func TestReadOnlyOpen(t *testing.T) {
	path := dbPath(t)
	if _, err := Open(context.Background(), path, Options{ReadOnly: true}); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("read-only Open of a missing file: %v, want not-exist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("read-only Open created the file")
	}
	s, _ := Open(context.Background(), path, Options{})
	r := core.Ref{Kind: "k", Owner: "o", ID: "i"}
	put(t, s, r)
	s.Close()

	// Two read-only opens share the file.
	a := openT(t, path, Options{ReadOnly: true})
	b := openT(t, path, Options{ReadOnly: true})
	for _, s := range []*Store{a, b} {
		if _, err := get(t, s, r); err != nil {
			t.Fatalf("Get: %v", err)
		}
	}
	err := a.Update(context.Background(), func(tx core.Tx) error { return tx.Put(r, []byte("y")) })
	if err == nil || !strings.Contains(err.Error(), "read-only") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Update on read-only store: %v", err)
	}
}

func TestOpenDirectory(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(context.Background(), dir, Options{}); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Open(dir) = %v, want an error naming it", err)
	}
}

func TestBackup(t *testing.T) {
	s := openT(t, dbPath(t), Options{})
	var refs []core.Ref
	for i := range 50 {
		refs = append(refs, core.Ref{Kind: "vault", Owner: fmt.Sprint("o", i%3), ID: fmt.Sprint("id", i)})
	}
	put(t, s, refs...)
	var buf bytes.Buffer
	n, err := s.Backup(context.Background(), &buf)
	if err != nil || n != int64(buf.Len()) || n == 0 {
		t.Fatalf("Backup = %d, %v (buffer %d)", n, err, buf.Len())
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(copyPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	c := openT(t, copyPath, Options{ReadOnly: true})
	for _, r := range refs {
		if _, err := get(t, c, r); err != nil {
			t.Fatalf("backup lacks %v: %v", r, err)
		}
	}
	if _, err := s.Backup(context.Background(), failWriter{}); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Backup to failing writer: %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk on fire") }

// TestDropResident: dropping the map's pages loses nothing; reads map
// them again.
func TestDropResident(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "authbot.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ref := core.Ref{Kind: "account", Owner: "alice", ID: "a1"}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.Put(ref, []byte("sealed")) }); err != nil {
		t.Fatal(err)
	}
	if err := s.DropResident(ctx); err != nil {
		t.Fatal(err)
	}
	var got []byte
	if err := s.View(ctx, func(tx core.Tx) error {
		v, err := tx.Get(ref)
		got = append([]byte(nil), v...)
		return err
	}); err != nil || string(got) != "sealed" {
		t.Fatalf("after DropResident: %q, %v", got, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.DropResident(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("ended ctx: %v, want context.Canceled", err)
	}
}
