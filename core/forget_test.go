package core

import (
	"context"
	"errors"
	"testing"
)

// TestRemovalIsComplete is the review's stale /link code: once bob is
// removed, his open link code, the invites he made and his approval
// requests and grants are gone, and Link cannot bring him back.
func TestRemovalIsComplete(t *testing.T) {
	svc, _, _, _ := newTestService(t)
	ctx := context.Background()
	token, _, err := svc.CreateInvite(ctx, "alice", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AcceptInvite(ctx, token, Identity{Platform: "telegram", ID: "42"}); err != nil {
		t.Fatal(err)
	}
	code, _, err := svc.LinkCode(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.CreateInvite(ctx, "bob", "mallory"); err != nil {
		t.Fatal(err)
	}
	svc.approvals.mu.Lock()
	svc.approvals.requests["r1"] = &ApprovalRequest{ID: "r1", Person: "bob"}
	svc.approvals.grants[grantKey("bob", "v", "a")] = grant{once: true, until: svc.now().Add(approvalTTL)}
	svc.approvals.mu.Unlock()

	if err := svc.RemovePerson(ctx, "alice", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Link(ctx, code, Identity{Platform: "matrix", ID: "@bob:example.org"}); !errors.Is(err, ErrLinkInvalid) {
		t.Fatalf("stale link code after removal: %v", err)
	}
	people, err := svc.People(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range people {
		if p.Name == "bob" {
			t.Fatalf("bob came back: %+v", p)
		}
	}
	if open, err := svc.ExpectsNewcomers(ctx); err != nil || open {
		t.Fatalf("bob's invite survived his removal: %v, %v", open, err)
	}
	svc.approvals.mu.Lock()
	defer svc.approvals.mu.Unlock()
	if len(svc.approvals.requests) != 0 || len(svc.approvals.grants) != 0 {
		t.Fatalf("approvals left: %v %v", svc.approvals.requests, svc.approvals.grants)
	}
}

// TestLinkRequiresThePerson: even a code that escaped the removal (made
// in a race) does not re-create a runtime person who is gone.
func TestLinkRequiresThePerson(t *testing.T) {
	svc, _, _, _ := newTestService(t)
	ctx := context.Background()
	token, _, err := svc.CreateInvite(ctx, "alice", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AcceptInvite(ctx, token, Identity{Platform: "telegram", ID: "42"}); err != nil {
		t.Fatal(err)
	}
	code, _, err := svc.LinkCode(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	svc.links.mu.Lock()
	lc := svc.links.codes[code]
	svc.links.mu.Unlock()
	if err := svc.RemovePerson(ctx, "alice", "bob"); err != nil {
		t.Fatal(err)
	}
	svc.links.mu.Lock()
	svc.links.codes[code] = lc // as if made after the removal's sweep
	svc.links.mu.Unlock()
	if _, err := svc.Link(ctx, code, Identity{Platform: "matrix", ID: "@bob:example.org"}); !errors.Is(err, ErrLinkInvalid) {
		t.Fatalf("link for a removed person: %v", err)
	}
	// A config user (no people record yet) still links.
	code, _, err = svc.LinkCode(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Link(ctx, code, Identity{Platform: "matrix", ID: "@alice:example.org"}); err != nil {
		t.Fatalf("config user's link: %v", err)
	}
}

func TestPruneInvitesOfRemovedConfigUsers(t *testing.T) {
	svc, _, _, _ := newTestService(t)
	ctx := context.Background()
	if _, _, err := svc.CreateInvite(ctx, "alice", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.CreateInvite(ctx, "olduser", "carol"); err != nil {
		t.Fatal(err)
	}
	n, err := svc.PruneInvites(ctx, func(name string) bool { return name == "alice" })
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want 1", n, err)
	}
}
