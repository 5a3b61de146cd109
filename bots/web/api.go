package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/lang"
)

//go:embed assets
var assets embed.FS

// cookieName is the session cookie. The __Host- prefix (https only) makes
// browsers refuse it unless it is Secure, host-only and for path /.
const (
	cookieSecure = "__Host-authbot"
	cookiePlain  = "authbot"
)

func (s *Server) cookieName() string {
	if s.secure {
		return cookieSecure
	}
	return cookiePlain
}

// csp allows scripts, styles and requests from this origin only: no inline
// script or style, no plug-ins, no forms, no base tag; the page may only be
// framed by Telegram's web clients (the desktop and mobile apps use a web
// view, not a frame).
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors https://web.telegram.org"

// Handler serves the page and its API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	files := http.FileServerFS(static)
	page := template.Must(template.ParseFS(static, "index.html"))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		// First words in the browser's language (nobody is known yet: inside
		// Telegram the launch data rides in the fragment); app.js switches
		// to the person's choice with the first codes.
		pr := s.cat.Printer(lang.Match(acceptLanguage(r.Header.Get("Accept-Language"))))
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Vary", "Accept-Language")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := page.Execute(w, struct {
			Lang string
			S    map[string]string
		}{pr.Tag().String(), pageStrings(pr, s.cfg.Idle)}); err != nil {
			s.log.Warn("web: page not written", "err", err)
		}
	})
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) { files.ServeHTTP(w, r) })
	mux.HandleFunc("GET /app.css", func(w http.ResponseWriter, r *http.Request) { files.ServeHTTP(w, r) })
	mux.HandleFunc("POST /api/codes", s.api(s.apiCodes))
	mux.HandleFunc("POST /api/code", s.api(s.apiCode))
	mux.HandleFunc("POST /api/approval", s.api(s.apiApproval))
	mux.HandleFunc("POST /api/logout", s.api(s.apiLogout))
	mux.HandleFunc("POST /api/login", s.sameSite(s.apiLogin))
	return headers(mux)
}

// headers sets what every answer carries.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// maxBody bounds a request body: the largest is an approval reason.
const maxBody = 4 << 10

// sameSite refuses requests that did not come from this origin's own
// page: the browser's Sec-Fetch-Site must say same-origin, or, from a
// browser too old to send it, Origin must be ours. With the JSON
// content type required as well, a cross-site form or fetch cannot reach
// a handler with the person's cookie.
func (s *Server) sameSite(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		site := r.Header.Get("Sec-Fetch-Site")
		ok := site == "same-origin" || (site == "" && r.Header.Get("Origin") == s.origin)
		if !ok {
			writeError(w, http.StatusForbidden, s.printer(r.Context(), "", "", hint(r)).T("web.api.not_from_page"))
			return
		}
		if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); ct != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, s.printer(r.Context(), "", "", hint(r)).T("web.api.send_json"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next(w, r)
	}
}

// caller is who an API request comes from.
type caller struct {
	person  string
	session string // the cookie's session id, "" for Telegram launch data
	// pr speaks the person's language.
	pr *lang.Printer
}

// api wraps an API handler: same-site check, then who is asking.
func (s *Server) api(next func(w http.ResponseWriter, r *http.Request, c caller)) http.HandlerFunc {
	return s.sameSite(func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.authenticate(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `tma realm="authbot"`)
			writeError(w, http.StatusUnauthorized, s.printer(r.Context(), "", "", hint(r)).T("web.api.closed"))
			return
		}
		next(w, r, c)
	})
}

func (s *Server) authenticate(r *http.Request) (caller, bool) {
	if raw, ok := trimAuth(r.Header.Get("Authorization"), "tma"); ok {
		user, err := checkInitData(s.tgSecret, raw, s.cfg.Clock.Now(), s.cfg.InitDataMaxAge)
		if err != nil {
			s.log.Info("web: telegram launch data refused", "why", err.Error())
			return caller{}, false
		}
		person, err := s.cfg.PersonFor(r.Context(), "telegram", strconv.FormatInt(user.ID, 10))
		if err != nil {
			s.log.Warn("web: could not look up a telegram user", "err", err)
			return caller{}, false
		}
		if person == "" {
			s.log.Info("web: launch data of a telegram user who is not a person")
			return caller{}, false
		}
		return caller{person: person, pr: s.printer(r.Context(), person, "telegram", user.LanguageCode)}, true
	}
	ck, err := r.Cookie(s.cookieName())
	if err != nil {
		return caller{}, false
	}
	person, ok := s.session(ck.Value)
	if !ok {
		return caller{}, false
	}
	return caller{person: person, session: ck.Value,
		pr: s.printer(r.Context(), person, "web", acceptLanguage(r.Header.Get("Accept-Language")))}, true
}

// account is one account in the page's JSON: never a secret.
type account struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Label  string `json:"label"`
	Vault  string `json:"vault,omitempty"`
	Issuer string `json:"issuer,omitempty"`
	User   string `json:"user,omitempty"`
	Kind   string `json:"kind"`
	Code   string `json:"code,omitempty"`
	// Period and SecondsLeft are whole seconds; MsLeft is exact, for the
	// countdown.
	Period        int   `json:"period,omitempty"`
	SecondsLeft   int   `json:"seconds_left,omitempty"`
	MsLeft        int64 `json:"ms_left,omitempty"`
	NeedsApproval bool  `json:"needs_approval,omitempty"`
}

