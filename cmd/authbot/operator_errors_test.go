package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/telegram/telegramtest"
)

// TestUsageErrorsArePrinted: exit status 2 never comes without a message
// and the command's usage line.
func TestUsageErrorsArePrinted(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"healthcheck", "extra"}, []string{"usage:", "authbot healthcheck"}},
		{[]string{"backup", "--data", "a", "--config", "b", "--out", "x"}, []string{"give --data or --config, not both", "authbot backup"}},
		{[]string{"audit", "--nosuchflag"}, []string{"nosuchflag", "authbot audit"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, stderr, err := runCmd(t, "", tt.args...)
			if !errors.Is(err, errUsage) {
				t.Fatalf("err = %v, want a usage error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
		})
	}
}

// TestMissingMasterKeyRefused: a database whose master.key went missing is
// never given a new key.
func TestMissingMasterKeyRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if _, stderr, err := runCmd(t, "/add demo JBSWY3DPEHPK3PXP\n", "chat", "--data", dir); err != nil {
		t.Fatalf("chat: %v\n%s", err, stderr)
	}
	key := filepath.Join(dir, "master.key")
	if err := os.Remove(key); err != nil {
		t.Fatal(err)
	}
	_, _, err := runCmd(t, "/list\n", "chat", "--data", dir)
	if err == nil || !strings.Contains(err.Error(), "master.key is missing") {
		t.Fatalf("err = %v, want a refusal naming master.key", err)
	}
	if _, err := os.Stat(key); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a new master.key was made (stat: %v)", err)
	}
}

// TestFailedStartCreatesNothing: a config that does not validate leaves no
// data dir and no master key behind.
func TestFailedStartCreatesNothing(t *testing.T) {
	base := t.TempDir()
	cfg := filepath.Join(base, "config.yaml")
	yaml := "data_dir: data\ntelegram:\n  token: \"1:abc\"\nusers:\n  - name: alice\n    telegram: 1\nbackup: {dir: b, every: 1h, keep: 2, recipient: age1nope}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runCmd(t, "", "serve", "--config", cfg)
	if err == nil || !strings.Contains(err.Error(), "backup.recipient") {
		t.Fatalf("serve err = %v, want backup.recipient named\n%s", err, stderr)
	}
	if strings.Contains(stderr, "serving") {
		t.Errorf("serve said serving before failing: %s", stderr)
	}
	if _, err := os.Stat(filepath.Join(base, "data")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir created by a failed start (stat: %v)", err)
	}
	// A passphrase file that cannot be read fails before anything is made.
	yaml = strings.Replace(yaml, "recipient: age1nope", "passphrase_file: /nonexistent/pass", 1)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd(t, "", "serve", "--config", cfg); err == nil || !strings.Contains(err.Error(), "backup.passphrase_file") {
		t.Fatalf("serve err = %v, want backup.passphrase_file named", err)
	}
	if _, err := os.Stat(filepath.Join(base, "data")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir created by a failed start (stat: %v)", err)
	}
}

