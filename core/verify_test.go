package core

import (
	"context"
	"errors"
	"testing"

	"github.com/authbot/authbot/core/otp"
)

func TestVerify(t *testing.T) {
	hotpKey := totpKey("Bank", []byte("hotp secret 12345678"))
	hotpKey.Params.Kind = otp.HOTP
	tests := []struct {
		name     string
		damage   func(svc *Service, store *memStore)
		wantErr  bool
		accounts int
	}{
		{"sound", func(*Service, *memStore) {}, false, 3},
		{"tampered account", func(svc *Service, store *memStore) {
			ids, _ := (&memTx{data: store.data}).List(kindAccount, svc.owner("alice"))
			ref := accountRef(svc.owner("alice"), ids[0])
			store.data[ref][5] ^= 1
		}, true, 2},
		{"orphan account", func(svc *Service, store *memStore) {
			ids, _ := (&memTx{data: store.data}).List(kindAccount, svc.owner("alice"))
			store.data[accountRef(svc.owner("alice"), "orphan")] = store.data[accountRef(svc.owner("alice"), ids[0])]
		}, true, 3},
		{"missing person key", func(svc *Service, store *memStore) {
			delete(store.data, Ref{Kind: kindPerson, ID: svc.owner("bob")})
		}, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, store, _, _ := newTestService(t)
			ctx := context.Background()
			mustAdd(t, svc, "alice", "binance", totpKey("Binance", rfcSecret))
			mustAdd(t, svc, "alice", "bank", hotpKey)
			mustAdd(t, svc, "bob", "github", totpKey("GitHub", []byte("another secret 1234")))
			tt.damage(svc, store)
			rep, err := svc.Verify(ctx)
			if tt.wantErr != (err != nil) {
				t.Fatalf("Verify: %+v, %v", rep, err)
			}
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Errorf("error %v does not wrap ErrCorrupt", err)
			}
			if tt.wantErr && len(rep.Problems) == 0 {
				t.Error("no problem described")
			}
			if rep.Accounts != tt.accounts {
				t.Errorf("accounts = %d, want %d", rep.Accounts, tt.accounts)
			}
		})
	}
}
