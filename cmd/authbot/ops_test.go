package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/bolt"
	"github.com/authbot/authbot/storage/datadir"
	"github.com/authbot/authbot/storage/keyfile"
)

func init() { testScryptWorkFactor = 10 }

func envWith(kv map[string]string) env { return func(k string) string { return kv[k] } }

// seedDataDir creates a data dir with two accounts through the console.
func seedDataDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if out, stderr, err := runCmd(t, "/add demo JBSWY3DPEHPK3PXP\n/add bank otpauth://hotp/Bank:me?secret=GEZDGNBVGY3TQOJQ&counter=0\n", "chat", "--data", dir); err != nil {
		t.Fatalf("seed: %v\n%s%s", err, out, stderr)
	}
	return dir
}

func writePass(t *testing.T, pass string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(p, []byte(pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	dir := seedDataDir(t)
	pass := writePass(t, "a long enough backup passphrase")
	out := filepath.Join(t.TempDir(), "b.age")
	stdout, stderr, err := runCmd(t, "", "backup", "--data", dir, "--out", out, "--passphrase-file", pass)
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "1 people, 2 accounts") {
		t.Errorf("backup said %q", stdout)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", fi, err)
	}

	// Restore on a "new machine": the old dir and its key are gone.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "restored")
	if _, stderr, err := runCmd(t, "", "restore", "--in", out, "--data", target, "--passphrase-file", writePass(t, "the wrong passphrase!!")); err == nil {
		t.Fatalf("restore with a wrong passphrase succeeded\n%s", stderr)
	} else if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a failed restore created the target")
	}
	stdout, stderr, err = runCmd(t, "", "restore", "--in", out, "--data", target, "--passphrase-file", pass)
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "1 people, 2 accounts") {
		t.Errorf("restore said %q", stdout)
	}
	listed, _, err := runCmd(t, "/list\n", "chat", "--data", target)
	if err != nil || !strings.Contains(listed, "demo") || !strings.Contains(listed, "bank") {
		t.Fatalf("restored data: %v\n%s", err, listed)
	}

	// Over an existing dir: refused without --force, moved aside with it.
	if _, _, err := runCmd(t, "", "restore", "--in", out, "--data", target, "--passphrase-file", pass); err == nil {
		t.Fatal("restore over an existing dir without --force succeeded")
	}
	stdout, stderr, err = runCmd(t, "", "restore", "--in", out, "--data", target, "--passphrase-file", pass, "--force")
	if err != nil {
		t.Fatalf("restore --force: %v\n%s", err, stderr)
	}
	moved := regexp.MustCompile(`moved to (\S+);`).FindStringSubmatch(stdout)
	if moved == nil {
		t.Fatalf("no moved-aside path in %q", stdout)
	}
	if _, err := os.Stat(filepath.Join(moved[1], "authbot.db")); err != nil {
		t.Errorf("old data dir was not kept: %v", err)
	}
}

func TestRestoreRefusesDamagedBackup(t *testing.T) {
	dir := seedDataDir(t)
	pass := writePass(t, "a long enough backup passphrase")
	out := filepath.Join(t.TempDir(), "b.age")
	if _, stderr, err := runCmd(t, "", "backup", "--data", dir, "--out", out, "--passphrase-file", pass); err != nil {
		t.Fatalf("backup: %v\n%s", err, stderr)
	}
	b, _ := os.ReadFile(out)
	b[len(b)-50] ^= 1
	os.WriteFile(out, b, 0o600)
	target := filepath.Join(t.TempDir(), "restored")
	if _, _, err := runCmd(t, "", "restore", "--in", out, "--data", target, "--passphrase-file", pass); err == nil {
		t.Fatal("a damaged backup restored")
	}
	if entries, _ := os.ReadDir(filepath.Dir(target)); len(entries) != 0 {
		t.Errorf("a failed restore left %d entries behind", len(entries))
	}
}

