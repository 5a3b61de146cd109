package core_test

import (
	"context"
	"testing"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
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
	}
	return kind + "|" + id // person, keypair, lock, lockfail, people, identity, invite, retired, audit, vaultmeta
}

var (
	ownedKinds  = []string{"account", "index", "vault-account", "vault-index", "vaultkey"}
	globalKinds = []string{"meta", "person", "keypair", "lock", "lockfail", "people", "identity", "invite", "retired", "audit", "vaultmeta"}
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
	for _, p := range []string{"people", "lock", "audit", "keypairs", "matrix-pickle", "owner-ids", "key-check"} {
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
