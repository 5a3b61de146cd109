//go:build goolm

package matrix

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/id"
)

// cryptoStore opens crypto.db in dir the way the adapter does, under key.
func cryptoStore(t *testing.T, dir string, key []byte) (*crypto.SQLCryptoStore, func()) {
	t.Helper()
	db, err := openCryptoDB(filepath.Join(dir, "crypto.db"))
	if err != nil {
		t.Fatal(err)
	}
	st := crypto.NewSQLCryptoStore(db, dbutil.NoopLogger, "acct", "DEVICE", key)
	if err := st.DB.Upgrade(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st, func() { db.Close() }
}

// TestRepickle writes an olm account and a secret under one pickle key,
// re-pickles, and reads them back with the new key only.
func TestRepickle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	oldKey := bytes.Repeat([]byte{1}, 32)
	newKey := bytes.Repeat([]byte{2}, 32)
	st, done := cryptoStore(t, dir, oldKey)
	acc := crypto.NewOlmAccount()
	if err := st.PutAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSecret(ctx, id.SecretXSSelfSigning, "self-signing private key"); err != nil {
		t.Fatal(err)
	}
	done()

	n, err := Repickle(ctx, dir, oldKey, newKey)
	if err != nil || n != 2 {
		t.Fatalf("re-pickled %d: %v", n, err)
	}
	// Again: nothing left to do.
	if n, err := Repickle(ctx, dir, oldKey, newKey); err != nil || n != 0 {
		t.Fatalf("second re-pickle: %d %v", n, err)
	}
	st, done = cryptoStore(t, dir, newKey)
	got, err := st.GetAccount(ctx)
	if err != nil || got == nil || got.IdentityKey() != acc.IdentityKey() {
		t.Fatalf("account under the new key: %v", err)
	}
	if v, err := st.GetSecret(ctx, id.SecretXSSelfSigning); err != nil || v != "self-signing private key" {
		t.Errorf("secret under the new key: %q %v", v, err)
	}
	done()
	st, done = cryptoStore(t, dir, oldKey)
	defer done()
	if _, err := st.GetAccount(ctx); err == nil {
		t.Error("the old pickle key still opens the account")
	}
	if _, err := st.GetSecret(ctx, id.SecretXSSelfSigning); err == nil {
		t.Error("the old pickle key still opens the secret")
	}
	// A key that opens nothing is refused, and changes nothing.
	if _, err := Repickle(ctx, dir, bytes.Repeat([]byte{3}, 32), bytes.Repeat([]byte{4}, 32)); err == nil {
		t.Error("re-pickled with keys that open nothing")
	}
}
