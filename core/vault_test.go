package core_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/bolt"
)

func totpKey(i int) otp.Key {
	p := otp.Default(otp.TOTP)
	p.Secret = secret(i)
	return otp.Key{Issuer: fmt.Sprintf("Issuer%d", i), Params: p}
}

// teamFixture: alice (admin) made vault "team" with bob (codes-only) and
// carol (manager); team/aws is stored in it; alice and dave also have
// personal accounts.
func teamFixture(t testing.TB) (*core.Service, *bolt.Store, seal.Key) {
	t.Helper()
	key, _ := seal.NewKey()
	svc, store := openService(t, filepath.Join(t.TempDir(), "authbot.db"), key)
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := svc.CreateVault(ctx, "alice", "team")
	must(err)
	_, err = svc.AddMember(ctx, "alice", "team", "bob", core.RoleCodesOnly)
	must(err)
	_, err = svc.AddMember(ctx, "alice", "team", "carol", core.RoleManager)
	must(err)
	_, err = svc.Add(ctx, "alice", core.NewAccount{Label: "team/aws", Key: totpKey(1)})
	must(err)
	_, err = svc.Add(ctx, "alice", core.NewAccount{Label: "github", Key: totpKey(2)})
	must(err)
	_, err = svc.Add(ctx, "dave", core.NewAccount{Label: "netflix", Key: totpKey(3)})
	must(err)
	return svc, store, key
}

func TestVaultMembersGetCodes(t *testing.T) {
	svc, _, _ := teamFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		person, query string
		want          string // account name, or "" for an error
	}{
		{"bob", "team/aws", "team/aws"},
		{"bob", "aws", "team/aws"}, // a unique prefix across the person's vaults
		{"bob", "TEAM/AWS", "team/aws"},
		{"carol", "aw", "team/aws"},
		{"alice", "team/aws", "team/aws"},
		{"alice", "github", "github"},
		{"dave", "team/aws", ""}, // not a member
		{"dave", "aws", ""},
		{"bob", "github", ""}, // alice's own account
	} {
		t.Run(tc.person+"/"+tc.query, func(t *testing.T) {
			c, err := svc.Code(ctx, tc.person, tc.query)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("got a code for %s", c.Account.Name())
				}
				if strings.Contains(err.Error(), "aws") {
					t.Errorf("error names the account: %v", err)
				}
				return
			}
			if err != nil || c.Account.Name() != tc.want || len(c.Code) != 6 {
				t.Fatalf("Code = %+v, %v; want %s", c, err, tc.want)
			}
		})
	}
}

func TestVaultAmbiguityListsQualifiedNames(t *testing.T) {
	svc, _, _ := teamFixture(t)
	ctx := context.Background()
	if _, err := svc.Add(ctx, "bob", core.NewAccount{Label: "awsome", Key: totpKey(9)}); err != nil {
		t.Fatal(err)
	}
	// "aws" is exactly team/aws; "aw" is a prefix of both.
	if c, err := svc.Code(ctx, "bob", "aws"); err != nil || c.Account.Name() != "team/aws" {
		t.Errorf("exact in vault: %v %v", c.Account.Name(), err)
	}
	_, err := svc.Code(ctx, "bob", "aw")
	var amb *core.AmbiguousError
	if !errors.As(err, &amb) {
		t.Fatalf("err = %v, want ambiguous", err)
	}
	var names []string
	for _, m := range amb.Matches {
		names = append(names, m.Name())
	}
	if got := strings.Join(names, ","); got != "awsome,team/aws" {
		t.Errorf("matches = %s", got)
	}
	// An exact label in the person's own vault wins.
	if _, err := svc.Add(ctx, "bob", core.NewAccount{Label: "aws", Key: totpKey(10)}); err != nil {
		t.Fatal(err)
	}
	if c, err := svc.Code(ctx, "bob", "aws"); err != nil || c.Account.Name() != "aws" {
		t.Errorf("own exact: %v %v", c.Account.Name(), err)
	}
	if c, err := svc.Code(ctx, "bob", "team/aws"); err != nil || c.Account.Name() != "team/aws" {
		t.Errorf("qualified: %v %v", c.Account.Name(), err)
	}
}

