package telegram

import (
	"context"
	"strconv"

	"github.com/authbot/authbot/bots/commands"
)

// People beyond the config: runtime people (invited with /invite, linked
// with /link) are found through the handler, and replies addressed to
// another person (Reply.To: approval requests, approved codes) go to that
// person's private chat.

// Strangers is what the adapter needs from the handler to serve people
// added at runtime; *commands.Handler has it. A Handler without it serves
// Config.People only (an optional interface, so transport-only fakes stay
// one method).
type Strangers interface {
	// PersonFor returns the runtime person an identity belongs to, "" for
	// none.
	PersonFor(ctx context.Context, platform, identity string) (string, error)
	// HandleStranger answers a message from someone unknown: /start TOKEN,
	// /join TOKEN and /link CODE make them a person. No replies means the
	// adapter refuses as usual.
	HandleStranger(ctx context.Context, platform, identity string, chat commands.ChatKind, text string) (person string, replies []commands.Reply)
}

// Platform is the Request.Platform this adapter sets.
const Platform = "telegram"

// personOf returns the authbot person behind a Telegram user id: a config
// user first, then a runtime person.
func (b *Bot) personOf(ctx context.Context, userID int64) (string, bool) {
	if p, ok := b.cfg.People[userID]; ok {
		return p, true
	}
	s, ok := b.cfg.Handler.(Strangers)
	if !ok {
		return "", false
	}
	p, err := s.PersonFor(ctx, Platform, strconv.FormatInt(userID, 10))
	if err != nil {
		b.log.Warn("telegram: could not look up a sender", "err", err)
		return "", false
	}
	return p, p != ""
}

// stranger hands an unknown sender's message to the handler; it reports
// false when nothing came of it (the caller refuses).
func (b *Bot) stranger(ctx context.Context, in incoming, userID int64, text string) bool {
	s, ok := b.cfg.Handler.(Strangers)
	if !ok || !in.private {
		return false
	}
	if len(text) > maxTextLen {
		return false
	}
	person, replies := s.HandleStranger(ctx, Platform, strconv.FormatInt(userID, 10), commands.Private, text)
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
// id is the user's id): config users, then Config.Recipients.
func (b *Bot) chatsOf(ctx context.Context, person string) []int64 {
	var out []int64
	for id, p := range b.cfg.People {
		if p == person {
			out = append(out, id)
		}
	}
	if len(out) == 0 && b.cfg.Recipients != nil {
		ids, err := b.cfg.Recipients(ctx, person)
		if err != nil {
			b.log.Warn("telegram: could not look up a recipient", "err", err)
		}
		out = append(out, ids...)
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
		r.To = ""
		for _, chat := range chats {
			if err := b.send(ctx, chat, r, nil); err != nil {
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
	r.To = ""
	for _, chat := range chats {
		if err := b.send(ctx, chat, r, nil); err != nil {
			b.log.Warn("telegram: reply from another platform not sent", "err", safeErr(err))
		}
	}
	return true
}
