package telegram

import "context"

// Hurry deletes now the messages whose replies carried tag (Reply.Tag)
// instead of at their expiry: a /web link's message once the link is used.
func (b *Bot) Hurry(ctx context.Context, tag string) error {
	return b.outbox.Hurry(ctx, tag)
}
