//go:build goolm

package matrix

import (
	"context"

	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/lang"
)

// Languages. Matrix tells the bot no language, so what the adapter says
// itself (refusals, notices, the numbered-options prompt, the expiry of a
// code) is in the person's /language choice, asked of the handler; a
// stranger, a group room and a handler that cannot say get English.

// languager is what *commands.Handler offers beyond Handler: the language
// its replies to req are written in.
type languager interface {
	Language(ctx context.Context, req commands.Request) lang.Tag
}

// english is the catalogue in English, the language for strangers.
func english() *lang.Printer { return lang.MustLoad().Printer(lang.English) }

// printerOf is the catalogue in person's language ("" for a stranger).
func (b *Bot) printerOf(ctx context.Context, person string) *lang.Printer {
	l, ok := b.cfg.Handler.(languager)
	if person == "" || !ok {
		return english()
	}
	return lang.MustLoad().Printer(l.Language(ctx, commands.Request{Person: person, Platform: Platform}))
}

// userPrinter is the catalogue in the language of a Matrix user.
func (b *Bot) userPrinter(ctx context.Context, user id.UserID) *lang.Printer {
	person, _ := b.personOf(ctx, user)
	return b.printerOf(ctx, person)
}

// roomPrinter is the catalogue in the language of the person a direct
// chat is with (the one member besides the bot); English for a group or
// a room whose members are unknown. Outbox jobs, which know only the
// room, word their texts with it.
func (b *Bot) roomPrinter(ctx context.Context, room id.RoomID) *lang.Printer {
	members, err := b.cli.StateStore.GetRoomJoinedOrInvitedMembers(ctx, room)
	if err != nil || len(members) != 2 {
		return english()
	}
	for _, m := range members {
		if m != b.cli.UserID {
			return b.userPrinter(ctx, m)
		}
	}
	return english()
}

// printerKey carries the printer of the person replies go to, from where
// the person is known down to where the replies are rendered.
type printerKey struct{}

func withPrinter(ctx context.Context, p *lang.Printer) context.Context {
	return context.WithValue(ctx, printerKey{}, p)
}

// printerIn is the printer withPrinter stored, English when none was.
func printerIn(ctx context.Context) *lang.Printer {
	if p, ok := ctx.Value(printerKey{}).(*lang.Printer); ok && p != nil {
		return p
	}
	return english()
}
