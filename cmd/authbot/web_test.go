package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/telegram/telegramtest"
)

// TestServeWebPage: serve with a web section listens, sets the Mini App
// menu button, answers /app with a web_app button and /web with a link
// whose token buys a Secure __Host- session cookie; without the section
// nothing listens.
func TestServeWebPage(t *testing.T) {
	const token = "123456:serve-web-test"
	api := telegramtest.New(token)
	defer api.Close()
	api.LongPoll = 200 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	yaml := fmt.Sprintf("data_dir: ./data\ntelegram:\n  token: %q\n  api_url: %s\nweb:\n  listen: %s\n  public_url: https://codes.example.org\nusers:\n  - {name: alice, telegram: 1001}\n", token, api.URL(), addr)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	var stderr bytes.Buffer
	go func() {
		errc <- run(ctx, []string{"serve", "--config", cfg}, strings.NewReader(""), &bytes.Buffer{}, &stderr, noEnv)
	}()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("serve: %v\n%s", err, stderr.String())
		}
	}()
	if _, _, ok := api.WaitCall(0, 20*time.Second, telegramtest.Method("setChatMenuButton", 0)); !ok {
		t.Fatalf("no setChatMenuButton\n%s", stderr.String())
	}
	var resp *http.Response
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
