package web

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/text/language"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/lang"
)

// Languages.
//
// The page speaks the language chat does: the person's /language choice
// (asked of the command language, which keeps it), else what their app
// reports: Telegram's user.language_code in the launch data, or for a /web
// link the browser's Accept-Language; else English. Codes, account names
// and secrets are never translated.

// languager is the person's language as the command language decides it;
// *commands.Handler has it. Without it the page follows the app's
// language alone.
type languager interface {
	Language(ctx context.Context, req commands.Request) lang.Tag
}

// printer is the catalogue in the language of a request from person ("" when
// nobody is known yet) whose app reports hint.
func (s *Server) printer(ctx context.Context, person, platform, hint string) *lang.Printer {
	t := lang.Match(hint)
	if l, ok := s.cfg.Codes.(languager); ok {
		t = l.Language(ctx, commands.Request{Person: person, Platform: platform, Lang: hint})
	}
	return s.cat.Printer(t)
}

// hint is the language the request's app reports: Telegram's language_code
// when it carries launch data, else the browser's first supported
// Accept-Language.
func hint(r *http.Request) string {
	if raw, ok := trimAuth(r.Header.Get("Authorization"), "tma"); ok {
		return launchLanguage(raw)
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

// acceptLanguage is the first language of an Accept-Language header (in
// the order of its q-values) that authbot speaks, "" for none. x/text
// parses the header as RFC 9110 says (q-values, wildcards).
func acceptLanguage(h string) string {
	if h == "" || len(h) > 1024 {
		return ""
	}
	tags, _, err := language.ParseAcceptLanguage(h)
	if err != nil {
		return ""
	}
	for _, t := range tags {
		if got, ok := lang.Parse(t.String()); ok {
			return got.String()
		}
	}
	return ""
}

// pageWords are the page's own texts (app.js, index.html), each the
// catalogue message "web.page."+name. The page gets them in the first
// answer to /api/codes, not in index.html: inside Telegram the page's own
// GET carries nothing about who opens it (the launch data rides in the
// fragment), so only an authenticated answer knows the person's /language
// choice. They are data set with textContent, never markup, and no inline
// script is needed (the CSP allows none).
var pageWords = []string{
	"title", "heading", "search", "search_label", "loading", "footer",
	"copy_label", "copied", "copy_failed", "ask", "new_code", "next_code",
	"reason_placeholder", "reason_label", "send", "asked", "no_answer", "no_code", "noscript",
	"empty", "vault", "yours", "no_codes", "closed", "hidden", "idle_app", "idle_link",
}

// pageStrings renders pageWords for pr. A name or vault the page fills in
// itself is left as the marker {name} / {vault}; the idle time, known
// here, is worded with the language's plural rules.
func pageStrings(pr *lang.Printer, idle time.Duration) map[string]string {
	secs := int(idle / time.Second)
	left := pr.N("web.page.idle_seconds", secs)
	if secs%60 == 0 {
		left = pr.N("web.page.idle_minutes", secs/60)
	}
	out := make(map[string]string, len(pageWords))
	for _, w := range pageWords {
		out[w] = pr.T("web.page."+w, "Name", "{name}", "Vault", "{vault}", "Time", left)
	}
	return out
}
