package keyfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/internal/testkit"
	"github.com/authbot/authbot/storage/bolt"
	"github.com/authbot/authbot/storage/datadir"
)

// rotationDir is a data dir with a real bbolt database under master.key,
// holding one person with one account, and the open store.
func rotationDir(t *testing.T) (string, *bolt.Store, seal.Key) {
	t.Helper()
	dir := t.TempDir()
	key, src, err := Load(dir, "")
	if err != nil || src != Created {
		t.Fatalf("Load: %v, %v", src, err)
	}
	kit := testkit.Service(t, testkit.Options{Path: datadir.At(dir).DB(), Key: &key, Clock: core.SystemClock{}})
	kit.Add(t, "alice", "demo", "otpauth://totp/demo?secret=JBSWY3DPEHPK3PXP")
	return dir, kit.Store, key
}

// opens reports whether key opens store and alice's account is readable.
func opens(t *testing.T, store core.Store, key seal.Key) bool {
	t.Helper()
	ctx := context.Background()
	if core.CheckMasterKey(ctx, store, &key) != nil {
		return false
	}
	svc, err := core.NewService(ctx, store, key, core.SystemClock{})
	if err != nil {
		return false
	}
	l, err := svc.List(ctx, "alice")
	return err == nil && len(l) == 1
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	dir, store, oldKey := rotationDir(t)
	newKey := newKey(t)
	rep, err := Rotate(ctx, dir, store, &oldKey, &newKey, true)
	if err != nil {
		t.Fatal(err)
	}
	if rep.People != 1 {
		t.Errorf("re-keyed %d people, want 1", rep.People)
	}
	got, src, err := Load(dir, "")
	if err != nil || src != FromFile || got != newKey {
		t.Fatalf("master.key after Rotate: same as new %v, %v, %v", got == newKey, src, err)
	}
	if _, err := os.Stat(datadir.At(dir).NewKey()); !errors.Is(err, os.ErrNotExist) {
		t.Error("master.key.new left behind")
	}
	if !opens(t, store, newKey) || opens(t, store, oldKey) {
		t.Error("the database is not under the new key alone")
	}
}

// TestRotateFromEnv: with the key in the environment nothing on disk
// changes, only the database.
func TestRotateFromEnv(t *testing.T) {
	ctx := context.Background()
	dir, store, oldKey := rotationDir(t)
	before, _ := os.ReadFile(datadir.At(dir).Key())
	newKey := newKey(t)
	if _, err := Rotate(ctx, dir, store, &oldKey, &newKey, false); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(datadir.At(dir).Key())
	if string(before) != string(after) {
		t.Error("master.key changed for a key from the environment")
	}
	if _, err := os.Stat(datadir.At(dir).NewKey()); !errors.Is(err, os.ErrNotExist) {
		t.Error("master.key.new written for a key from the environment")
	}
	if !opens(t, store, newKey) {
		t.Error("the new key does not open the database")
	}
}

// TestRotateWrongOldKey: a failed transaction changes nothing and leaves
// no master.key.new.
func TestRotateWrongOldKey(t *testing.T) {
	ctx := context.Background()
	dir, store, oldKey := rotationDir(t)
	wrong, newKey := newKey(t), newKey(t)
	if _, err := Rotate(ctx, dir, store, &wrong, &newKey, true); err == nil {
		t.Fatal("Rotate with the wrong old key succeeded")
	}
	if _, err := os.Stat(datadir.At(dir).NewKey()); !errors.Is(err, os.ErrNotExist) {
		t.Error("master.key.new left after a failed rotation")
	}
	if got, _, _ := Load(dir, ""); got != oldKey || !opens(t, store, oldKey) {
		t.Error("a failed rotation changed the key")
	}
}

// TestSettle stops a rotation between its steps and checks that Settle
// (run at every start-up) keeps the key that opens the database.
func TestSettle(t *testing.T) {
	tests := []struct {
		name      string
		newFile   string // "" none, "key": the new key, "junk": not a key
		committed bool   // step 2 (the transaction) happened
		want      string // "old" or "new": the key Settle returns and master.key holds
		leftNew   bool   // master.key.new is still there afterwards
	}{
		{name: "no rotation", want: "old"},
		{name: "killed after writing master.key.new", newFile: "key", want: "old"},
		{name: "killed after the transaction, before the rename", newFile: "key", committed: true, want: "new"},
		{name: "master.key.new is not a key", newFile: "junk", want: "old"},
		// Neither key opens: both files stay for a person to look at.
		{name: "neither key opens", newFile: "key", committed: true, want: "stray", leftNew: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir, store, oldKey := rotationDir(t)
			stray, newKey := newKey(t), newKey(t)
			switch tt.newFile {
			case "key":
				if err := writeNew(dir, &newKey); err != nil {
					t.Fatal(err)
				}
			case "junk":
				if err := os.WriteFile(datadir.At(dir).NewKey(), []byte("half a key\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tt.committed {
				to := newKey
				if tt.want == "stray" {
					to = stray // committed under a key neither file holds
				}
				if _, err := core.RotateMasterKey(ctx, store, &oldKey, &to); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Settle(ctx, dir, store, oldKey, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := oldKey
			if tt.want == "new" {
				want = newKey
			}
			if got != want {
				t.Errorf("Settle returned the wrong key (want the %s one)", tt.want)
			}
			if inFile, _, _ := Load(dir, ""); inFile != want {
				t.Errorf("master.key holds the wrong key (want the %s one)", tt.want)
			}
			_, err = os.Stat(datadir.At(dir).NewKey())
			if left := err == nil; left != tt.leftNew {
				t.Errorf("master.key.new left: %v, want %v", left, tt.leftNew)
			}
			if tt.want != "stray" && !opens(t, store, got) {
				t.Error("the settled key does not open the database")
			}
		})
	}
}

func TestWriteNewMode(t *testing.T) {
	dir := t.TempDir()
	k := newKey(t)
	if err := writeNew(dir, &k); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, datadir.NewKeyName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master.key.new: %v, %v; want mode 0600", fi, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, datadir.NewKeyName))
	if string(b) != seal.Encode(&k)+"\n" {
		t.Error("master.key.new is not base64 of the key plus newline")
	}
}
