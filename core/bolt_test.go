package core_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/internal/testkit"
	"github.com/authbot/authbot/storage/bolt"
)

func openService(tb testing.TB, path string, key seal.Key) (*core.Service, *bolt.Store) {
	tb.Helper()
	store := testkit.Bolt(tb, path)
	return testkit.NewService(tb, store, key, testkit.NewClock(testkit.DefaultStart()), core.ServiceOptions{}), store
}

func secret(i int) []byte {
	return bytes.Repeat([]byte{byte(i), byte(i >> 8), 0x5a, 0xa5}, 5)
}

// TestDatabaseFileHoldsNoPlaintext opens the bbolt file raw and looks for
// every secret, name, issuer and person id that went in.
func TestDatabaseFileHoldsNoPlaintext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authbot.db")
	key, _ := seal.NewKey()
	svc, store := openService(t, path, key)
	ctx := context.Background()
	var needles [][]byte
	for i, person := range []string{"telegram:424242", "matrix:@alice:example.org"} {
		needles = append(needles, []byte(person), []byte("424242"), []byte("@alice"))
		for j := 0; j < 5; j++ {
			p := otp.Default(otp.TOTP)
			p.Secret = secret(i*10 + j + 1)
			label := fmt.Sprintf("binancelabel%d%d", i, j)
			issuer := fmt.Sprintf("IssuerName%d%d", i, j)
			user := fmt.Sprintf("someone%d%d@example.org", i, j)
			if _, err := svc.Add(ctx, person, core.NewAccount{Label: label, Key: otp.Key{Issuer: issuer, Account: user, Params: p}}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.SetRecoveryCodes(ctx, person, label, []string{fmt.Sprintf("recoverycode%d%d", i, j)}); err != nil {
				t.Fatal(err)
			}
			needles = append(needles, p.Secret, []byte(otp.EncodeSecret(p.Secret)), []byte(label), []byte(issuer), []byte(user),
				[]byte(fmt.Sprintf("recoverycode%d%d", i, j)))
		}
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range needles {
		if bytes.Contains(raw, n) || bytes.Contains(bytes.ToLower(raw), bytes.ToLower(n)) {
			t.Errorf("the database file contains %q in plaintext", n)
		}
	}
	// The file still opens and holds everything.
	svc, store = openService(t, path, key)
	defer store.Close()
	if list, err := svc.List(ctx, "telegram:424242"); err != nil || len(list) != 5 {
		t.Errorf("after reopen: %d accounts, %v", len(list), err)
	}
}

// BenchmarkCode is one /code among 50 accounts: open the person's key, the
// index and the account, and compute the code, through a real bbolt file.
// Every 256th code also writes the buffered audit entries (one durable
// commit: BenchmarkAuditFlush alone).
func BenchmarkCode(b *testing.B) {
	svc, store := codeBenchService(b)
	defer store.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := svc.Code(ctx, "alice", "account37"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuditFlush is the audit write BenchmarkCode pays every 256
// codes: 256 buffered /code entries in one durable bbolt commit (divide by
// 256 for a code's share; on a disk it is mostly the two fdatasyncs).
func BenchmarkAuditFlush(b *testing.B) {
	svc, store := codeBenchService(b)
	defer store.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for range 255 { // the 256th would write them itself
			if _, err := svc.Code(ctx, "alice", "account37"); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if err := svc.FlushAudit(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// codeBenchService is a service over a new bbolt file with alice's 50
// accounts, account00 to account49.
func codeBenchService(b *testing.B) (*core.Service, *bolt.Store) {
	key, _ := seal.NewKey()
	svc, store := openService(b, filepath.Join(b.TempDir(), "authbot.db"), key)
	var batch []core.NewAccount
	for i := 0; i < 50; i++ {
		p := otp.Default(otp.TOTP)
		p.Secret = secret(i + 1)
		batch = append(batch, core.NewAccount{Label: fmt.Sprintf("account%02d", i), Key: otp.Key{Issuer: fmt.Sprintf("Issuer %d", i), Params: p}})
	}
	if _, err := svc.AddMany(context.Background(), "alice", batch); err != nil {
		b.Fatal(err)
	}
	return svc, store
}

// BenchmarkAdd is one /add into a vault that grows, each a durable bbolt
// transaction (fsync included).
func BenchmarkAdd(b *testing.B) {
	key, _ := seal.NewKey()
	svc, store := openService(b, filepath.Join(b.TempDir(), "authbot.db"), key)
	defer store.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := otp.Default(otp.TOTP)
		p.Secret = append(secret(i%50000), byte(i>>16), byte(i>>24))
		if _, err := svc.Add(ctx, fmt.Sprintf("person%d", i/50), core.NewAccount{Label: fmt.Sprintf("a%d", i), Key: otp.Key{Params: p}}); err != nil {
			b.Fatal(err)
		}
	}
}
