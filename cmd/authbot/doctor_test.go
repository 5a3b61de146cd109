package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbot/authbot/bots/telegram/telegramtest"
)

// TestDoctor: against the fake Bot API, a good setup passes every check;
// each mistake fails its own line with a fix and a non-zero exit.
func TestDoctor(t *testing.T) {
	const token = "123456:doctor-test"
	api := telegramtest.New(token)
	defer api.Close()
	base := t.TempDir()
	data := filepath.Join(base, "data")
	// A real data dir: chat creates the key and the database.
	if _, stderr, err := runCmd(t, "/add demo JBSWY3DPEHPK3PXP\n", "chat", "--data", data); err != nil {
		t.Fatalf("chat: %v\n%s", err, stderr)
	}
	write := func(name, yaml string, mode os.FileMode) string {
		p := filepath.Join(base, name)
		if err := os.WriteFile(p, []byte(yaml), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := fmt.Sprintf("data_dir: %s\ntelegram:\n  token: %q\n  api_url: %s\nbackup:\n  dir: %s\n  every: 24h\n  keep: 3\n  recipient: age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj\nusers:\n  - {name: alice, telegram: 1001}\n",
		data, token, api.URL(), base)
	wrongKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	tests := []struct {
		name, yaml string
		mode       os.FileMode
		env        map[string]string
		wantFail   []string // check names that must fail
		wantOK     []string
	}{
		{"all good", good, 0o600, nil, nil,
			[]string{"ok    config:", "ok    master key: opens the database", "ok    telegram token: getMe answers: the bot is @", "ok    clock: within", "ok    backup dir:", "ok    free disk:", "all checks passed"}},
		{"config readable by others", good, 0o644, nil, []string{"FAIL  permissions: config"}, []string{"fix: chmod 0600"}},
		{"wrong token", strings.Replace(good, token, "123456:not-the-token", 1), 0o600, nil, []string{"FAIL  telegram token: the Bot API refused the token"}, []string{"@BotFather"}},
		{"wrong master key", good, 0o600, map[string]string{"AUTHBOT_MASTER_KEY": wrongKey}, []string{"FAIL  master key: the master key does not open this database"}, nil},
		{"backup dir missing", strings.Replace(good, "  dir: "+base, "  dir: "+filepath.Join(base, "nope"), 1), 0o600, nil, []string{"FAIL  backup dir:"}, nil},
		{"bad config", "telgram: {}\n", 0o600, nil, []string{"FAIL  config:"}, []string{"did you mean telegram"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := write(fmt.Sprintf("config%d.yaml", i), tt.yaml, tt.mode)
			var out, errb bytes.Buffer
			getenv := func(k string) string { return tt.env[k] }
			err := run(context.Background(), []string{"doctor", "--config", cfg}, strings.NewReader(""), &out, &errb, getenv)
			if (err != nil) != (len(tt.wantFail) > 0) {
				t.Errorf("err = %v\n%s", err, out.String())
			}
			for _, w := range append(tt.wantFail, tt.wantOK...) {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if strings.Contains(out.String()+errb.String(), token) {
				t.Errorf("the token was printed:\n%s", out.String())
			}
		})
	}
}
