// Package telegram is authbot's Telegram adapter: it receives updates from
// the Bot API (long polling by default, or a webhook), hands each message to
// the command language in bots/commands, and renders the replies the
// Telegram way: HTML with <code> spans a tap copies, inline keyboards,
// photos and documents, messages that are edited when their code expires and
// deleted when they expire. It is transport only: it parses no commands.
//
// # Who is served
//
// Only the bot's people: the handler, a commands.Directory, says who a
// Telegram user id is (core's people directory: config users and people
// added at runtime). Anyone else gets one short refusal that tells them their own user id, and
// nothing is stored for them. Codes and secrets only go to private chats:
// the handler refuses in groups, and the adapter never sends a Sensitive
// reply outside a private chat (a second lock); group answers carry a button
// that opens the private chat.
//
// # Delivery across crashes
//
// go-telegram/bot's own poller confirms an update to Telegram (by asking for
// the next offset) as soon as it is queued, before a handler has run, so a
// crash loses it. This package polls getUpdates itself and only ever asks
// for offset = the lowest update id not yet fully handled. Telegram keeps
// unconfirmed updates (up to 24 hours), so after a crash or kill -9 the
// updates that were being handled are fetched and handled again:
// at-least-once instead of at-most-once, with no state file to go stale
// (an offset file would be wrong after a token change, and Telegram picks
// random ids after a week of silence). Handling twice is harmless here: an
// /add that was stored already answers that the account exists, and the
// message with the secret still gets deleted, which matters more. On a
// graceful shutdown the last offset is confirmed, so nothing is repeated.
// In webhook mode the 200 answer is only sent after the update was handled,
// which gives Telegram's own retry the same at-least-once effect; recently
// seen update ids are remembered to drop Telegram's duplicate deliveries.
//
// At-least-once has a trap: an update that crashes the process (out of
// memory, a runtime fatal error no recover catches) would be fetched and
// crash it again at every start, for as long as Telegram keeps it. With
// Config.Progress set, the ids of the updates being handled are recorded
// durably (ids and counts only, in the database) before any handler runs;
// each start counts the ids it finds still recorded. An update found at
// one start is handled again (a power cut loses nothing); one found at two
// starts is skipped, and its sender is told in one sentence.
//
// Scheduled edits and deletions (code expiry, ExpiresAt) and the deletion
// of a person's secret-bearing message are jobs in the persisted outbox
// (bots/outbox): each is stored right after its message was sent, before
// the update is confirmed, so a restart or a kill -9 loses none of them.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/outbox"
)

// Handler answers one request; *commands.Handler is the real one.
type Handler interface {
	Handle(ctx context.Context, req commands.Request) []commands.Reply
}

// Clock tells the time (core.Clock fits).
type Clock interface {
	Now() time.Time
}

// MenuItem is one command listed in Telegram's command menu.
type MenuItem struct {
	Command     string // without the slash, lowercase
	Description string
}

// Webhook turns on webhook delivery instead of long polling.
type Webhook struct {
	Listen string // address of our own HTTP server, e.g. 127.0.0.1:8443
	URL    string // the public URL Telegram posts to; its path is served
	Secret string // X-Telegram-Bot-Api-Secret-Token, checked in constant time
}

