//go:build goolm

package matrix

import (
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/commands"
)

// after returns the first recorded event past the one with id after that
// matches, waiting up to waitFor: the answer to that message, not to an
// earlier one.
func (p *person) after(what string, after id.EventID, match func(*event.Event) bool) *event.Event {
	p.t.Helper()
	return p.wait(what, func(evt *event.Event) bool {
		// p.mu is held by wait: read p.events directly.
		i := slices.IndexFunc(p.events, func(e *event.Event) bool { return e.ID == after })
		j := slices.Index(p.events, evt)
		return i >= 0 && j > i && match(evt)
	})
}

// TestCommandTableOnMatrix sends every name and alias of the command table
// in a direct chat and in a group room, with the table's secret example
// where the command takes one, through Dendrite and the real handler: a
// message carrying a secret is redacted in both, and the group hears
// nothing but "ask me in a private chat".
func TestCommandTableOnMatrix(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	alice := newPerson(t, h, "alice")
	bob := newPerson(t, h, "bob")
	handler := realHandler(t, map[id.UserID]string{alice.id(): "alice"})
	bot := startBot(t, botConfig(t, h, handler))
	dm := alice.room(true, "trusted_private_chat", bot.id())
	alice.waitJoined(dm, bot.id())
	group := alice.room(false, "trusted_private_chat", bot.id(), bob.id())
	alice.waitJoined(group, bot.id())

	start := time.Now()
	for _, c := range commands.Commands() {
		secret := c.Example != "" && c.Secret(c.Example)
		for _, spelling := range append([]string{c.Name}, c.Aliases...) {
			text := "/" + spelling
			if secret {
				text += " " + c.Example
			}
			t.Run(spelling, func(t *testing.T) {
				for _, room := range []id.RoomID{dm, group} {
					where := "direct chat"
					if room == group {
						where = "group"
					}
					sent := alice.send(room, text)
					reply := alice.after(where+" reply to "+spelling, sent, func(evt *event.Event) bool {
						return evt.RoomID == room && evt.Sender == bot.id() && evt.Type == event.EventMessage &&
							(evt.Content.AsMessage().RelatesTo == nil || evt.Content.AsMessage().RelatesTo.Type != event.RelReplace)
					})
					// The adapter redacts before it replies.
					redacted := len(alice.seen(redactionOf(room, sent))) > 0
					if secret && !redacted {
						alice.wait(where+": redaction of "+spelling, redactionOf(room, sent))
						redacted = true
					}
					if redacted != secret {
						t.Errorf("%s: %q redacted = %v, want %v", where, text, redacted, secret)
					}
					if room == group {
						if body := reply.Content.AsMessage().Body; !strings.Contains(body, "private chat") {
							t.Errorf("the group got %q", body)
						}
					}
				}
			})
		}
	}
	// Everything the bot said in the group was the one refusal.
	for _, evt := range alice.seen(replyFrom(group, bot.id(), start)) {
		if body := evt.Content.AsMessage().Body; !strings.Contains(body, "private chat") {
			t.Errorf("the group got %q", body)
		}
	}
}
