// Package webtest builds a real web front end for tests: a bbolt file in a
// temporary directory, core's service and the command handler over it, and
// the web server on a loopback port, with a fake clock and helpers that
// play Telegram's part (signed Mini App launch data).
package webtest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/web"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/internal/testkit"
)

// BotToken is the Telegram bot token the rig signs launch data with.
const BotToken = "123456:TEST-token-for-web"

// Clock is the tests' fake clock (testkit.Clock).
type Clock = testkit.Clock

// Options tune the rig.
type Options struct {
	// People maps Telegram user ids to person names (default: 1001 alice,
	// 1002 bob).
	People map[int64]string
	// RateLimits for the handler; nil turns them off.
	RateLimits *commands.RateLimits
	// Idle, LinkTTL, SessionTTL as in web.Config.
	Idle       time.Duration
	LinkTTL    time.Duration
	SessionTTL time.Duration
	// Start is the clock's first time (default 1_800_000_000 s).
	Start time.Time
	// Deliver, if set, gets replies for other people.
	Deliver func(ctx context.Context, replies []commands.Reply)
	// LinkUsed, if set, is told the tags of spent /web links.
	LinkUsed func(ctx context.Context, tag string)
}

// Rig is a running web front end over real storage.
type Rig struct {
	T       testing.TB
	Clock   *Clock
	Svc     *core.Service
	Handler *commands.Handler
	Server  *web.Server
	// URL is the page's address, http://127.0.0.1:PORT.
	URL    string
	People map[int64]string
}

// New starts a rig; everything stops when the test ends.
func New(t testing.TB, o Options) *Rig {
	t.Helper()
	if o.Start.IsZero() {
		o.Start = time.Unix(1_800_000_000, 0)
	}
	if o.People == nil {
		o.People = map[int64]string{1001: "alice", 1002: "bob"}
	}
	// The people are config users of core's directory.
	var users []core.ConfigUser
	for id, name := range o.People {
		users = append(users, core.ConfigUser{Name: name, Identities: []core.Identity{{Platform: "telegram", ID: strconv.FormatInt(id, 10)}}})
	}
	kit := testkit.Service(t, testkit.Options{Start: o.Start, Service: core.ServiceOptions{Users: users}})
	clock, svc := kit.Clock, kit.Svc
	limits := o.RateLimits
	if limits == nil {
		limits = &commands.RateLimits{}
	}
	links := &lateLinks{}
	h := kit.Handler(commands.Options{RateLimits: limits, Web: links})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	srv, err := web.New(web.Config{
		PublicURL: base,
		BotToken:  BotToken,
		PersonFor: func(ctx context.Context, platform, identity string) (string, error) {
			n, err := strconv.ParseInt(identity, 10, 64)
			if platform != "telegram" || err != nil {
				return "", nil
			}
			return o.People[n], nil
		},
		Codes:      h,
		Deliver:    o.Deliver,
		LinkUsed:   o.LinkUsed,
		Clock:      clock,
		Idle:       o.Idle,
		LinkTTL:    o.LinkTTL,
		SessionTTL: o.SessionTTL,
	})
	if err != nil {
		t.Fatal(err)
	}
	links.s = srv
	ts := &httptest.Server{Listener: ln, Config: &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}}
	ts.Start()
	t.Cleanup(ts.Close)
	return &Rig{T: t, Clock: clock, Svc: svc, Handler: h, Server: srv, URL: base, People: o.People}
}

// lateLinks lets the handler be built before the server it links to.
type lateLinks struct{ s *web.Server }

func (l *lateLinks) AppURL() string { return l.s.AppURL() }
func (l *lateLinks) NewLink(ctx context.Context, person string) (string, string, time.Time, error) {
	return l.s.NewLink(ctx, person)
}

// InitData returns launch data for userID signed with BotToken, issued at
// authDate, from a Telegram app set to English.
func (r *Rig) InitData(userID int64, authDate time.Time) string {
	return r.InitDataLang(userID, authDate, "en")
}

// InitDataLang is InitData from a Telegram app whose language_code is code.
func (r *Rig) InitDataLang(userID int64, authDate time.Time, code string) string {
	return web.SignInitData(BotToken, url.Values{
		"query_id":  {"AAH-test"},
		"user":      {`{"id":` + strconv.FormatInt(userID, 10) + `,"first_name":"Test","language_code":` + strconv.Quote(code) + `}`},
		"auth_date": {strconv.FormatInt(authDate.Unix(), 10)},
	})
}

// AppURL is the page's URL as Telegram opens it: launch data and theme in
// the fragment.
func (r *Rig) AppURL(initData, themeJSON string) string {
	v := url.Values{"tgWebAppData": {initData}, "tgWebAppVersion": {"8.0"}, "tgWebAppPlatform": {"web"}}
	if themeJSON != "" {
		v.Set("tgWebAppThemeParams", themeJSON)
	}
	return r.URL + "/#" + v.Encode()
}

// Add stores a TOTP (or other kind) account for person; label "team/x"
// goes to the vault team.
func (r *Rig) Add(person, label string, p otp.Params, issuer string) core.Summary {
	r.T.Helper()
	s, err := r.Svc.Add(context.Background(), person, core.NewAccount{Label: label, Key: otp.Key{Issuer: issuer, Params: p}})
	if err != nil {
		r.T.Fatal(err)
	}
	return s
}

// TOTP is a default TOTP parameter set for secret (raw bytes).
func TOTP(secret []byte) otp.Params {
	p := otp.Default(otp.TOTP)
	p.Secret = secret
	return p
}

// HOTP is a default HOTP parameter set for secret at counter.
func HOTP(secret []byte, counter uint64) otp.Params {
	p := otp.Default(otp.HOTP)
	p.Secret = secret
	p.Counter = counter
	return p
}
