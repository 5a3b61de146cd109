package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/web/webtest"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/lang"
)

// TestRefusalLanguage: the API's refusals are in the language chat would
// use: the stored /language choice, else Telegram's language_code, else
// the browser's Accept-Language for a /web link, else English.
func TestRefusalLanguage(t *testing.T) {
	r := webtest.New(t, webtest.Options{People: map[int64]string{1001: "alice", 1002: "bob"}})
	// bob chose German in chat; his Telegram app says Russian.
	r.Handler.Handle(context.Background(), commands.Request{Person: "bob", Platform: "telegram", Chat: commands.Private, Text: "/language de"})
	now := r.Clock.Now()
	cat := lang.MustLoad()
	tests := []struct {
		name, path, auth, accept, body string
		status                         int
		want                           lang.Tag
		key                            string
	}{
		{"telegram ru, not a person", "/api/codes", r.InitDataLang(9999, now, "ru"), "", "{}", http.StatusUnauthorized, lang.Russian, "web.api.closed"},
		{"telegram pt-br", "/api/code", r.InitDataLang(1001, now, "pt-br"), "de", `{"id":"XYZ"}`, http.StatusBadRequest, lang.Portuguese, "web.api.bad_request"},
		{"telegram pt", "/api/code", r.InitDataLang(1001, now, "pt"), "", `{"id":"XYZ"}`, http.StatusBadRequest, lang.Portuguese, "web.api.bad_request"},
		{"stored choice over telegram", "/api/code", r.InitDataLang(1002, now, "ru"), "", `{"id":"XYZ"}`, http.StatusBadRequest, lang.German, "web.api.bad_request"},
		{"telegram unknown language", "/api/code", r.InitDataLang(1001, now, "fr"), "tr", `{"id":"XYZ"}`, http.StatusBadRequest, lang.English, "web.api.bad_request"},
		{"link, accept-language", "/api/login", "", "fr-FR, uk;q=0.8, ru;q=0.5", `{"token":"spent-or-never-made"}`, http.StatusUnauthorized, lang.Ukrainian, "web.api.link_spent"},
		{"link, accept-language region", "/api/login", "", "es-MX", `{}`, http.StatusBadRequest, lang.Spanish, "web.api.link_incomplete"},
		{"link, nothing supported", "/api/login", "", "fr, *;q=0.1", `{}`, http.StatusBadRequest, lang.English, "web.api.link_incomplete"},
		{"cookie gone, accept-language", "/api/codes", "", "id", "{}", http.StatusUnauthorized, lang.Indonesian, "web.api.closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, r.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			if tt.auth != "" {
				req.Header.Set("Authorization", "tma "+tt.auth)
			}
			if tt.accept != "" {
				req.Header.Set("Accept-Language", tt.accept)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got struct{ Error string }
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			want := cat.Printer(tt.want).T(tt.key)
			if resp.StatusCode != tt.status || got.Error != want {
				t.Fatalf("%d %q, want %d %q", resp.StatusCode, got.Error, tt.status, want)
			}
			if tt.want != lang.English && want == cat.Printer(lang.English).T(tt.key) {
				t.Fatalf("%s %s is the English text", tt.want, tt.key)
			}
		})
	}
}

