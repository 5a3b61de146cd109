//go:build goolm

package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/crypto"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/internal/testkit"
	"github.com/authbot/authbot/storage/datadir"
)

func readKey(t *testing.T, dir string) seal.Key {
	t.Helper()
	b, err := os.ReadFile(datadir.At(dir).Key())
	if err != nil {
		t.Fatal(err)
	}
	k, err := seal.ParseKey(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pickleKeyOf is the Matrix pickle key the database in dir derives.
func pickleKeyOf(t *testing.T, dir string) (seal.Key, bool) {
	t.Helper()
	ctx := context.Background()
	key := readKey(t, dir)
	k := testkit.Service(t, testkit.Options{Path: datadir.At(dir).DB(), Key: &key, Clock: core.SystemClock{}})
	defer k.Store.Close()
	svc := k.Svc
	_, pending, err := svc.PendingPickleKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return svc.DeriveKey("matrix-pickle"), pending
}

// olmAccountIn opens matrix/crypto.db under key, writing a new olm account
// first when put is set; it returns the account's identity key.
func olmAccountIn(t *testing.T, dir string, key seal.Key, put bool) (string, error) {
	t.Helper()
	ctx := context.Background()
	state := datadir.At(dir).Matrix()
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := dbutil.NewWithDialect("file:"+filepath.Join(state, "crypto.db")+"?_pragma=busy_timeout(5000)", "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := crypto.NewSQLCryptoStore(db, dbutil.NoopLogger, "acct", "DEVICE", key[:])
	if err := st.DB.Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	if put {
		acc := crypto.NewOlmAccount()
		if err := st.PutAccount(ctx, acc); err != nil {
			t.Fatal(err)
		}
		return string(acc.IdentityKey()), nil
	}
	acc, err := st.GetAccount(ctx)
	if err != nil || acc == nil {
		return "", err
	}
	return string(acc.IdentityKey()), nil
}

// TestRotateKeyRepicklesMatrix: after rotate-key the Matrix store opens
// with the new pickle key only, and the same device identity is in it.
func TestRotateKeyRepicklesMatrix(t *testing.T) {
	dir := seedDataDir(t)
	oldPickle, _ := pickleKeyOf(t, dir)
	ident, _ := olmAccountIn(t, dir, oldPickle, true)
	if _, stderr, err := runCmd(t, "", "rotate-key", "--data", dir); err != nil {
		t.Fatalf("rotate-key: %v\n%s", err, stderr)
	}
	newPickle, pending := pickleKeyOf(t, dir)
	if pending || newPickle == oldPickle {
		t.Fatalf("after rotate-key: pending %v, pickle key changed %v", pending, newPickle != oldPickle)
	}
	if got, err := olmAccountIn(t, dir, newPickle, false); err != nil || got != ident {
		t.Errorf("the olm account under the new pickle key: %v", err)
	}
	if _, err := olmAccountIn(t, dir, oldPickle, false); err == nil {
		t.Error("the old pickle key still opens the Matrix store")
	}
}

// TestInterruptedRepickle: a rotation whose step 4 never ran leaves the
// old pickle key recorded; the adapter's start (repickleMatrix) finishes.
func TestInterruptedRepickle(t *testing.T) {
	ctx := context.Background()
	dir := seedDataDir(t)
	oldPickle, _ := pickleKeyOf(t, dir)
	ident, _ := olmAccountIn(t, dir, oldPickle, true)
	oldKey := readKey(t, dir)
	newKey, _ := seal.NewKey()
	store := testkit.Bolt(t, datadir.At(dir).DB())
	if _, err := core.RotateMasterKey(ctx, store, &oldKey, &newKey); err != nil {
		t.Fatal(err)
	}
	svc := testkit.NewService(t, store, newKey, core.SystemClock{}, core.ServiceOptions{})
	for i := 0; i < 2; i++ { // the second run finds nothing to do
		if err := repickleMatrix(ctx, svc, datadir.At(dir).Matrix(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, pending, err := svc.PendingPickleKey(ctx); err != nil || pending {
		t.Errorf("still pending: %v %v", pending, err)
	}
	if got, err := olmAccountIn(t, dir, svc.DeriveKey("matrix-pickle"), false); err != nil || got != ident {
		t.Errorf("the olm account under the new pickle key: %v", err)
	}
}
