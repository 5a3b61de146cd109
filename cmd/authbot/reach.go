package main

import (
	"context"
	"sync"

	"github.com/authbot/authbot/bots/commands"
)

// reachers route a reply addressed to a person (Reply.To) who has no
// identity on the platform that produced it to the other platforms: an
// approval request filed on Matrix reaches an admin who is only on
// Telegram, and the answer comes back the same way.
type reachers struct {
	mu  sync.Mutex
	all []reacher
}

type reacher struct {
	platform string
	reach    func(ctx context.Context, r commands.Reply) bool
}

func (rs *reachers) add(platform string, reach func(context.Context, commands.Reply) bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.all = append(rs.all, reacher{platform, reach})
}

// from returns the Elsewhere function of platform's adapter: it tries
// every other platform in turn and reports whether one delivered.
func (rs *reachers) from(platform string) func(context.Context, commands.Reply) bool {
	return func(ctx context.Context, r commands.Reply) bool {
		rs.mu.Lock()
		others := make([]reacher, 0, len(rs.all))
		for _, o := range rs.all {
			if o.platform != platform {
				others = append(others, o)
			}
		}
		rs.mu.Unlock()
		for _, o := range others {
			if o.reach(ctx, r) {
				return true
			}
		}
		return false
	}
}
