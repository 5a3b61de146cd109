//go:build goolm

package backup

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

func openWAL(t *testing.T, path string) *sql.DB {
	t.Helper()
	uri, err := sqliteURI(path, "_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, path string) int {
	t.Helper()
	db := openWAL(t, path)
	var n int
	if err := db.QueryRow("SELECT count(*) FROM sessions").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSnapshotSQLiteWhileInUse copies a WAL database that another
// connection (the running bot) holds open, with committed rows still only
// in the WAL and a write transaction open: the copy has exactly the
// committed rows and passes the integrity check.
func TestSnapshotSQLiteWhileInUse(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "odd ?name#dir")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "crypto.db")
	bot := openWAL(t, src)
	if _, err := bot.Exec("CREATE TABLE sessions (id INTEGER PRIMARY KEY, pickle BLOB)"); err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		if _, err := bot.Exec("INSERT INTO sessions (pickle) VALUES (?)", []byte{byte(i), 1, 2, 3}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(src + "-wal"); err != nil {
		t.Fatalf("no WAL beside the database: %v", err)
	}
	tx, err := bot.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("INSERT INTO sessions (pickle) VALUES (x'ff')"); err != nil {
		t.Fatal(err)
	}

	dst := filepath.Join(t.TempDir(), "copy.db")
	if err := SnapshotSQLite(ctx, src, dst); err != nil {
		t.Fatal(err)
	}
	if n := count(t, dst); n != 500 {
		t.Errorf("copy has %d rows, want the 500 committed", n)
	}
	if err := CheckSQLite(ctx, dst); err != nil {
		t.Errorf("integrity check of the copy: %v", err)
	}
	if fi, err := os.Stat(dst); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("copy mode: %v %v", fi, err)
	}
	if err := SnapshotSQLite(ctx, src, dst); err == nil {
		t.Error("snapshot over an existing file succeeded")
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("the bot's write after the snapshot: %v", err)
	}
}

func TestCheckSQLiteFindsDamage(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "crypto.db")
	db := openWAL(t, src)
	if _, err := db.Exec("CREATE TABLE sessions (id INTEGER PRIMARY KEY, pickle BLOB); CREATE INDEX p ON sessions(pickle)"); err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		if _, err := db.Exec("INSERT INTO sessions (pickle) VALUES (?)", []byte{byte(i), byte(i >> 8), 7, 7, 7, 7, 7, 7}); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	if err := SnapshotSQLite(ctx, src, dst); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	for i := 4096 + 100; i < len(raw); i += 4096 {
		for j := range 64 {
			raw[i+j] ^= 0x5a
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.db")
	if err := os.WriteFile(bad, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckSQLite(ctx, bad); err == nil {
		t.Error("a damaged database passed the check")
	}
	notDB := filepath.Join(t.TempDir(), "not.db")
	os.WriteFile(notDB, []byte("this is not a database, just text of some length ........"), 0o600)
	if err := CheckSQLite(ctx, notDB); err == nil {
		t.Error("a text file passed the check")
	}
}
