package core_test

import (
	"context"
	"slices"
	"testing"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/internal/testkit"
)

// TestDirectory: config users handed to the service and people added at
// runtime answer the same questions, over a real bbolt file.
func TestDirectory(t *testing.T) {
	ctx := context.Background()
	tg := func(id string) core.Identity { return core.Identity{Platform: "telegram", ID: id} }
	mx := func(id string) core.Identity { return core.Identity{Platform: "matrix", ID: id} }
	k := testkit.Service(t, testkit.Options{Service: core.ServiceOptions{Users: []core.ConfigUser{
		{Name: "alice", Identities: []core.Identity{tg("1001"), mx("@alice:example.org")}, Admin: true},
		{Name: "carol", Identities: []core.Identity{tg("1003")}},
	}}})
	svc := k.Svc
	// bob joins with an invite on Telegram; carol links a Matrix identity.
	token, _, err := svc.CreateInvite(ctx, "alice", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AcceptInvite(ctx, token, tg("1002")); err != nil {
		t.Fatal(err)
	}
	code, _, err := svc.LinkCode(ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Link(ctx, code, mx("@carol:example.org")); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		id   core.Identity
		want string
	}{
		{tg("1001"), "alice"},
		{mx("@alice:example.org"), "alice"},
		{tg("1002"), "bob"},
		{mx("@carol:example.org"), "carol"},
		{tg("1003"), "carol"},
		{tg("9999"), ""},
		{mx("1001"), ""}, // the same id on another platform is someone else
	} {
		if got, err := svc.PersonOf(ctx, tt.id); err != nil || got != tt.want {
			t.Errorf("PersonOf(%v) = %q, %v; want %q", tt.id, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		name                  string
		person, admin, config bool
	}{
		{"alice", true, true, true},
		{"ALICE", true, true, true},
		{"bob", true, false, false},
		{"carol", true, false, true},
		{"dave", false, false, false},
		{core.LocalPerson, false, false, false},
	} {
		if got, err := svc.IsPerson(ctx, tt.name); err != nil || got != tt.person {
			t.Errorf("IsPerson(%s) = %v, %v; want %v", tt.name, got, err, tt.person)
		}
		if got := svc.IsAdmin(tt.name); got != tt.admin {
			t.Errorf("IsAdmin(%s) = %v, want %v", tt.name, got, tt.admin)
		}
		if got := svc.IsConfigUser(tt.name); got != tt.config {
			t.Errorf("IsConfigUser(%s) = %v, want %v", tt.name, got, tt.config)
		}
	}
	for _, tt := range []struct {
		person, platform string
		want             []string
	}{
		{"alice", "telegram", []string{"1001"}},
		{"alice", "matrix", []string{"@alice:example.org"}},
		{"bob", "telegram", []string{"1002"}},
		{"bob", "matrix", nil},
		{"carol", "telegram", []string{"1003"}},
		{"Carol", "matrix", []string{"@carol:example.org"}},
		{"dave", "telegram", nil},
	} {
		got, err := svc.IdentitiesOf(ctx, tt.person, tt.platform)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("IdentitiesOf(%s, %s) = %v, %v; want %v", tt.person, tt.platform, got, err, tt.want)
		}
	}
	// A removed runtime person is nobody any more.
	if err := svc.RemovePerson(ctx, "alice", "bob"); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.PersonOf(ctx, tg("1002")); err != nil || got != "" {
		t.Errorf("PersonOf(bob's id) after removal = %q, %v", got, err)
	}
	if ok, err := svc.IsPerson(ctx, "bob"); err != nil || ok {
		t.Errorf("IsPerson(bob) after removal = %v, %v", ok, err)
	}
}
