package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/telegram"
	"github.com/authbot/authbot/lang"
)

// newTelegram builds the Telegram adapter from the telegram section and the
// users list. It does no network I/O: Run connects (and retries getMe until
// the Bot API answers).
func newTelegram(ctx context.Context, a *app) (runner, error) {
	tc := a.cfg.Telegram
	box, err := a.openOutbox(ctx, telegram.Platform, telegram.MaxDeleteAge)
	if err != nil {
		return nil, err
	}
	var menu []telegram.MenuItem
	for _, m := range commands.Menu() {
		menu = append(menu, telegram.MenuItem{Command: m.Command, Description: m.Description})
	}
	// The menu in every other language authbot speaks, under Telegram's
	// two-letter code ("pt" for pt-BR): a person sees it in their app's
	// language. Built by the adapter in the background (seven catalogues
	// to read), after the first getUpdates.
	menus := func() map[string][]telegram.MenuItem {
		menus := map[string][]telegram.MenuItem{}
		for _, t := range lang.All()[1:] {
			code, _, _ := strings.Cut(string(t), "-")
			for _, m := range commands.MenuIn(t) {
				menus[code] = append(menus[code], telegram.MenuItem{Command: m.Command, Description: m.Description})
			}
		}
		return menus
	}
	cfg := telegram.Config{
		Token:  tc.Token,
		APIURL: tc.APIURL,
		// Who a sender is, and where a person is reached, the handler
		// says (core's people directory, commands.Directory).
		Handler:   crashHook(a.handler, a.getenv),
		Outbox:    box,
		Menu:      menu,
		LoadMenus: menus,
		Progress:  startProgress(ctx, a),
		// A reply for someone not on Telegram (an approval request for a
		// Matrix-only admin) goes to the platform they are on.
		Elsewhere: a.reach.from(telegram.Platform),
		Log:       a.log.With("adapter", "telegram"),
		Clock:     a.clock,
	}
	if a.cfg.Web.Enabled() && strings.HasPrefix(a.cfg.Web.PublicURL, "https://") {
		// The menu button opens the Mini App (Telegram opens https only).
		cfg.MenuApp = strings.TrimRight(a.cfg.Web.PublicURL, "/") + "/"
	}
	if w := tc.Webhook; w != nil {
		cfg.Webhook = &telegram.Webhook{Listen: w.Listen, URL: w.URL, Secret: w.Secret}
		// Fail start-up on a taken port, with the address, instead of
		// after getMe (which retries while the Bot API is away). The
		// adapter listens again in Run, a moment later.
		ln, err := net.Listen("tcp", w.Listen)
		if err != nil {
			return nil, fmt.Errorf("telegram.webhook.listen %s: %w", w.Listen, err)
		}
		ln.Close()
	}
	if a.metrics != nil {
		cfg.Health = a.metrics.Adapter(telegram.Platform) // /healthz
		cfg.Skew = a.metrics.ClockSkew()                  // skew.go
	}
	b, err := telegram.New(cfg)
	if err != nil {
		return nil, err
	}
	a.reach.add(telegram.Platform, b.Reach)
	// Invite deep links need the bot's username, known once Run has
	// called getMe.
	name := b.Username
	a.names.telegram.Store(&name)
	return b, nil
}

// startProgress is the Progress the adapter gets. On a bbolt file whose
// check is still running, the adapter's record of updates in progress is
// read now, while serve is being built: from when serve is up every read
// waits for the check (checkedStore), and the first getUpdates would wait
// with it, though reading the record answers nobody. A damaged page it
// touches is still core.ErrCorrupt. bbolt is one process's file, so
// nothing else writes the record meanwhile; PostgreSQL (a standby may
// build the app before it holds the lease) reads it when Run asks.
func startProgress(ctx context.Context, a *app) telegram.Progress {
	if _, checking := a.store.(*checkedStore); !checking {
		return a.svc
	}
	items, err := a.svc.LoadProgress(ctx, telegram.ProgressName)
	return &readProgress{Progress: a.svc, name: telegram.ProgressName, items: items, err: err}
}

// readProgress answers the first load of name with what was read before;
// later loads and every save go to the store.
type readProgress struct {
	telegram.Progress
	mu    sync.Mutex
	name  string
	used  bool
	items map[int64]int
	err   error
}

func (p *readProgress) LoadProgress(ctx context.Context, name string) (map[int64]int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.used || name != p.name {
		return p.Progress.LoadProgress(ctx, name)
	}
	p.used = true
	items, err := p.items, p.err
	p.items, p.err = nil, nil
	return items, err
}
