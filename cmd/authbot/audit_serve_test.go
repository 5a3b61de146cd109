package main

import (
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
	s := serveTelegram(t, "123456:audit-serve-test", 200*time.Millisecond, "")
	api, stderr, cfg, dir := s.api, s.log, s.cfg, s.dir
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
