package core_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/internal/testkit"
	"github.com/authbot/authbot/storage/bolt"
)

// openLegacy copies testdata/legacy-v1 (written by main 648e658, see its
// README) to a temp dir and opens it with the current code.
func openLegacy(t *testing.T) (*core.Service, *bolt.Store, seal.Key) {
	t.Helper()
	dir := filepath.Join("testdata", "legacy-v1")
	b, err := os.ReadFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	master, err := seal.ParseKey(string(b))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(filepath.Join(dir, "authbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "authbot.db")
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	store, err := bolt.Open(context.Background(), path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc, err := core.NewServiceWith(context.Background(), store, master, testkit.NewClock(testkit.DefaultStart()),
		core.ServiceOptions{Argon2: cheapArgon2})
	if err != nil {
		t.Fatal(err)
	}
	return svc, store, master
}

// legacySecret is the secret the fixture generator gave account number n.
func legacySecret(n byte) []byte {
	return []byte{n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}
}

func wantCode(t *testing.T, kind otp.Kind, n byte, counter uint64) string {
	t.Helper()
	p := otp.Default(kind)
	p.Secret = legacySecret(n)
	p.Counter = counter
	c, _, err := otp.Code(p, time.Unix(1_800_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMigrateLegacyDatabase opens a database written by the code before
// random storage ids and checks every account, code, vault membership,
// identity, invite, lock and the audit log still work, twice (the second
// open sees migrated records).
func TestMigrateLegacyDatabase(t *testing.T) {
	svc, store, master := openLegacy(t)
	ctx := context.Background()
	codes := []struct {
		person, query string
		kind          otp.Kind
		n             byte
		counter       uint64
	}{
		{"alice", "github", otp.TOTP, 1, 0},
		{"alice", "bank", otp.HOTP, 2, 6}, // 5, advanced once by the generator
		{"alice", "fam/netflix", otp.TOTP, 6, 0},
		{"carol", "steam", otp.TOTP, 5, 0},
		{"carol", "fam/netflix", otp.TOTP, 6, 0},
		{"local", "mail", otp.TOTP, 4, 0},
	}
	for _, c := range codes {
		got, err := svc.Code(ctx, c.person, c.query)
		if err != nil || got.Code != wantCode(t, c.kind, c.n, c.counter) {
			t.Errorf("%s %s: %q %v", c.person, c.query, got.Code, err)
		}
	}
	// bob is locked: nothing opens until he unlocks, then his own and the
	// vault's accounts do.
	if _, err := svc.Code(ctx, "bob", "aws"); !errors.Is(err, core.ErrLocked) {
		t.Errorf("locked bob: %v", err)
	}
	if _, err := svc.Unlock(ctx, "bob", "bob's long passphrase"); err != nil {
		t.Fatalf("unlock bob: %v", err)
	}
	if got, err := svc.Code(ctx, "bob", "aws"); err != nil || got.Code != wantCode(t, otp.TOTP, 3, 0) {
		t.Errorf("bob aws: %q %v", got.Code, err)
	}
	if got, err := svc.Code(ctx, "bob", "router"); err != nil || got.Code != wantCode(t, otp.HOTP, 7, 3) {
		t.Errorf("bob router: %q %v", got.Code, err)
	}
	vs, err := svc.Vaults(ctx, "alice")
	if err != nil || len(vs) != 1 || vs[0].Name != "fam" || len(vs[0].Members) != 3 || vs[0].Accounts != 2 {
		t.Fatalf("alice's vaults: %+v %v", vs, err)
	}
	for _, c := range []struct {
		id   core.Identity
		want string
	}{{core.Identity{Platform: "telegram", ID: "777"}, "carol"}, {core.Identity{Platform: "matrix", ID: "@alice:example.org"}, "alice"}} {
		if got, err := svc.PersonFor(ctx, c.id); err != nil || got != c.want {
			t.Errorf("PersonFor %v: %q %v", c.id, got, err)
		}
	}
	if ok, err := svc.ExpectsNewcomers(ctx); err != nil || !ok {
		t.Errorf("dave's invite is gone: %v %v", ok, err)
	}
	people, err := svc.People(ctx)
	if err != nil || len(people) != 2 || people[0].Name != "alice" || people[1].Name != "carol" {
		t.Errorf("people: %+v %v", people, err)
	}
	log, err := svc.AuditLog(ctx, core.AuditFilter{})
	if err != nil || len(log) < 10 {
		t.Errorf("audit log: %d entries, %v", len(log), err)
	}
	// The records stay where they were: the migrated ids are the old ones.
	ids := seal.Derive(&master, "owner-ids")
	for _, p := range []string{"alice", "bob", "carol", "local"} {
		if got, err := svc.StorageID(ctx, p); err != nil || got != seal.OpaqueID(&ids, "person:"+p) {
			t.Errorf("%s's storage id moved: %v", p, err)
		}
	}
	if err := svc.FlushAudit(ctx); err != nil {
		t.Fatal(err)
	}
	// A second start over the migrated file.
	again, err := core.NewServiceWith(ctx, store, master, testkit.NewClock(testkit.DefaultStart()), core.ServiceOptions{Argon2: cheapArgon2})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Code(ctx, "alice", "bank"); err != nil || got.Code != wantCode(t, otp.HOTP, 2, 7) {
		t.Errorf("after the second start: %q %v", got.Code, err)
	}
	if got, err := again.Code(ctx, "carol", "steam"); err != nil || got.Code != wantCode(t, otp.TOTP, 5, 0) {
		t.Errorf("carol after the second start: %q %v", got.Code, err)
	}
}

// TestNewPersonOfAnOldNameStartsEmpty: bob leaves the config, an admin
// invites a new "bob": the newcomer sees none of the old bob's accounts or
// vaults, and the old data is still stored.
func TestNewPersonOfAnOldNameStartsEmpty(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		name := "fresh"
		if legacy {
			name = "legacy"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			var svc *core.Service
			var store *bolt.Store
			if legacy {
				svc, store, _ = openLegacy(t)
				if _, err := svc.Unlock(ctx, "bob", "bob's long passphrase"); err != nil {
					t.Fatal(err)
				}
			} else {
				key, _ := seal.NewKey()
				svc, store = openService(t, filepath.Join(t.TempDir(), "authbot.db"), key)
				t.Cleanup(func() { store.Close() })
				if _, err := svc.Add(ctx, "bob", core.NewAccount{Label: "aws", Key: totpKey(1)}); err != nil {
					t.Fatal(err)
				}
				if _, err := svc.CreateVault(ctx, "alice", "fam"); err != nil {
					t.Fatal(err)
				}
				if _, err := svc.AddMember(ctx, "alice", "fam", "bob", core.RoleManager); err != nil {
					t.Fatal(err)
				}
				if _, err := svc.Add(ctx, "alice", core.NewAccount{Label: "fam/netflix", Key: totpKey(2)}); err != nil {
					t.Fatal(err)
				}
			}
			oldOwner, err := svc.StorageID(ctx, "bob")
			if err != nil || oldOwner == "" {
				t.Fatal(oldOwner, err)
			}
			tok, _, err := svc.CreateInvite(ctx, "alice", "bob")
			if err != nil {
				t.Fatalf("invite a new bob: %v", err)
			}
			if _, err := svc.AcceptInvite(ctx, tok, core.Identity{Platform: "telegram", ID: "9001"}); err != nil {
				t.Fatal(err)
			}
			newOwner, err := svc.StorageID(ctx, "bob")
			if err != nil || newOwner == "" || newOwner == oldOwner {
				t.Fatalf("new bob's storage id %q (old %q): %v", newOwner, oldOwner, err)
			}
			if l, err := svc.List(ctx, "bob"); err != nil || len(l) != 0 {
				t.Errorf("new bob sees %d accounts: %v", len(l), err)
			}
			if vs, err := svc.Vaults(ctx, "bob"); err != nil || len(vs) != 0 {
				t.Errorf("new bob is in vaults: %+v %v", vs, err)
			}
			if _, err := svc.Code(ctx, "bob", "fam/netflix"); err == nil {
				t.Error("new bob gets the vault's codes")
			}
			// Added to the vault, he replaces the old entry, and the key
			// is rotated so the old bob's copy opens nothing new.
			info, err := svc.AddMember(ctx, "alice", "fam", "bob", core.RoleCodesOnly)
			if err != nil {
				t.Fatalf("add the new bob: %v", err)
			}
			n := 0
			for _, m := range info.Members {
				if m.Person == "bob" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("bob entries after adding the new bob: %d", n)
			}
			if c, err := svc.Code(ctx, "bob", "fam/netflix"); err != nil || c.Code == "" {
				t.Errorf("new bob in the vault: %v", err)
			}
			if _, err := svc.Export(ctx, "bob", "fam/netflix"); err == nil {
				t.Error("new bob inherited the old bob's manager role")
			}
			err = store.View(ctx, func(tx core.Tx) error {
				if _, err := tx.Get(core.Ref{Kind: "person", ID: oldOwner}); err != nil && !legacy {
					t.Errorf("the old bob's data key is gone: %v", err)
				}
				ids, err := tx.List("vaultkey", oldOwner)
				if len(ids) != 0 {
					t.Errorf("the old bob still holds %d vault keys", len(ids))
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLocalIsReserved(t *testing.T) {
	key, _ := seal.NewKey()
	svc, store := openService(t, filepath.Join(t.TempDir(), "authbot.db"), key)
	defer store.Close()
	for _, name := range []string{"local", "Local", " LOCAL "} {
		if _, _, err := svc.CreateInvite(context.Background(), "alice", name); !errors.Is(err, core.ErrReservedName) {
			t.Errorf("invite %q: %v", name, err)
		}
	}
}

// TestFailedFirstWriteStrandsNothing: a person's first write fails (a bad
// label) after their storage id was made in the same transaction; the id
// must not outlive the rolled-back transaction, or what they store next
// would sit under an id no record names.
func TestFailedFirstWriteStrandsNothing(t *testing.T) {
	key, _ := seal.NewKey()
	path := filepath.Join(t.TempDir(), "authbot.db")
	svc, store := openService(t, path, key)
	ctx := context.Background()
	if _, err := svc.Add(ctx, "erin", core.NewAccount{Label: "\x00", Key: totpKey(1)}); !errors.Is(err, core.ErrBadLabel) {
		t.Fatalf("bad label: %v", err)
	}
	if _, err := svc.Add(ctx, "erin", core.NewAccount{Label: "aws", Key: totpKey(1)}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	svc, store = openService(t, path, key)
	defer store.Close()
	if l, err := svc.List(ctx, "erin"); err != nil || len(l) != 1 {
		t.Errorf("after a restart erin has %d accounts: %v", len(l), err)
	}
}

// TestRotateLegacyDatabase rotates the key of the legacy fixture: every
// account and the locked person still work after it, and the fixture
// with its old key opens nothing in the rotated file.
func TestRotateLegacyDatabase(t *testing.T) {
	ctx := context.Background()
	svc, store, oldKey := openLegacy(t)
	if err := svc.FlushAudit(ctx); err != nil {
		t.Fatal(err)
	}
	newKey, _ := seal.NewKey()
	rep, err := core.RotateMasterKey(ctx, store, &oldKey, &newKey)
	if err != nil {
		t.Fatal(err)
	}
	// bob was locked before key pairs existed: fam, his vault, keeps its
	// key until he unlocks once (and has a key pair to seal to).
	if rep.People != 3 || rep.Locked != 1 || rep.Vaults != 0 || rep.Unreachable != 1 {
		t.Errorf("rotation report %+v", rep)
	}
	svc = newSvc(t, store, newKey)
	for _, c := range []struct {
		person, query string
		kind          otp.Kind
		n             byte
		counter       uint64
	}{
		{"alice", "github", otp.TOTP, 1, 0},
		{"alice", "bank", otp.HOTP, 2, 6},
		{"carol", "fam/netflix", otp.TOTP, 6, 0},
		{"local", "mail", otp.TOTP, 4, 0},
	} {
		if got, err := svc.Code(ctx, c.person, c.query); err != nil || got.Code != wantCode(t, c.kind, c.n, c.counter) {
			t.Errorf("%s %s after rotation: %v", c.person, c.query, err)
		}
	}
	if _, err := svc.Unlock(ctx, "bob", "bob's long passphrase"); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.Code(ctx, "bob", "router"); err != nil || got.Code != wantCode(t, otp.HOTP, 7, 3) {
		t.Errorf("bob router after rotation: %v", err)
	}
	if _, err := svc.Verify(ctx); err != nil {
		t.Error(err)
	}
	if err := svc.FlushAudit(ctx); err != nil {
		t.Fatal(err)
	}
	_, fixture, _ := openLegacy(t) // a fresh copy of the file, with the old key
	keys := harvest(t, fixture, oldKey)
	ids := seal.Derive(&oldKey, "owner-ids")
	fam := seal.OpaqueID(&ids, "vault:fam")
	notFam := func(r record) bool { return r.owner != fam && r.id != fam }
	if got := openedBy(t, store, keys, notFam); len(got) > 0 {
		t.Errorf("the old key and the old file open %d records after the rotation: %v", len(got), got)
	}
	// bob has unlocked (and so has a key pair): the next rotation re-keys
	// fam too, and then the old file opens nothing at all.
	third, _ := seal.NewKey()
	if rep, err := core.RotateMasterKey(ctx, store, &newKey, &third); err != nil || rep.Vaults != 1 || rep.Unreachable != 0 {
		t.Fatalf("second rotation: %+v %v", rep, err)
	}
	if got := openedBy(t, store, keys, nil); len(got) > 0 {
		t.Errorf("after the second rotation the old file opens %v", got)
	}
	svc = newSvc(t, store, third)
	if _, err := svc.Unlock(ctx, "bob", "bob's long passphrase"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"alice", "bob", "carol"} {
		if got, err := svc.Code(ctx, p, "fam/netflix"); err != nil || got.Code != wantCode(t, otp.TOTP, 6, 0) {
			t.Errorf("%s fam/netflix after the second rotation: %v", p, err)
		}
	}
}

// TestLegacyDatabaseReadOnly: a read-only open (authbot audit, checking a
// backup made by an older authbot) reads the legacy records unmigrated.
func TestLegacyDatabaseReadOnly(t *testing.T) {
	ctx := context.Background()
	_, store, master := openLegacy(t)
	path := store.Path()
	store.Close()
	// openLegacy migrated its copy; make a fresh unmigrated one.
	b, err := os.ReadFile(filepath.Join("testdata", "legacy-v1", "authbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ro, err := bolt.Open(ctx, path, bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	svc, err := core.NewService(ctx, ro, master, testkit.NewClock(testkit.DefaultStart()))
	if err != nil {
		t.Fatalf("read-only open of a legacy database: %v", err)
	}
	for _, c := range []struct {
		person, query string
		n             byte
	}{{"alice", "github", 1}, {"carol", "steam", 5}, {"local", "mail", 4}, {"carol", "fam/netflix", 6}} {
		got, err := svc.Resolve(ctx, c.person, c.query)
		if err != nil || got.Label == "" {
			t.Errorf("%s %s read-only: %v", c.person, c.query, err)
		}
	}
	if got, err := svc.Code(ctx, "alice", "github"); err != nil || got.Code != wantCode(t, otp.TOTP, 1, 0) {
		t.Errorf("code read-only: %v", err)
	}
	if rep, err := svc.Verify(ctx); err != nil || rep.Vaults == 0 {
		t.Errorf("verify read-only: %+v %v", rep, err)
	}
}
