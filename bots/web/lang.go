package web

import (
	"context"
	"net/http"

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
