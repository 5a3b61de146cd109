package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/internal/testkit"
)

// TestServeHealthzReportsTelegram: serve's /healthz names the Telegram
// adapter and its last good getUpdates, turns 503 while the Bot API
// fails, and 200 again once it answers.
func TestServeHealthzReportsTelegram(t *testing.T) {
	addr := testkit.FreeAddr(t)
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
