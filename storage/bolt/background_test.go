package bolt

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/authbot/authbot/core"
)

// wantCorruptLater opens path with the check in the background and
// expects core.ErrCorrupt naming the file, from Open itself (what bbolt
// reads to open it is damaged) or from Checked; after that every
// transaction and Backup are refused, and the file is byte-for-byte as it
// was and not left locked.
func wantCorruptLater(t *testing.T, path string) {
	t.Helper()
	before := readFile(t, path)
	for range 2 { // the second try proves the first released the lock
		s, err := Open(context.Background(), path, Options{Timeout: 100 * 1e6, CheckInBackground: true})
		if err == nil {
			err = s.Checked(context.Background())
			if err != nil {
				ref := core.Ref{Kind: "vault", Owner: "owner0", ID: "after"}
				uerr := s.Update(context.Background(), func(tx core.Tx) error { return tx.Put(ref, []byte("x")) })
				verr := s.View(context.Background(), func(tx core.Tx) error { return nil })
				_, berr := s.Backup(context.Background(), &bytes.Buffer{})
				for name, e := range map[string]error{"Update": uerr, "View": verr, "Backup": berr} {
					if !errors.Is(e, core.ErrCorrupt) {
						t.Errorf("%s after a failed check: %v, want ErrCorrupt", name, e)
					}
				}
			}
			if cerr := s.Close(); cerr != nil {
				t.Fatal(cerr)
			}
		}
		if !errors.Is(err, core.ErrCorrupt) || !strings.Contains(err.Error(), path) {
			t.Fatalf("background check err = %v, want ErrCorrupt naming %s", err, path)
		}
		t.Logf("%v", err)
	}
	if !bytes.Equal(before, readFile(t, path)) {
		t.Fatal("the background check let the damaged file change")
	}
}

// TestBackgroundCheckRefusesDamage: the damage Open refuses (corrupt_test.go)
// is refused the same way when the check runs after Open.
func TestBackgroundCheckRefusesDamage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"truncated to half", func(t *testing.T, path string) { truncate(t, path, int64(len(readFile(t, path))/2)) }},
		{"last used page cut", func(t *testing.T, path string) { truncate(t, path, highWater(t, path)-1) }},
		{"100 bytes", func(t *testing.T, path string) { truncate(t, path, 100) }},
		{"garbage", func(t *testing.T, path string) {
			if err := os.WriteFile(path, bytes.Repeat([]byte("garbage!"), 8<<10), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"both meta pages broken", func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for _, off := range []int64{40, pageSize + 40} { // the second meta is the second page
				if _, err := f.WriteAt([]byte{0xAA}, off); err != nil {
					t.Fatal(err)
				}
			}
		}},
		// Only the full check reads this page: Open succeeds and
		// Checked fails.
		{"record page overwritten", smashMarkedPage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := fillDB(t)
			tc.damage(t, path)
			wantCorruptLater(t, path)
		})
	}
}

func truncate(t *testing.T, path string, n int64) {
	t.Helper()
	if err := os.Truncate(path, n); err != nil {
		t.Fatal(err)
	}
}

// TestBackgroundCheckHoldsWrites: while the check runs, reads go ahead and a
// write waits; it lands once the check has passed.
func TestBackgroundCheckHoldsWrites(t *testing.T) {
	path := fillDB(t)
	release := make(chan struct{})
	s, err := Open(context.Background(), path, Options{CheckInBackground: true, beforeCheck: func() { <-release }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	marked := core.Ref{Kind: "vault", Owner: "owner0", ID: "marked"}
	if v, err := get(t, s, marked); err != nil || !bytes.Equal(v, marker) {
		t.Fatalf("read during the check: %v", err)
	}
	waiting := make(chan struct{})
	s.onWait = func() { close(waiting) }
	ref := core.Ref{Kind: "vault", Owner: "owner0", ID: "later"}
	done := make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), func(tx core.Tx) error {
			select {
			case <-s.check.done:
			default:
				t.Error("the write ran before the check ended")
			}
			return tx.Put(ref, []byte("x"))
		})
	}()
	<-waiting
	if _, err := get(t, s, ref); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("record written while the check ran: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := s.Checked(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v, err := get(t, s, ref); err != nil || string(v) != "x" {
		t.Fatalf("after the check: %q, %v", v, err)
	}
}

// TestBackgroundCheckWaitEndsWithContext: a write waiting for the check
// gives up with its context and writes nothing.
func TestBackgroundCheckWaitEndsWithContext(t *testing.T) {
	path := fillDB(t)
	release := make(chan struct{})
	s, err := Open(context.Background(), path, Options{CheckInBackground: true, beforeCheck: func() { <-release }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer close(release) // before Close, which waits for the check
	ctx, cancel := context.WithCancel(context.Background())
	s.onWait = cancel
	ref := core.Ref{Kind: "vault", Owner: "owner0", ID: "never"}
	err = s.Update(ctx, func(tx core.Tx) error { return tx.Put(ref, []byte("x")) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Update = %v, want context.Canceled", err)
	}
	if _, err := get(t, s, ref); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("record written: %v", err)
	}
}

// TestBackgroundCheckNewFile: a new file has nothing to check.
func TestBackgroundCheckNewFile(t *testing.T) {
	s, err := Open(context.Background(), dbPath(t), Options{CheckInBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Checked(context.Background()); err != nil {
		t.Fatal(err)
	}
}
