package main

import (
	"context"
	"strings"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/observe"
)

// watchClock reports a server clock that is off (observe/skew.go): a
// warning in the log, and once per process a message to every admin's
// private chat, on whichever platform reaches them.
func watchClock(a *app) {
	if a.metrics == nil {
		return
	}
	a.metrics.ClockSkew().OnSkew(a.log, func(ctx context.Context, skew time.Duration) {
		deliver := a.reach.from("") // every platform
		for _, admin := range admins(ctx, a) {
			r := commands.Reply{To: admin, Parts: []commands.Part{{Text: observe.SkewNotice(skew)}}}
			if !deliver(context.WithoutCancel(ctx), r) {
				a.log.Warn("could not tell an admin about the clock", "person", admin)
			}
		}
	})
}

// admins are the config users with admin: true and the runtime admin who
// claimed the bot.
func admins(ctx context.Context, a *app) []string {
	var out []string
	for _, u := range a.cfg.Users {
		if u.Admin {
			out = append(out, u.Name)
		}
	}
	people, err := a.svc.People(ctx)
	if err != nil {
		a.log.Warn("could not list the runtime admins", "err", err)
		return out
	}
	for _, p := range people {
		if p.Admin && !containsFold(out, p.Name) {
			out = append(out, p.Name)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
