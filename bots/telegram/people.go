package telegram

import (
	"context"
	"strconv"

	"github.com/authbot/authbot/bots/commands"
)

// People: who a sender is, and where a person is reached, is core's
// people directory, asked through the handler (commands.Directory: config
// users and people invited with /invite or linked with /link alike).
// Replies addressed to another person (Reply.To: approval requests,
// approved codes) go to that person's private chats. A Handler that is no
// Directory knows nobody: every sender is refused.

// Platform is the Request.Platform this adapter sets.
const Platform = "telegram"

// personOf returns the authbot person behind a Telegram user id (a config
// user or a runtime person), as the directory says.
func (b *Bot) personOf(ctx context.Context, userID int64) (string, bool) {
	d, ok := b.cfg.Handler.(commands.Directory)
	if !ok {
		return "", false
	}
	p, err := d.PersonFor(ctx, Platform, strconv.FormatInt(userID, 10))
	if err != nil {
		b.log.Warn("telegram: could not look up a sender", "err", err)
		return "", false
	}
	return p, p != ""
}

// stranger hands an unknown sender's message to the handler; it reports
// false when nothing came of it (the caller refuses).
func (b *Bot) stranger(ctx context.Context, in incoming, userID int64, langCode, text string) bool {
	d, ok := b.cfg.Handler.(commands.Directory)
	if !ok || !in.private {
		return false
	}
	if len(text) > maxTextLen {
		return false
	}
	person, replies := d.HandleStranger(ctx, Platform, strconv.FormatInt(userID, 10), commands.Private, langCode, text)
	if len(replies) == 0 {
		return false
	}
	if person != "" {
		b.log.Info("telegram: a new identity joined")
	}
	b.deliver(ctx, in, replies)
	return true
}

// chatsOf returns the private chats of person (a Telegram private chat's
// id is the user's id), as the directory says.
func (b *Bot) chatsOf(ctx context.Context, person string) []int64 {
	d, ok := b.cfg.Handler.(commands.Directory)
	if !ok {
		return nil
	}
	var out []int64
	ids, err := d.IdentitiesOf(ctx, person, Platform)
	if err != nil {
		b.log.Warn("telegram: could not look up a recipient", "err", err)
	}
	for _, s := range ids {
		if n, perr := strconv.ParseInt(s, 10, 64); perr == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

// sendTo delivers replies addressed to other people (Reply.To) to their
// private chats and returns the rest. A person with no Telegram identity
// is skipped with a log line (they may be reached on Matrix).
func (b *Bot) sendTo(ctx context.Context, replies []commands.Reply) []commands.Reply {
	rest := replies[:0:0]
	for _, r := range replies {
		if r.To == "" {
			rest = append(rest, r)
			continue
		}
		chats := b.chatsOf(ctx, r.To)
		if len(chats) == 0 {
			// The name is a config or invite name, not a secret.
			b.log.Info("telegram: reply for a person without a Telegram identity dropped", "person", r.To)
			continue
		}
		pctx := withPrinter(ctx, b.printerOf(ctx, r.To))
		r.To = ""
		for _, chat := range chats {
			if err := b.send(pctx, chat, r, nil); err != nil {
				b.log.Warn("telegram: reply to another person not sent", "err", safeErr(err))
			}
		}
	}
	return rest
}

// elsewhere hands the replies for people with no Telegram identity to
// Config.Elsewhere (another platform they have) and returns the rest.
func (b *Bot) elsewhere(ctx context.Context, replies []commands.Reply) []commands.Reply {
	if b.cfg.Elsewhere == nil {
		return replies
	}
	rest := replies[:0:0]
	for _, r := range replies {
		if r.To != "" && len(b.chatsOf(ctx, r.To)) == 0 && b.cfg.Elsewhere(ctx, r) {
			continue
		}
		rest = append(rest, r)
	}
	return rest
}

// Reach sends a reply addressed to a person (r.To) to their private
// chats here, and reports whether they have any: another adapter calls it
// for a person it cannot reach (its Config.Elsewhere).
func (b *Bot) Reach(ctx context.Context, r commands.Reply) bool {
	chats := b.chatsOf(ctx, r.To)
	if len(chats) == 0 {
		return false
	}
	pctx := withPrinter(ctx, b.printerOf(ctx, r.To))
	r.To = ""
	for _, chat := range chats {
		if err := b.send(pctx, chat, r, nil); err != nil {
			b.log.Warn("telegram: reply from another platform not sent", "err", safeErr(err))
		}
	}
	return true
}
