//go:build goolm

package matrix

import (
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/matrix/matrixtest"
)

// TestCommandTableOnMatrix sends every name and alias of the command table
// in a direct chat and in a group room, with the table's secret example
// where the command takes one, through Dendrite and the real handler: a
// message carrying a secret is redacted in both, and the group hears
// nothing but "ask me in a private chat".
func TestCommandTableOnMatrix(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	alice := matrixtest.NewPerson(t, h, "alice")
	bob := matrixtest.NewPerson(t, h, "bob")
	handler := realHandler(t, map[id.UserID]string{alice.ID(): "alice"})
	bot := startBot(t, botConfig(t, h, handler))
	dm := alice.Room(true, "trusted_private_chat", bot.id())
	alice.WaitJoined(dm, bot.id())
	group := alice.Room(false, "trusted_private_chat", bot.id(), bob.ID())
	alice.WaitJoined(group, bot.id())

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
					sent := alice.Send(room, text)
					reply := alice.After(where+" reply to "+spelling, sent, func(evt *event.Event) bool {
						return evt.RoomID == room && evt.Sender == bot.id() && evt.Type == event.EventMessage &&
							(evt.Content.AsMessage().RelatesTo == nil || evt.Content.AsMessage().RelatesTo.Type != event.RelReplace)
					})
					// The adapter redacts before it replies.
					redacted := len(alice.Seen(redactionOf(room, sent))) > 0
					if secret && !redacted {
						alice.Wait(where+": redaction of "+spelling, redactionOf(room, sent))
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
	for _, evt := range alice.Seen(replyFrom(group, bot.id(), start)) {
		if body := evt.Content.AsMessage().Body; !strings.Contains(body, "private chat") {
			t.Errorf("the group got %q", body)
		}
	}
}
