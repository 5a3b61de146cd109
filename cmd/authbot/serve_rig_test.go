package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/telegram/telegramtest"
)

// served is an in-process authbot serve against the fake Bot API, as
// the serve tests of this package start it.
type served struct {
	api *telegramtest.Server
	dir string        // holds config.yaml and data/
	cfg string        // the config file
	log *lockedBuffer // serve's stderr
}

// serveTelegram starts the fake Bot API for token (long polls of
// longPoll) and serve over a config with data in ./data, the extra
// top-level YAML sections, and alice as Telegram user 1001. When the test
// ends serve is stopped, and the test fails if serve returned an error;
// then the fake API closes.
func serveTelegram(t *testing.T, token string, longPoll time.Duration, extra string) *served {
	t.Helper()
	s := &served{api: telegramtest.New(token), dir: t.TempDir(), log: &lockedBuffer{}}
	t.Cleanup(s.api.Close)
	s.api.LongPoll = longPoll
	s.cfg = filepath.Join(s.dir, "config.yaml")
	yaml := fmt.Sprintf("data_dir: ./data\ntelegram:\n  token: %q\n  api_url: %s\n%susers:\n  - {name: alice, telegram: 1001}\n", token, s.api.URL(), extra)
	if err := os.WriteFile(s.cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"serve", "--config", s.cfg}, strings.NewReader(""), &lockedBuffer{}, s.log, noEnv)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("serve: %v\n%s", err, s.log.String())
		}
	})
	return s
}
