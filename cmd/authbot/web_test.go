package main

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/telegram/telegramtest"
	"github.com/authbot/authbot/internal/testkit"
)

// TestServeWebPage: serve with a web section listens, sets the Mini App
// menu button, answers /app with a web_app button and /web with a link
// whose token buys a Secure __Host- session cookie; without the section
// nothing listens.
func TestServeWebPage(t *testing.T) {
	addr := testkit.FreeAddr(t)
	s := serveTelegram(t, "123456:serve-web-test", 200*time.Millisecond, fmt.Sprintf("web:\n  listen: %s\n  public_url: https://codes.example.org\n", addr))
	api, stderr := s.api, s.log
	if _, _, ok := api.WaitCall(0, 20*time.Second, telegramtest.Method("setChatMenuButton", 0)); !ok {
		t.Fatalf("no setChatMenuButton\n%s", stderr.String())
	}
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err = http.Get("http://" + addr + "/")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("page: %v\n%s", err, stderr.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("page: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}

	n := api.NumCalls()
	api.SendText(telegramtest.Private(1001), telegramtest.User{ID: 1001}, "/app")
	c, _, ok := api.WaitCall(n, 20*time.Second, telegramtest.Method("sendMessage", 1001))
	if !ok || !strings.Contains(c.Fields["reply_markup"], `"web_app":{"url":"https://codes.example.org/"}`) {
		t.Fatalf("/app: %+v", c.Fields)
	}
	n = api.NumCalls()
	api.SendText(telegramtest.Private(1001), telegramtest.User{ID: 1001}, "/web")
	c, _, ok = api.WaitCall(n, 20*time.Second, telegramtest.Method("sendMessage", 1001))
	m := regexp.MustCompile(`https://codes\.example\.org/#login=([A-Za-z0-9_-]{22})`).FindStringSubmatch(c.Fields["text"])
	if !ok || m == nil {
		t.Fatalf("/web: %q", c.Fields["text"])
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/login", strings.NewReader(`{"token":"`+m[1]+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://codes.example.org")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ck := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != http.StatusNoContent || !strings.HasPrefix(ck, "__Host-authbot=") || !strings.Contains(ck, "Secure") ||
		!strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Strict") {
		t.Fatalf("login: %d, cookie %q", resp.StatusCode, ck)
	}
}
