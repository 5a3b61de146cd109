package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/telegram/telegramtest"
)

// TestServeHealthzReportsTelegram: serve's /healthz names the Telegram
// adapter and its last good getUpdates, turns 503 while the Bot API
// fails, and 200 again once it answers.
func TestServeHealthzReportsTelegram(t *testing.T) {
	addr := freeAddr(t)
	s := serveTelegram(t, "123456:healthz-adapter-test", 100*time.Millisecond, fmt.Sprintf("metrics:\n  listen: %s\n", addr))
	api, stderr := s.api, s.log
	healthz := func() (int, string) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	wait := func(code int, want string) {
		t.Helper()
		var got int
		var body string
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if got, body = healthz(); got == code && strings.Contains(body, want) {
				return
			}
		}
		t.Fatalf("/healthz = %d %q, want %d with %q\n%s", got, body, code, want, stderr.String())
	}
	wait(200, "telegram: ok (getUpdates), last ok")
	api.FailWith("getUpdates", 3, 500, "Internal Server Error")
	wait(503, "telegram: failing (getUpdates)")
	wait(200, "telegram: ok (getUpdates)")
}

// TestServeBusyWebhookPort: a taken telegram.webhook.listen stops serve at
// start-up with the address, before any Bot API call.
func TestServeBusyWebhookPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const token = "123456:busy-webhook-test"
	api := telegramtest.New(token)
	defer api.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	yaml := fmt.Sprintf("data_dir: data\ntelegram:\n  token: %q\n  api_url: %q\n  webhook:\n    listen: %q\n    url: https://bot.example.org/hook\n    secret: s3cret-s3cret-s3cret-0123\nusers:\n  - name: alice\n    telegram: 1\n",
		token, api.URL(), ln.Addr().String())
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	err = run(ctx, []string{"serve", "--config", cfg}, strings.NewReader(""), &bytes.Buffer{}, &stderr, noEnv)
	if err == nil || !strings.Contains(err.Error(), "telegram.webhook.listen "+ln.Addr().String()) {
		t.Fatalf("serve err = %v, want the busy address named\n%s", err, stderr.String())
	}
	if n := len(api.Calls()); n != 0 {
		t.Errorf("%d Bot API calls before the port was checked", n)
	}
}
