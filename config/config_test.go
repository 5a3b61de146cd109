package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExampleConfigIsValid(t *testing.T) {
	env := map[string]string{EnvTelegramToken: "123:abc"}
	c, err := Load("../config.example.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Telegram.Token != "123:abc" || !c.Telegram.Enabled() {
		t.Errorf("env override not applied: %+v", c.Telegram)
	}
	if !filepath.IsAbs(c.DataDir) {
		t.Errorf("data_dir %q should be made absolute relative to the file", c.DataDir)
	}
	if s := c.String(); strings.Contains(s, "123:abc") || !strings.Contains(s, "<redacted>") {
		t.Errorf("String() leaks the token:\n%s", s)
	}
}

func TestParseErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "telegarm:\n  token: x\n", "telegarm"},
		// Decoding the checked tree has no KnownFields: checkKeys alone
		// refuses unknown keys, at every depth.
		{"unknown key of a person", "users:\n  - {name: a, telegram: 1}\n  - {name: b, telegarm: 2}\n", "users[1].telegarm: unknown key; did you mean telegram?"},
		{"unknown key under a pointer", "telegram:\n  webhook: {listen: \":8443\", urll: \"https://x.example\"}\n", "telegram.webhook.urll"},
		{"unknown key in a rate", "rate_limits:\n  code: {per_minute: 5, brust: 3}\n", "rate_limits.code.brust"},
		{"not a person", "users:\n  - alice\n", "users"},
		{"telegram id as a name", "users:\n  - {name: a, telegram: \"@alice\"}\n", "users[0].telegram: want a numeric id"},
		{"bad level", "log:\n  level: loud\n", "log.level"},
		{"bad duration", "codes:\n  delete_after: soon\n", "not a duration"},
		{"bad token", "telegram:\n  token: nocolon\nusers: [{name: a, telegram: 1}]\n", "telegram.token"},
		{"no users, matrix only", "matrix:\n  homeserver: https://m.example.org\n  user_id: \"@bot:example.org\"\n  password: x\n", "users"},
		{"user without id", "users:\n  - name: bob\n", "users[0]"},
		{"duplicate name", "users:\n  - {name: bob, telegram: 1}\n  - {name: Bob, telegram: 2}\n", "users[1].name"},
		{"bad matrix id", "users:\n  - {name: bob, matrix: bob}\n", "users[0].matrix"},
		{"matrix without password", "matrix:\n  homeserver: http://localhost:8008\n  user_id: \"@b:localhost\"\nusers: [{name: a, telegram: 1}]\n", "matrix.password"},
		{"bad api url", "telegram:\n  api_url: ftp://x\n", "telegram.api_url"},
		{"webhook without secret", "telegram:\n  token: \"1:x\"\n  webhook: {listen: \":8443\", url: \"https://x.example\"}\nusers: [{name: a, telegram: 1}]\n", "telegram.webhook.secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one naming %q", err, tt.want)
			}
		})
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "tok")
	if err := os.WriteFile(tok, []byte("42:secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]byte("telegram:\n  token_file: "+tok+"\nusers: [{name: a, telegram: 1}]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Telegram.Token != "42:secret" {
		t.Errorf("token = %q", c.Telegram.Token)
	}
	_, err = Parse([]byte("telegram:\n  token_file: "+filepath.Join(dir, "missing")+"\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "telegram.token_file") {
		t.Errorf("missing file error = %v", err)
	}
}
