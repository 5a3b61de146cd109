package storetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/internal/testkit/fakeclock"
)

var now = time.Unix(1_800_000_000, 0)

func service(t testing.TB, s core.Store, key seal.Key) *core.Service {
	t.Helper()
	svc, err := core.NewService(context.Background(), s, key, fakeclock.New(now))
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	return svc
}

func secret(i int) []byte { return bytes.Repeat([]byte{byte(i), byte(i >> 8), 0x5a, 0xa5}, 5) }

// Service runs a representative part of core's behaviour over the store:
// what the bots do through core.Service, end to end.
func Service(t *testing.T, h Harness) {
	t.Run("AccountsAcrossReopen", func(t *testing.T) { testAccounts(t, h) })
	t.Run("HOTPNeverTwice", func(t *testing.T) { testHOTP(t, h) })
	t.Run("SharedVaultAndAudit", func(t *testing.T) { testVaultAudit(t, h) })
}

func testAccounts(t *testing.T, h Harness) {
	ctx := context.Background()
	key, _ := seal.NewKey()
	loc := h.New(t)
	s, err := h.Open(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	svc := service(t, s, key)
	var batch []core.NewAccount
	params := map[string]otp.Params{}
	for i := range 60 {
		p := otp.Default(otp.TOTP)
		p.Secret = secret(i + 1)
		label := fmt.Sprintf("account%02d", i)
		params[label] = p
		batch = append(batch, core.NewAccount{Label: label, Key: otp.Key{Issuer: fmt.Sprintf("Issuer %d", i), Params: p}})
	}
	if _, err := svc.AddMany(ctx, "alice", batch[:50]); err != nil {
		t.Fatal(err)
	}
	for _, na := range batch[50:] {
		if _, err := svc.Add(ctx, "bob", na); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Rename(ctx, "alice", "account07", "renamed"); err != nil {
		t.Fatal(err)
	}
	list, _ := svc.List(ctx, "alice")
	if _, err := svc.Delete(ctx, "alice", list[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.FlushAudit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = h.open(t, loc)
	svc = service(t, s, key)
	alice, err := svc.List(ctx, "alice")
	if err != nil || len(alice) != 49 {
		t.Fatalf("after reopen alice has %d accounts (%v), want 49", len(alice), err)
	}
	bob, _ := svc.List(ctx, "bob")
	if len(bob) != 10 {
		t.Fatalf("bob has %d accounts, want 10", len(bob))
	}
	for _, label := range []string{"renamed", "account37", "account55"} {
		person, p := "alice", params[label]
		if label == "renamed" {
			p = params["account07"]
		}
		if label == "account55" {
			person = "bob"
		}
		c, err := svc.Code(ctx, person, label)
		if err != nil {
			t.Fatalf("Code %s: %v", label, err)
		}
		want, _, _ := otp.Code(p, now)
		if c.Code != want {
			t.Fatalf("Code %s = %s, want %s", label, c.Code, want)
		}
	}
	rep, err := svc.Verify(ctx)
	if err != nil || rep.Accounts != 59 || len(rep.Problems) > 0 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
}

// testHOTP: concurrent /code of one HOTP account, from goroutines and (on
// shared stores) from two processes' worth of Service and Store, hands out
// every counter value exactly once.
func testHOTP(t *testing.T, h Harness) {
	ctx := context.Background()
	key, _ := seal.NewKey()
	loc := h.New(t)
	first := service(t, h.open(t, loc), key)
	svcs := []*core.Service{first}
	if h.Shared {
		svcs = append(svcs, service(t, h.open(t, loc), key))
	}
	p := otp.Default(otp.HOTP)
	p.Secret = secret(9)
	if _, err := first.Add(ctx, "alice", core.NewAccount{Label: "bank", Key: otp.Key{Params: p}}); err != nil {
		t.Fatal(err)
	}
	const workers, each = 6, 8
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		svc := svcs[w%len(svcs)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				c, err := svc.Code(ctx, "alice", "bank")
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				got[c.Code]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range workers * each {
		q := p
		q.Counter = uint64(i)
		want, _, _ := otp.Code(q, now)
		if got[want] != 1 {
			t.Errorf("HOTP code for counter %d handed out %d times", i, got[want])
		}
	}
}

func testVaultAudit(t *testing.T, h Harness) {
	ctx := context.Background()
	key, _ := seal.NewKey()
	svc := service(t, h.fresh(t), key)
	if _, err := svc.CreateVault(ctx, "alice", "team"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddMember(ctx, "alice", "team", "bob", core.RoleCodesOnly); err != nil {
		t.Fatal(err)
	}
	p := otp.Default(otp.TOTP)
	p.Secret = secret(3)
	if _, err := svc.Add(ctx, "alice", core.NewAccount{Label: "team/aws", Key: otp.Key{Params: p}}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := svc.Code(ctx, "bob", "team/aws"); err != nil {
			t.Fatal(err)
		}
	}
	events, err := svc.AuditLog(ctx, core.AuditFilter{Vault: "team"})
	if err != nil {
		t.Fatal(err)
	}
	codes := 0
	for _, e := range events {
		if e.Type == core.EventCode && e.Person == "bob" {
			codes++
		}
	}
	if codes != 3 {
		t.Fatalf("audit has %d codes for bob, want 3 (%d events)", codes, len(events))
	}
	vrep, err := svc.Verify(ctx)
	if err != nil || vrep.VaultAccounts != 1 {
		t.Fatalf("Verify = %+v, %v", vrep, err)
	}
}
