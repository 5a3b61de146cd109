//go:build goolm

package failover

import (
	"context"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/sqlstatestore"

	"github.com/authbot/authbot/storage/postgres"
	"github.com/authbot/authbot/storage/postgres/pgtest"
)

// TestMatrixStoreBesideRecords: mautrix's crypto and state stores create
// their schema in the same PostgreSQL database as authbot's records (as
// serve does with storage.driver: postgres), an olm account written by one
// process's store is read back by another's with the same pickle key, and
// neither disturbs the other's tables.
func TestMatrixStoreBesideRecords(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDB(t)
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
