//go:build goolm

package matrix

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/matrix/matrixtest"
)

// strangerHandler is a fakeHandler whose directory takes newcomers:
// "/join good" makes the sender "carol".
type strangerHandler struct {
	fakeHandler
}

// ExpectsNewcomers: every stranger's direct chat is joined.
func (s *strangerHandler) ExpectsNewcomers(context.Context) bool { return true }

func (s *strangerHandler) HandleStranger(_ context.Context, platform, identity string, chat commands.ChatKind, _, text string) (string, []commands.Reply) {
	if platform != Platform || chat != commands.Private || text != "/join good" {
		return "", nil
	}
	s.serve(id.UserID(identity), "carol")
	return "carol", []commands.Reply{{Parts: []commands.Part{{Text: "Welcome, carol!"}}}}
}

// TestReplyToOpensDirectChat: a reply addressed to another person (an
// approval request) reaches them in a new encrypted direct chat, and the
// next one in the same room.
func TestReplyToOpensDirectChat(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	alice := matrixtest.NewPerson(t, h, "alice")
	bob := matrixtest.NewPerson(t, h, "bob")
	f := &fakeHandler{reply: func(req commands.Request) []commands.Reply {
		return []commands.Reply{
			{Parts: []commands.Part{{Text: "asked bob"}}},
			{To: "bob", Parts: []commands.Part{{Text: "alice asks: " + req.Text}}, Sensitive: true},
			{To: "nobody", Parts: []commands.Part{{Text: "lost"}}},
		}
	}}
	f.serve(alice.ID(), "alice").serve(bob.ID(), "bob")
	cfg := botConfig(t, h, f)
	bot := startBot(t, cfg)
	dm := alice.Room(true, "trusted_private_chat", bot.id())
	alice.WaitJoined(dm, bot.id())
	since := time.Now()
	alice.Send(dm, "one")
	alice.Wait("the reply to alice", replyFrom(dm, bot.id(), since))
	room := bob.InvitedTo(bot.id())
	got := bob.Wait("the reply to bob", replyFrom(room, bot.id(), since))
	if !matrixtest.Decrypted(got) || !strings.Contains(got.Content.AsMessage().Body, "alice asks: one") {
		t.Fatalf("bob got %q (decrypted %v)", got.Content.AsMessage().Body, matrixtest.Decrypted(got))
	}
	since = time.Now()
	alice.Send(dm, "two")
	bob.Wait("the second reply in the same room", func(evt *event.Event) bool {
		return replyFrom(room, bot.id(), since)(evt) && strings.Contains(evt.Content.AsMessage().Body, "alice asks: two")
	})
}

// TestStrangerJoinsWithInvite: a stranger's direct chat is joined, /join
// with a good token makes them a person who is then served; a stranger
// with nothing valid is refused and left.
func TestStrangerJoinsWithInvite(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	alice := matrixtest.NewPerson(t, h, "alice")
	carol := matrixtest.NewPerson(t, h, "carol")
	eve := matrixtest.NewPerson(t, h, "eve")
	f := &strangerHandler{}
	f.serve(alice.ID(), "alice")
	bot := startBot(t, botConfig(t, h, f))

	dm := carol.Room(true, "trusted_private_chat", bot.id())
	carol.WaitJoined(dm, bot.id())
	since := time.Now()
	carol.Send(dm, "/join good")
	welcome := carol.Wait("the welcome", replyFrom(dm, bot.id(), since))
	if !strings.Contains(welcome.Content.AsMessage().Body, "Welcome, carol!") {
		t.Fatalf("welcome %q", welcome.Content.AsMessage().Body)
	}
	since = time.Now()
	carol.Send(dm, "/code x")
	carol.Wait("a served reply", func(evt *event.Event) bool {
		return replyFrom(dm, bot.id(), since)(evt) && strings.Contains(evt.Content.AsMessage().Body, "ok: /code x")
	})
	reqs := f.requests()
	if len(reqs) != 1 || reqs[0].Person != "carol" || reqs[0].Chat != commands.Private {
		t.Fatalf("requests %+v, want one from carol in a private chat", reqs)
	}

	edm := eve.Room(true, "trusted_private_chat", bot.id())
	eve.WaitJoined(edm, bot.id())
	since = time.Now()
	eve.Send(edm, "hello")
	refusal := eve.Wait("the refusal", replyFrom(edm, bot.id(), since))
	if !strings.Contains(refusal.Content.AsMessage().Body, "private bot") {
		t.Errorf("refusal %q", refusal.Content.AsMessage().Body)
	}
	eve.WaitMembership(edm, bot.id(), event.MembershipLeave)
	if n := len(f.requests()); n != 1 {
		t.Errorf("handler got %d requests, want only carol's", n)
	}
}
