package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/storage/postgres/pgtest"
)

func openT(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var fast = LeaseOptions{TTL: 2 * time.Second, Renew: 200 * time.Millisecond, Poll: 100 * time.Millisecond, Margin: 600 * time.Millisecond}

func write(s *Store, id string) error {
	return s.Update(context.Background(), func(tx core.Tx) error {
		return tx.Put(core.Ref{Kind: "k", Owner: "o", ID: id}, []byte("x"))
	})
}

// TestLeaseHandover: one holder at a time; a clean stop hands over at
// once; the old holder's writes are fenced off afterwards.
func TestLeaseHandover(t *testing.T) {
	dsn := pgtest.NewDB(t)
	a, b := openT(t, dsn), openT(t, dsn)
	ctx := context.Background()
	la, lb := a.NewLease(fast), b.NewLease(fast)
	activeA, doneA, err := la.Hold(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(a, "a1"); err != nil {
		t.Fatalf("holder's write: %v", err)
	}
	got := make(chan time.Time, 1)
	go func() {
		_, doneB, err := lb.Hold(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- time.Now()
		t.Cleanup(doneB)
	}()
	select {
	case <-got:
		t.Fatal("a second process took a held lease")
	case <-time.After(3 * fast.TTL / 2): // renewals keep it held past one TTL
	}
	if activeA.Err() != nil {
		t.Fatal("holder stepped down while renewing fine")
	}
	stopped := time.Now()
	doneA()
	took := (<-got).Sub(stopped)
	if took > time.Second {
		t.Errorf("clean handover took %v", took)
	}
	if err := write(a, "a2"); !errors.Is(err, ErrFenced) {
		t.Fatalf("old holder's write after handover = %v, want ErrFenced", err)
	}
	if err := write(b, "b1"); err != nil {
		t.Fatalf("new holder's write: %v", err)
	}
}

// TestLeaseLostSilently: a holder that cannot reach the database steps
// down before its lease can expire, and a standby takes over after it.
func TestLeaseLostSilently(t *testing.T) {
	dsn := pgtest.NewDB(t)
	a, b := openT(t, dsn), openT(t, dsn)
	ctx := context.Background()
	activeA, _, err := a.NewLease(fast).Hold(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	a.leasePool.Close() // as good as a network cut: every renewal fails
	_, doneB, err := b.NewLease(fast).Hold(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer doneB()
	took := time.Since(cut)
	select {
	case <-activeA.Done():
	default:
		t.Fatal("the standby took over while the old holder still thought it was active")
	}
	if !errors.Is(context.Cause(activeA), ErrLeaseLost) {
		t.Fatalf("cause = %v", context.Cause(activeA))
	}
	if took > fast.TTL+time.Second {
		t.Errorf("takeover took %v, TTL %v", took, fast.TTL)
	}
	t.Logf("takeover %v after the cut (TTL %v)", took, fast.TTL)
}

// TestFenceHoldsOffTakeover: a write transaction in flight when the lease
// expires either commits before the takeover or not at all.
func TestFenceHoldsOffTakeover(t *testing.T) {
	dsn := pgtest.NewDB(t)
	a, b := openT(t, dsn), openT(t, dsn)
	ctx := context.Background()
	la := a.NewLease(LeaseOptions{TTL: 2 * time.Second, Renew: time.Hour, Poll: 50 * time.Millisecond, Margin: time.Second})
	if _, _, err := la.Hold(ctx); err != nil {
		t.Fatal(err)
	}
	inTx, finish := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- a.Update(ctx, func(tx core.Tx) error {
			close(inTx)
			<-finish
			return tx.Put(core.Ref{Kind: "k", Owner: "o", ID: "late"}, []byte("x"))
		})
	}()
	<-inTx
	taken := make(chan struct{})
	go func() {
		_, done, err := b.NewLease(fast).Hold(ctx)
		if err == nil {
			t.Cleanup(done)
		}
		close(taken)
	}()
	time.Sleep(3 * time.Second) // the lease has expired on the server
	select {
	case <-taken:
		t.Fatal("takeover did not wait for the old holder's open write transaction")
	default:
	}
	close(finish)
	if err := <-errc; err != nil {
		t.Fatalf("write begun under the lease: %v", err)
	}
	<-taken
	if err := write(a, "after"); !errors.Is(err, ErrFenced) {
		t.Fatalf("write after takeover = %v, want ErrFenced", err)
	}
}

func TestSchemaVersionAndDSNSecrecy(t *testing.T) {
	dsn := pgtest.NewDB(t)
	s := openT(t, dsn)
	if _, err := s.pool.Exec(context.Background(), "UPDATE authbot_schema SET version = 99"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dsn); err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Fatalf("Open of a newer schema = %v", err)
	}
	bad := strings.Replace(dsn, pgtest.Password, "wrong-"+pgtest.Password, 1)
	_, err := Open(context.Background(), bad)
	if err == nil || strings.Contains(err.Error(), pgtest.Password) {
		t.Fatalf("Open with a wrong password = %v (must fail without showing it)", err)
	}
	if _, err := Open(context.Background(), "postgres://u:"+pgtest.Password+"@[bad"); err == nil || strings.Contains(err.Error(), pgtest.Password) {
		t.Fatalf("Open of a malformed DSN = %v", err)
	}
}
