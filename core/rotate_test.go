package core

import (
	"context"
	"errors"
	"testing"

	"github.com/authbot/authbot/core/seal"
)

func TestRotateMasterKeyKeepsEverything(t *testing.T) {
	svc, store, clock, oldKey := newTestService(t)
	ctx := context.Background()
	mustAdd(t, svc, "alice", "binance", totpKey("Binance", rfcSecret))
	mustAdd(t, svc, "bob", "github", totpKey("GitHub", []byte("another secret 1234")))
	before, err := svc.Code(ctx, "alice", "binance")
	if err != nil {
		t.Fatal(err)
	}
	pickleBefore := svc.DeriveKey("matrix-pickle")
	if want := seal.Derive(&oldKey, "matrix-pickle"); pickleBefore != want {
		t.Fatal("before any rotation DeriveKey must equal seal.Derive(master)")
	}

	// A pending outbox job (bots/outbox) moves to the new root too.
	outboxKey := svc.DeriveKey(PurposeOutbox)
	jobRef := Ref{Kind: KindOutbox, Owner: "telegram", ID: "0000000000000001"}
	job, err := seal.Seal(&outboxKey, []byte("a job"), OutboxAD("telegram", jobRef.ID))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Update(ctx, func(tx Tx) error { return tx.Put(jobRef, job) }); err != nil {
		t.Fatal(err)
	}

	newKey, _ := seal.NewKey()
	rep, err := RotateMasterKey(ctx, store, &oldKey, &newKey)
	if err != nil {
		t.Fatal(err)
	}
	if rep.People != 2 {
		t.Errorf("re-wrapped %d people, want 2", rep.People)
	}
	if _, err := NewService(ctx, store, oldKey, clock); !errors.Is(err, ErrWrongMasterKey) {
		t.Errorf("old key after rotation: %v, want ErrWrongMasterKey", err)
	}
	svc2, err := NewService(ctx, store, newKey, clock)
	if err != nil {
		t.Fatal(err)
	}
	after, err := svc2.Code(ctx, "alice", "binance")
	if err != nil || after.Code != before.Code {
		t.Fatalf("code after rotation %q, %v; want %q", after.Code, err, before.Code)
	}
	// The pickle key is new; the old one waits for the Matrix adapter.
	if svc2.DeriveKey("matrix-pickle") == pickleBefore {
		t.Error("DeriveKey did not change across a rotation")
	}
	if old, ok, err := svc2.PendingPickleKey(ctx); err != nil || !ok || old != pickleBefore {
		t.Errorf("pending pickle key after a rotation: ok %v, %v", ok, err)
	}
	xs := seal.Derive(&oldKey, "matrix-cross-signing")
	if old, ok, err := svc2.PendingDerivedKey(ctx, "matrix-cross-signing"); err != nil || !ok || old != xs {
		t.Errorf("pending cross-signing key after a rotation: ok %v, %v", ok, err)
	}
	if err := svc2.DerivedKeyRekeyed(ctx, "matrix-cross-signing"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := svc2.PendingDerivedKey(ctx, "matrix-cross-signing"); err != nil || ok {
		t.Errorf("cross-signing key still pending: %v %v", ok, err)
	}
	newOutboxKey := svc2.DeriveKey(PurposeOutbox)
	err = store.View(ctx, func(tx Tx) error {
		b, err := tx.Get(jobRef)
		if err != nil {
			return err
		}
		_, err = seal.Open(&newOutboxKey, b, OutboxAD("telegram", jobRef.ID))
		return err
	})
	if err != nil {
		t.Errorf("the outbox job does not open under the new root: %v", err)
	}
	if rep, err := svc2.Verify(ctx); err != nil || rep.People != 2 || rep.Accounts != 2 {
		t.Errorf("verify after rotation: %+v, %v", rep, err)
	}

	// A second rotation (root now stored) and a repeat of the first.
	if _, err := RotateMasterKey(ctx, store, &oldKey, &newKey); !errors.Is(err, ErrAlreadyRotated) {
		t.Errorf("repeat rotation: %v, want ErrAlreadyRotated", err)
	}
	third, _ := seal.NewKey()
	if _, err := RotateMasterKey(ctx, store, &newKey, &third); err != nil {
		t.Fatal(err)
	}
	svc3, err := NewService(ctx, store, third, clock)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := svc3.Code(ctx, "bob", "github"); err != nil || c.Code == "" {
		t.Fatalf("bob after two rotations: %v", err)
	}
	// Not re-pickled in between: crypto.db is still under the first key.
	if old, ok, err := svc3.PendingPickleKey(ctx); err != nil || !ok || old != pickleBefore {
		t.Errorf("pending pickle key after a second rotation: ok %v, %v", ok, err)
	}
	if err := svc3.PickleRekeyed(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := svc3.PendingPickleKey(ctx); err != nil || ok {
		t.Errorf("pending pickle key after re-pickling: ok %v, %v", ok, err)
	}
}

func TestRotateMasterKeyIsAllOrNothing(t *testing.T) {
	svc, store, _, oldKey := newTestService(t)
	ctx := context.Background()
	mustAdd(t, svc, "alice", "binance", totpKey("Binance", rfcSecret))
	mustAdd(t, svc, "bob", "github", totpKey("GitHub", []byte("another secret 1234")))
	// Damage bob's wrapped key: the rotation must fail and change nothing.
	ref := Ref{Kind: kindPerson, ID: svc.owner("bob")}
	store.data[ref][len(store.data[ref])-1] ^= 1
	snapshot := map[Ref]string{}
	for k, v := range store.data {
		snapshot[k] = string(v)
	}
	newKey, _ := seal.NewKey()
	_, err := RotateMasterKey(ctx, store, &oldKey, &newKey)
	var bad *CorruptRecordError
	if !errors.As(err, &bad) || bad.What != "person key" {
		t.Fatalf("rotation over a damaged key: %v", err)
	}
	if len(store.data) != len(snapshot) {
		t.Fatal("record count changed")
	}
	for k, v := range store.data {
		if snapshot[k] != string(v) {
			t.Fatalf("record %s/%s changed after a failed rotation", k.Kind, k.ID)
		}
	}
}

func TestRotateMasterKeyRefusals(t *testing.T) {
	_, store, _, oldKey := newTestService(t)
	ctx := context.Background()
	wrong, _ := seal.NewKey()
	newKey, _ := seal.NewKey()
	tests := []struct {
		name     string
		old, new *seal.Key
		want     error
	}{
		{"wrong old key", &wrong, &newKey, ErrWrongMasterKey},
		{"same key", &oldKey, &oldKey, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RotateMasterKey(ctx, store, tt.old, tt.new)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	if err := CheckMasterKey(ctx, store, &oldKey); err != nil {
		t.Errorf("CheckMasterKey(old): %v", err)
	}
	if err := CheckMasterKey(ctx, store, &wrong); !errors.Is(err, ErrWrongMasterKey) {
		t.Errorf("CheckMasterKey(wrong): %v", err)
	}
	if err := CheckMasterKey(ctx, newMemStore(), &wrong); !errors.Is(err, ErrNotFound) {
		t.Errorf("CheckMasterKey(empty db): %v", err)
	}
}
