package telegram

import (
	"context"

	"github.com/authbot/authbot/bots/commands"
)

// Deliver sends replies addressed to other people (Reply.To) that another
// front end produced, such as an approval request filed from the web page,
// to their private chats; replies without To are ignored.
func (b *Bot) Deliver(ctx context.Context, replies []commands.Reply) {
	b.sendTo(ctx, replies)
}
