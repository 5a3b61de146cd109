package telegram_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/telegram/telegramtest"
)

// TestCommandTableOnTelegram sends every name and alias of the command
// table, in a private chat and in a group, with the table's secret example
// where the command takes one, through the adapter and the real handler:
// a message carrying a secret is deleted in both, and a group hears
// nothing but "ask me in a private chat".
func TestCommandTableOnTelegram(t *testing.T) {
	r := startTeam(t)
	group := telegramtest.Group(-7007)
	r.api.MakeAdmin(group.ID) // a group admin with the right to delete messages
	for _, c := range commands.Commands() {
		secret := c.Example != "" && c.Secret(c.Example)
		for _, spelling := range append([]string{c.Name}, c.Aliases...) {
			text := "/" + spelling
			if secret {
				text += " " + c.Example
			}
			t.Run(spelling, func(t *testing.T) {
				for _, chat := range []telegramtest.Chat{telegramtest.Private(alice), group} {
					n := r.api.NumCalls()
					id := r.api.SendText(chat, telegramtest.User{ID: alice}, text)
					reply, _, ok := r.api.WaitCall(n, 10*time.Second, sendTo(chat.ID))
					if !ok {
						t.Fatalf("%s chat: no reply to %q", chat.Type, text)
					}
					m, _ := r.api.Message(id)
					if m.Deleted != secret {
						t.Errorf("%s chat: %q deleted = %v, want %v", chat.Type, text, m.Deleted, secret)
					}
					if chat.Type == "private" {
						continue
					}
					if !strings.Contains(reply.Fields["text"], "private chat") || strings.Contains(reply.Fields["text"], "binance") {
						t.Errorf("the group got %q", reply.Fields["text"])
					}
					// Nothing else reached the group for this message.
					for _, c := range r.api.Calls()[n:] {
						if c.Fields["chat_id"] == strconv.FormatInt(group.ID, 10) && strings.HasPrefix(c.Method, "send") && c.MessageID != reply.MessageID {
							t.Errorf("the group got a second message: %s %q", c.Method, c.Fields["text"])
						}
					}
				}
			})
		}
	}
}
