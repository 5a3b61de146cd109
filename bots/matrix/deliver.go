//go:build goolm

package matrix

import (
	"context"

	"github.com/authbot/authbot/bots/commands"
)

// Deliver sends replies addressed to other people (Reply.To) that another
// front end produced, such as an approval request filed from the web page,
// to their direct chats; replies without To are ignored.
func (b *Bot) Deliver(ctx context.Context, replies []commands.Reply) {
	for _, r := range replies {
		if r.To != "" {
			b.sendTo(ctx, r)
		}
	}
}

// Hurry redacts now the messages whose replies carried tag (Reply.Tag)
// instead of at their expiry: a /web link's message once the link is used.
func (b *Bot) Hurry(ctx context.Context, tag string) error {
	return b.outbox.Hurry(ctx, tag)
}
