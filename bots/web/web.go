// Package web serves authbot's page of live codes: a Telegram Mini App
// (opened from the bot's menu button or /app) and the same page behind the
// single-use links /web sends on any platform. It is one more front end of
// the command language in bots/commands: the page asks for codes through
// the same methods /code uses, so roles, rate limits and the audit log are
// those of chat, and it never receives a backup key.
//
// # Who is asking
//
// Every API call proves who it is in one of two ways. From Telegram it
// carries the Mini App's launch data (initData) in the Authorization header,
// checked as Telegram documents it (HMAC-SHA256 keyed by the bot token,
// auth_date within InitDataMaxAge) and mapped to a known person. From a
// /web link it carries a session cookie (HttpOnly, SameSite=Strict, Secure
// behind https, 10 minutes) that the link's single-use token bought.
//
// # Hardening
//
// Assets are embedded (no CDN, no build step), served with a strict
// Content-Security-Policy: scripts and styles only from this origin, no
// inline script, frames only inside Telegram's web clients. Every API call
// is a POST with a JSON body whose Sec-Fetch-Site (or Origin) shows it came
// from this very origin, so no other site can make a browser spend a
// cookie here (no CSRF by construction). API answers are never cached.
package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/lang"
)

// Codes is what the page needs from the command language, its answers
// worded in the language the page decided on; *commands.Handler has it.
type Codes interface {
	PageCodes(ctx context.Context, person string, t lang.Tag) ([]commands.PageAccount, error)
	PageCode(ctx context.Context, person string, t lang.Tag, id string) (commands.PageAccount, error)
	PageAskApproval(ctx context.Context, person string, t lang.Tag, id, reason string) []commands.Reply
}

// Clock tells the time (core.Clock fits).
type Clock interface {
	Now() time.Time
}

// Config is everything the server needs; main fills it from config.Web.
type Config struct {
	// Listen is the address to listen on (Run); PublicURL is the https
	// address people open, behind a TLS reverse proxy.
	Listen    string
	PublicURL string
	// BotToken is the Telegram bot token that signs Mini App launch data;
	// empty turns the Mini App off (links still work).
	BotToken string
	// InitDataMaxAge is how old launch data may be (default 1 hour).
	InitDataMaxAge time.Duration
	// PersonFor returns the person behind a platform identity
	// ("telegram", "42"), "" for none.
	PersonFor func(ctx context.Context, platform, identity string) (string, error)
	// Codes answers the page's requests.
	Codes Codes
	// Deliver, if set, sends replies addressed to other people (approval
	// requests to a vault's admins) through the chat adapters.
	Deliver func(ctx context.Context, replies []commands.Reply)
	// LinkUsed, if set, is told the tag of a /web link once it is spent,
	// so the chat message that carried it is deleted now.
	LinkUsed func(ctx context.Context, tag string)
	Clock    Clock
	Log      *slog.Logger
	// LinkTTL is how long a /web link works (default 5 minutes);
	// SessionTTL how long the session it opens lasts (default 10 minutes);
	// Idle how long the page stays open without a touch (default 2
	// minutes). Tests shorten them.
	LinkTTL    time.Duration
	SessionTTL time.Duration
	Idle       time.Duration
}

// Defaults.
const (
	DefaultInitDataMaxAge = time.Hour
	DefaultLinkTTL        = 5 * time.Minute
	DefaultSessionTTL     = 10 * time.Minute
	DefaultIdle           = 2 * time.Minute
)

// maxOpen bounds the links and sessions held in memory, so a flood of
// /web commands cannot grow them without bound.
const maxOpen = 10000

// Server is the web front end. It is safe for concurrent use.
type Server struct {
	cfg    Config
	log    *slog.Logger
	cat    *lang.Catalog
	origin string // scheme://host of PublicURL
	secure bool   // PublicURL is https: cookies get Secure
	// tgSecret is HMAC-SHA256(key "WebAppData", bot token), the key that
	// signs launch data; nil without a token.
	tgSecret []byte

	mu       sync.Mutex
	links    map[string]grant // single-use link tokens
	sessions map[string]grant // session cookies
}