// Config is everything the adapter needs; main fills it from config.Config.
type Config struct {
	Token   string
	APIURL  string // "" means https://api.telegram.org
	Webhook *Webhook
	// Handler answers requests; when it is also a commands.Directory (as
	// *commands.Handler is), it says who every sender is: config users and
	// people added at runtime.
	Handler Handler
	// Outbox keeps the scheduled edits and deletions (required); open it
	// with Platform "telegram" and MaxAge MaxDeleteAge.
	Outbox *outbox.Outbox
	Menu   []MenuItem
	// Menus are the command menu in other languages, by Telegram's
	// two-letter language code ("ru", "pt"): setMyCommands with that
	// language_code, shown to people whose app is in that language. Menu
	// is the list for everyone else.
	Menus map[string][]MenuItem
	// LoadMenus, if set, gives Menus instead: Run calls it once, in the
	// background after getMe, so building the lists (every language's
	// catalogue) does not delay the first getUpdates.
	LoadMenus func() map[string][]MenuItem
	// MenuApp, if set, is the https URL of the Mini App the bot's menu
	// button opens (setChatMenuButton with a web_app).
	MenuApp string
	// Elsewhere, if set, is asked to deliver a reply for a person with no
	// Telegram identity (an approval request for an admin who is only on
	// Matrix); it reports whether it did.
	Elsewhere func(ctx context.Context, r commands.Reply) bool
	// Progress, if set, keeps the ids of updates being handled across
	// crashes: an update in progress at two crashes is skipped and its
	// sender told, instead of crashing every start (*core.Service).
	Progress Progress
	Log      *slog.Logger
	Clock    Clock
	// Workers is how many updates are handled at once (default 8). Updates
	// of one chat are always handled in order, one at a time.
	Workers int
	// HTTPClient is used for every Bot API call and file download; its
	// Timeout should be zero (each call has its own deadline).
	HTTPClient *http.Client
	// PollTimeout is the long-poll wait of getUpdates (default 50 s).
	PollTimeout time.Duration
	// ShutdownGrace bounds how long Run waits for in-flight updates after
	// its context is done (default 20 s).
	ShutdownGrace time.Duration
	// RetryAttempts bounds attempts per Bot API call on 429 and network
	// errors (default 5); MaxRetryWait caps one 429 wait (default 60 s).
	RetryAttempts int
	MaxRetryWait  time.Duration
	// Health, if set, is told each time the Bot API answered or failed
	// (/healthz: Telegram reachable, and when).
	Health HealthReporter
	// Skew, if set, gets the date of every new message to compare the
	// server's clock with Telegram's.
	Skew ClockSampler
}

// Bot is a running Telegram adapter.
type Bot struct {
	cfg     Config
	api     *bot.Bot
	log     *slog.Logger
	client  *http.Client
	baseURL string

	username   atomic.Value // string, from getMe
	outbox     *outbox.Outbox
	disp       *dispatcher
	track      *tracker     // polling mode only
	prog       *progress    // the durable record of updates in progress
	webhookLn  atomic.Value // net.Addr
	seenHooks  *recentIDs
	handlerCnt atomic.Int64 // handled updates, for tests and logs
	lifeJobs   *jobBatch    // lifecycle jobs, stored in group commits
	// listening is closed once updates are asked for (the first
	// getUpdates, or setWebhook): the menus wait for it (decorate).
	listening     chan struct{}
	listeningOnce sync.Once
}

// listen marks that updates are being asked for.
func (b *Bot) listen() { b.listeningOnce.Do(func() { close(b.listening) }) }