// TestPageStrings: the page's own words come once, on request, in the
// person's language, every web.page message of the catalogue, with the
// idle time worded by the language's plural rules.
func TestPageStrings(t *testing.T) {
	cat := lang.MustLoad()
	var plain []string // the catalogue's page words, without the plural parts
	for _, k := range cat.Keys() {
		if name, ok := strings.CutPrefix(k, "web.page."); ok && name != "idle_seconds" && name != "idle_minutes" {
			plain = append(plain, name)
		}
	}
	tests := []struct {
		code     string
		idle     time.Duration
		want     lang.Tag
		idleWord string
	}{
		{"ru", 2 * time.Minute, lang.Russian, "2 минуты"},
		{"ru", 5 * time.Second, lang.Russian, "5 секунд"},
		{"uk", 21 * time.Second, lang.Ukrainian, "21 секунда"},
		{"de", time.Minute, lang.German, "1 Minute"},
		{"id", 90 * time.Second, lang.Indonesian, "90 detik"},
		{"xx", 2 * time.Minute, lang.English, "2 minutes"},
	}
	for _, tt := range tests {
		t.Run(tt.code+" "+tt.idle.String(), func(t *testing.T) {
			r := webtest.New(t, webtest.Options{Idle: tt.idle})
			data := r.InitDataLang(1001, r.Clock.Now(), tt.code)
			_, b := post(t, http.DefaultClient, r, "/api/codes", data, `{"strings":true}`)
			var got struct {
				Lang    string
				Strings map[string]string
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if got.Lang != tt.want.String() || len(got.Strings) != len(plain) {
				t.Fatalf("lang %q with %d strings, want %s with %d (every web.page message)", got.Lang, len(got.Strings), tt.want, len(plain))
			}
			en := cat.Printer(lang.English)
			for _, name := range plain {
				s := got.Strings[name]
				if s == "" || strings.Contains(s, "{{") {
					t.Errorf("%s: %q", name, s)
				}
				if tt.want != lang.English && tt.want != lang.German && s == en.T("web.page."+name, "Name", "{name}", "Vault", "{vault}", "Time", "x") {
					t.Errorf("%s is English: %q", name, s)
				}
			}
			if !strings.Contains(got.Strings["copy_label"], "{name}") || !strings.Contains(got.Strings["vault"], "{vault}") {
				t.Errorf("markers lost: %q %q", got.Strings["copy_label"], got.Strings["vault"])
			}
			for _, k := range []string{"idle_app", "idle_link"} {
				if !strings.Contains(got.Strings[k], tt.idleWord) {
					t.Errorf("%s %q does not say %q", k, got.Strings[k], tt.idleWord)
				}
			}
			// Later refreshes do not carry them.
			if _, b := post(t, http.DefaultClient, r, "/api/codes", data, `{}`); strings.Contains(string(b), `"strings"`) {
				t.Errorf("strings sent unasked: %s", b)
			}
		})
	}
}

// TestAnswersLanguage: the command language's own answers to the page
// (approval needed, rate limited, approval asked) are in the page's
// language too; the admins' request is in theirs.
func TestAnswersLanguage(t *testing.T) {
	var delivered []commands.Reply
	r := webtest.New(t, webtest.Options{
		RateLimits: &commands.RateLimits{Code: commands.Rate{PerMinute: 1, Burst: 2}},
		Deliver:    func(_ context.Context, rs []commands.Reply) { delivered = append(delivered, rs...) },
	})
	ctx := context.Background()
	if _, err := r.Svc.CreateVault(ctx, "alice", "ops"); err != nil {
		t.Fatal(err)
	}
	r.Add("alice", "ops/root", webtest.TOTP([]byte("ops secret 12345")), "")
	if _, err := r.Svc.AddMember(ctx, "alice", "ops", "bob", core.RoleCodesOnly); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Svc.SetApproval(ctx, "alice", "ops", true); err != nil {
		t.Fatal(err)
	}
	r.Handler.Handle(ctx, commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Private, Text: "/language es"})
	bob := r.InitDataLang(1002, r.Clock.Now(), "uk")
	st, got := codes(t, http.DefaultClient, r, bob)
	if st != http.StatusOK || len(got.Accounts) != 1 {
		t.Fatalf("bob: %d %+v", st, got)
	}
	id := got.Accounts[0].ID
	uk := lang.MustLoad().Printer(lang.Ukrainian)
	resp, b := post(t, http.DefaultClient, r, "/api/code", bob, `{"id":"`+id+`"}`)
	if want, _ := json.Marshal(uk.T("web.need_approval", "Vault", "ops")); resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), string(want)) {
		t.Fatalf("approval needed: %d %s, want %s", resp.StatusCode, b, want)
	}
	cyrillic := func(s string) bool {
		return strings.ContainsAny(s, "абвгдеєжзиіїйклмнопрстуфхцчшщьюя")
	}
	resp, b = post(t, http.DefaultClient, r, "/api/codes", bob, "{}")
	if resp.StatusCode != http.StatusTooManyRequests || !cyrillic(string(b)) {
		t.Fatalf("over the limit: %d %s", resp.StatusCode, b)
	}
	r.Clock.Advance(time.Minute)
	resp, b = post(t, http.DefaultClient, r, "/api/approval", bob, `{"id":"`+id+`","reason":"deploy fix"}`)
	if resp.StatusCode != http.StatusOK || !cyrillic(string(b)) || strings.Contains(string(b), "asked the admins") {
		t.Fatalf("ask for approval: %d %s", resp.StatusCode, b)
	}
	if len(delivered) != 1 || delivered[0].To != "alice" || cyrillic(delivered[0].PlainText()) || !strings.Contains(delivered[0].PlainText(), "deploy fix") {
		t.Fatalf("admins' request, in alice's Spanish: %+v", delivered)
	}
}

// TestPageFirstWords: the page itself comes in the browser's language
// (its <html lang>, heading, noscript), before anyone is known.
func TestPageFirstWords(t *testing.T) {
	r := webtest.New(t, webtest.Options{})
	cat := lang.MustLoad()
	for _, tt := range []struct {
		accept string
		want   lang.Tag
	}{{"tr-TR,tr;q=0.9,en;q=0.8", lang.Turkish}, {"pt-BR", lang.Portuguese}, {"", lang.English}, {"zh-CN", lang.English}} {
		req, err := http.NewRequest(http.MethodGet, r.URL+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if tt.accept != "" {
			req.Header.Set("Accept-Language", tt.accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		p := cat.Printer(tt.want)
		page := string(b)
		for _, want := range []string{`<html lang="` + tt.want.String() + `">`, ">" + p.T("web.page.heading") + "<",
			">" + p.T("web.page.noscript") + "<", ">" + p.T("web.page.loading") + "<"} {
			if !strings.Contains(page, want) {
				t.Errorf("%q: page lacks %q:\n%s", tt.accept, want, page)
			}
		}
		if resp.Header.Get("Vary") != "Accept-Language" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%q: headers %v", tt.accept, resp.Header)
		}
	}
}
