package main

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
)

// Wiring for people: who is an admin, who is a person, where a person is
// reached on a platform (Reply.To), and the rate limits from the config.

// botNames holds what adapters learn only once they run (the Telegram
// bot's username, for invite deep links).
type botNames struct {
	telegram atomic.Pointer[func() string]
}

func (n *botNames) telegramName() string {
	if f := n.telegram.Load(); f != nil {
		return (*f)()
	}
	return ""
}

// peopleOptions sets the handler options that depend on the config's
// users and the runtime people in svc.
func peopleOptions(cfg *config.Config, svc *core.Service, names *botNames) func(*commands.Options) {
	admins := map[string]bool{}
	configured := map[string]bool{}
	for _, u := range cfg.Users {
		configured[strings.ToLower(u.Name)] = true
		if u.Admin {
			admins[strings.ToLower(u.Name)] = true
		}
	}
	return func(o *commands.Options) {
		// Admins are config users with admin: true, and the one runtime
		// person who claimed the bot with its claim code (an invite never
		// makes an admin).
		o.IsAdmin = func(person string) bool {
			if admins[strings.ToLower(person)] {
				return true
			}
			if configured[strings.ToLower(person)] {
				return false
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ok, err := svc.IsRuntimeAdmin(ctx, person)
			return ok && err == nil
		}
		o.IsPerson = func(name string) bool {
			if configured[strings.ToLower(name)] {
				return true
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			people, err := svc.People(ctx)
			if err != nil {
				return false
			}
			for _, p := range people {
				if strings.EqualFold(p.Name, name) {
					return true
				}
			}
			return false
		}
		o.IsConfigUser = func(name string) bool { return configured[strings.ToLower(name)] }
		o.TelegramBotName = names.telegramName
		o.RateLimits = rateLimits(cfg.RateLimits)
	}
}

// rateLimits turns the config's rate_limits into the handler's: a class
// left out keeps commands.DefaultRateLimits.
func rateLimits(c config.RateLimits) *commands.RateLimits {
	if c.Off {
		return &commands.RateLimits{} // zero Rate: no limit
	}
	l := commands.DefaultRateLimits
	set := func(dst *commands.Rate, src *config.Rate) {
		if src != nil {
			*dst = commands.Rate{PerMinute: src.PerMinute, Burst: src.Burst}
			if src.PerMinute == 0 {
				*dst = commands.Rate{}
			}
		}
	}
	set(&l.Code, c.Code)
	set(&l.Secret, c.Secret)
	set(&l.Lock, c.Lock)
	set(&l.Write, c.Write)
	set(&l.Other, c.Other)
	return &l
}

// identitiesOn returns the ids person has on platform: the config user's
// and any linked at runtime (/invite, /link).
func identitiesOn(ctx context.Context, cfg *config.Config, svc *core.Service, platform, person string) ([]string, error) {
	var out []string
	for _, u := range cfg.Users {
		if !strings.EqualFold(u.Name, person) {
			continue
		}
		switch {
		case platform == "telegram" && u.Telegram != 0:
			out = append(out, strconv.FormatInt(u.Telegram, 10))
		case platform == "matrix" && u.Matrix != "":
			out = append(out, u.Matrix)
		}
	}
	people, err := svc.People(ctx)
	if err != nil {
		return out, err
	}
	for _, p := range people {
		if !strings.EqualFold(p.Name, person) {
			continue
		}
		for _, id := range p.Identities {
			if id.Platform == platform {
				out = append(out, id.ID)
			}
		}
	}
	return out, nil
}

// flushAuditEvery writes the buffered audit entries (personal /code
// entries, core/audit.go) every d until ctx ends; app.Close does the last.
func flushAuditEvery(ctx context.Context, a *app, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if err := a.svc.FlushAudit(fctx); err != nil && ctx.Err() == nil {
				a.log.Warn("could not write the audit log", "err", err)
			}
			cancel()
		}
	}
}

// pruneInvites deletes the invites made by someone who is neither a config
// user nor a runtime person any more.
func pruneInvites(ctx context.Context, cfg *config.Config, a *app) (int, error) {
	known := map[string]bool{}
	for _, u := range cfg.Users {
		known[strings.ToLower(u.Name)] = true
	}
	people, err := a.svc.People(ctx)
	if err != nil {
		return 0, err
	}
	for _, p := range people {
		known[strings.ToLower(p.Name)] = true
	}
	return a.svc.PruneInvites(ctx, func(name string) bool { return known[strings.ToLower(name)] })
}
