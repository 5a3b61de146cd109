//go:build goolm

package matrix

import (
	"context"
	"slices"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/commands"
)

// People: who a sender is, and where a person is reached, is core's
// people directory, asked through the handler (commands.Directory: config
// users and people invited with /invite or linked with /link alike).
// Strangers may send /join TOKEN or /link CODE in a direct chat, and
// replies addressed to another person (Reply.To) go to that person's
// direct chat with the bot. A Handler that is no Directory knows nobody:
// no sender is served.

// A stranger whose message was no invite or link is refused with the
// catalogue's matrix.stranger_refusal, in English: Matrix tells no
// language, and a stranger has no /language choice.

// personOf returns the authbot person behind a Matrix user (a config user
// or a runtime person), as the directory says.
func (b *Bot) personOf(ctx context.Context, user id.UserID) (string, bool) {
	d, ok := b.cfg.Handler.(commands.Directory)
	if !ok {
		return "", false
	}
	p, err := d.PersonFor(ctx, Platform, user.String())
	if err != nil {
		b.log.Warn("matrix: could not look up a sender", "err", err)
		return "", false
	}
	return p, p != ""
}

// acceptsStranger reports whether an invite from someone unknown is
// joined: only a direct chat, only when the handler can turn a /join
// TOKEN into a person, and only while an invite or link code is open (so
// strangers cannot make the bot join rooms at other times).
func (b *Bot) acceptsStranger(ctx context.Context, m *event.MemberEventContent) bool {
	d, ok := b.cfg.Handler.(commands.Directory)
	if !ok || !m.IsDirect {
		return false
	}
	return d.ExpectsNewcomers(ctx)
}

// stranger answers a message from someone unknown in a direct chat: an
// invite or link makes them a person; anything else gets the refusal and
// the bot leaves, so strangers' rooms do not pile up.
func (b *Bot) stranger(ctx context.Context, evt *event.Event, kind commands.ChatKind, text string) {
	d, ok := b.cfg.Handler.(commands.Directory)
	if !ok || kind != commands.Private {
		return // strangers in a shared room get nothing, not even a refusal
	}
	// HandleStranger reads "!join" and "/join" alike; its replies are
	// written with "/" and shown here with Matrix's "!". Matrix tells no
	// language: a stranger's welcome is English until they use /language.
	person, replies := d.HandleStranger(ctx, Platform, evt.Sender.String(), kind, "", text)
	if person != "" {
		b.log.Info("matrix: a new identity joined", "room", evt.RoomID)
	}
	for _, r := range commands.Localize(commands.MatrixPrefix, replies) {
		b.send(ctx, evt.RoomID, evt.Sender, r, evt.ID)
	}
	if person != "" {
		return
	}
	if len(replies) == 0 {
		b.sendText(ctx, evt.RoomID, english().T("matrix.stranger_refusal", "Command", commands.MatrixPrefix+"join CODE"))
		if _, err := b.cli.LeaveRoom(ctx, evt.RoomID); err != nil {
			b.log.Warn("matrix: could not leave a stranger's room", "room", evt.RoomID, "err", err)
		}
	}
}

// usersOf returns the Matrix users of person, as the directory says.
func (b *Bot) usersOf(ctx context.Context, person string) []id.UserID {
	d, ok := b.cfg.Handler.(commands.Directory)
	if !ok {
		return nil
	}
	var out []id.UserID
	ids, err := d.IdentitiesOf(ctx, person, Platform)
	if err != nil {
		b.log.Warn("matrix: could not look up a recipient", "err", err)
	}
	for _, s := range ids {
		out = append(out, id.UserID(s))
	}
	return out
}

// sendTo delivers a reply addressed to another person to their direct
// chat with the bot, creating one when there is none. A person with no
// Matrix identity is skipped with a log line (they may be on Telegram).
func (b *Bot) sendTo(ctx context.Context, r commands.Reply) {
	users := b.usersOf(ctx, r.To)
	if len(users) == 0 {
		b.log.Info("matrix: reply for a person without a Matrix identity dropped", "person", r.To)
		return
	}
	r.To, ctx = "", withPrinter(ctx, b.userPrinter(ctx, users[0]))
	for _, u := range users {
		room, err := b.dmWith(ctx, u)
		if err != nil {
			b.log.Warn("matrix: no direct chat for a reply to another person", "err", err)
			continue
		}
		b.send(ctx, room, u, r, "")
	}
}

// dmWith returns an encrypted room holding exactly the bot and user
// (joined or invited), creating a trusted private chat when there is none.
func (b *Bot) dmWith(ctx context.Context, user id.UserID) (id.RoomID, error) {
	b.dmMu.Lock()
	defer b.dmMu.Unlock()
	if finder, ok := b.cli.StateStore.(interface {
		FindSharedRooms(context.Context, id.UserID) ([]id.RoomID, error)
	}); ok {
		rooms, err := finder.FindSharedRooms(ctx, user)
		if err != nil {
			b.log.Warn("matrix: shared rooms unknown", "err", err)
		}
		for _, room := range rooms {
			members, err := b.cli.StateStore.GetRoomJoinedOrInvitedMembers(ctx, room)
			if err == nil && kindOf(members, b.cli.UserID, user) == commands.Private {
				return room, nil
			}
		}
	}
	resp, err := b.cli.CreateRoom(ctx, &mautrix.ReqCreateRoom{
		Preset:   "trusted_private_chat", // the invitee gets power 100, as in DMs people open
		IsDirect: true,
		Invite:   []id.UserID{user},
		InitialState: []*event.Event{{
			Type:    event.StateEncryption,
			Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}},
		}},
	})
	if err != nil {
		return "", err
	}
	b.log.Info("matrix: opened a direct chat for a reply", "room", resp.RoomID)
	return resp.RoomID, nil
}

// splitTo separates replies for other people from the sender's own.
func splitTo(replies []commands.Reply) (own, others []commands.Reply) {
	if !slices.ContainsFunc(replies, func(r commands.Reply) bool { return r.To != "" }) {
		return replies, nil
	}
	for _, r := range replies {
		if r.To != "" {
			others = append(others, r)
		} else {
			own = append(own, r)
		}
	}
	return own, others
}

// elsewhere hands a reply for a person with no Matrix identity to
// Config.Elsewhere (another platform they have) and reports whether it
// was delivered there.
func (b *Bot) elsewhere(ctx context.Context, r commands.Reply) bool {
	return b.cfg.Elsewhere != nil && len(b.usersOf(ctx, r.To)) == 0 && b.cfg.Elsewhere(ctx, r)
}

// Reach sends a reply addressed to a person (r.To) to their direct chat
// here, and reports whether they have a Matrix identity: another adapter
// calls it for a person it cannot reach (its Config.Elsewhere).
func (b *Bot) Reach(ctx context.Context, r commands.Reply) bool {
	if len(b.usersOf(ctx, r.To)) == 0 {
		return false
	}
	b.sendTo(ctx, r)
	return true
}