func TestNonMemberLearnsNothing(t *testing.T) {
	svc, _, _ := teamFixture(t)
	ctx := context.Background()
	list, err := svc.List(ctx, "dave")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Vault != "" {
			t.Errorf("dave lists %s", s.Name())
		}
	}
	if vs, _ := svc.Vaults(ctx, "dave"); len(vs) != 0 {
		t.Errorf("dave sees vaults %+v", vs)
	}
	// Every answer to a non-member about "team" reads the same as for a
	// vault that does not exist.
	_, errTeam := svc.AddMember(ctx, "dave", "team", "dave", core.RoleAdmin)
	_, errNone := svc.AddMember(ctx, "dave", "nosuch", "dave", core.RoleAdmin)
	var nv1, nv2 *core.NoVaultError
	if !errors.As(errTeam, &nv1) || !errors.As(errNone, &nv2) {
		t.Fatalf("errors: %v / %v", errTeam, errNone)
	}
	if _, err := svc.Add(ctx, "dave", core.NewAccount{Label: "team/x", Key: totpKey(20)}); !errors.As(err, &nv1) {
		t.Errorf("dave adds to team: %v", err)
	}
	if _, err := svc.VaultAudit(ctx, "dave", "team", 10); !errors.As(err, &nv1) {
		t.Errorf("dave reads team's audit: %v", err)
	}
	for _, q := range []string{"team/aws", "aws", "team/a", "Issuer1"} {
		_, err := svc.Resolve(ctx, "dave", q)
		var nf *core.NotFoundError
		if !errors.As(err, &nf) {
			t.Errorf("Resolve(%q) for dave: %v", q, err)
		}
	}
}

func TestCodesOnlyNeverGetsTheSecret(t *testing.T) {
	svc, _, _ := teamFixture(t)
	ctx := context.Background()
	var re *core.RoleError
	if _, err := svc.Export(ctx, "bob", "team/aws"); !errors.As(err, &re) {
		t.Errorf("Export: %v", err)
	}
	if _, err := svc.Export(ctx, "bob", "aws"); !errors.As(err, &re) {
		t.Errorf("Export by prefix: %v", err)
	}
	all, err := svc.ExportAll(ctx, "bob")
	if !errors.Is(err, core.ErrNoAccounts) {
		t.Errorf("ExportAll: %d accounts, %v", len(all), err)
	}
	if _, _, err := svc.Check(ctx, "bob", "team/aws", "123456"); !errors.As(err, &re) {
		t.Errorf("Check: %v", err)
	}
	if _, err := svc.UseRecoveryCode(ctx, "bob", "team/aws", "x"); !errors.As(err, &re) {
		t.Errorf("UseRecoveryCode: %v", err)
	}
	if _, err := svc.SetRecoveryCodes(ctx, "bob", "team/aws", []string{"x"}); !errors.As(err, &re) {
		t.Errorf("SetRecoveryCodes: %v", err)
	}
	if _, err := svc.Rename(ctx, "bob", "team/aws", "x"); !errors.As(err, &re) {
		t.Errorf("Rename: %v", err)
	}
	sum, _ := svc.Resolve(ctx, "bob", "team/aws")
	if _, err := svc.Delete(ctx, "bob", sum.ID); !errors.As(err, &re) {
		t.Errorf("Delete: %v", err)
	}
	if _, err := svc.Add(ctx, "bob", core.NewAccount{Label: "team/new", Key: totpKey(30)}); !errors.As(err, &re) {
		t.Errorf("Add: %v", err)
	}
	// Importing the vault's secret into bob's own vault is not a duplicate:
	// the check never looks at the vault, so it cannot confirm a guess.
	rep, err := svc.AddMany(ctx, "bob", []core.NewAccount{{Key: totpKey(1)}})
	if err != nil || len(rep.Duplicates) != 0 || len(rep.Added) != 1 {
		t.Errorf("import: %+v %v", rep, err)
	}
	// With his own account added, export all gives only his own.
	all, err = svc.ExportAll(ctx, "bob")
	if err != nil || len(all) != 1 || all[0].Vault != "" {
		t.Errorf("ExportAll after import: %+v %v", all, err)
	}
	// A manager may export.
	if a, err := svc.Export(ctx, "carol", "team/aws"); err != nil || a.Vault != "team" {
		t.Errorf("manager Export: %v %v", a.Name(), err)
	}
	if all, err := svc.ExportAll(ctx, "carol"); err != nil || len(all) != 1 {
		t.Errorf("manager ExportAll: %d %v", len(all), err)
	}
}

