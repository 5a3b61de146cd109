package web_test

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/web/webtest"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
)

// rfcSecret is RFC 6238's SHA1 test secret.
var rfcSecret = []byte("12345678901234567890")

type codesJSON struct {
	Accounts []struct {
		ID            string `json:"id"`
		Name          string `json:"name"`
		Vault         string `json:"vault"`
		Kind          string `json:"kind"`
		Code          string `json:"code"`
		Period        int    `json:"period"`
		SecondsLeft   int    `json:"seconds_left"`
		MsLeft        int64  `json:"ms_left"`
		NeedsApproval bool   `json:"needs_approval"`
	} `json:"accounts"`
	Idle  int    `json:"idle"`
	Error string `json:"error"`
}

// post sends what the page sends: a same-origin JSON POST.
func post(t *testing.T, c *http.Client, r *webtest.Rig, path, auth, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if auth != "" {
		req.Header.Set("Authorization", "tma "+auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func codes(t *testing.T, c *http.Client, r *webtest.Rig, auth string) (int, codesJSON) {
	t.Helper()
	resp, b := post(t, c, r, "/api/codes", auth, "{}")
	var out codesJSON
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("codes: %v in %q", err, b)
	}
	return resp.StatusCode, out
}

func TestCodesWithInitData(t *testing.T) {
	r := webtest.New(t, webtest.Options{})
	r.Clock.Set(time.Unix(1111111109, 0)) // an RFC 6238 test time
	r.Add("alice", "rfc", otp.Params{Kind: otp.TOTP, Algorithm: otp.SHA1, Digits: 8, Period: 30, Secret: rfcSecret}, "")
	r.Add("alice", "rfc256", otp.Params{Kind: otp.TOTP, Algorithm: otp.SHA256, Digits: 8, Period: 30, Secret: []byte("12345678901234567890123456789012")}, "")
	r.Add("alice", "minute", otp.Params{Kind: otp.TOTP, Algorithm: otp.SHA1, Digits: 6, Period: 60, Secret: []byte("another secret!!")}, "")
	r.Add("alice", "counter", webtest.HOTP([]byte("counter secret!!"), 0), "")
	now := r.Clock.Now()
	st, got := codes(t, http.DefaultClient, r, r.InitData(1001, now))
	if st != http.StatusOK {
		t.Fatalf("status %d: %s", st, got.Error)
	}
	want := map[string]string{"rfc": "07081804", "rfc256": "68084774"}
	m, _ := totp.GenerateCodeCustom(base32.StdEncoding.EncodeToString([]byte("another secret!!")), now, totp.ValidateOpts{Period: 60, Digits: 6})
	want["minute"] = m
	for _, a := range got.Accounts {
		switch a.Name {
		case "counter":
			if a.Code != "" || a.Kind != "hotp" {
				t.Errorf("HOTP account got a code without asking: %+v", a)
			}
		default:
			if a.Code != want[a.Name] {
				t.Errorf("%s: code %q, want %q", a.Name, a.Code, want[a.Name])
			}
		}
	}
	if len(got.Accounts) != 4 {
		t.Fatalf("%d accounts, want 4", len(got.Accounts))
	}
	// 1111111109 is 29 s into its 30 s step and its 60 s one: 1 s and 31 s left.
	for _, a := range got.Accounts {
		if a.Name == "rfc" && (a.SecondsLeft != 1 || a.MsLeft != 1000 || a.Period != 30) {
			t.Errorf("rfc: left %d s / %d ms, period %d", a.SecondsLeft, a.MsLeft, a.Period)
		}
		if a.Name == "minute" && (a.SecondsLeft != 31 || a.Period != 60) {
			t.Errorf("minute: left %d s, period %d", a.SecondsLeft, a.Period)
		}
	}
	// Every code shown is in the audit log, as with /code.
	if err := r.Svc.FlushAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	events, err := r.Svc.MyAudit(context.Background(), "alice", 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Type == core.EventCode && e.Platform == commands.WebPlatform {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d web code events in the audit log, want 3 (HOTP gives none until asked)", n)
	}
}

func TestRefusedInitData(t *testing.T) {
	r := webtest.New(t, webtest.Options{})
	r.Add("alice", "rfc", webtest.TOTP(rfcSecret), "")
	now := r.Clock.Now()
	good := r.InitData(1001, now)
	forged := strings.Replace(good, "1001", "1002", 1) // bob's id, alice's signature
	tests := []struct {
		name, data string
	}{
		{"forged user", forged},
		{"bad hash", good[:len(good)-2] + "00"},
		{"stale", r.InitData(1001, now.Add(-2*time.Hour))},
		{"future", r.InitData(1001, now.Add(time.Hour))},
		{"not a person", r.InitData(4242, now)},
		{"other bot", func() string {
			d := r.InitData(1001, now)
			return strings.Replace(d, "query_id=AAH-test", "query_id=AAH-tesu", 1)
		}()},
		{"empty", ""},
		{"garbage", "%%%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth := tt.data
			if auth == "" {
				auth = " "
			}
			resp, b := post(t, http.DefaultClient, r, "/api/codes", auth, "{}")
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
			if strings.Contains(string(b), `"code"`) || strings.Contains(string(b), "accounts") {
				t.Fatalf("refusal carries codes: %s", b)
			}
		})
	}
	st, _ := codes(t, http.DefaultClient, r, good)
	if st != http.StatusOK {
		t.Fatalf("good launch data refused: %d", st)
	}
}

func TestSameSiteAndHeaders(t *testing.T) {
	r := webtest.New(t, webtest.Options{})
	auth := r.InitData(1001, r.Clock.Now())
	for _, tt := range []struct {
		name, site, origin, ctype string
		want                      int
	}{
		{"cross-site", "cross-site", "", "application/json", http.StatusForbidden},
		{"same-site other origin", "same-site", "", "application/json", http.StatusForbidden},
		{"no headers", "", "", "application/json", http.StatusForbidden},
		{"old browser, our origin", "", r.URL, "application/json", http.StatusOK},
		{"old browser, other origin", "", "https://evil.example", "application/json", http.StatusForbidden},
		{"form post", "same-origin", "", "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, r.URL+"/api/codes", strings.NewReader("{}"))
			req.Header.Set("Content-Type", tt.ctype)
			if tt.site != "" {
				req.Header.Set("Sec-Fetch-Site", tt.site)
			}
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			req.Header.Set("Authorization", "tma "+auth)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	resp, err := http.Get(r.URL + "/api/codes")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /api/codes: %d, want 405", resp.StatusCode)
	}
	resp, err = http.Get(r.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "default-src 'none'", "frame-ancestors https://web.telegram.org"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline script: %q", csp)
	}
	r2, _ := post(t, http.DefaultClient, r, "/api/codes", auth, "{}")
	if cc := r2.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("API Cache-Control %q, want no-store", cc)
	}
}

func TestOneTimeLink(t *testing.T) {
	var used []string
	r := webtest.New(t, webtest.Options{LinkUsed: func(_ context.Context, tag string) { used = append(used, tag) }})
	r.Add("alice", "rfc", webtest.TOTP(rfcSecret), "")
	replies := r.Handler.Handle(context.Background(), commands.Request{Person: "alice", Platform: "matrix", Chat: commands.Private, Text: "/web", DeletesMessages: true, Files: true})
	text := replies[0].PlainText()
	i := strings.Index(text, r.URL+"/#login=")
	if i < 0 {
		t.Fatalf("/web reply has no link: %q", text)
	}
	if replies[0].ExpiresAt.IsZero() || !replies[0].Sensitive {
		t.Errorf("/web reply does not expire or is not sensitive: %+v", replies[0])
	}
	link := strings.Fields(text[i:])[0]
	token := strings.TrimPrefix(link, r.URL+"/#login=")
	if len(token) != 22 { // 128 bits, base64url
		t.Fatalf("token %q is not 128 bits", token)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, _ := post(t, c, r, "/api/login", "", `{"token":"`+token+`"}`)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	if len(used) != 1 || used[0] != replies[0].Tag || replies[0].Tag == "" || strings.Contains(used[0], token) {
		t.Fatalf("used link tags %q, reply tag %q", used, replies[0].Tag)
	}
	ck := resp.Cookies()
	if len(ck) != 1 || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode || ck[0].MaxAge != 600 || ck[0].Path != "/" {
		t.Fatalf("session cookie %+v", ck)
	}
	st, got := codes(t, c, r, "")
	if st != http.StatusOK || len(got.Accounts) != 1 || got.Accounts[0].Code == "" {
		t.Fatalf("codes with the session: %d %+v", st, got)
	}
	// Used once: refused the second time, even by a fresh browser.
	c2 := &http.Client{}
	if resp, _ := post(t, c2, r, "/api/login", "", `{"token":"`+token+`"}`); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("second use: %d, want 401", resp.StatusCode)
	}
	// Expired: a new link, five minutes later.
	link2, _, _, err := r.Server.NewLink(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	r.Clock.Advance(5 * time.Minute)
	if resp, _ := post(t, c2, r, "/api/login", "", `{"token":"`+strings.Split(link2, "#login=")[1]+`"}`); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("expired link: %d, want 401", resp.StatusCode)
	}
	// The session ends after 10 minutes.
	r.Clock.Advance(5 * time.Minute)
	if st, _ := codes(t, c, r, ""); st != http.StatusUnauthorized {
		t.Fatalf("10-minute-old session: %d, want 401", st)
	}
}

func TestLogout(t *testing.T) {
	r := webtest.New(t, webtest.Options{})
	link, _, _, _ := r.Server.NewLink(context.Background(), "alice")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	post(t, c, r, "/api/login", "", `{"token":"`+strings.Split(link, "#login=")[1]+`"}`)
	if st, _ := codes(t, c, r, ""); st != http.StatusOK {
		t.Fatalf("codes: %d", st)
	}
	if resp, _ := post(t, c, r, "/api/logout", "", "{}"); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if st, _ := codes(t, c, r, ""); st != http.StatusUnauthorized {
		t.Fatalf("after logout: %d, want 401", st)
	}
}

// TestRolesAndApproval: a codes-only member gets codes, an approval vault
// shows "ask" without a code, HOTP advances only on request, and the rate
// limit of /code applies.
func TestRolesAndApproval(t *testing.T) {
	var delivered []commands.Reply
	r := webtest.New(t, webtest.Options{
		RateLimits: &commands.RateLimits{Code: commands.Rate{PerMinute: 1, Burst: 4}},
		Deliver:    func(_ context.Context, rs []commands.Reply) { delivered = append(delivered, rs...) },
	})
	ctx := context.Background()
	if _, err := r.Svc.CreateVault(ctx, "alice", "team"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Svc.CreateVault(ctx, "alice", "ops"); err != nil {
		t.Fatal(err)
	}
	r.Add("alice", "team/aws", webtest.TOTP(rfcSecret), "")
	r.Add("alice", "ops/root", webtest.TOTP([]byte("ops secret 12345")), "")
	r.Add("bob", "own", webtest.HOTP(rfcSecret, 0), "")
	for _, v := range []string{"team", "ops"} {
		if _, err := r.Svc.AddMember(ctx, "alice", v, "bob", core.RoleCodesOnly); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Svc.SetApproval(ctx, "alice", "ops", true); err != nil {
		t.Fatal(err)
	}
	bob := r.InitData(1002, r.Clock.Now())
	st, got := codes(t, http.DefaultClient, r, bob)
	if st != http.StatusOK || len(got.Accounts) != 3 {
		t.Fatalf("bob: %d %+v", st, got)
	}
	var hotpID, opsID string
	for _, a := range got.Accounts {
		switch a.Name {
		case "team/aws":
			if a.Code == "" {
				t.Error("codes-only member got no code")
			}
		case "ops/root":
			if a.Code != "" || !a.NeedsApproval {
				t.Errorf("approval vault: %+v", a)
			}
			opsID = a.ID
		case "own":
			hotpID = a.ID
		}
	}
	// HOTP: RFC 4226 counter 0 and 1.
	for _, want := range []string{"755224", "287082"} {
		resp, b := post(t, http.DefaultClient, r, "/api/code", bob, `{"id":"`+hotpID+`"}`)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"code":"`+want+`"`) {
			t.Fatalf("new HOTP code: %d %s, want %s", resp.StatusCode, b, want)
		}
	}
	resp, b := post(t, http.DefaultClient, r, "/api/code", bob, `{"id":"`+opsID+`"}`)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "approval") {
		t.Fatalf("approval vault code: %d %s", resp.StatusCode, b)
	}
	// Burst 4 spent (codes, 2 HOTP, 1 refused): the next is limited.
	resp, b = post(t, http.DefaultClient, r, "/api/codes", bob, "{}")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || strings.Contains(string(b), "accounts") {
		t.Fatalf("over the limit: %d %s", resp.StatusCode, b)
	}
	r.Clock.Advance(time.Minute)
	resp, b = post(t, http.DefaultClient, r, "/api/approval", bob, `{"id":"`+opsID+`","reason":"deploy fix"}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "asked the admins") {
		t.Fatalf("ask for approval: %d %s", resp.StatusCode, b)
	}
	if len(delivered) != 1 || delivered[0].To != "alice" || !strings.Contains(delivered[0].PlainText(), "deploy fix") {
		t.Fatalf("admins' request: %+v", delivered)
	}
	for _, bad := range []string{`{"id":"zz"}`, `{"id":"` + opsID + ` x"}`, `{"id":"#` + opsID + `"}`, `not json`} {
		if resp, _ := post(t, http.DefaultClient, r, "/api/code", bob, bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, resp.StatusCode)
		}
	}
}

func TestAppAndWebCommands(t *testing.T) {
	r := webtest.New(t, webtest.Options{})
	rep := r.Handler.Handle(context.Background(), commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Private, Text: "/app", Buttons: true, DeletesMessages: true, Files: true, MiniApp: true})
	// The rig serves http: Telegram would refuse it, and /app says so.
	if !strings.Contains(rep[0].PlainText(), "https") {
		t.Fatalf("/app over http: %q", rep[0].PlainText())
	}
	rep = r.Handler.Handle(context.Background(), commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Group, Text: "/web", Buttons: true, DeletesMessages: true, Files: true, MiniApp: true})
	if strings.Contains(rep[0].PlainText(), "login=") {
		t.Fatalf("/web in a group gave a link: %q", rep[0].PlainText())
	}
}