// TestOfflineCommandsNeedNoChatSecrets: audit and backup run from a config
// whose Matrix password and Telegram token files are not there.
func TestOfflineCommandsNeedNoChatSecrets(t *testing.T) {
	base := t.TempDir()
	data := filepath.Join(base, "data")
	if _, stderr, err := runCmd(t, "/add demo JBSWY3DPEHPK3PXP\n", "chat", "--data", data); err != nil {
		t.Fatalf("chat: %v\n%s", err, stderr)
	}
	cfg := filepath.Join(base, "config.yaml")
	yaml := "data_dir: data\ntelegram:\n  token_file: /nonexistent/token\nmatrix:\n  homeserver: https://matrix.example.org\n  user_id: \"@bot:example.org\"\n  password_file: /nonexistent/pw\nusers:\n  - name: alice\n    matrix: \"@alice:example.org\"\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runCmd(t, "", "serve", "--config", cfg); err == nil {
		t.Fatalf("serve without secrets started\n%s", stderr)
	}
	if _, stderr, err := runCmd(t, "", "audit", "--config", cfg); err != nil {
		t.Fatalf("audit: %v\n%s", err, stderr)
	}
	pass := filepath.Join(base, "pass")
	if err := os.WriteFile(pass, []byte("correct horse battery staple\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(base, "b.age")
	if _, stderr, err := runCmd(t, "", "backup", "--config", cfg, "--passphrase-file", pass, "--out", out); err != nil {
		t.Fatalf("backup: %v\n%s", err, stderr)
	}
}

// TestBackupRefusals: --out never replaces an existing backup, and a
// passphrase file others can read is refused like master.key.
func TestBackupRefusals(t *testing.T) {
	base := t.TempDir()
	data := filepath.Join(base, "data")
	if _, stderr, err := runCmd(t, "/add demo JBSWY3DPEHPK3PXP\n", "chat", "--data", data); err != nil {
		t.Fatalf("chat: %v\n%s", err, stderr)
	}
	pass := filepath.Join(base, "pass")
	if err := os.WriteFile(pass, []byte("correct horse battery staple\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(base, "b.age")
	_, _, err := runCmd(t, "", "backup", "--data", data, "--passphrase-file", pass, "--out", out)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable passphrase: err = %v, want a chmod 600 refusal", err)
	}
	if err := os.Chmod(pass, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, []byte("the only good backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = runCmd(t, "", "backup", "--data", data, "--passphrase-file", pass, "--out", out)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("existing --out: err = %v, want a refusal", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "the only good backup" {
		t.Errorf("existing backup was changed: %q", b)
	}
}

// TestBusyPortStopsServe: a taken listen address (metrics.listen,
// telegram.webhook.listen) stops serve at start-up with the address in the
// message; a taken webhook port is found before any Bot API call.
func TestBusyPortStopsServe(t *testing.T) {
	tests := []struct {
		name     string
		telegram string // more of the telegram section, %[1]q the taken address
		top      string // more top-level sections, %[1]q the taken address
		want     string // in the error, %[1]s the address
		noCalls  bool   // no Bot API call before the port was checked
	}{
		{name: "metrics", top: "metrics:\n  listen: %[1]q\n", want: "%[1]s"},
		{name: "webhook", telegram: "  webhook:\n    listen: %[1]q\n    url: https://bot.example.org/hook\n    secret: s3cret-s3cret-s3cret-0123\n",
			want: "telegram.webhook.listen %[1]s", noCalls: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			addr := ln.Addr().String()
			token := "123456:busy-" + tt.name + "-test"
			api := telegramtest.New(token)
			defer api.Close()
			cfg := filepath.Join(t.TempDir(), "config.yaml")
			fill := func(section string) string { // Sprintf of "" would add %!(EXTRA …)
				if section == "" {
					return ""
				}
				return fmt.Sprintf(section, addr)
			}
			yaml := fmt.Sprintf("data_dir: data\ntelegram:\n  token: %q\n  api_url: %q\n", token, api.URL()) +
				fill(tt.telegram) + fill(tt.top) + "users:\n  - name: alice\n    telegram: 1\n"
			if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var stderr bytes.Buffer
			err = run(ctx, []string{"serve", "--config", cfg}, strings.NewReader(""), &bytes.Buffer{}, &stderr, noEnv)
			if want := fmt.Sprintf(tt.want, addr); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("serve err = %v, want %q named\n%s", err, want, stderr.String())
			}
			if n := len(api.Calls()); tt.noCalls && n != 0 {
				t.Errorf("%d Bot API calls before the port was checked", n)
			}
		})
	}
}

// TestHealthcheckWithConfig: the container's health check (healthcheck
// --config, no metrics section) fails before serve is up and passes while
// it runs; AUTHBOT_DATA_DIR places the data as the Dockerfile sets it.
func TestHealthcheckWithConfig(t *testing.T) {
	const token = "123456:healthcheck-test"
	api := telegramtest.New(token)
	defer api.Close()
	base := t.TempDir()
	data := filepath.Join(base, "volume")
	cfg := filepath.Join(base, "config.yaml")
	yaml := fmt.Sprintf("data_dir: ./elsewhere\ntelegram:\n  token: %q\n  api_url: %q\nusers:\n  - name: alice\n    telegram: 1\n", token, api.URL())
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == "AUTHBOT_DATA_DIR" {
			return data
		}
		return ""
	}
	check := func() error {
		return run(context.Background(), []string{"healthcheck", "--config", cfg}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, getenv)
	}
	if err := check(); err == nil || !strings.Contains(err.Error(), "not serving") {
		t.Fatalf("healthcheck before serve: %v, want not serving", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"serve", "--config", cfg}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, getenv)
	}()
	defer func() { cancel(); <-errc }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := check()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthcheck while serving: %v", err)
		}
		select {
		case err := <-errc:
			t.Fatalf("serve stopped: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if _, err := os.Stat(filepath.Join(data, "authbot.db")); err != nil {
		t.Errorf("AUTHBOT_DATA_DIR not used: %v", err)
	}
}

// TestDockerfileImagesPinned: every base image names an exact version
// (or digest), never a moving tag.
func TestDockerfileImagesPinned(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	pinned := regexp.MustCompile(`^FROM (scratch|\S+:\d+\.\d+\.\d+\S*|\S+@sha256:[0-9a-f]{64})( AS \S+)?$`)
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "FROM ") {
			n++
			if !pinned.MatchString(l) {
				t.Errorf("base image not pinned to a version: %s", l)
			}
		}
	}
	if n == 0 {
		t.Fatal("no FROM line")
	}
}