func TestOnlyAdminsChangeMembership(t *testing.T) {
	svc, _, _ := teamFixture(t)
	ctx := context.Background()
	var re *core.RoleError
	if _, err := svc.AddMember(ctx, "carol", "team", "dave", core.RoleCodesOnly); !errors.As(err, &re) || !re.Admin {
		t.Errorf("manager adds: %v", err)
	}
	if _, err := svc.RemoveMember(ctx, "bob", "team", "carol"); !errors.As(err, &re) {
		t.Errorf("codes-only removes: %v", err)
	}
	if _, err := svc.RemoveMember(ctx, "alice", "team", "alice"); !errors.Is(err, core.ErrLastAdmin) {
		t.Errorf("last admin removes herself: %v", err)
	}
	var me *core.MemberError
	if _, err := svc.RemoveMember(ctx, "alice", "team", "dave"); !errors.As(err, &me) {
		t.Errorf("remove non-member: %v", err)
	}
	if _, err := svc.CreateVault(ctx, "dave", "TEAM"); err == nil {
		t.Error("a second vault called TEAM")
	}
	for _, bad := range []string{"", "a/b", "with space", strings.Repeat("x", 40)} {
		if _, err := svc.CreateVault(ctx, "dave", bad); !errors.Is(err, core.ErrBadVaultName) {
			t.Errorf("CreateVault(%q): %v", bad, err)
		}
	}
	// Promotion works and is visible.
	info, err := svc.AddMember(ctx, "alice", "team", "bob", core.RoleManager)
	if err != nil || len(info.Members) != 3 {
		t.Fatalf("promote: %+v %v", info, err)
	}
	if _, err := svc.Export(ctx, "bob", "team/aws"); err != nil {
		t.Errorf("promoted bob cannot export: %v", err)
	}
}

