package failover

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbot/authbot/storage/postgres/pgtest"
)

// authbot runs the binary and returns its combined output.
func authbot(t *testing.T, stdin string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(authbotBinary(t), args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMigrateBackupRestore: bbolt -> PostgreSQL with `authbot migrate`,
// a backup taken from PostgreSQL, restored into another, empty database,
// and migrated back to a bbolt file that `authbot chat` then opens.
func TestMigrateBackupRestore(t *testing.T) {
	t.Parallel() // after TestFailover, which restarts PostgreSQL
	dir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	dataA := filepath.Join(dir, "a")
	var adds strings.Builder
	for _, l := range []string{"github", "gitlab", "aws"} {
		adds.WriteString("/add " + l + " otpauth://totp/" + l + "?secret=" + newSecret() + "\n")
	}
	adds.WriteString("/code github\n") // an entry in the audit log
	if out, err := authbot(t, adds.String(), env, "chat", "--data", dataA); err != nil || strings.Count(out, "Added") != 3 {
		t.Fatalf("chat: %v\n%s", err, out)
	}
	dsnA := writeFile(t, filepath.Join(dir, "dsn-a"), pgtest.NewDB(t))
	cfgA := writeFile(t, filepath.Join(dir, "a.yaml"), "data_dir: "+dataA+"\nstorage: {driver: postgres, dsn_file: "+dsnA+"}\n")
	out, err := authbot(t, "", env, "migrate", "--config", cfgA, "--from", "bolt", "--to", "postgres")
	if err != nil || !strings.Contains(out, "records from bolt to postgres, every one checked") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if out, err := authbot(t, "", env, "migrate", "--config", cfgA, "--from", "bolt", "--to", "postgres"); err == nil || !strings.Contains(out, "not empty") {
		t.Fatalf("a second migrate into the same database: %v\n%s", err, out)
	}
	if strings.Contains(out, pgtest.Password) {
		t.Fatalf("migrate printed the DSN's password:\n%s", out)
	}

	// The audit log, read from PostgreSQL.
	if out, err := authbot(t, "", env, "audit", "--config", cfgA); err != nil || !strings.Contains(out, " code github") {
		t.Fatalf("audit on PostgreSQL: %v\n%s", err, out)
	}

	pass := writeFile(t, filepath.Join(dir, "pass"), "correct horse battery staple\n")
	bak := filepath.Join(dir, "authbot.age")
	if out, err := authbot(t, "", env, "backup", "--config", cfgA, "--out", bak, "--passphrase-file", pass); err != nil || !strings.Contains(out, "3 accounts") || strings.Contains(out, "Matrix") {
		t.Fatalf("backup from PostgreSQL: %v\n%s", err, out)
	}

	dataB := filepath.Join(dir, "b")
	dsnB := writeFile(t, filepath.Join(dir, "dsn-b"), pgtest.NewDB(t))
	cfgB := writeFile(t, filepath.Join(dir, "b.yaml"), "data_dir: "+dataB+"\nstorage: {driver: postgres, dsn_file: "+dsnB+"}\n")
	if out, err := authbot(t, "", env, "restore", "--in", bak, "--config", cfgB, "--passphrase-file", pass); err != nil || !strings.Contains(out, "3 accounts") {
		t.Fatalf("restore into PostgreSQL: %v\n%s", err, out)
	}
	if out, err := authbot(t, "", env, "restore", "--in", bak, "--config", cfgB, "--passphrase-file", pass); err == nil || !strings.Contains(out, "not empty") {
		t.Fatalf("a second restore into the same database: %v\n%s", err, out)
	}
	if out, err := authbot(t, "", env, "migrate", "--config", cfgB, "--from", "postgres", "--to", "bolt"); err != nil || !strings.Contains(out, "every one checked") {
		t.Fatalf("migrate back to bolt: %v\n%s", err, out)
	}
	out, err = authbot(t, "/list\n", env, "chat", "--data", dataB)
	for _, l := range []string{"github", "gitlab", "aws"} {
		if err != nil || !strings.Contains(out, l) {
			t.Fatalf("after PostgreSQL and back, /list lacks %s: %v\n%s", l, err, out)
		}
	}
}
