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

// TestAuditWhileServing: authbot audit reads the log while serve holds
// the database, through serve's backup socket, including the /code entry
// serve still buffered; it leaves no snapshot file behind.
func TestAuditWhileServing(t *testing.T) {
	const token = "123456:audit-serve-test"
	api := telegramtest.New(token)
	defer api.Close()
	api.LongPoll = 200 * time.Millisecond
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	yaml := fmt.Sprintf("data_dir: ./data\ntelegram:\n  token: %q\n  api_url: %s\nusers:\n  - {name: alice, telegram: 1001}\n", token, api.URL())
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	var stderr lockedBuffer
	go func() {
		errc <- run(ctx, []string{"serve", "--config", cfg}, strings.NewReader(""), &lockedBuffer{}, &stderr, noEnv)
	}()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("serve: %v\n%s", err, stderr.String())
		}
	}()
	for _, text := range []string{"/add demo JBSWY3DPEHPK3PXP", "/code demo"} {
		n := api.NumCalls()
		api.SendText(telegramtest.Private(1001), telegramtest.User{ID: 1001}, text)
		if _, _, ok := api.WaitCall(n, 20*time.Second, telegramtest.Method("sendMessage", 1001)); !ok {
			t.Fatalf("no answer to %s\n%s", text, stderr.String())
		}
	}
	out, errOut, err := runCmd(t, "", "audit", "--config", cfg)
	if err != nil {
		t.Fatalf("audit while serving: %v\n%s", err, errOut)
	}
	for _, want := range []string{"alice (telegram) code demo"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit lacks %q:\n%s", want, out)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, "data", ".snapshot-*"))
	if len(left) > 0 {
		t.Errorf("snapshot files left: %v", left)
	}
}
