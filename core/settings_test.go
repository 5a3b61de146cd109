package core

import (
	"context"
	"testing"

	"github.com/authbot/authbot/core/seal"
)

func TestSettingsLanguage(t *testing.T) {
	svc, store, clock, oldKey := newTestService(t)
	ctx := context.Background()
	get := func(s *Service, person string) string {
		t.Helper()
		got, err := s.SettingsOf(ctx, person)
		if err != nil {
			t.Fatal(err)
		}
		return got.Language
	}
	if got := get(svc, "nobody"); got != "" {
		t.Errorf("a person never seen has language %q", got)
	}
	if err := svc.SetLanguage(ctx, "alice", "de"); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetLanguage(ctx, "bob", "pt-BR"); err != nil {
		t.Fatal(err)
	}
	if got := get(svc, "alice"); got != "de" {
		t.Errorf("alice: %q, want de", got)
	}

	// Still readable when the person is locked: the reply that says so
	// must come in their language.
	mustAdd(t, svc, "alice", "binance", totpKey("Binance", rfcSecret))
	if err := svc.SetPassphrase(ctx, "alice", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if got := get(svc, "alice"); got != "de" {
		t.Errorf("locked alice: %q, want de", got)
	}

	// A master key rotation keeps the choice.
	newKey, _ := seal.NewKey()
	if _, err := RotateMasterKey(ctx, store, &oldKey, &newKey); err != nil {
		t.Fatal(err)
	}
	svc2, err := NewService(ctx, store, newKey, clock)
	if err != nil {
		t.Fatal(err)
	}
	if got := get(svc2, "bob"); got != "pt-BR" {
		t.Errorf("bob after rotation: %q, want pt-BR", got)
	}

	// Clearing deletes the record.
	if err := svc2.SetLanguage(ctx, "bob", ""); err != nil {
		t.Fatal(err)
	}
	if got := get(svc2, "bob"); got != "" {
		t.Errorf("bob after clearing: %q", got)
	}
	var n int
	_ = store.View(ctx, func(tx Tx) error {
		ids, err := tx.List(kindSettings, "")
		n = len(ids)
		return err
	})
	if n != 1 {
		t.Errorf("%d settings records, want 1 (alice's)", n)
	}
}
