//go:build goolm

package failover

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	_ "github.com/jackc/pgx/v5/stdlib"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/sqlstatestore"
	_ "modernc.org/sqlite"

	"github.com/authbot/authbot/storage/postgres"
	"github.com/authbot/authbot/storage/postgres/pgtest"
)

// TestMatrixStoreBesideRecords: mautrix's crypto and state stores create
// their schema in the same PostgreSQL database as authbot's records (as
// serve does with storage.driver: postgres), an olm account written by one
// process's store is read back by another's with the same pickle key, and
// neither disturbs the other's tables.
func TestMatrixStoreBesideRecords(t *testing.T) {
	t.Parallel() // after TestFailover, which restarts PostgreSQL
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	recs, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer recs.Close()
	pickle := []byte("0123456789abcdef0123456789abcdef")
	open := func() (*crypto.SQLCryptoStore, *dbutil.Database) {
		db, err := dbutil.NewWithDialect(dsn, "pgx")
		if err != nil {
			t.Fatal(err)
		}
		cs := crypto.NewSQLCryptoStore(db, dbutil.NoopLogger, "@bot:example.org", "DEVICE1", pickle)
		if err := cs.DB.Upgrade(ctx); err != nil {
			t.Fatalf("crypto store schema on PostgreSQL: %v", err)
		}
		ss := sqlstatestore.NewSQLStateStore(db, dbutil.NoopLogger, false)
		if err := ss.Upgrade(ctx); err != nil {
			t.Fatalf("state store schema on PostgreSQL: %v", err)
		}
		return cs, db
	}
	active, db1 := open()
	acct := crypto.NewOlmAccount()
	if err := active.PutAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	db1.Close()
	standby, db2 := open()
	defer db2.Close()
	got, err := standby.GetAccount(ctx)
	if err != nil || got == nil {
		t.Fatalf("standby reads the account: %v", err)
	}
	if got.IdentityKey() != acct.IdentityKey() {
		t.Fatal("the standby's olm account has another identity key: it would be another device")
	}
	if empty, err := recs.Empty(ctx); err != nil || !empty {
		t.Fatalf("records table after the Matrix schema: empty=%v %v", empty, err)
	}
}

