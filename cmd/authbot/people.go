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

// Wiring for people: the config's users are handed to core's people
// directory (core/directory.go), which answers who is a person, who an
// admin and where a person is reached for every adapter; here are only
// the conversion from the config and the rate limits.

// configUsers turns the config's users into core's: a Telegram user id and
// a Matrix user id are identities on those platforms.
func configUsers(cfg *config.Config) []core.ConfigUser {
	out := make([]core.ConfigUser, 0, len(cfg.Users))
	for _, u := range cfg.Users {
		cu := core.ConfigUser{Name: u.Name, Admin: u.Admin}
		if u.Telegram != 0 {
			cu.Identities = append(cu.Identities, core.Identity{Platform: "telegram", ID: strconv.FormatInt(u.Telegram, 10)})
		}
		if u.Matrix != "" {
			cu.Identities = append(cu.Identities, core.Identity{Platform: "matrix", ID: u.Matrix})
		}
		out = append(out, cu)
	}
	return out
}

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

// peopleOptions sets the handler options that depend on the config.
func peopleOptions(cfg *config.Config, names *botNames) func(*commands.Options) {
	return func(o *commands.Options) {
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
func pruneInvites(ctx context.Context, a *app) (int, error) {
	people, err := a.svc.People(ctx)
	if err != nil {
		return 0, err
	}
	known := map[string]bool{}
	for _, p := range people {
		known[strings.ToLower(p.Name)] = true
	}
	return a.svc.PruneInvites(ctx, func(name string) bool { return a.svc.IsConfigUser(name) || known[strings.ToLower(name)] })
}
