package telegram_test

import (
	"context"
	"strconv"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/telegram"
)

// directory is a map-backed commands.Directory around a transport-only
// handler (a fake, no core): people maps Telegram user ids to person
// names. Strangers get no replies, so the adapter refuses them as usual.
type directory struct {
	telegram.Handler
	people map[int64]string
}

var _ commands.Directory = directory{}

func (d directory) PersonFor(_ context.Context, platform, identity string) (string, error) {
	id, err := strconv.ParseInt(identity, 10, 64)
	if platform != telegram.Platform || err != nil {
		return "", nil
	}
	return d.people[id], nil
}

func (d directory) IdentitiesOf(_ context.Context, person, platform string) ([]string, error) {
	var out []string
	for id, p := range d.people {
		if p == person && platform == telegram.Platform {
			out = append(out, strconv.FormatInt(id, 10))
		}
	}
	return out, nil
}

func (d directory) HandleStranger(context.Context, string, string, commands.ChatKind, string, string) (string, []commands.Reply) {
	return "", nil
}

func (d directory) ExpectsNewcomers(context.Context) bool { return false }
