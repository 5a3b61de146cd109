// Package storetest is the conformance suite every core.Store must pass:
// storage/bolt and storage/postgres run it against real files and a real
// server. It checks what core relies on and nothing backend-specific:
// put/get/list/delete, byte order of List and Owners, copies, atomic and
// isolated transactions, concurrent writers losing nothing, large values,
// and a process killed in the middle of a write transaction leaving no
// trace. Service runs a representative part of core's own behaviour
// (accounts, HOTP counters, audit, reopen) over the store.
package storetest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authbot/authbot/core"
)

// Store is a core.Store that can be closed.
type Store interface {
	core.Store
	Close() error
}

// Harness tells the suite how to make stores.
type Harness struct {
	// New returns the location of a fresh, empty store (a file path, a
	// DSN): Open opens it.
	New func(t testing.TB) string
	// Open opens the store at loc.
	Open func(ctx context.Context, loc string) (Store, error)
	// Shared is true when two Opens of one location may be open at once
	// (several processes on one database); the suite then also checks
	// writers on different handles.
	Shared bool
}

func (h Harness) open(t testing.TB, loc string) Store {
	t.Helper()
	s, err := h.Open(context.Background(), loc)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func (h Harness) fresh(t testing.TB) Store { return h.open(t, h.New(t)) }

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		f    func(*testing.T, Harness)
	}{
		{"PutGetListDelete", testPutGetListDelete},
		{"ByteOrder", testByteOrder},
		{"Copies", testCopies},
		{"Atomic", testAtomic},
		{"Isolation", testIsolation},
		{"ConcurrentWriters", testConcurrentWriters},
		{"LargeValues", testLargeValues},
		{"Reopen", testReopen},
		{"Cancelled", testCancelled},
		{"BadRefs", testBadRefs},
		{"TxAfterEnd", testTxAfterEnd},
		{"PanicRollsBack", testPanic},
		{"CrashMidTransaction", testCrash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, h) })
	}
}

func val(r core.Ref) []byte { return []byte("sealed:" + r.Kind + "/" + r.Owner + "/" + r.ID) }