// TestRemovedMemberReadsNothingNew keeps a copy of bob's data key and his
// wrapped vault key from before his removal, and tries them on every
// vault record written after it.
func TestRemovedMemberReadsNothingNew(t *testing.T) {
	svc, store, master := teamFixture(t)
	ctx := context.Background()
	ids := seal.Derive(&master, "owner-ids") // no rotation yet: the root is the master key
	bobOwner, err := svc.StorageID(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	vaultID := seal.OpaqueID(&ids, "vault:team")
	var oldVaultKey seal.Key
	err = store.View(ctx, func(tx core.Tx) error {
		w, err := tx.Get(core.Ref{Kind: "person", ID: bobOwner})
		if err != nil {
			return err
		}
		bobKey, err := seal.Unwrap(&master, w, []byte("person|"+bobOwner))
		if err != nil {
			return err
		}
		vw, err := tx.Get(core.Ref{Kind: "vaultkey", Owner: bobOwner, ID: vaultID})
		if err != nil {
			return err
		}
		oldVaultKey, err = seal.Unwrap(&bobKey, vw, []byte("vaultkey|"+bobOwner+"|"+vaultID))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err := svc.RemoveMember(ctx, "alice", "team", "bob")
	if err != nil || info.Gen != 2 || len(info.Members) != 2 {
		t.Fatalf("remove: %+v %v", info, err)
	}
	if _, err := svc.Add(ctx, "carol", core.NewAccount{Label: "team/gcp", Key: totpKey(40)}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Code(ctx, "bob", "team/aws"); err == nil {
		t.Error("bob still gets codes")
	}
	if c, err := svc.Code(ctx, "carol", "team/aws"); err != nil || c.Code == "" {
		t.Errorf("carol after rotation: %v", err)
	}
	opened := 0
	err = store.View(ctx, func(tx core.Tx) error {
		if _, err := tx.Get(core.Ref{Kind: "vaultkey", Owner: bobOwner, ID: vaultID}); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("bob's wrapped key is still there: %v", err)
		}
		for _, kind := range []string{"vault-account", "vault-index"} {
			recs, err := tx.List(kind, vaultID)
			if err != nil {
				return err
			}
			for _, id := range recs {
				sealed, _ := tx.Get(core.Ref{Kind: kind, Owner: vaultID, ID: id})
				for _, ad := range []string{"account|" + vaultID + "|" + id, "index|" + vaultID} {
					if _, err := seal.Open(&oldVaultKey, sealed, []byte(ad)); err == nil {
						t.Errorf("old key opens %s %s", kind, id)
					}
				}
				opened++
			}
		}
		sealed, err := tx.Get(core.Ref{Kind: "vaultmeta", ID: vaultID})
		if err != nil {
			return err
		}
		if _, err := seal.Open(&oldVaultKey, sealed, []byte("vaultmeta|"+vaultID)); err == nil {
			t.Error("old key opens the vault's metadata")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if opened != 3 { // two accounts and the index
		t.Errorf("tried %d records, want 3", opened)
	}
}

func TestVaultRenameDeleteByManager(t *testing.T) {
	svc, _, _ := teamFixture(t)
	ctx := context.Background()
	s, err := svc.Rename(ctx, "carol", "team/aws", "team/aws-root")
	if err != nil || s.Name() != "team/aws-root" {
		t.Fatalf("rename: %v %v", s.Name(), err)
	}
	if _, err := svc.Rename(ctx, "carol", "team/aws-root", "other/x"); !errors.Is(err, core.ErrBadLabel) {
		t.Errorf("rename across vaults: %v", err)
	}
	if _, err := svc.Delete(ctx, "carol", s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Code(ctx, "alice", "team/aws-root"); err == nil {
		t.Error("deleted account still gives codes")
	}
	// A label with "/" that names no vault is refused, not stored.
	var nv *core.NoVaultError
	if _, err := svc.Add(ctx, "carol", core.NewAccount{Label: "x/y", Key: totpKey(50)}); !errors.As(err, &nv) {
		t.Errorf("add x/y: %v", err)
	}
}

func TestCodesIncludeVaults(t *testing.T) {
	svc, _, _ := teamFixture(t)
	codes, err := svc.Codes(context.Background(), "bob")
	if err != nil || len(codes) != 1 || codes[0].Account.Name() != "team/aws" {
		t.Fatalf("Codes: %+v %v", codes, err)
	}
}

// BenchmarkCodeVault20 is /code of an account in a shared vault with 20
// members, through a real bbolt file: the code is released only after its
// audit entry is durable, so an fsync is part of every call.
func BenchmarkCodeVault20(b *testing.B) {
	svc, _, _ := teamFixture(b)
	ctx := context.Background()
	for i := 0; i < 17; i++ {
		if _, err := svc.AddMember(ctx, "alice", "team", fmt.Sprintf("member%02d", i), core.RoleCodesOnly); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 20; i++ {
		if _, err := svc.Add(ctx, "alice", core.NewAccount{Label: fmt.Sprintf("team/acct%02d", i), Key: totpKey(100 + i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := svc.Code(ctx, "member07", "team/acct13"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestVerifySharedVaults(t *testing.T) {
	svc, store, _ := teamFixture(t)
	ctx := context.Background()
	rep, err := svc.Verify(ctx)
	if err != nil || rep.Vaults != 1 || rep.VaultAccounts != 1 {
		t.Fatalf("sound: %+v %v", rep, err)
	}
	// Damage one vault account record.
	err = store.Update(ctx, func(tx core.Tx) error {
		owners, err := tx.Owners("vault-account")
		if err != nil || len(owners) != 1 {
			return fmt.Errorf("owners %v %v", owners, err)
		}
		ids, _ := tx.List("vault-account", owners[0])
		b, _ := tx.Get(core.Ref{Kind: "vault-account", Owner: owners[0], ID: ids[0]})
		b[len(b)-1] ^= 1
		return tx.Put(core.Ref{Kind: "vault-account", Owner: owners[0], ID: ids[0]}, b)
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := svc.Verify(ctx); !errors.Is(err, core.ErrCorrupt) || len(rep.Problems) != 1 || rep.VaultAccounts != 0 {
		t.Errorf("damaged: %+v %v", rep, err)
	}
}
