package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/telegram/telegramtest"
)

// lockedBuffer is a bytes.Buffer serve may write while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var claimLine = regexp.MustCompile(`/start ([A-Z2-7]{4}(?:-[A-Z2-7]{4}){4})`)

// TestServeClaimCode: with a Telegram token and no users, serve prints a
// claim code; a wrong code is refused, the first right one makes its
// sender the admin (who may /invite), the code is single use, the log
// never shows its secret part, and a restart prints no new code.
func TestServeClaimCode(t *testing.T) {
	const token = "123456:claim-test"
	api := telegramtest.New(token)
	defer api.Close()
	api.LongPoll = 200 * time.Millisecond
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	yaml := fmt.Sprintf("data_dir: ./data\ntelegram:\n  token: %q\n  api_url: %s\n", token, api.URL())
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	serve := func(stderr *lockedBuffer) func() {
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			errc <- run(ctx, []string{"serve", "--config", cfg}, strings.NewReader(""), &bytes.Buffer{}, stderr, noEnv)
		}()
		return func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("serve: %v\n%s", err, stderr.String())
			}
		}
	}
	say := func(from int64, text string) string {
		t.Helper()
		n := api.NumCalls()
		api.SendText(telegramtest.Private(from), telegramtest.User{ID: from}, text)
		c, _, ok := api.WaitCall(n, 20*time.Second, telegramtest.Method("sendMessage", from))
		if !ok {
			t.Fatalf("no answer to %q", text)
		}
		return c.Fields["text"]
	}

	var log1 lockedBuffer
	stop := serve(&log1)
	var code string
	for deadline := time.Now().Add(20 * time.Second); code == ""; {
		if m := claimLine.FindStringSubmatch(log1.String()); m != nil {
			code = m[1]
			break
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("no claim code printed:\n%s", log1.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, _, ok := api.WaitCall(0, 20*time.Second, telegramtest.Method("getUpdates", 0)); !ok {
		t.Fatal("serve does not poll")
	}
	if got := say(2002, "/start AAAA-BBBB-CCCC-DDDD-EEEE"); !strings.Contains(got, "claim code is wrong") {
		t.Errorf("wrong code: %q", got)
	}
	if got := say(2001, "/start "+strings.ToLower(code)); !strings.Contains(got, "You are the admin of this bot now") {
		t.Fatalf("right code: %q", got)
	}
	if got := say(2002, "/start "+code); !strings.Contains(got, "claim code is wrong, used or expired") {
		t.Errorf("second use: %q", got)
	}
	if got := say(2001, "/invite bob"); !strings.Contains(got, "Invite for bob") {
		t.Errorf("admin's /invite: %q", got)
	}
	stop()
	out := log1.String()
	secret := code[5:]
	if strings.Count(out, secret) != 2 { // the log line and the stderr text at start, never after
		t.Errorf("the code's secret part appears %d times, want 2 (printed once to log and stderr):\n%s", strings.Count(out, secret), out)
	}
	if !strings.Contains(out, "the bot was claimed") || !strings.Contains(out, code[:4]+"-…") {
		t.Errorf("the log does not say the bot was claimed, with the code's id:\n%s", out)
	}

	var log2 lockedBuffer
	stop = serve(&log2)
	if got := say(2001, "/invite carol"); !strings.Contains(got, "Invite for carol") {
		t.Errorf("after a restart the admin's /invite: %q", got)
	}
	stop()
	if strings.Contains(log2.String(), "/start ") {
		t.Errorf("a claimed bot printed a claim code again:\n%s", log2.String())
	}
}