// New checks cfg and builds the adapter; it does no I/O. Run starts it.
func New(cfg Config) (*Bot, error) {
	if cfg.Token == "" || !strings.Contains(cfg.Token, ":") {
		return nil, errors.New("telegram: token missing or not a BotFather token")
	}
	if cfg.Handler == nil {
		return nil, errors.New("telegram: no handler")
	}
	if cfg.Outbox == nil {
		return nil, errors.New("telegram: no outbox")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = 50 * time.Second
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 20 * time.Second
	}
	if cfg.RetryAttempts <= 0 {
		cfg.RetryAttempts = 5
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = time.Minute
	}
	if cfg.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		cfg.HTTPClient = &http.Client{Transport: tr}
	}
	if w := cfg.Webhook; w != nil && (w.Listen == "" || w.URL == "" || w.Secret == "") {
		return nil, errors.New("telegram: webhook needs listen, url and secret")
	}
	base := strings.TrimRight(cfg.APIURL, "/")
	if base == "" {
		base = "https://api.telegram.org"
	}
	b := &Bot{cfg: cfg, log: cfg.Log, client: cfg.HTTPClient, baseURL: base, seenHooks: newRecentIDs(4096), listening: make(chan struct{})}
	api, err := bot.New(cfg.Token,
		bot.WithServerURL(base),
		bot.WithSkipGetMe(), // Run calls getMe itself, with retries
		bot.WithHTTPClient(cfg.PollTimeout, libraryClient(cfg.HTTPClient)),
		// The library's defaults log whole updates (message text) and
		// errors that may quote response bodies: never let them log.
		bot.WithDefaultHandler(func(context.Context, *bot.Bot, *models.Update) {}),
		bot.WithErrorsHandler(func(err error) { b.log.Debug("telegram library error", "err", safeErr(err)) }),
		bot.WithDebugHandler(func(string, ...any) {}),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	b.api = api
	b.username.Store("")
	b.outbox = cfg.Outbox
	b.lifeJobs = &jobBatch{write: cfg.Outbox.Add}
	b.prog = &progress{prior: map[int64]int{}, cur: map[int64]int{}} // until Run loads the record
	b.disp = newDispatcher(cfg.Workers, b.handleUpdate, b.log)
	return b, nil
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Username is the bot's @username once Run has called getMe.
func (b *Bot) Username() string { return b.username.Load().(string) }

// WebhookAddr is the address the webhook server listens on, once it does.
func (b *Bot) WebhookAddr() net.Addr {
	a, _ := b.webhookLn.Load().(net.Addr)
	return a
}

// Run connects to the Bot API and serves updates until ctx is done. It then
// stops taking updates, lets in-flight ones finish (up to ShutdownGrace),
// and returns nil. It returns an error early only when the Bot API refuses
// the token or the webhook server cannot listen.
func (b *Bot) Run(ctx context.Context) error {
	if err := b.hello(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	// Work (handlers) gets its own context so a shutdown lets in-flight
	// commands finish; it is cancelled after the grace.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	// The outbox stops with ctx: what has not run stays stored for the
	// next start (jobs that in-flight updates add are stored too).
	var schedWG sync.WaitGroup
	schedWG.Add(2)
	go func() {
		defer schedWG.Done()
		b.outbox.Run(ctx, b.runJob)
	}()
	// The menus are cosmetic: they follow the first getUpdates (nine calls
	// and seven catalogues were the last thing before it).
	go func() {
		defer schedWG.Done()
		b.decorate(ctx)
	}()

	var err error
	if b.cfg.Webhook != nil {
		err = b.serveWebhook(ctx, workCtx)
	} else {
		err = b.poll(ctx, workCtx)
	}

	// Wait for in-flight updates.
	done := make(chan struct{})
	go func() { b.disp.wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(b.cfg.ShutdownGrace):
		b.log.Warn("telegram: shutdown grace over, abandoning in-flight updates")
	}
	if b.cfg.Webhook == nil && err == nil && !handedOver(ctx) {
		b.confirm(workCtx)
	}
	cancelWork()
	schedWG.Wait()
	b.client.CloseIdleConnections()
	b.log.Info("telegram: stopped", "handled", b.handlerCnt.Load())
	return err
}

// handedOver reports whether ctx ended because another process may be
// active now (a lost lease, whose cause says AnotherMayBeActive). Then the
// last confirming getUpdates must not run: it would poll beside the new
// active process, and its progress write would wait on a store that is
// fenced or down. The updates stay unconfirmed and the new process
// handles them (at least once, as after a crash).
func handedOver(ctx context.Context) bool {
	var h interface{ AnotherMayBeActive() bool }
	return errors.As(context.Cause(ctx), &h) && h.AnotherMayBeActive()
}

// hello calls getMe until it works (the API may be unreachable at start).
func (b *Bot) hello(ctx context.Context) error {
	delay := 500 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		me, err := b.api.GetMe(cctx)
		cancel()
		if err == nil {
			b.reached("getMe")
			b.username.Store(me.Username)
			b.log.Info("telegram: connected", "bot", me.Username)
			break
		}
		if ctx.Err() == nil {
			b.failed("getMe")
		}
		if errors.Is(err, bot.ErrorUnauthorized) || errors.Is(err, bot.ErrorNotFound) {
			return fmt.Errorf("telegram: the Bot API refused the token: %s", safeErr(err))
		}
		b.log.Warn("telegram: getMe failed, retrying", "err", safeErr(err), "in", delay)
		if !sleepCtx(ctx, delay) {
			return ctx.Err()
		}
		delay = min(delay*2, 30*time.Second)
	}
	return nil
}

// decorate sets the command menus and the menu button, once updates are
// being asked for. A missing menu is cosmetic: failures are logged and the
// bot keeps serving.
func (b *Bot) decorate(ctx context.Context) {
	select {
	case <-b.listening:
	case <-ctx.Done():
		return
	}
	if err := b.setMenu(ctx); err != nil && ctx.Err() == nil {
		b.log.Warn("telegram: setMyCommands failed", "err", safeErr(err))
	}
	if ctx.Err() != nil {
		return
	}
	if err := b.setMenuButton(ctx); err != nil && ctx.Err() == nil {
		b.log.Warn("telegram: setChatMenuButton failed", "err", safeErr(err))
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
