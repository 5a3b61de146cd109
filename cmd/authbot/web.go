package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/web"
	"github.com/authbot/authbot/config"
)

// webLinks stands in for the web server in the handler's options: the
// handler is built before the server, which needs the handler.
type webLinks struct {
	mu  sync.Mutex
	srv *web.Server
}

func (l *webLinks) server() *web.Server {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.srv
}

func (l *webLinks) AppURL() string {
	if s := l.server(); s != nil {
		return s.AppURL()
	}
	return ""
}

func (l *webLinks) NewLink(ctx context.Context, person string) (string, string, time.Time, error) {
	s := l.server()
	if s == nil {
		return "", "", time.Time{}, errors.New("web page not started")
	}
	return s.NewLink(ctx, person)
}

// withWeb turns on /app and /web when the config has a web section.
func withWeb(cfg *config.Config, links *webLinks) func(*commands.Options) {
	return func(o *commands.Options) {
		if cfg.Web.Enabled() {
			o.Web = links
		}
	}
}

// deliverer is an adapter that can send replies addressed to other people.
type deliverer interface {
	Deliver(ctx context.Context, replies []commands.Reply)
}

// hurrier is an adapter whose tagged deletions can come early.
type hurrier interface {
	Hurry(ctx context.Context, tag string) error
}

// newWeb builds the web server over the app's handler; replies for other
// people (approval requests) go out through every adapter that delivers.
func newWeb(a *app, links *webLinks, adapters []runner) (*web.Server, error) {
	wc := a.cfg.Web
	var ds []deliverer
	var hs []hurrier
	for _, r := range adapters {
		if d, ok := r.(deliverer); ok {
			ds = append(ds, d)
		}
		if h, ok := r.(hurrier); ok {
			hs = append(hs, h)
		}
	}
	s, err := web.New(web.Config{
		Listen:         wc.Listen,
		PublicURL:      wc.PublicURL,
		BotToken:       a.cfg.Telegram.Token,
		InitDataMaxAge: wc.InitDataMaxAge.D(),
		// Config users and runtime people alike (core's people directory).
		PersonFor: a.handler.PersonFor,
		Codes:     a.handler,
		Deliver: func(ctx context.Context, replies []commands.Reply) {
			for _, d := range ds {
				d.Deliver(ctx, replies)
			}
		},
		// A used /web link's message is deleted now, not at its expiry.
		LinkUsed: func(ctx context.Context, tag string) {
			for _, h := range hs {
				if err := h.Hurry(ctx, tag); err != nil {
					a.log.Warn("web: the used link's message stays until it expires", "err", err)
				}
			}
		},
		Clock: a.clock,
		Log:   a.log.With("adapter", "web"),
	})
	if err != nil {
		return nil, err
	}
	links.mu.Lock()
	links.srv = s
	links.mu.Unlock()
	return s, nil
}
