package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/internal/testkit/damage"

	"github.com/authbot/authbot/bots/telegram/telegramtest"
	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/storage/bolt"
	"github.com/authbot/authbot/storage/datadir"
)

// TestServeStopsOnDamageFoundAfterStart: serve checks its bbolt file in
// the background (openServeStore). A damaged page that start-up never
// reads is found by that check after serve is up: serve then stops with
// the same core.ErrCorrupt error naming the file that a damaged header
// gives before start, a person's message waiting at Telegram is never
// answered, and the file is byte-for-byte as it was.
func TestServeStopsOnDamageFoundAfterStart(t *testing.T) {
	const token = "123456:damage-test"
	api := telegramtest.New(token)
	t.Cleanup(api.Close)
	api.LongPoll = 200 * time.Millisecond
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	yaml := fmt.Sprintf("data_dir: ./data\ntelegram:\n  token: %q\n  api_url: %s\nusers:\n  - {name: alice, telegram: 1001}\n", token, api.URL())
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, config.Env(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := openApp(ctx, cfg, newLogger(&bytes.Buffer{}, cfg.Log), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Add(ctx, "alice", core.NewAccount{Label: "github", Key: otp.Key{Issuer: "GitHub",
		Params: otp.Params{Kind: otp.TOTP, Secret: []byte("12345678901234567890"), Algorithm: otp.SHA1, Digits: 6, Period: 30}}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// Records of a kind core never reads, one of them marked, big enough
	// to fill pages of their own; then the marked one's page is smashed.
	path := datadir.At(cfg.DataDir).DB()
	marker := bytes.Repeat([]byte("DAMAGED!"), 128)
	s, err := bolt.Open(ctx, path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx core.Tx) error {
		for i := range 20 {
			v := bytes.Repeat([]byte{byte(i)}, 1000)
			if i == 10 {
				v = marker
			}
			if err := tx.Put(core.Ref{Kind: "zz-damage-test", Owner: "o", ID: fmt.Sprint("r", i)}, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	smashPageWith(t, path, marker)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	api.SendText(telegramtest.Private(1001), telegramtest.User{ID: 1001}, "/code github")
	log := &lockedBuffer{}
	runCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = run(runCtx, []string{"serve", "--config", cfgPath}, strings.NewReader(""), &bytes.Buffer{}, log, noEnv)
	// The check may end before or after serve is up (start-up reads go
	// ahead beside it; once it has failed they are refused too): either
	// way serve stops with the check's error, not another's wrapping.
	if !errors.Is(err, core.ErrCorrupt) || !strings.HasPrefix(err.Error(), path+": database is corrupt: ") {
		t.Fatalf("serve = %v, want the corrupt-database error naming %s\n%s", err, path, log.String())
	}
	t.Logf("serve: %v", err)
	if sent := api.CallsTo("sendMessage"); len(sent) > 0 {
		t.Errorf("serve answered from the damaged file: %+v", sent)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("serve wrote to the damaged file")
	}
}

// smashPageWith overwrites the memory page (4 KiB) of path holding marker
// with random bytes: the bbolt page holding it, whether bbolt's pages are
// that size or smaller.
func smashPageWith(t *testing.T, path string, marker []byte) {
	damage.SmashPage(t, path, marker, os.Getpagesize())
}
