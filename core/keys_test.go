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

// What an attacker gets from a copy of the database and a master key: every
// key those two open, the way core would open them. Tests then try the
// keys on records written later, to show that those open with none of them.

// recordAD is the associated data core seals each kind of record with.
func recordAD(kind, owner, id string) string {
	switch kind {
	case "account", "vault-account":
		return "account|" + owner + "|" + id
	case "index", "vault-index":
		return "index|" + owner
	case "vaultkey":
		return "vaultkey|" + owner + "|" + id
	case "meta":
		return "meta|" + id
	case core.KindOutbox:
		return string(core.OutboxAD(owner, id))
	}
	return kind + "|" + id // person, keypair, lock, lockfail, people, identity, invite, retired, audit, vaultmeta
}

var (
	ownedKinds  = []string{"account", "index", "vault-account", "vault-index", "vaultkey", core.KindOutbox}
	globalKinds = []string{"meta", "person", "keypair", "lock", "lockfail", "people", "identity", "invite", "retired", "audit", "vaultmeta", "settings"}
)

type record struct {
	kind, owner, id string
	b               []byte
}

func allRecords(t *testing.T, store *bolt.Store) []record {
	t.Helper()
	var out []record
	err := store.View(context.Background(), func(tx core.Tx) error {
		add := func(kind, owner string) error {
			ids, err := tx.List(kind, owner)
			if err != nil {
				return err
			}
			for _, id := range ids {
				b, err := tx.Get(core.Ref{Kind: kind, Owner: owner, ID: id})
				if err != nil {
					return err
				}
				out = append(out, record{kind, owner, id, b})
			}
			return nil
		}
		for _, k := range globalKinds {
			if err := add(k, ""); err != nil {
				return err
			}
		}
		for _, k := range ownedKinds {
			owners, err := tx.Owners(k)
			if err != nil {
				return err
			}
			for _, o := range owners {
				if err := add(k, o); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// opens reports whether k opens r as a record, a wrapped key or a box.
func opens(k *seal.Key, r record) bool {
	ad := []byte(recordAD(r.kind, r.owner, r.id))
	if _, err := seal.Open(k, r.b, ad); err == nil {
		return true
	}
	if _, err := seal.Unwrap(k, r.b, ad); err == nil {
		return true
	}
	_, err := seal.UnwrapFrom(k, r.b, ad)
	return err == nil
}

// harvest returns every key master opens in the database behind store,
// following the chain core follows: the root, its sub-keys, the people's
// data keys, their private keys, the vault keys; extra keys (a passphrase
// key's result, say) join in.
func harvest(t *testing.T, store *bolt.Store, master seal.Key, extra ...seal.Key) []seal.Key {
	t.Helper()
	recs := allRecords(t, store)
	root := master
	for _, r := range recs {
		if r.kind == "meta" && r.id == "root" {
			k, err := seal.Unwrap(&master, r.b, []byte("meta|root"))
			if err != nil {
				t.Fatal("root does not open with the master key")
			}
			root = k
		}
	}
	keys := append([]seal.Key{master, root}, extra...)
	for _, p := range []string{"people", "lock", "audit", "keypairs", "matrix-pickle", "owner-ids", "key-check", core.PurposeOutbox} {
		keys = append(keys, seal.Derive(&root, p), seal.Derive(&master, p))
	}
	// Data keys, then private keys, then vault keys, until nothing new opens.
	for changed := true; changed; {
		changed = false
		have := map[seal.Key]bool{}
		for _, k := range keys {
			have[k] = true
		}
		try := func(k seal.Key, err error) {
			if err == nil && !have[k] {
				have[k] = true
				keys = append(keys, k)
				changed = true
			}
		}
		for _, r := range recs {
			ad := []byte(recordAD(r.kind, r.owner, r.id))
			for _, k := range append([]seal.Key(nil), keys...) {
				switch r.kind {
				case "person", "vaultkey":
					try(seal.Unwrap(&k, r.b, ad))
					try(seal.UnwrapFrom(&k, r.b, ad))
				case "keypair":
					p, err := seal.Open(&k, r.b, ad)
					if err != nil || len(p) < seal.PublicKeySize {
						continue
					}
					for _, dk := range append([]seal.Key(nil), keys...) {
						priv, err := seal.Open(&dk, p[seal.PublicKeySize:], []byte("keypair-private|"+r.id))
						if err == nil && len(priv) == seal.KeySize {
							var pk seal.Key
							copy(pk[:], priv)
							try(pk, nil)
						}
					}
				}
			}
		}
	}
	return keys
}

// openedBy lists the records of store (those keep selects) that any of
// keys opens.
func openedBy(t *testing.T, store *bolt.Store, keys []seal.Key, keep func(r record) bool) []string {
	t.Helper()
	var out []string
	for _, r := range allRecords(t, store) {
		if keep != nil && !keep(r) {
			continue
		}
		for i := range keys {
			if opens(&keys[i], r) {
				out = append(out, r.kind+"/"+r.owner+"/"+r.id)
				break
			}
		}
	}
	return out
}

// TestLockedMemberNeverBlocksRemoval is the review's scenario: bob is
// locked, alice removes carol. The vault is re-keyed for bob through his
// public key, and carol's old keys open nothing written after.
func TestLockedMemberNeverBlocksRemoval(t *testing.T) {
	r := newLockRig(t)
	ctx := context.Background()
	svc := r.svc
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.CreateVault(ctx, "alice", "team"))
	must(svc.AddMember(ctx, "alice", "team", "bob", core.RoleCodesOnly))
	must(svc.AddMember(ctx, "alice", "team", "carol", core.RoleManager))
	must(svc.Add(ctx, "alice", core.NewAccount{Label: "team/aws", Key: totpKey(1)}))
	must(nil, svc.SetPassphrase(ctx, "bob", pass))
	// Everything carol holds before she goes: her data key, private key
	// and vault key, with the master key and the whole file.
	carolOwner, err := svc.StorageID(ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	hers := personKeys(t, r.store, r.master, carolOwner)
	if len(hers) != 3 {
		t.Fatalf("carol holds %d keys, want data, private and vault key", len(hers))
	}
	info, err := svc.RemoveMember(ctx, "alice", "team", "carol")
	if err != nil {
		t.Fatalf("removing carol while bob is locked: %v", err)
	}
	if info.Gen != 2 || len(info.Members) != 2 {
		t.Errorf("after removal: %+v", info)
	}
	must(svc.Add(ctx, "alice", core.NewAccount{Label: "team/gcp", Key: totpKey(2)}))
	if _, err := svc.Code(ctx, "carol", "team/aws"); err == nil {
		t.Error("carol still gets codes")
	}
	// Carol's old keys open no vault record written after.
	if got := openedBy(t, r.store, hers, func(rec record) bool {
		return rec.kind == "vault-account" || rec.kind == "vault-index" || rec.kind == "vaultmeta" || rec.kind == "vaultkey" && rec.owner != carolOwner
	}); len(got) > 0 {
		t.Errorf("carol's old keys open %v", got)
	}
	if _, err := svc.Unlock(ctx, "bob", pass); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"team/aws", "team/gcp"} {
		if c, err := svc.Code(ctx, "bob", q); err != nil || c.Code == "" {
			t.Errorf("bob's %s after unlock: %v", q, err)
		}
	}
}

// personKeys returns what one person holds: their data key (through the
// master key), their private key and their vault keys.
func personKeys(t *testing.T, store *bolt.Store, master seal.Key, owner string) []seal.Key {
	t.Helper()
	var dk seal.Key
	var out []seal.Key
	recs := allRecords(t, store)
	for _, r := range recs {
		if r.kind == "person" && r.id == owner {
			k, err := seal.Unwrap(&master, r.b, []byte("person|"+owner))
			if err != nil {
				t.Fatal(err)
			}
			dk = k
			out = append(out, k)
		}
	}
	for _, r := range recs {
		if r.kind != "keypair" || r.id != owner {
			continue
		}
		for _, k := range harvest(t, store, master) {
			p, err := seal.Open(&k, r.b, []byte("keypair|"+owner))
			if err != nil {
				continue
			}
			priv, err := seal.Open(&dk, p[seal.PublicKeySize:], []byte("keypair-private|"+owner))
			if err != nil {
				t.Fatal(err)
			}
			var pk seal.Key
			copy(pk[:], priv)
			out = append(out, pk)
			break
		}
	}
	for _, r := range recs {
		if r.kind == "vaultkey" && r.owner == owner {
			for _, k := range out[:min(2, len(out))] {
				if vk, err := seal.Unwrap(&k, r.b, []byte(recordAD(r.kind, r.owner, r.id))); err == nil {
					out = append(out, vk)
				} else if vk, err := seal.UnwrapFrom(&k, r.b, []byte(recordAD(r.kind, r.owner, r.id))); err == nil {
					out = append(out, vk)
				}
			}
		}
	}
	return out
}

// copyDB closes store, copies its file (an old backup), and reopens it.
func copyDB(t *testing.T, store **bolt.Store, path string) string {
	t.Helper()
	if err := (*store).Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(t.TempDir(), "old.db")
	if err := os.WriteFile(old, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if *store, err = bolt.Open(context.Background(), path, bolt.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { (*store).Close() })
	return old
}

func openBolt(t *testing.T, path string) *bolt.Store { t.Helper(); return testkit.Bolt(t, path) }

func newSvc(t *testing.T, store *bolt.Store, key seal.Key) *core.Service {
	t.Helper()
	return testkit.NewService(t, store, key, testkit.NewClock(testkit.DefaultStart()), core.ServiceOptions{Argon2: cheapArgon2})
}

// TestRotationProtectsWhatComesAfter keeps the old master key and a copy
// of the database from before a rotation, and tries every key they open
// on every record of the database after it (and after new writes): none
// opens. Everything still works with the new key.
func TestRotationProtectsWhatComesAfter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "authbot.db")
	store := openBolt(t, path)
	oldKey, _ := seal.NewKey()
	svc := newSvc(t, store, oldKey)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.Add(ctx, "alice", core.NewAccount{Label: "github", Key: totpKey(1)}))
	must(svc.Add(ctx, "alice", core.NewAccount{Label: "bank", Key: hotpKey(2)}))
	must(svc.Add(ctx, "bob", core.NewAccount{Label: "aws", Key: totpKey(3)}))
	must(svc.Add(ctx, "carol", core.NewAccount{Label: "steam", Key: totpKey(4)}))
	must(svc.CreateVault(ctx, "alice", "team"))
	must(svc.AddMember(ctx, "alice", "team", "bob", core.RoleManager))
	must(svc.AddMember(ctx, "alice", "team", "carol", core.RoleCodesOnly))
	must(svc.Add(ctx, "alice", core.NewAccount{Label: "team/netflix", Key: totpKey(5)}))
	must(svc.CreateVault(ctx, "carol", "solo")) // only carol, who locks: unreachable
	must(svc.Add(ctx, "carol", core.NewAccount{Label: "solo/x", Key: totpKey(6)}))
	tok, _, err := svc.CreateInvite(ctx, "alice", "dave")
	must(tok, err)
	must(nil, svc.SetPassphrase(ctx, "carol", pass))
	before := map[string]string{}
	for _, q := range []struct{ p, a string }{{"alice", "github"}, {"bob", "aws"}, {"bob", "team/netflix"}} {
		c, err := svc.Code(ctx, q.p, q.a)
		must(c, err)
		before[q.p+q.a] = c.Code
	}
	must(nil, svc.FlushAudit(ctx))
	oldPath := copyDB(t, &store, path)

	newKey, _ := seal.NewKey()
	rep, err := core.RotateMasterKey(ctx, store, &oldKey, &newKey)
	if err != nil {
		t.Fatal(err)
	}
	if rep.People != 2 || rep.Locked != 1 || rep.Vaults != 1 || rep.Unreachable != 1 {
		t.Errorf("rotation report %+v", rep)
	}
	svc = newSvc(t, store, newKey)
	for _, q := range []struct{ p, a string }{{"alice", "github"}, {"bob", "aws"}, {"bob", "team/netflix"}} {
		if c, err := svc.Code(ctx, q.p, q.a); err != nil || c.Code != before[q.p+q.a] {
			t.Errorf("%s %s after rotation: %v", q.p, q.a, err)
		}
	}
	if c, err := svc.Code(ctx, "alice", "bank"); err != nil || c.Code == "" {
		t.Errorf("HOTP after rotation: %v", err)
	}
	// Written after the rotation.
	must(svc.Add(ctx, "alice", core.NewAccount{Label: "new", Key: totpKey(7)}))
	must(svc.Add(ctx, "bob", core.NewAccount{Label: "team/new", Key: totpKey(8)}))
	if _, _, err := svc.CreateInvite(ctx, "alice", "erin"); err != nil {
		t.Fatal(err)
	}
	must(svc.Code(ctx, "bob", "team/new"))
	if _, err := svc.Unlock(ctx, "carol", pass); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"steam", "team/new", "solo/x"} {
		if c, err := svc.Code(ctx, "carol", q); err != nil || c.Code == "" {
			t.Errorf("carol %s after rotation: %v", q, err)
		}
	}
	must(svc.Verify(ctx))
	if ok, err := svc.ExpectsNewcomers(ctx); err != nil || !ok {
		t.Errorf("invites after rotation: %v %v", ok, err)
	}
	if l, err := svc.AuditLog(ctx, core.AuditFilter{}); err != nil || len(l) < 10 {
		t.Errorf("audit log after rotation: %d, %v", len(l), err)
	}
	must(nil, svc.FlushAudit(ctx))

	oldCopy := openBolt(t, oldPath)
	keys := harvest(t, oldCopy, oldKey)
	if len(keys) < 20 {
		t.Fatalf("the old copy opened only %d keys: the harvest is broken", len(keys))
	}
	// Control: the same harvest opens the old copy (else this test could not fail).
	if n := len(openedBy(t, oldCopy, keys, nil)); n < 30 {
		t.Fatalf("the old keys open only %d records of the old copy", n)
	}
	if got := openedBy(t, store, keys, nil); len(got) > 0 {
		t.Errorf("the old master key and an old copy open %d records after the rotation: %v", len(got), got)
	}
}

// TestLockProtectsWhatComesAfter keeps a backup from before bob's /lock
// and the master key: nothing bob stores after the lock opens with them,
// and his audit entries name no accounts.
func TestLockProtectsWhatComesAfter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "authbot.db")
	store := openBolt(t, path)
	master, _ := seal.NewKey()
	svc := newSvc(t, store, master)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.Add(ctx, "bob", core.NewAccount{Label: "aws", Key: totpKey(1)}))
	must(svc.CreateVault(ctx, "bob", "solo"))
	must(svc.Add(ctx, "bob", core.NewAccount{Label: "solo/x", Key: totpKey(2)}))
	must(svc.CreateVault(ctx, "alice", "team"))
	must(svc.AddMember(ctx, "alice", "team", "bob", core.RoleManager))
	must(svc.Code(ctx, "bob", "aws"))
	must(nil, svc.FlushAudit(ctx))
	oldPath := copyDB(t, &store, path)
	svc = newSvc(t, store, master)
	bob, _ := svc.StorageID(ctx, "bob")
	ids := seal.Derive(&master, "owner-ids") // no rotation: the root is the master key
	solo := seal.OpaqueID(&ids, "vault:solo")

	must(nil, svc.SetPassphrase(ctx, "bob", pass))
	must(svc.Unlock(ctx, "bob", pass))
	must(svc.Add(ctx, "bob", core.NewAccount{Label: "gcp", Key: totpKey(3)}))
	must(svc.Add(ctx, "bob", core.NewAccount{Label: "solo/y", Key: totpKey(4)}))
	for _, q := range []string{"aws", "gcp", "solo/x", "solo/y"} {
		if c, err := svc.Code(ctx, "bob", q); err != nil || c.Code == "" {
			t.Errorf("bob %s after the lock: %v", q, err)
		}
	}
	must(nil, svc.FlushAudit(ctx))

	oldCopy := openBolt(t, oldPath)
	keys := harvest(t, oldCopy, master)
	mine := func(r record) bool {
		switch r.kind {
		case "account", "index", "vaultkey":
			return r.owner == bob
		case "vault-account", "vault-index":
			// solo has only bob; team has alice too, whose data key the
			// master key opens anyway.
			return r.owner == solo
		}
		return false
	}
	// Control: the old keys open bob's records in the old copy.
	if n := len(openedBy(t, oldCopy, keys, mine)); n < 5 {
		t.Fatalf("the old keys open only %d of bob's records in the old copy", n)
	}
	if got := openedBy(t, store, keys, mine); len(got) > 0 {
		t.Errorf("an old backup and the master key open what bob stored after /lock: %v", got)
	}
	// His key pair record's outer layer holds the public key (under a
	// root sub-key); the private key inside opens with none of the keys.
	kp := seal.Derive(&master, "keypairs")
	for _, r := range allRecords(t, store) {
		if r.kind != "keypair" || r.id != bob {
			continue
		}
		p, err := seal.Open(&kp, r.b, []byte("keypair|"+bob))
		if err != nil {
			t.Fatal(err)
		}
		for i := range keys {
			if _, err := seal.Open(&keys[i], p[seal.PublicKeySize:], []byte("keypair-private|"+bob)); err == nil {
				t.Error("an old backup opens bob's new private key")
			}
		}
	}
	log, err := svc.AuditLog(ctx, core.AuditFilter{Person: "bob"})
	must(log, err)
	if len(log) == 0 {
		t.Fatal("no audit entries for bob")
	}
	for _, e := range log {
		if e.Account != "" {
			t.Errorf("a locked person's audit entry names an account: %+v", e)
		}
	}
}

func hotpKey(i int) otp.Key {
	k := totpKey(i)
	k.Params.Kind = otp.HOTP
	k.Params.Counter = 3
	return k
}
