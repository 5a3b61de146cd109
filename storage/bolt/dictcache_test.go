package bolt

import (
	"context"
	"errors"
	"testing"

	"github.com/authbot/authbot/core"
)

// An owner whose last record is deleted loses its number; given records
// again it gets a new one. Reads after that must find them, though an
// earlier read cached the old number (dictCache.forget), and though a
// read on a snapshot from before the deletion looked the old number up
// after it (dictCache.gen).
func TestDictCacheFollowsAForgottenOwner(t *testing.T) {
	for _, straggler := range []bool{false, true} {
		name := "after a cached read"
		if straggler {
			name = "with a read of the old snapshot in between"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := openT(t, dbPath(t), Options{})
			alice := core.Ref{Kind: "account", Owner: "alice", ID: "0123456789abcdef"}
			bob := core.Ref{Kind: "account", Owner: "bob", ID: "0123456789abcdef"}
			put := func(ref core.Ref, v string) {
				t.Helper()
				if err := s.Update(ctx, func(tx core.Tx) error { return tx.Put(ref, []byte(v)) }); err != nil {
					t.Fatal(err)
				}
			}
			get := func(ref core.Ref) (string, error) {
				var v []byte
				err := s.View(ctx, func(tx core.Tx) error {
					var err error
					v, err = tx.Get(ref)
					return err
				})
				return string(v), err
			}
			put(alice, "one")
			put(bob, "bob's") // so that alice's next number differs from her first
			if v, err := get(alice); err != nil || v != "one" {
				t.Fatalf("first read: %q, %v", v, err)
			}

			// The straggler's snapshot still has alice's first number;
			// it looks her up only after she was forgotten.
			started, resume, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			if straggler {
				s.dict.forget([]string{"alice"}) // not cached yet when the straggler starts
				go func() {
					done <- s.View(ctx, func(tx core.Tx) error {
						close(started)
						<-resume
						v, err := tx.Get(alice)
						if err == nil && string(v) != "one" {
							err = errors.New("the old snapshot read " + string(v))
						}
						return err
					})
				}()
				<-started
			}
			if err := s.Update(ctx, func(tx core.Tx) error { return tx.Delete(alice) }); err != nil {
				t.Fatal(err)
			}
			put(bob, "bob's again")
			put(alice, "two")
			if straggler {
				close(resume)
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			}
			if v, err := get(alice); err != nil || v != "two" {
				t.Fatalf("read after alice came back: %q, %v (want \"two\")", v, err)
			}
		})
	}
}

// A read of a kind or owner the file does not have caches nothing, and
// finds what a later write adds.
func TestDictCacheMissThenWrite(t *testing.T) {
	ctx := context.Background()
	s := openT(t, dbPath(t), Options{})
	ref := core.Ref{Kind: "index", Owner: "carol", ID: "x"}
	read := func() error {
		return s.View(ctx, func(tx core.Tx) error { _, err := tx.Get(ref); return err })
	}
	if err := read(); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("before: %v, want ErrNotFound", err)
	}
	if err := s.Update(ctx, func(tx core.Tx) error { return tx.Put(ref, []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if err := read(); err != nil {
		t.Fatalf("after the write: %v", err)
	}
}