// TestMigrateMatrixState: `authbot migrate` moves the Matrix crypto store
// with the records, SQLite -> PostgreSQL -> SQLite, and the olm account
// (the device's identity) survives both moves unchanged.
func TestMigrateMatrixState(t *testing.T) {
	t.Parallel() // after TestFailover, which restarts PostgreSQL
	ctx := context.Background()
	dir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	dataA := filepath.Join(dir, "a")
	if out, err := authbot(t, "/add github otpauth://totp/github?secret="+newSecret()+"\n", env, "chat", "--data", dataA); err != nil {
		t.Fatalf("chat: %v\n%s", err, out)
	}
	pickle := []byte("0123456789abcdef0123456789abcdef")
	sqliteDB, err := dbutil.NewWithDialect("file:"+filepath.Join(dataA, "matrix", "crypto.db")+"?_pragma=foreign_keys(1)", "sqlite")
	if err := os.MkdirAll(filepath.Join(dataA, "matrix"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	cs := crypto.NewSQLCryptoStore(sqliteDB, dbutil.NoopLogger, "@bot:example.org", "DEVICE1", pickle)
	if err := cs.DB.Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	acct := crypto.NewOlmAccount()
	if err := cs.PutAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	sqliteDB.Close()

	matrix := "matrix: {homeserver: \"http://127.0.0.1:1\", user_id: \"@bot:example.org\", password: x}\nusers: [{name: alice, matrix: \"@alice:example.org\"}]\n"
	dsn := writeFile(t, filepath.Join(dir, "dsn"), pgtest.NewDatabase(t))
	cfgA := writeFile(t, filepath.Join(dir, "a.yaml"), "data_dir: "+dataA+"\nstorage: {driver: postgres, dsn_file: "+dsn+"}\n"+matrix)
	out, err := authbot(t, "", env, "migrate", "--config", cfgA, "--from", "bolt", "--to", "postgres")
	if err != nil || !strings.Contains(out, "Matrix crypto state") {
		t.Fatalf("migrate to postgres: %v\n%s", err, out)
	}
	pgDB, err := dbutil.NewWithDialect(strings.TrimSpace(readFile(t, dsn)), "pgx")
	if err != nil {
		t.Fatal(err)
	}
	got, err := crypto.NewSQLCryptoStore(pgDB, dbutil.NoopLogger, "@bot:example.org", "DEVICE1", pickle).GetAccount(ctx)
	pgDB.Close()
	if err != nil || got == nil || got.IdentityKey() != acct.IdentityKey() {
		t.Fatalf("the account in PostgreSQL: %v (same identity: %v)", err, got != nil && got.IdentityKey() == acct.IdentityKey())
	}

	dataB := filepath.Join(dir, "b")
	if err := os.MkdirAll(dataB, 0o700); err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(filepath.Join(dataA, "master.key"))
	writeFile(t, filepath.Join(dataB, "master.key"), string(key))
	cfgB := writeFile(t, filepath.Join(dir, "b.yaml"), "data_dir: "+dataB+"\nstorage: {driver: postgres, dsn_file: "+dsn+"}\n"+matrix)
	if out, err := authbot(t, "", env, "migrate", "--config", cfgB, "--from", "postgres", "--to", "bolt"); err != nil || !strings.Contains(out, "Matrix crypto state") {
		t.Fatalf("migrate back: %v\n%s", err, out)
	}
	back, err := dbutil.NewWithDialect("file:"+filepath.Join(dataB, "matrix", "crypto.db"), "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	got, err = crypto.NewSQLCryptoStore(back, dbutil.NoopLogger, "@bot:example.org", "DEVICE1", pickle).GetAccount(ctx)
	if err != nil || got == nil || got.IdentityKey() != acct.IdentityKey() {
		t.Fatalf("the account back in SQLite: %v", err)
	}
}

func readFile(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBackupMatrixStatePostgres: a backup of a PostgreSQL install carries
// the Matrix crypto state kept in that database (olm account and sync
// token here), as the same SQLite file a bbolt install's backup holds;
// restore puts it back into an empty PostgreSQL database, or into
// data_dir/matrix/crypto.db when restoring into bbolt. A database that
// already holds an olm account is refused before any record is copied.
func TestBackupMatrixStatePostgres(t *testing.T) {
	t.Parallel() // after TestFailover, which restarts PostgreSQL
	ctx := context.Background()
	dir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	dataA := filepath.Join(dir, "a")
	if out, err := authbot(t, "/add github otpauth://totp/github?secret="+newSecret()+"\n", env, "chat", "--data", dataA); err != nil {
		t.Fatalf("chat: %v\n%s", err, out)
	}
	pgConfig := func(name, dataDir string) (cfg, dsn string) {
		dsn = pgtest.NewDatabase(t) // mautrix finds its tables by name: a database each
		file := writeFile(t, filepath.Join(dir, "dsn-"+name), dsn)
		return writeFile(t, filepath.Join(dir, name+".yaml"), "data_dir: "+dataDir+"\nstorage: {driver: postgres, dsn_file: "+file+"}\n"), dsn
	}
	cfgA, dsnA := pgConfig("a", dataA)
	if out, err := authbot(t, "", env, "migrate", "--config", cfgA, "--from", "bolt", "--to", "postgres"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	// The crypto store as serve leaves it in PostgreSQL.
	pickle := []byte("0123456789abcdef0123456789abcdef")
	putAccount := func(dsn string) *crypto.OlmAccount {
		db, err := dbutil.NewWithDialect(dsn, "pgx")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		cs := crypto.NewSQLCryptoStore(db, dbutil.NoopLogger, "@bot:example.org", "DEVICE1", pickle)
		if err := cs.DB.Upgrade(ctx); err != nil {
			t.Fatal(err)
		}
		acct := crypto.NewOlmAccount()
		if err := cs.PutAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
		if err := cs.PutNextBatch(ctx, "s42_sync"); err != nil {
			t.Fatal(err)
		}
		return acct
	}
	acct := putAccount(dsnA)
	check := func(what string, db *dbutil.Database) {
		t.Helper()
		defer db.Close()
		cs := crypto.NewSQLCryptoStore(db, dbutil.NoopLogger, "@bot:example.org", "DEVICE1", pickle)
		got, err := cs.GetAccount(ctx)
		if err != nil || got == nil || got.IdentityKey() != acct.IdentityKey() {
			t.Fatalf("%s: the olm account is not the backed-up one: %v", what, err)
		}
		if tok, err := cs.GetNextBatch(ctx); err != nil || tok != "s42_sync" {
			t.Fatalf("%s: sync token %q, %v", what, tok, err)
		}
	}

	// An age key pair, not a passphrase: scrypt would cost a second or
	// more for each of the four runs below.
	ident, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	idFile := writeFile(t, filepath.Join(dir, "identity"), ident.String()+"\n")
	bak := filepath.Join(dir, "authbot.age")
	out, err := authbot(t, "", env, "backup", "--config", cfgA, "--out", bak, "--recipient", ident.Recipient().String())
	if err != nil || !strings.Contains(out, "Matrix crypto state is included") {
		t.Fatalf("backup from PostgreSQL: %v\n%s", err, out)
	}

	// Into another PostgreSQL database.
	cfgB, dsnB := pgConfig("b", filepath.Join(dir, "b"))
	out, err = authbot(t, "", env, "restore", "--in", bak, "--config", cfgB, "--identity", idFile)
	if err != nil || !strings.Contains(out, "1 accounts") || !strings.Contains(out, "Matrix crypto state was restored into PostgreSQL") {
		t.Fatalf("restore into PostgreSQL: %v\n%s", err, out)
	}
	pgB, err := dbutil.NewWithDialect(dsnB, "pgx")
	if err != nil {
		t.Fatal(err)
	}
	check("restored into PostgreSQL", pgB)

	// A database with an olm account of its own: refused, no record copied.
	cfgC, dsnC := pgConfig("c", filepath.Join(dir, "c"))
	putAccount(dsnC)
	out, err = authbot(t, "", env, "restore", "--in", bak, "--config", cfgC, "--identity", idFile)
	if err == nil || !strings.Contains(out, "already holds a Matrix crypto account") {
		t.Fatalf("restore into a database with a Matrix account: %v\n%s", err, out)
	}
	recs, err := postgres.Open(ctx, dsnC)
	if err != nil {
		t.Fatal(err)
	}
	empty, err := recs.Empty(ctx)
	recs.Close()
	if err != nil || !empty {
		t.Fatalf("the refused restore copied records: empty=%v %v", empty, err)
	}

	// Into a bbolt data dir: the same file lands in matrix/crypto.db.
	dataD := filepath.Join(dir, "d")
	out, err = authbot(t, "", env, "restore", "--in", bak, "--data", dataD, "--identity", idFile)
	if err != nil || !strings.Contains(out, "Matrix crypto state was restored") {
		t.Fatalf("restore into bbolt: %v\n%s", err, out)
	}
	sqliteD, err := dbutil.NewWithDialect("file:"+filepath.Join(dataD, "matrix", "crypto.db"), "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	check("restored into bbolt's data dir", sqliteD)
}