func put(t testing.TB, s core.Store, refs ...core.Ref) {
	t.Helper()
	err := s.Update(context.Background(), func(tx core.Tx) error {
		for _, r := range refs {
			if err := tx.Put(r, val(r)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func get(s core.Store, r core.Ref) ([]byte, error) {
	var v []byte
	err := s.View(context.Background(), func(tx core.Tx) error {
		var err error
		v, err = tx.Get(r)
		return err
	})
	return v, err
}

func list(t testing.TB, s core.Store, kind, owner string) []string {
	t.Helper()
	var ids []string
	err := s.View(context.Background(), func(tx core.Tx) error {
		var err error
		ids, err = tx.List(kind, owner)
		return err
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return ids
}

func owners(t testing.TB, s core.Store, kind string) []string {
	t.Helper()
	var out []string
	err := s.View(context.Background(), func(tx core.Tx) error {
		var err error
		out, err = tx.Owners(kind)
		return err
	})
	if err != nil {
		t.Fatalf("Owners: %v", err)
	}
	return out
}

func testPutGetListDelete(t *testing.T, h Harness) {
	s := h.fresh(t)
	ctx := context.Background()
	a1 := core.Ref{Kind: "vault", Owner: "ownerA", ID: "id1"}
	a0 := core.Ref{Kind: "vault", Owner: "ownerA", ID: "id0"}
	b1 := core.Ref{Kind: "vault", Owner: "ownerB", ID: "id1"}
	p1 := core.Ref{Kind: "person", Owner: "ownerC", ID: "me"}
	g1 := core.Ref{Kind: "vault", Owner: "", ID: "global"}
	put(t, s, a1, a0, b1, p1, g1)
	for _, r := range []core.Ref{a1, a0, b1, p1, g1} {
		if v, err := get(s, r); err != nil || !bytes.Equal(v, val(r)) {
			t.Errorf("Get(%v) = %q, %v", r, v, err)
		}
	}
	for _, r := range []core.Ref{
		{Kind: "vault", Owner: "ownerA", ID: "nope"},
		{Kind: "vault", Owner: "nobody", ID: "id1"},
		{Kind: "nokind", Owner: "ownerA", ID: "id1"},
		{Kind: "person", Owner: "ownerA", ID: "id1"},
		{Kind: "vault", Owner: "", ID: "id1"},
	} {
		if _, err := get(s, r); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("Get(%v) err = %v, want ErrNotFound", r, err)
		}
	}
	checks := []struct {
		name      string
		got, want []string
	}{
		{"List ownerA", list(t, s, "vault", "ownerA"), []string{"id0", "id1"}},
		{"List ownerB", list(t, s, "vault", "ownerB"), []string{"id1"}},
		{"List global", list(t, s, "vault", ""), []string{"global"}},
		{"List unknown owner", list(t, s, "vault", "zzz"), nil},
		{"List unknown kind", list(t, s, "nokind", "ownerA"), nil},
		{"Owners vault", owners(t, s, "vault"), []string{"ownerA", "ownerB"}},
		{"Owners person", owners(t, s, "person"), []string{"ownerC"}},
		{"Owners unknown", owners(t, s, "nokind"), nil},
	}
	for _, c := range checks {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.Put(a1, []byte("new")) }); err != nil {
		t.Fatal(err)
	}
	if v, _ := get(s, a1); string(v) != "new" {
		t.Fatalf("after overwrite Get = %q", v)
	}
	err := s.Update(ctx, func(tx core.Tx) error {
		if err := tx.Delete(b1); err != nil {
			return err
		}
		if err := tx.Delete(b1); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("second Delete err = %v, want ErrNotFound", err)
		}
		if err := tx.Delete(core.Ref{Kind: "nokind", Owner: "x", ID: "y"}); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("Delete of missing kind err = %v, want ErrNotFound", err)
		}
		// A write is visible to the rest of its own transaction.
		if err := tx.Put(core.Ref{Kind: "vault", Owner: "ownerD", ID: "x"}, []byte("v")); err != nil {
			return err
		}
		if v, err := tx.Get(core.Ref{Kind: "vault", Owner: "ownerD", ID: "x"}); err != nil || string(v) != "v" {
			t.Errorf("own write in tx: %q, %v", v, err)
		}
		if err := tx.Delete(core.Ref{Kind: "vault", Owner: "ownerD", ID: "x"}); err != nil {
			return err
		}
		return tx.Delete(a0)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := owners(t, s, "vault"); !slices.Equal(got, []string{"ownerA"}) {
		t.Errorf("Owners after deleting ownerB's last record = %q", got)
	}
	if got := list(t, s, "vault", "ownerA"); !slices.Equal(got, []string{"id1"}) {
		t.Errorf("List after delete = %q", got)
	}
}

// testByteOrder: List and Owners sort by bytes, not by any collation:
// upper case before lower, high bytes last, a prefix before its
// extensions, and NUL and invalid UTF-8 kept exactly.
func testByteOrder(t *testing.T, h Harness) {
	s := h.fresh(t)
	rnd := rand.New(rand.NewPCG(1, 2))
	ids := []string{"a", "A", "a\x00", "ab", "b", "B", "_", "-", "é", "\xff", "\x80x", "Z9", "z", "aa", "a b", "10", "9"}
	for range 60 {
		b := make([]byte, 1+rnd.IntN(12))
		for i := range b {
			b[i] = byte(rnd.UintN(256))
		}
		ids = append(ids, string(b))
	}
	ids = uniq(ids)
	var refs []core.Ref
	for i, id := range ids {
		refs = append(refs, core.Ref{Kind: "k", Owner: "o", ID: id})
		if id != "\x00" && i%3 == 0 { // bbolt reserves the lone NUL owner
			refs = append(refs, core.Ref{Kind: "k", Owner: id, ID: "x"})
		}
	}
	rnd.Shuffle(len(refs), func(i, j int) { refs[i], refs[j] = refs[j], refs[i] })
	put(t, s, refs...)
	want := slices.Clone(ids)
	sort.Strings(want) // Go compares strings bytewise
	if got := list(t, s, "k", "o"); !slices.Equal(got, want) {
		t.Errorf("List order:\n got %q\nwant %q", got, want)
	}
	var wantOwners []string
	for _, r := range refs {
		wantOwners = append(wantOwners, r.Owner)
	}
	wantOwners = uniq(wantOwners)
	sort.Strings(wantOwners)
	if got := owners(t, s, "k"); !slices.Equal(got, wantOwners) {
		t.Errorf("Owners order:\n got %q\nwant %q", got, wantOwners)
	}
	for _, r := range refs[:10] {
		if v, err := get(s, r); err != nil || !bytes.Equal(v, val(r)) {
			t.Errorf("Get(%q) = %q, %v", r.ID, v, err)
		}
	}
	// Stores that list everything (authbot migrate compares two stores
	// record by record) do it in (kind, owner, id) byte order.
	if fe, ok := s.(interface {
		ForEach(context.Context, func(core.Ref, []byte) error) error
	}); ok {
		put(t, s, core.Ref{Kind: "j", ID: "x"}, core.Ref{Kind: "l", Owner: "o", ID: "x"}, core.Ref{Kind: "k", ID: "global"})
		var got []core.Ref
		err := fe.ForEach(context.Background(), func(r core.Ref, v []byte) error {
			if !bytes.Equal(v, val(r)) {
				t.Errorf("ForEach %v: value %q", r, v)
			}
			got = append(got, r)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(refs)+3 {
			t.Fatalf("ForEach gave %d records, want %d", len(got), len(refs)+3)
		}
		if !sortedRefs(got) {
			t.Errorf("ForEach is not in (kind, owner, id) byte order")
		}
	}
}

func sortedRefs(rs []core.Ref) bool {
	return slices.IsSortedFunc(rs, func(a, b core.Ref) int {
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		if c := strings.Compare(a.Owner, b.Owner); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

func uniq(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func testCopies(t *testing.T, h Harness) {
	s := h.fresh(t)
	r := core.Ref{Kind: "vault", Owner: "o", ID: "i"}
	buf := []byte("original")
	err := s.Update(context.Background(), func(tx core.Tx) error {
		if err := tx.Put(r, buf); err != nil {
			return err
		}
		copy(buf, "CHANGED!")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := get(s, r)
	if string(v) != "original" {
		t.Fatalf("stored %q, want the bytes as given to Put", v)
	}
	v[0] = 'X'
	if v2, _ := get(s, r); string(v2) != "original" {
		t.Fatalf("changing a returned value changed the store: %q", v2)
	}
}

func testAtomic(t *testing.T, h Harness) {
	s := h.fresh(t)
	ctx := context.Background()
	keep := core.Ref{Kind: "vault", Owner: "o", ID: "keep"}
	put(t, s, keep)
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx core.Tx) error {
		for i := range 10 {
			if err := tx.Put(core.Ref{Kind: "vault", Owner: "o", ID: fmt.Sprint("new", i)}, []byte("x")); err != nil {
				return err
			}
		}
		if err := tx.Put(core.Ref{Kind: "other", Owner: "p", ID: "q"}, []byte("x")); err != nil {
			return err
		}
		if err := tx.Delete(keep); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Update err = %v, want fn's own error unwrapped", err)
	}
	if ids := list(t, s, "vault", "o"); !slices.Equal(ids, []string{"keep"}) {
		t.Errorf("after failed Update: ids %q, want only keep", ids)
	}
	if o := owners(t, s, "other"); o != nil {
		t.Errorf("after failed Update: owners %q", o)
	}
	// A View's writes are refused or at least never land.
	_ = s.View(ctx, func(tx core.Tx) error { _ = tx.Put(core.Ref{Kind: "ro", ID: "x"}, []byte("x")); return nil })
	if _, err := get(s, core.Ref{Kind: "ro", ID: "x"}); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("a Put inside View landed: %v", err)
	}
}

// testIsolation: a reader never sees a writer's uncommitted records, and a
// View is one snapshot even while a writer commits beside it.
func testIsolation(t *testing.T, h Harness) {
	s := h.fresh(t)
	ctx := context.Background()
	a := core.Ref{Kind: "k", Owner: "o", ID: "a"}
	b := core.Ref{Kind: "k", Owner: "o", ID: "b"}
	put(t, s, a, b)

	// Uncommitted writes are invisible.
	inTx, goOn := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- s.Update(ctx, func(tx core.Tx) error {
			if err := tx.Put(a, []byte("uncommitted")); err != nil {
				return err
			}
			if err := tx.Put(core.Ref{Kind: "k", Owner: "o", ID: "c"}, []byte("uncommitted")); err != nil {
				return err
			}
			close(inTx)
			<-goOn
			return errors.New("roll back")
		})
	}()
	<-inTx
	if v, err := get(s, a); err != nil || !bytes.Equal(v, val(a)) {
		t.Errorf("reader saw %q, %v during another's write", v, err)
	}
	if ids := list(t, s, "k", "o"); !slices.Equal(ids, []string{"a", "b"}) {
		t.Errorf("reader listed %q during another's write", ids)
	}
	close(goOn)
	if err := <-errc; err == nil || err.Error() != "roll back" {
		t.Fatalf("Update = %v", err)
	}

	// A View that started before a commit keeps its snapshot.
	first, committed := make(chan struct{}), make(chan struct{})
	go func() {
		<-first
		errc <- s.Update(ctx, func(tx core.Tx) error {
			if err := tx.Put(a, []byte("new a")); err != nil {
				return err
			}
			return tx.Put(b, []byte("new b"))
		})
		close(committed)
	}()
	err := s.View(ctx, func(tx core.Tx) error {
		va, err := tx.Get(a)
		if err != nil {
			return err
		}
		close(first)
		// Stores may make the writer wait for this reader; give it a
		// moment either way, the snapshot must hold in both cases.
		select {
		case <-committed:
		case <-time.After(300 * time.Millisecond):
		}
		vb, err := tx.Get(b)
		if err != nil {
			return err
		}
		if !bytes.Equal(va, val(a)) || !bytes.Equal(vb, val(b)) {
			t.Errorf("one View saw a=%q b=%q: not one snapshot", va, vb)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if v, _ := get(s, b); string(v) != "new b" {
		t.Errorf("after commit b = %q", v)
	}
}

// testConcurrentWriters: read-modify-write from many goroutines (and, for
// shared stores, from two handles, as two processes would) loses nothing.
func testConcurrentWriters(t *testing.T, h Harness) {
	loc := h.New(t)
	stores := []core.Store{h.open(t, loc)}
	if h.Shared {
		stores = append(stores, h.open(t, loc))
	}
	ctx := context.Background()
	counter := core.Ref{Kind: "k", Owner: "o", ID: "counter"}
	const workers, each = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		s := stores[w%len(stores)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				err := s.Update(ctx, func(tx core.Tx) error {
					n := 0
					if v, err := tx.Get(counter); err == nil {
						fmt.Sscan(string(v), &n)
					} else if !errors.Is(err, core.ErrNotFound) {
						return err
					}
					if err := tx.Put(core.Ref{Kind: "k", Owner: "log", ID: fmt.Sprintf("%d-%02d", w, i)}, []byte(fmt.Sprint(n))); err != nil {
						return err
					}
					return tx.Put(counter, []byte(fmt.Sprint(n+1)))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Update: %v", err)
	}
	v, err := get(stores[0], counter)
	if err != nil || string(v) != fmt.Sprint(workers*each) {
		t.Fatalf("counter = %q, %v; want %d (an update was lost)", v, err, workers*each)
	}
	// Every increment saw a distinct value: no two writers read the same n.
	seen := map[string]bool{}
	for _, id := range list(t, stores[0], "k", "log") {
		v, _ := get(stores[0], core.Ref{Kind: "k", Owner: "log", ID: id})
		if seen[string(v)] {
			t.Fatalf("two writers both read counter %s", v)
		}
		seen[string(v)] = true
	}
}

func testLargeValues(t *testing.T, h Harness) {
	s := h.fresh(t)
	big := make([]byte, 8<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	r := core.Ref{Kind: "blob", Owner: "o", ID: "big"}
	if err := s.Update(context.Background(), func(tx core.Tx) error { return tx.Put(r, big) }); err != nil {
		t.Fatal(err)
	}
	var many []core.Ref
	for i := range 2000 {
		many = append(many, core.Ref{Kind: "many", Owner: fmt.Sprintf("o%02d", i%25), ID: fmt.Sprintf("%05d", i)})
	}
	put(t, s, many...)
	if v, err := get(s, r); err != nil || !bytes.Equal(v, big) {
		t.Fatalf("8 MiB value came back as %d bytes, %v", len(v), err)
	}
	if got := len(owners(t, s, "many")); got != 25 {
		t.Fatalf("%d owners, want 25", got)
	}
	if got := len(list(t, s, "many", "o07")); got != 80 {
		t.Fatalf("%d ids, want 80", got)
	}
}

func testReopen(t *testing.T, h Harness) {
	loc := h.New(t)
	s, err := h.Open(context.Background(), loc)
	if err != nil {
		t.Fatal(err)
	}
	r := core.Ref{Kind: "vault", Owner: "o", ID: "i"}
	put(t, s, r)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = h.open(t, loc)
	if v, err := get(s, r); err != nil || !bytes.Equal(v, val(r)) {
		t.Fatalf("after reopen Get = %q, %v", v, err)
	}
}

func testCancelled(t *testing.T, h Harness) {
	s := h.fresh(t)
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
	if called {
		t.Error("fn ran under a cancelled context")
	}
}

func testBadRefs(t *testing.T, h Harness) {
	s := h.fresh(t)
	long := strings.Repeat("x", 1025)
	for name, r := range map[string]core.Ref{
		"no kind":    {Owner: "o", ID: "i"},
		"no id":      {Kind: "k", Owner: "o"},
		"long id":    {Kind: "k", Owner: "o", ID: long},
		"long owner": {Kind: "k", Owner: long, ID: "i"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := s.Update(context.Background(), func(tx core.Tx) error { return tx.Put(r, []byte("x")) }); err == nil {
				t.Fatal("Put accepted a bad ref")
			}
			if _, err := get(s, r); err == nil || errors.Is(err, core.ErrNotFound) {
				t.Fatalf("Get err = %v, want a ref error", err)
			}
		})
	}
	if err := s.Update(context.Background(), func(tx core.Tx) error {
		return tx.Put(core.Ref{Kind: "k", Owner: "o", ID: "i"}, nil)
	}); err == nil {
		t.Fatal("Put accepted an empty record")
	}
}

func testTxAfterEnd(t *testing.T, h Harness) {
	s := h.fresh(t)
	var leaked core.Tx
	_ = s.View(context.Background(), func(tx core.Tx) error { leaked = tx; return nil })
	if _, err := leaked.Get(core.Ref{Kind: "k", ID: "i"}); err == nil {
		t.Fatal("Get on an ended transaction succeeded")
	}
	_ = s.Update(context.Background(), func(tx core.Tx) error { leaked = tx; return nil })
	if err := leaked.Put(core.Ref{Kind: "k", ID: "i"}, []byte("x")); err == nil {
		t.Fatal("Put on an ended transaction succeeded")
	}
}

func testPanic(t *testing.T, h Harness) {
	s := h.fresh(t)
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
	if _, err := get(s, core.Ref{Kind: "k", ID: "i"}); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Get after panicking Update = %v, want ErrNotFound", err)
	}
	put(t, s, core.Ref{Kind: "k", ID: "j"}) // the store still works
}

// childEnv carries the store location to a crash child (see Child).
const childEnv = "AUTHBOT_STORETEST_CRASH"

// Child runs the crash test's child when this process is one: call it
// first thing in TestMain with the package's Open. It opens the store,
// starts a write transaction, writes records, tells the parent, and waits
// to be killed inside the transaction.
func Child(open func(ctx context.Context, loc string) (Store, error)) {
	loc := os.Getenv(childEnv)
	if loc == "" {
		return
	}
	s, err := open(context.Background(), loc)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	_ = s.Update(context.Background(), func(tx core.Tx) error {
		for i := range 200 {
			if err := tx.Put(core.Ref{Kind: "crash", Owner: "o", ID: fmt.Sprintf("%03d", i)}, bytes.Repeat([]byte{byte(i)}, 4096)); err != nil {
				fmt.Println("put:", err)
				os.Exit(3)
			}
		}
		if err := tx.Delete(core.Ref{Kind: "k", Owner: "o", ID: "before"}); err != nil {
			fmt.Println("delete:", err)
			os.Exit(3)
		}
		fmt.Println("in transaction")
		select {} // killed here
	})
	os.Exit(3)
}

func testCrash(t *testing.T, h Harness) {
	loc := h.New(t)
	s, err := h.Open(context.Background(), loc)
	if err != nil {
		t.Fatal(err)
	}
	before := core.Ref{Kind: "k", Owner: "o", ID: "before"}
	put(t, s, before)
	if err := s.Close(); err != nil { // bbolt: the child needs the file lock
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+loc)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "in transaction\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child said %q, want it inside its transaction", line)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_, _ = io.Copy(io.Discard, out)
	_ = cmd.Wait()

	s = h.open(t, loc)
	if ids := list(t, s, "crash", "o"); len(ids) != 0 {
		t.Fatalf("%d records of the killed transaction are visible", len(ids))
	}
	if v, err := get(s, before); err != nil || !bytes.Equal(v, val(before)) {
		t.Fatalf("record deleted by the killed transaction: %q, %v", v, err)
	}
	// The store takes writes again at once (no lock left behind).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.Put(core.Ref{Kind: "k", Owner: "o", ID: "after"}, []byte("x")) }); err != nil {
		t.Fatalf("write after the crash: %v", err)
	}
}
