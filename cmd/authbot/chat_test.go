package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

func noEnv(string) string { return "" }

// runCmd runs the binary's run() in-process with no environment.
func runCmd(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errb, noEnv)
	return out.String(), errb.String(), err
}

// TestChatPipe is the README's example: the code printed equals the
// RFC 6238 code of the demo key (what oathtool --totp prints).
func TestChatPipe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	before := time.Now()
	out, stderr, err := runCmd(t, "/add demo JBSWY3DPEHPK3PXP\n/code demo\n", "chat", "--data", dir)
	after := time.Now()
	if err != nil {
		t.Fatalf("chat: %v\n%s", err, stderr)
	}
	m := regexp.MustCompile(`demo: (\d{6})(?: — valid for \d+ s|, then \d{6} from)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no code in output:\n%s", out)
	}
	a, _ := totp.GenerateCode("JBSWY3DPEHPK3PXP", before)
	b, _ := totp.GenerateCode("JBSWY3DPEHPK3PXP", after)
	if m[1] != a && m[1] != b {
		t.Errorf("code %s, want %s (or %s)", m[1], a, b)
	}
	for _, f := range []string{"authbot.db", "master.key"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, st, err)
		}
	}
	// A second run sees the stored account.
	out, _, err = runCmd(t, "/list\n", "chat", "--data", dir)
	if err != nil || !strings.Contains(out, "• demo") {
		t.Errorf("second run: %v\n%s", err, out)
	}
}

// A pipe exits non-zero when any command failed, after answering all.
func TestChatPipeFailureExitsNonZero(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	out, _, err := runCmd(t, "/add demo JBSWY3DPEHPK3PX1\n/add demo JBSWY3DPEHPK3PXP\n", "chat", "--data", dir)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 commands") || !strings.Contains(out, "Added demo") {
		t.Errorf("err %v, out:\n%s", err, out)
	}
	if _, _, err := runCmd(t, "/list\n", "chat", "--data", dir); err != nil {
		t.Errorf("a good pipe: %v", err)
	}
}

func TestChatWithWrongMasterKeyRefuses(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runCmd(t, "/add demo JBSWY3DPEHPK3PXP\n", "chat", "--data", dir); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "authbot.db")
	before, _ := os.ReadFile(db)
	env := func(k string) string {
		if k == "AUTHBOT_MASTER_KEY" {
			return "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
		}
		return ""
	}
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"chat", "--data", dir}, strings.NewReader("/list\n"), &out, &errb, env)
	if err == nil || !strings.Contains(err.Error(), "master key does not open") {
		t.Fatalf("wrong key: %v", err)
	}
	after, _ := os.ReadFile(db)
	if !bytes.Equal(before, after) {
		t.Error("a refused start changed the database")
	}
}

func TestVersionAndUsage(t *testing.T) {
	if out, _, err := runCmd(t, "", "version"); err != nil || !strings.HasPrefix(out, "authbot ") {
		t.Errorf("version: %q %v", out, err)
	}
	if _, stderr, err := runCmd(t, "", "frob"); err != errUsage || !strings.Contains(stderr, "unknown command") {
		t.Errorf("unknown: %v %q", err, stderr)
	}
}

func TestServeConfigErrorsNameTheKey(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("data_dir: ./d\nlog:\n  level: chatty\n"), 0o600)
	if _, _, err := runCmd(t, "", "serve", "--config", cfg); err == nil || !strings.Contains(err.Error(), "log.level") {
		t.Errorf("bad config: %v", err)
	}
	os.WriteFile(cfg, []byte("data_dir: ./d\n"), 0o600)
	if _, _, err := runCmd(t, "", "serve", "--config", cfg); err == nil || !strings.Contains(err.Error(), "no chat adapter") {
		t.Errorf("no adapters: %v", err)
	}
}

func TestImportAndExportCLI(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	out, stderr, err := runCmd(t, "", "import", "--data", data, "../../core/transfer/testdata/links.txt")
	if err != nil || !strings.Contains(out, "Imported") {
		t.Fatalf("import: %v\n%s%s", err, out, stderr)
	}
	// Importing the same again adds nothing, says so in one line, exit 0.
	out, _, err = runCmd(t, "", "import", "--data", data, "../../core/transfer/testdata/links.txt")
	if err != nil || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "Already stored: all ") {
		t.Errorf("second import of the same file: %v %q", err, out)
	}
	vault := filepath.Join(dir, "out.json")
	if _, stderr, err := runCmd(t, "export password\n", "export", "--data", data, "--out", vault); err != nil {
		t.Fatalf("export: %v %s", err, stderr)
	}
	fresh := filepath.Join(dir, "fresh")
	out, stderr, err = runCmd(t, "export password\n", "import", "--data", fresh, vault)
	if err != nil || !strings.Contains(out, "Imported") {
		t.Fatalf("re-import of the export: %v\n%s%s", err, out, stderr)
	}
	if _, _, err := runCmd(t, "wrong password\n", "import", "--data", filepath.Join(dir, "x"), vault); err == nil || !strings.Contains(err.Error(), "Wrong password") {
		t.Errorf("wrong password: %v", err)
	}
	if _, _, err := runCmd(t, "", "import", "--data", data, "chat_test.go"); err == nil {
		t.Error("a Go file imported")
	}
}

// authbot import FILE reads the manifest.json beside an encrypted maFile,
// or the maFiles a manifest.json lists.
func TestImportSteamCLI(t *testing.T) {
	dir := t.TempDir()
	const steam = "../../core/transfer/testdata/steam/"
	for i, c := range []struct{ file, stdin, want string }{
		{steam + "sda-1-account-encrypted/1234.maFile", "password\n", "Imported 1 account from Steam Desktop Authenticator (encrypted)"},
		// The two upstream accounts share one secret, so core keeps one.
		{steam + "sgcli-2-account/manifest.json", "", "Imported 1 account from steamguard-cli"},
		{steam + "sda-1-account/manifest.json", "", "Imported 1 account from Steam Desktop Authenticator"},
	} {
		out, stderr, err := runCmd(t, c.stdin, "import", "--data", filepath.Join(dir, fmt.Sprint(i)), c.file)
		if err != nil || !strings.Contains(out, c.want) {
			t.Errorf("import %s: %v\n%s%s", c.file, err, out, stderr)
		}
	}
	_, _, err := runCmd(t, "wrong\n", "import", "--data", filepath.Join(dir, "w"), steam+"sda-1-account-encrypted/manifest.json")
	if err == nil || !strings.Contains(err.Error(), "Wrong password") {
		t.Errorf("wrong password: %v", err)
	}
}