type codesResponse struct {
	Accounts []account `json:"accounts"`
	// Idle is how many seconds without a touch end the page.
	Idle int `json:"idle"`
	// Lang and Strings (the page's own texts, see pageWords) come when
	// the page asks for them, once, in its first request.
	Lang    string            `json:"lang,omitempty"`
	Strings map[string]string `json:"strings,omitempty"`
}

func toAccount(a *commands.PageAccount, now time.Time) account {
	out := account{ID: a.ID, Name: a.Name, Label: a.Label, Vault: a.Vault, Issuer: a.Issuer, User: a.User,
		Kind: string(a.Kind), Code: a.Code, NeedsApproval: a.NeedsApproval}
	if a.Code != "" && a.Kind != otp.HOTP {
		left := a.ValidUntil.Sub(now)
		out.Period = int(a.Period / time.Second)
		out.MsLeft = left.Milliseconds()
		out.SecondsLeft = int(math.Ceil(left.Seconds()))
	}
	return out
}

func (s *Server) apiCodes(w http.ResponseWriter, r *http.Request, c caller) {
	list, err := s.cfg.Codes.PageCodes(r.Context(), c.person, c.pr.Tag())
	if err != nil {
		s.refuse(w, c.pr, err)
		return
	}
	now := s.cfg.Clock.Now()
	out := codesResponse{Accounts: make([]account, len(list)), Idle: int(s.cfg.Idle / time.Second)}
	var req struct {
		Strings bool `json:"strings"`
	}
	if readJSON(r, &req) == nil && req.Strings {
		out.Lang = c.pr.Tag().String()
		out.Strings = pageStrings(c.pr, s.cfg.Idle)
	}
	for i := range list {
		out.Accounts[i] = toAccount(&list[i], now)
	}
	writeJSON(w, http.StatusOK, out)
}

type idRequest struct {
	ID     string `json:"id"`
	Reason string `json:"reason,omitempty"`
}

func readJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// validID accepts what core's account ids look like (hex), so a request
// cannot smuggle a name query or a reason into "/code #ID".
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

func (s *Server) apiCode(w http.ResponseWriter, r *http.Request, c caller) {
	var req idRequest
	if err := readJSON(r, &req); err != nil || !validID(req.ID) {
		writeError(w, http.StatusBadRequest, c.pr.T("web.api.bad_request"))
		return
	}
	a, err := s.cfg.Codes.PageCode(r.Context(), c.person, c.pr.Tag(), req.ID)
	if err != nil {
		s.refuse(w, c.pr, err)
		return
	}
	writeJSON(w, http.StatusOK, toAccount(&a, s.cfg.Clock.Now()))
}

// maxReason matches what /code keeps of a reason.
const maxReason = 200

func (s *Server) apiApproval(w http.ResponseWriter, r *http.Request, c caller) {
	var req idRequest
	if err := readJSON(r, &req); err != nil || !validID(req.ID) {
		writeError(w, http.StatusBadRequest, c.pr.T("web.api.bad_request"))
		return
	}
	reason := strings.Join(strings.Fields(req.Reason), " ")
	if reason == "" {
		writeError(w, http.StatusBadRequest, c.pr.T("web.api.reason_needed"))
		return
	}
	if len(reason) > maxReason {
		reason = reason[:maxReason]
	}
	replies := s.cfg.Codes.PageAskApproval(r.Context(), c.person, c.pr.Tag(), req.ID, reason)
	var mine []string
	var others []commands.Reply
	for _, rep := range replies {
		if rep.To != "" {
			others = append(others, rep)
		} else {
			mine = append(mine, rep.PlainText())
		}
	}
	if len(others) > 0 && s.cfg.Deliver != nil {
		// The admins' messages go out after this answer's request ends.
		s.cfg.Deliver(context.WithoutCancel(r.Context()), others)
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": strings.Join(mine, "\n")})
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request, c caller) {
	if c.session != "" {
		s.endSession(c.session)
		http.SetCookie(w, s.cookie("", -1))
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) {
	// Nobody is known before the link is spent: the browser's language.
	pr := s.printer(r.Context(), "", "web", acceptLanguage(r.Header.Get("Accept-Language")))
	var req struct {
		Token string `json:"token"`
	}
	if err := readJSON(r, &req); err != nil || req.Token == "" || len(req.Token) > 64 {
		writeError(w, http.StatusBadRequest, pr.T("web.api.link_incomplete"))
		return
	}
	person, ok := s.spendLink(req.Token)
	if !ok {
		writeError(w, http.StatusUnauthorized, pr.T("web.api.link_spent"))
		return
	}
	if s.cfg.LinkUsed != nil {
		s.cfg.LinkUsed(context.WithoutCancel(r.Context()), linkTag(req.Token))
	}
	id, _, err := s.newSession(person)
	if err != nil {
		s.log.Warn("web: no session opened", "err", err)
		writeError(w, http.StatusServiceUnavailable, pr.T("web.api.too_many"))
		return
	}
	http.SetCookie(w, s.cookie(id, int(s.cfg.SessionTTL/time.Second)))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: s.cookieName(), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode}
}

// refuse answers with the command language's sentence.
func (s *Server) refuse(w http.ResponseWriter, pr *lang.Printer, err error) {
	var pe *commands.PageError
	if !errors.As(err, &pe) {
		s.log.Error("web: request failed", "err", err)
		writeError(w, http.StatusInternalServerError, pr.T("web.api.failed"))
		return
	}
	status := http.StatusConflict
	switch {
	case pe.Wait > 0:
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(pe.Wait.Seconds()))))
		status = http.StatusTooManyRequests
	case pe.Approval:
		status = http.StatusForbidden
	case pe.Failed:
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, map[string]any{"error": pe.Message, "approval": pe.Approval})
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
