package core_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/internal/testkit"
	"github.com/authbot/authbot/storage/bolt"
)

// sameIssuer is an import of n accounts that all share one issuer, the
// review's worst case for label de-duplication (every label a suffix of
// "example").
func sameIssuer(n int) []core.NewAccount {
	out := make([]core.NewAccount, n)
	for i := range out {
		out[i] = core.NewAccount{Key: otp.Key{Issuer: "Example", Account: fmt.Sprint("user", i),
			Params: otp.Params{Kind: otp.TOTP, Secret: secret(i + 1), Algorithm: otp.SHA1, Digits: 6, Period: 30}}}
	}
	return out
}

// BenchmarkImportSameIssuer2000 is the review's 2,000-entry import (9 s
// before labels were de-duplicated with sets) into a real bbolt file.
func BenchmarkImportSameIssuer2000(b *testing.B) {
	key, err := seal.NewKey()
	if err != nil {
		b.Fatal(err)
	}
	svc, store := openService(b, filepath.Join(b.TempDir(), "authbot.db"), key)
	defer store.Close()
	keys := sameIssuer(2000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		rep, err := svc.AddMany(context.Background(), fmt.Sprint("p", i), keys)
		if err != nil || len(rep.Added) != 2000 {
			b.Fatalf("%d added, %v", len(rep.Added), err)
		}
	}
}

// countingStore counts the write transactions that reach the store.
type countingStore struct {
	core.Store
	updates atomic.Int64
}

func (c *countingStore) Update(ctx context.Context, fn func(core.Tx) error) error {
	c.updates.Add(1)
	return c.Store.Update(ctx, fn)
}

// TestImportIsOneLinearTransaction shows structurally that an import
// cannot hold others up for more than one short transaction: all of it is
// one Update (a parallel /code, which writes at most its audit entry,
// waits for at most that one), and the work inside grows linearly with
// the entries (allocations, which the old label search made cubic, are
// counted for 500 and 2,000 same-issuer entries: no timing involved).
func TestImportIsOneLinearTransaction(t *testing.T) {
	key, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	store, err := bolt.Open(context.Background(), filepath.Join(t.TempDir(), "authbot.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cs := &countingStore{Store: store}
	svc, err := core.NewService(context.Background(), cs, key, testkit.NewClock(testkit.DefaultStart()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	before := cs.updates.Load()
	rep, err := svc.AddMany(ctx, "alice", sameIssuer(2000))
	if err != nil || len(rep.Added) != 2000 {
		t.Fatalf("%d added, %v", len(rep.Added), err)
	}
	if n := cs.updates.Load() - before; n != 1 {
		t.Fatalf("the import took %d write transactions, want 1", n)
	}
	if rep.Added[1999].Label != "example-2000" {
		t.Fatalf("last label %q", rep.Added[1999].Label)
	}
	allocs := func(n int) float64 {
		keys := sameIssuer(n)
		i := 0
		return testing.AllocsPerRun(1, func() {
			i++
			if _, err := svc.AddMany(ctx, fmt.Sprintf("a%d-%d", n, i), keys); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := allocs(500), allocs(2000)
	if ratio := large / small; ratio > 6 {
		t.Fatalf("4x the entries took %.1fx the allocations (%.0f → %.0f): not linear", ratio, small, large)
	}
	if _, err := svc.AddMany(ctx, "bob", sameIssuer(core.MaxImport+1)); err == nil {
		t.Fatal("an import over the cap was accepted")
	}
}
