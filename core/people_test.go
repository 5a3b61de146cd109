package core

import (
	"context"
	"testing"
	"time"
)

func TestExpectsNewcomersOnlyWhileAnInviteOrLinkIsOpen(t *testing.T) {
	svc, _, clock, _ := newTestService(t)
	ctx := context.Background()
	expect := func(want bool) {
		t.Helper()
		got, err := svc.ExpectsNewcomers(ctx)
		if err != nil || got != want {
			t.Fatalf("ExpectsNewcomers = %v, %v; want %v", got, err, want)
		}
	}
	expect(false)
	_, _, err := svc.CreateInvite(ctx, "alice", "bob")
	if err != nil {
		t.Fatal(err)
	}
	expect(true)
	clock.Advance(InviteTTL + time.Second)
	expect(false) // expired
	token, _, err := svc.CreateInvite(ctx, "alice", "carol")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AcceptInvite(ctx, token, Identity{Platform: "matrix", ID: "@carol:example.org"}); err != nil {
		t.Fatal(err)
	}
	expect(false) // used up
	if _, _, err := svc.LinkCode(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	expect(true)
}