func TestBackupWhileDatabaseIsOpen(t *testing.T) {
	// serve holds the bbolt lock; backup must go through the socket.
	dir := seedDataDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := openTestApp(t, dir)
	o, _ := newOps(a.cfg)
	if err := o.Start(ctx, a); err != nil {
		t.Fatal(err)
	}
	defer o.Wait()
	defer cancel()
	out := filepath.Join(t.TempDir(), "b.age")
	stdout, stderr, err := runCmd(t, "", "backup", "--data", dir, "--out", out, "--passphrase-file", writePass(t, "a long enough backup passphrase"))
	if err != nil {
		t.Fatalf("backup while open: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "2 accounts") {
		t.Errorf("backup said %q", stdout)
	}
}

func openTestApp(t *testing.T, dir string) *app {
	t.Helper()
	cfg := config.Default(dir)
	a, err := openApp(context.Background(), cfg, newLogger(&bytes.Buffer{}, cfg.Log), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestRotateKey(t *testing.T) {
	dir := seedDataDir(t)
	oldText, _ := os.ReadFile(datadir.At(dir).Key())
	stdout, stderr, err := runCmd(t, "", "rotate-key", "--data", dir)
	if err != nil {
		t.Fatalf("rotate-key: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "1 people") {
		t.Errorf("rotate said %q", stdout)
	}
	newText, _ := os.ReadFile(datadir.At(dir).Key())
	if bytes.Equal(oldText, newText) {
		t.Fatal("master.key unchanged")
	}
	if _, err := os.Stat(datadir.At(dir).NewKey()); !errors.Is(err, os.ErrNotExist) {
		t.Error("master.key.new left behind")
	}
	out, _, err := runCmd(t, "/code demo\n", "chat", "--data", dir)
	if err != nil || !strings.Contains(out, "demo: ") {
		t.Fatalf("after rotation: %v\n%s", err, out)
	}

	// With the key in the environment: the new key is printed once.
	oldKey := strings.TrimSpace(string(newText))
	os.Remove(datadir.At(dir).Key())
	var so, se bytes.Buffer
	err = run(context.Background(), []string{"rotate-key", "--data", dir}, strings.NewReader(""), &so, &se, envWith(map[string]string{"AUTHBOT_MASTER_KEY": oldKey}))
	if err != nil {
		t.Fatalf("env rotate: %v\n%s", err, se.String())
	}
	m := regexp.MustCompile(`(?m)^([A-Za-z0-9+/=]{44})$`).FindStringSubmatch(so.String())
	if m == nil {
		t.Fatalf("no key printed: %q", so.String())
	}
	so.Reset()
	err = run(context.Background(), []string{"chat", "--data", dir}, strings.NewReader("/code demo\n"), &so, &se, envWith(map[string]string{"AUTHBOT_MASTER_KEY": m[1]}))
	if err != nil || !strings.Contains(so.String(), "demo: ") {
		t.Fatalf("with the printed key: %v\n%s", err, so.String())
	}
}

// TestInterruptedRotation stops a rotation at each point between its
// steps and checks that start-up picks the key that opens the database.
func TestInterruptedRotation(t *testing.T) {
	tests := []struct {
		name      string
		committed bool // step 2 (the transaction) happened
	}{
		{"killed after writing master.key.new", false},
		{"killed after the transaction, before the rename", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := seedDataDir(t)
			ctx := context.Background()
			oldKey, _, err := keyfile.Load(dir, "")
			if err != nil {
				t.Fatal(err)
			}
			newKey, _ := seal.NewKey()
			// As keyfile.Rotate's step 1 leaves it (keyfile's own tests
			// cover Rotate and Settle; this one covers start-up's call).
			if err := os.WriteFile(datadir.At(dir).NewKey(), []byte(seal.Encode(&newKey)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if tt.committed {
				store, err := bolt.Open(ctx, datadir.At(dir).DB(), bolt.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := core.RotateMasterKey(ctx, store, &oldKey, &newKey); err != nil {
					t.Fatal(err)
				}
				store.Close()
			}
			out, stderr, err := runCmd(t, "/code demo\n", "chat", "--data", dir)
			if err != nil || !strings.Contains(out, "demo: ") {
				t.Fatalf("start-up after interruption: %v\n%s%s", err, out, stderr)
			}
			if _, err := os.Stat(datadir.At(dir).NewKey()); !errors.Is(err, os.ErrNotExist) {
				t.Error("master.key.new still there after start-up")
			}
			got, _, _ := keyfile.Load(dir, "")
			want := oldKey
			if tt.committed {
				want = newKey
			}
			if got != want {
				t.Error("master.key holds the wrong key")
			}
		})
	}
}

// TestRotateKeyRefusesTheWrongDatabase: a rotation must never replace
// master.key while the records it seals live somewhere it does not re-key
// (a postgres config re-keys PostgreSQL, and fails here where it cannot
// reach it, rather than the bbolt file beside the key), nor "rotate" a
// data dir that holds no database. (storage/postgres/failover rotates a
// real PostgreSQL.)
func TestRotateKeyRefusesTheWrongDatabase(t *testing.T) {
	dir := seedDataDir(t)
	keyBefore, _ := os.ReadFile(datadir.At(dir).Key())
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	cfg := fmt.Sprintf("data_dir: %s\nstorage:\n  driver: postgres\n", dir)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var so, se bytes.Buffer
	getenv := envWith(map[string]string{"AUTHBOT_POSTGRES_DSN": "postgres://authbot@127.0.0.1:1/authbot"})
	err := run(context.Background(), []string{"rotate-key", "--config", cfgPath}, strings.NewReader(""), &so, &se, getenv)
	if err == nil || !strings.Contains(err.Error(), "postgres: failed to connect") {
		t.Fatalf("rotate-key on a postgres config with no PostgreSQL: err %v, out %q", err, so.String())
	}
	if keyAfter, _ := os.ReadFile(datadir.At(dir).Key()); !bytes.Equal(keyBefore, keyAfter) {
		t.Fatal("master.key changed although the rotation was refused")
	}

	empty := t.TempDir()
	if err := os.WriteFile(datadir.At(empty).Key(), keyBefore, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd(t, "", "rotate-key", "--data", empty); err == nil || !strings.Contains(err.Error(), "no database to rotate") {
		t.Fatalf("rotate-key without a database: %v", err)
	}
	if _, err := os.Stat(datadir.At(empty).DB()); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused rotation created a database")
	}
}
