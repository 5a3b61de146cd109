//go:build goolm

package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/authbot/authbot/backup"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/datadir"
)

// fakeMatrixState makes dir/matrix look like the adapter's: crypto.db in
// WAL mode with rows committed (some only in the WAL), held open as a
// running serve would, and pending.json.
func fakeMatrixState(t *testing.T, dir string) (*sql.DB, []byte) {
	t.Helper()
	state := datadir.At(dir).Matrix()
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(state, "crypto.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE TABLE crypto_account (device_id TEXT PRIMARY KEY, account BLOB)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO crypto_account VALUES ('BOTDEVICE', x'00112233')"); err != nil {
		t.Fatal(err)
	}
	pending := []byte(`[{"room":"!a:example.org","event":"$b","at":"2030-01-01T00:00:00Z"}]`)
	if err := os.WriteFile(filepath.Join(state, "pending.json"), pending, 0o600); err != nil {
		t.Fatal(err)
	}
	return db, pending
}

func TestBackupRestoreMatrixState(t *testing.T) {
	dir := seedDataDir(t)
	db, pending := fakeMatrixState(t, dir)
	pass := writePass(t, "a long enough backup passphrase")
	out := filepath.Join(t.TempDir(), "b.age")
	stdout, stderr, err := runCmd(t, "", "backup", "--data", dir, "--out", out, "--passphrase-file", pass)
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "Matrix crypto state is included") {
		t.Errorf("backup said %q", stdout)
	}
	// The bot goes on writing after the backup: not in the copy.
	if _, err := db.Exec("INSERT INTO crypto_account VALUES ('LATER', x'ff')"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}

	target := filepath.Join(t.TempDir(), "restored")
	stdout, stderr, err = runCmd(t, "", "restore", "--in", out, "--data", target, "--passphrase-file", pass)
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "Matrix crypto state was restored") {
		t.Errorf("restore said %q", stdout)
	}
	state := datadir.At(target).Matrix()
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("matrix dir: %v %v", fi, err)
	}
	for _, name := range []string{"crypto.db", "pending.json"} {
		if fi, err := os.Stat(filepath.Join(state, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", name, fi, err)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(state, "pending.json")); !bytes.Equal(got, pending) {
		t.Errorf("pending.json restored as %q", got)
	}
	rdb, err := sql.Open("sqlite", "file:"+filepath.Join(state, "crypto.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	var devices []string
	rows, err := rdb.Query("SELECT device_id FROM crypto_account ORDER BY device_id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d string
		rows.Scan(&d)
		devices = append(devices, d)
	}
	rows.Close()
	if strings.Join(devices, ",") != "BOTDEVICE" {
		t.Errorf("restored crypto store has devices %v, want the one at backup time", devices)
	}
	if listed, _, err := runCmd(t, "/list\n", "chat", "--data", target); err != nil || !strings.Contains(listed, "demo") {
		t.Fatalf("restored accounts: %v\n%s", err, listed)
	}
}

// TestRestoreRefusesDamagedMatrixState: a backup whose crypto store fails
// SQLite's integrity check is refused before anything is written.
func TestRestoreRefusesDamagedMatrixState(t *testing.T) {
	dir := seedDataDir(t)
	a := openTestApp(t, dir)
	var snap bytes.Buffer
	n, err := a.store.Backup(context.Background(), &snap)
	if err != nil {
		t.Fatal(err)
	}
	key := a.masterKey
	x, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	junk := bytes.Repeat([]byte("not sqlite "), 500)
	out := filepath.Join(t.TempDir(), "b.age")
	var file bytes.Buffer
	if err := backup.Write(&file, x.Recipient(), &snap, n, &key, backup.Manifest{Created: time.Now()},
		backup.File{Name: backup.MatrixCryptoDB, Size: int64(len(junk)), Body: bytes.NewReader(junk)}); err != nil {
		t.Fatal(err)
	}
	seal.Zero(&key)
	if err := os.WriteFile(out, file.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	idFile := filepath.Join(t.TempDir(), "id.txt")
	if err := os.WriteFile(idFile, []byte(x.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "restored")
	_, stderr, err := runCmd(t, "", "restore", "--in", out, "--data", target, "--identity", idFile)
	if err == nil || !strings.Contains(err.Error(), "Matrix crypto state does not check out") {
		t.Fatalf("restore of a damaged crypto store: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused restore created the target")
	}
}
