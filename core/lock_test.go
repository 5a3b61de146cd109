package core_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/internal/testkit"
	"github.com/authbot/authbot/storage/bolt"
)

// cheapArgon2 keeps tests fast; the stored parameters travel with each
// lock, so production costs are unaffected.
var cheapArgon2 = seal.Argon2Params{Time: 1, MemoryKiB: 1024, Threads: 1}

type lockRig struct {
	store  *bolt.Store
	master seal.Key
	clock  *testkit.Clock
	svc    *core.Service
}

func newLockRig(t *testing.T) *lockRig {
	t.Helper()
	r := &lockRig{clock: testkit.NewClock(testkit.DefaultStart()), master: testkit.Key(t), store: testkit.Bolt(t, "")}
	r.svc = r.restart(t)
	return r
}

// restart is a new Service over the same file and master key: what a
// process restart (or an operator with the key) has.
func (r *lockRig) restart(t *testing.T) *core.Service {
	t.Helper()
	svc, err := core.NewServiceWith(context.Background(), r.store, r.master, r.clock,
		core.ServiceOptions{UnlockFor: 10 * time.Minute, Argon2: cheapArgon2})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

const pass = "correct horse battery"

func TestLockedPersonNeedsPassphrase(t *testing.T) {
	r := newLockRig(t)
	ctx := context.Background()
	svc := r.svc
	if _, err := svc.Add(ctx, "alice", core.NewAccount{Label: "github", Key: totpKey(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateVault(ctx, "bob", "team"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddMember(ctx, "bob", "team", "alice", core.RoleCodesOnly); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Add(ctx, "bob", core.NewAccount{Label: "team/aws", Key: totpKey(2)}); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetPassphrase(ctx, "alice", "short"); !errors.Is(err, core.ErrWeakPassphrase) {
		t.Errorf("short passphrase: %v", err)
	}
	if err := svc.SetPassphrase(ctx, "alice", pass); err != nil {
		t.Fatal(err)
	}
	// The operator with the master key, in a fresh process, opens nothing
	// of alice's: not her account, not her copy of the team's key.
	op := r.restart(t)
	for _, q := range []string{"github", "team/aws"} {
		if _, err := op.Code(ctx, "alice", q); !errors.Is(err, core.ErrLocked) {
			t.Errorf("locked alice, %s: %v", q, err)
		}
	}
	if _, err := op.List(ctx, "alice"); !errors.Is(err, core.ErrLocked) {
		t.Errorf("List: %v", err)
	}
	if _, err := op.Add(ctx, "alice", core.NewAccount{Label: "x", Key: totpKey(3)}); !errors.Is(err, core.ErrLocked) {
		t.Errorf("Add while locked made a new key: %v", err)
	}
	// Bob, not locked, still gets the team's codes.
	if _, err := op.Code(ctx, "bob", "team/aws"); err != nil {
		t.Errorf("bob: %v", err)
	}
	// Raw: no master-wrapped key for alice is left.
	alice, err := op.StorageID(ctx, "alice")
	if err != nil || alice == "" {
		t.Fatalf("alice's storage id: %q %v", alice, err)
	}
	err = r.store.View(ctx, func(tx core.Tx) error {
		if _, err := tx.Get(core.Ref{Kind: "person", ID: alice}); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("alice's master-wrapped key is still stored: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	until, err := op.Unlock(ctx, "alice", pass)
	if err != nil || until != r.clock.Now().Add(10*time.Minute) {
		t.Fatalf("Unlock: %v %v", until, err)
	}
	for _, q := range []string{"github", "team/aws"} {
		if _, err := op.Code(ctx, "alice", q); err != nil {
			t.Errorf("unlocked alice, %s: %v", q, err)
		}
	}
	r.clock.Advance(10 * time.Minute)
	if _, err := op.Code(ctx, "alice", "github"); !errors.Is(err, core.ErrLocked) {
		t.Errorf("after the unlock time: %v", err)
	}
	// Lock now, change passphrase, remove it.
	if _, err := op.Unlock(ctx, "alice", pass); err != nil {
		t.Fatal(err)
	}
	if err := op.LockNow(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := op.Code(ctx, "alice", "github"); !errors.Is(err, core.ErrLocked) {
		t.Errorf("after LockNow: %v", err)
	}
	if err := op.SetPassphrase(ctx, "alice", "another passphrase"); !errors.Is(err, core.ErrLocked) {
		t.Errorf("change while locked: %v", err)
	}
	if _, err := op.Unlock(ctx, "alice", pass); err != nil {
		t.Fatal(err)
	}
	if err := op.SetPassphrase(ctx, "alice", "another passphrase"); err != nil {
		t.Fatal(err)
	}
	if _, err := op.Unlock(ctx, "alice", "another passphrase"); err != nil {
		t.Fatal(err)
	}
	if err := op.RemovePassphrase(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.restart(t).Code(ctx, "alice", "github"); err != nil {
		t.Errorf("after removing the passphrase: %v", err)
	}
	if err := op.LockNow(ctx, "alice"); !errors.Is(err, core.ErrNotLocked) {
		t.Errorf("LockNow without a passphrase: %v", err)
	}
}

func TestWrongPassphrasesSlowDownAndSurviveRestart(t *testing.T) {
	r := newLockRig(t)
	ctx := context.Background()
	if _, err := r.svc.Add(ctx, "alice", core.NewAccount{Label: "github", Key: totpKey(1)}); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.SetPassphrase(ctx, "alice", pass); err != nil {
		t.Fatal(err)
	}
	var wrong *core.WrongPassphraseError
	for i := 1; i <= 2; i++ {
		if _, err := r.svc.Unlock(ctx, "alice", "nope"); !errors.As(err, &wrong) || wrong.Failures != i || !wrong.Until.IsZero() {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if _, err := r.svc.Unlock(ctx, "alice", "nope"); !errors.As(err, &wrong) || !wrong.Until.Equal(r.clock.Now().Add(8*time.Second)) {
		t.Fatalf("third failure: %v", err)
	}
	// A restart forgets nothing; even the right passphrase waits.
	svc := r.restart(t)
	var out *core.LockoutError
	if _, err := svc.Unlock(ctx, "alice", pass); !errors.As(err, &out) || !out.Until.Equal(r.clock.Now().Add(8*time.Second)) {
		t.Fatalf("during the wait: %v", err)
	}
	r.clock.Advance(8 * time.Second)
	if _, err := svc.Unlock(ctx, "alice", "nope"); !errors.As(err, &wrong) || !wrong.Until.Equal(r.clock.Now().Add(16*time.Second)) {
		t.Fatalf("fourth failure: %v", err)
	}
	r.clock.Advance(16 * time.Second)
	if _, err := svc.Unlock(ctx, "alice", pass); err != nil {
		t.Fatalf("right passphrase after the wait: %v", err)
	}
	// Success resets the count.
	if _, err := svc.Unlock(ctx, "alice", "nope"); !errors.As(err, &wrong) || wrong.Failures != 1 {
		t.Errorf("after success: %v", err)
	}
	events, err := svc.AuditLog(ctx, core.AuditFilter{Person: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Type == core.EventLock && e.Detail == "wrong passphrase" {
			n++
		}
	}
	if n != 5 {
		t.Errorf("%d wrong passphrases audited, want 5", n)
	}
}

func TestLockedMembersAndVaults(t *testing.T) {
	r := newLockRig(t)
	ctx := context.Background()
	svc := r.svc
	if _, err := svc.CreateVault(ctx, "alice", "team"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddMember(ctx, "alice", "team", "carol", core.RoleCodesOnly); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"bob", "carol"} {
		if _, err := svc.Add(ctx, p, core.NewAccount{Label: "own", Key: totpKey(5)}); err != nil {
			t.Fatal(err)
		}
		if err := svc.SetPassphrase(ctx, p, pass); err != nil {
			t.Fatal(err)
		}
	}
	// Locked people are added and keep getting new keys: the vault key is
	// sealed to their public key (keypair.go).
	if _, err := svc.AddMember(ctx, "alice", "team", "bob", core.RoleCodesOnly); err != nil {
		t.Errorf("adding locked bob: %v", err)
	}
	if _, err := svc.AddMember(ctx, "alice", "team", "dave", core.RoleCodesOnly); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Add(ctx, "alice", core.NewAccount{Label: "team/aws", Key: totpKey(6)}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RemoveMember(ctx, "alice", "team", "dave"); err != nil {
		t.Errorf("rotation with locked bob and carol: %v", err)
	}
	for _, p := range []string{"bob", "carol"} {
		if _, err := svc.Code(ctx, p, "team/aws"); !errors.Is(err, core.ErrLocked) {
			t.Errorf("%s locked: %v", p, err)
		}
		if _, err := svc.Unlock(ctx, p, pass); err != nil {
			t.Fatal(err)
		}
		if c, err := svc.Code(ctx, p, "team/aws"); err != nil || c.Code == "" {
			t.Errorf("%s after unlock: %v", p, err)
		}
		// A write turns the sealed copy back into a data-key copy; codes
		// keep coming after it and after a restart.
		if _, err := svc.Add(ctx, p, core.NewAccount{Label: "own2", Key: totpKey(7)}); err != nil {
			t.Fatal(err)
		}
		if c, err := svc.Code(ctx, p, "team/aws"); err != nil || c.Code == "" {
			t.Errorf("%s after a write: %v", p, err)
		}
	}
}

// BenchmarkPassphraseKey measures Argon2id at seal.DefaultArgon2 (t=3,
// 64 MiB, 4 lanes) on this machine: the cost of one /unlock or /lock.
func BenchmarkPassphraseKey(b *testing.B) {
	salt := make([]byte, 16)
	for i := 0; i < b.N; i++ {
		k := seal.PassphraseKey([]byte(pass), salt, seal.DefaultArgon2)
		seal.Zero(&k)
	}
}
