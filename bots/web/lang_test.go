package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/web/webtest"
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