// grant is a person's right to the page until a time.
type grant struct {
	person  string
	expires time.Time
}

// New checks cfg and builds the server; it does no I/O.
func New(cfg Config) (*Server, error) {
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("web: public URL %q is not an http(s) URL", cfg.PublicURL)
	}
	if cfg.Codes == nil || cfg.PersonFor == nil {
		return nil, errors.New("web: no command handler")
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.InitDataMaxAge <= 0 {
		cfg.InitDataMaxAge = DefaultInitDataMaxAge
	}
	if cfg.LinkTTL <= 0 {
		cfg.LinkTTL = DefaultLinkTTL
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdle
	}
	cat, err := lang.Load()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Log, cat: cat, origin: u.Scheme + "://" + u.Host, secure: u.Scheme == "https",
		links: map[string]grant{}, sessions: map[string]grant{}}
	if cfg.BotToken != "" {
		s.tgSecret = webAppSecret(cfg.BotToken)
	}
	return s, nil
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// AppURL is the page's address, for Telegram's web_app buttons.
func (s *Server) AppURL() string { return s.origin + "/" }

// NewLink returns a single-use link that opens the page as person. The
// token (128 random bits) rides in the URL fragment, which browsers never
// send to a server: it stays out of proxy logs and Referer headers, and a
// chat server that fetches the link for a preview cannot spend it. The
// page's script posts it once and replaces the URL.
func (s *Server) NewLink(ctx context.Context, person string) (link, tag string, expires time.Time, err error) {
	token := randomToken()
	now := s.cfg.Clock.Now()
	exp := now.Add(s.cfg.LinkTTL)
	s.mu.Lock()
	defer s.mu.Unlock()
	sweep(s.links, now)
	if len(s.links) >= maxOpen {
		return "", "", time.Time{}, errors.New("web: too many open links")
	}
	s.links[token] = grant{person: person, expires: exp}
	return s.origin + "/#login=" + token, linkTag(token), exp, nil
}

// linkTag names a link's chat message without the token: a hash, so the
// outbox record that carries it opens nothing.
func linkTag(token string) string {
	sum := sha256.Sum256([]byte("authbot web link|" + token))
	return "web:" + hex.EncodeToString(sum[:12])
}

// randomToken is 128 random bits, base64url.
func randomToken() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // no entropy: nothing is safe
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func sweep(m map[string]grant, now time.Time) {
	for k, g := range m {
		if !now.Before(g.expires) {
			delete(m, k)
		}
	}
}

// spendLink takes a link token: it works once, before it expires.
func (s *Server) spendLink(token string) (string, bool) {
	now := s.cfg.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.links[token]
	delete(s.links, token)
	if !ok || !now.Before(g.expires) {
		return "", false
	}
	return g.person, true
}

// newSession opens a cookie session for person.
func (s *Server) newSession(person string) (string, time.Time, error) {
	id := randomToken()
	now := s.cfg.Clock.Now()
	exp := now.Add(s.cfg.SessionTTL)
	s.mu.Lock()
	defer s.mu.Unlock()
	sweep(s.sessions, now)
	if len(s.sessions) >= maxOpen {
		return "", time.Time{}, errors.New("web: too many open sessions")
	}
	s.sessions[id] = grant{person: person, expires: exp}
	return id, exp, nil
}

func (s *Server) session(id string) (string, bool) {
	now := s.cfg.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.sessions[id]
	if !ok || !now.Before(g.expires) {
		delete(s.sessions, id)
		return "", false
	}
	return g.person, true
}

func (s *Server) endSession(id string) {
	s.mu.Lock()
	delete(s.sessions, id)
	s.mu.Unlock()
}

// Run listens on Config.Listen and serves until ctx is done, then shuts
// down gracefully.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("web: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("web: serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("web: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	return nil
}

// trimAuth cuts the scheme word off an Authorization header value.
func trimAuth(h, scheme string) (string, bool) {
	if len(h) > len(scheme)+1 && strings.EqualFold(h[:len(scheme)], scheme) && h[len(scheme)] == ' ' {
		return strings.TrimSpace(h[len(scheme)+1:]), true
	}
	return "", false
}
