package backup

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/internal/testkit"
	"github.com/authbot/authbot/storage/bolt"
	"github.com/authbot/authbot/storage/datadir"
	"github.com/authbot/authbot/storage/keyfile"
)

// liveDir is a data dir as authbot leaves it: a real bbolt database with
// one person and one account, and its master.key. The store stays open,
// as serve keeps it, and snapshots go through it.
func liveDir(t *testing.T) (string, *bolt.Store, seal.Key) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	key, _, err := keyfile.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	kit := testkit.Service(t, testkit.Options{Path: datadir.At(dir).DB(), Key: &key, Clock: core.SystemClock{}})
	kit.Add(t, "alice", "demo", "otpauth://totp/demo?secret=JBSWY3DPEHPK3PXP")
	return dir, kit.Store, key
}

// passSecrets is the recipient and identity of one test passphrase.
func passSecrets(t *testing.T) (age.Recipient, age.Identity) {
	t.Helper()
	const pass = testPass
	r, err := PassphraseRecipient(pass, 10) // low work factor: fast under -race
	if err != nil {
		t.Fatal(err)
	}
	id, err := PassphraseIdentity(pass)
	if err != nil {
		t.Fatal(err)
	}
	return r, id
}

func TestCreateRestore(t *testing.T) {
	ctx := context.Background()
	dir, store, key := liveDir(t)
	r, id := passSecrets(t)
	out := filepath.Join(t.TempDir(), "b.age")
	m, err := CreateFile(ctx, out, CreateOptions{DataDir: dir, Recipient: r, Key: &key, Snapshot: store.Backup, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if m.People != 1 || m.Accounts != 1 || m.Version != "test" {
		t.Errorf("manifest %+v, want 1 person, 1 account, version test", m)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("the output dir holds %d entries, want the backup alone (no snapshot left)", len(entries))
	}

	target := filepath.Join(t.TempDir(), "restored")
	rm, moved, err := Restore(ctx, out, target, false, id)
	if err != nil {
		t.Fatal(err)
	}
	if moved != "" || rm.People != 1 || rm.Accounts != 1 {
		t.Errorf("Restore = %+v, moved %q", rm, moved)
	}
	got, src, err := keyfile.Load(target, "")
	if err != nil || src != keyfile.FromFile || got != key {
		t.Fatalf("restored master.key: same %v, %v, %v", got == key, src, err)
	}
	if _, err := Verify(ctx, datadir.At(target).DB(), &key); err != nil {
		t.Fatalf("restored database: %v", err)
	}

	// Over an existing data dir: refused without force, moved aside with it.
	if _, _, err := Restore(ctx, out, target, false, id); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore over a data dir without force: %v", err)
	}
	_, moved, err = Restore(ctx, out, target, true, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(datadir.At(moved).DB()); err != nil {
		t.Errorf("the old data dir was not kept at %q: %v", moved, err)
	}
}

// TestCreateRefusesWrongKey: a snapshot the key does not open is no backup;
// nothing is written.
func TestCreateRefusesWrongKey(t *testing.T) {
	ctx := context.Background()
	dir, store, _ := liveDir(t)
	r, _ := passSecrets(t)
	wrong, _ := seal.NewKey()
	out := filepath.Join(t.TempDir(), "b.age")
	_, err := CreateFile(ctx, out, CreateOptions{DataDir: dir, Recipient: r, Key: &wrong, Snapshot: store.Backup})
	if err == nil || !strings.Contains(err.Error(), "did not check out") {
		t.Fatalf("backup under the wrong key: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
		t.Errorf("a refused backup left %d files", len(entries))
	}
}

// TestRestoreRefusesDamage: a damaged backup or the wrong passphrase
// changes nothing, and leaves no staging dir.
func TestRestoreRefusesDamage(t *testing.T) {
	ctx := context.Background()
	dir, store, key := liveDir(t)
	r, id := passSecrets(t)
	var buf bytes.Buffer
	if _, err := Create(ctx, &buf, CreateOptions{DataDir: dir, TmpDir: t.TempDir(), Recipient: r, Key: &key, Snapshot: store.Backup}); err != nil {
		t.Fatal(err)
	}
	_, otherID := otherSecret(t)
	tests := []struct {
		name string
		data []byte
		id   age.Identity
		want error
	}{
		{"truncated", buf.Bytes()[:buf.Len()/2], id, nil},
		{"wrong passphrase", buf.Bytes(), otherID, ErrWrongSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := filepath.Join(t.TempDir(), "b.age")
			if err := os.WriteFile(in, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			parent := t.TempDir()
			target := filepath.Join(parent, "restored")
			_, _, err := Restore(ctx, in, target, false, tt.id)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Restore = %v, want an error (%v)", err, tt.want)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Errorf("a refused restore left %d entries in %s", len(entries), parent)
			}
		})
	}
}

// otherSecret is an identity for a passphrase no backup here was made with.
func otherSecret(t *testing.T) (age.Recipient, age.Identity) {
	t.Helper()
	id, err := PassphraseIdentity("another passphrase, not the one")
	if err != nil {
		t.Fatal(err)
	}
	return nil, id
}
