//go:build goolm

package failover

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/crypto"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/keyfile"
	"github.com/authbot/authbot/storage/postgres"
	"github.com/authbot/authbot/storage/postgres/pgtest"
)

// TestRotateKeyPostgres: rotate-key on a PostgreSQL install is refused
// while a serve holds the lease (nothing changes), and otherwise re-keys
// the records in PostgreSQL and re-pickles the Matrix crypto store kept
// there: afterwards the new master.key opens every record and the olm
// account opens with the new pickle key only.
func TestRotateKeyPostgres(t *testing.T) {
	t.Parallel() // after TestFailover, which restarts PostgreSQL
	ctx := context.Background()
	dir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	data := filepath.Join(dir, "a")
	if out, err := authbot(t, "/add github otpauth://totp/github?secret="+newSecret()+"\n", env, "chat", "--data", data); err != nil {
		t.Fatalf("chat: %v\n%s", err, out)
	}
	dsn := pgtest.NewDatabase(t)
	cfg := writeFile(t, filepath.Join(dir, "a.yaml"), "data_dir: "+data+"\nstorage: {driver: postgres, dsn_file: "+
		writeFile(t, filepath.Join(dir, "dsn"), dsn)+", lease_ttl: 2s}\n")
	if out, err := authbot(t, "", env, "migrate", "--config", cfg, "--from", "bolt", "--to", "postgres"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	store, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	pickleKey := func(key seal.Key) []byte {
		svc, err := core.NewService(ctx, store, key, core.SystemClock{})
		if err != nil {
			t.Fatal(err)
		}
		k := svc.DeriveKey(core.PurposeMatrixPickle)
		return k[:]
	}
	oldKey, _, err := keyfile.Load(data, "")
	if err != nil {
		t.Fatal(err)
	}
	cryptoStore := func(pickle []byte) (*crypto.SQLCryptoStore, func()) {
		db, err := dbutil.NewWithDialect(dsn, "pgx")
		if err != nil {
			t.Fatal(err)
		}
		cs := crypto.NewSQLCryptoStore(db, dbutil.NoopLogger, "@bot:example.org", "DEVICE1", pickle)
		if err := cs.DB.Upgrade(ctx); err != nil {
			t.Fatal(err)
		}
		return cs, func() { db.Close() }
	}
	oldPickle := pickleKey(oldKey)
	cs, closeCS := cryptoStore(oldPickle)
	acct := crypto.NewOlmAccount()
	if err := cs.PutAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	closeCS()

	// A serve holding the lease: refused, nothing changed.
	lctx, release := context.WithCancel(ctx)
	holder, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	_, done, err := holder.NewLease(postgres.LeaseOptions{TTL: 2 * time.Second}).Hold(lctx)
	if err != nil {
		t.Fatal(err)
	}
	out, err := authbot(t, "", env, "rotate-key", "--config", cfg)
	done()
	release()
	holder.Close()
	if err == nil || !strings.Contains(out, "holds the lease") {
		t.Fatalf("rotate-key beside an active serve: %v\n%s", err, out)
	}
	if k, _, err := keyfile.Load(data, ""); err != nil || k != oldKey {
		t.Fatalf("the refused rotation changed master.key: %v", err)
	}

	out, err = authbot(t, "", env, "rotate-key", "--config", cfg)
	if err != nil || !strings.Contains(out, "Rotated the master key: 1 people") || strings.Contains(out, "not re-keyed") {
		t.Fatalf("rotate-key on PostgreSQL: %v\n%s", err, out)
	}
	newKey, _, err := keyfile.Load(data, "")
	if err != nil || newKey == oldKey {
		t.Fatalf("master.key after the rotation: same key %v, %v", newKey == oldKey, err)
	}
	if err := core.CheckMasterKey(ctx, store, &oldKey); err == nil {
		t.Fatal("the old key still opens the records")
	}
	ident, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := authbot(t, "", env, "backup", "--config", cfg, "--out", filepath.Join(dir, "b.age"),
		"--recipient", ident.Recipient().String()); err != nil || !strings.Contains(out, "1 accounts, all records checked") {
		t.Fatalf("every record under the new key: %v\n%s", err, out)
	}
	newPickle := pickleKey(newKey)
	cs, closeCS = cryptoStore(newPickle)
	got, err := cs.GetAccount(ctx)
	closeCS()
	if err != nil || got == nil || got.IdentityKey() != acct.IdentityKey() {
		t.Fatalf("the olm account under the new pickle key: %v", err)
	}
	cs, closeCS = cryptoStore(oldPickle)
	_, err = cs.GetAccount(ctx)
	closeCS()
	if err == nil {
		t.Fatal("the old pickle key still opens the olm account")
	}
}
