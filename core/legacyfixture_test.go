//go:build legacyfixture

package core_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/internal/testkit"
	"github.com/authbot/authbot/storage/bolt"
)

// TestWriteLegacyFixture wrote testdata/legacy-v1 once, with the code of
// main at 648e658 (names as owner ids, data keys wrapped straight under
// the master key). It is kept, behind a build tag, to say exactly what the
// file holds; run on newer code it would write the newer format, so do not
// regenerate the fixture with it.
func TestWriteLegacyFixture(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join("testdata", "legacy-v1")
	_ = os.Remove(filepath.Join(dir, "authbot.db"))
	master, _ := seal.NewKey()
	if err := os.WriteFile(filepath.Join(dir, "master.key"), []byte(seal.Encode(&master)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := bolt.Open(ctx, filepath.Join(dir, "authbot.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	clock := testkit.NewClock(testkit.DefaultStart())
	svc, err := core.NewServiceWith(ctx, store, master, clock, core.ServiceOptions{Argon2: seal.Argon2Params{Time: 1, MemoryKiB: 1024, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	add := func(person, label string, kind otp.Kind, sec byte, counter uint64) {
		p := otp.Default(kind)
		p.Secret = []byte{sec, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}
		p.Counter = counter
		_, err := svc.Add(ctx, person, core.NewAccount{Label: label, Key: otp.Key{Issuer: label + " inc", Account: person + "@example.org", Params: p}})
		must(err)
	}
	// Config users alice (admin) and bob; "local" is the authbot chat person.
	add("alice", "github", otp.TOTP, 1, 0)
	add("alice", "bank", otp.HOTP, 2, 5)
	add("bob", "aws", otp.TOTP, 3, 0)
	add("local", "mail", otp.TOTP, 4, 0)
	// carol is invited at runtime and joins on Telegram; alice links a Matrix id.
	tok, _, err := svc.CreateInvite(ctx, "alice", "carol")
	must(err)
	_, err = svc.AcceptInvite(ctx, tok, core.Identity{Platform: "telegram", ID: "777"})
	must(err)
	add("carol", "steam", otp.TOTP, 5, 0)
	code, _, err := svc.LinkCode(ctx, "alice")
	must(err)
	_, err = svc.Link(ctx, code, core.Identity{Platform: "matrix", ID: "@alice:example.org"})
	must(err)
	// An open invite for dave.
	_, _, err = svc.CreateInvite(ctx, "alice", "dave")
	must(err)
	// A shared vault with three members and two accounts, one HOTP.
	_, err = svc.CreateVault(ctx, "alice", "fam")
	must(err)
	_, err = svc.AddMember(ctx, "alice", "fam", "bob", core.RoleManager)
	must(err)
	_, err = svc.AddMember(ctx, "alice", "fam", "carol", core.RoleCodesOnly)
	must(err)
	add("alice", "fam/netflix", otp.TOTP, 6, 0)
	add("bob", "fam/router", otp.HOTP, 7, 2)
	// Codes (audit entries), then bob locks.
	for _, q := range []struct{ person, query string }{{"alice", "github"}, {"alice", "bank"}, {"carol", "netflix"}, {"bob", "router"}} {
		_, err := svc.Code(ctx, q.person, q.query)
		must(err)
	}
	must(svc.SetPassphrase(ctx, "bob", "bob's long passphrase"))
	must(svc.FlushAudit(ctx))
}
