//go:build goolm

package matrix

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/matrix/matrixtest"
)

// These tests drive the adapter against the real Dendrite with a fake
// command handler: they check transport (encryption, rendering, redaction,
// membership rules), not the command language.

// dmWithBot starts a bot for one person and opens a DM between them.
func dmWithBot(t testing.TB, h *homeserver, f *fakeHandler, encrypted bool, preset string) (*person, *runningBot, id.RoomID) {
	t.Helper()
	alice := matrixtest.NewPerson(t, h, "alice")
	cfg := botConfig(t, h, f.serve(alice.ID(), "alice"))
	bot := startBot(t, cfg)
	room := alice.Room(encrypted, preset, bot.id())
	alice.WaitJoined(room, bot.id())
	return alice, bot, room
}

func TestEncryptedDMReplyIsRendered(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	f := &fakeHandler{reply: func(req commands.Request) []commands.Reply {
		return []commands.Reply{{
			Parts:     []commands.Part{{Text: "binance <x>: "}, {Text: "123456", Code: true}},
			Buttons:   [][]commands.Button{{{Label: "Again", Data: "/code binance"}}},
			Sensitive: true,
		}}
	}}
	alice, bot, room := dmWithBot(t, h, f, true, "trusted_private_chat")
	since := time.Now()
	request := alice.Send(room, "!code binance")
	reply := alice.Wait("the bot's reply", replyFrom(room, bot.id(), since))
	if !matrixtest.Decrypted(reply) {
		t.Error("the reply in an encrypted room was not encrypted")
	}
	msg := reply.Content.AsMessage()
	if msg.MsgType != event.MsgNotice || msg.Format != event.FormatHTML {
		t.Errorf("msgtype %q format %q, want m.notice with HTML", msg.MsgType, msg.Format)
	}
	if !strings.Contains(msg.FormattedBody, "binance &lt;x&gt;: <code>123456</code>") {
		t.Errorf("formatted body %q lacks the escaped text and the code span", msg.FormattedBody)
	}
	if !strings.Contains(msg.Body, "binance <x>: 123456") || !strings.Contains(msg.Body, "1. Again") || strings.Contains(msg.Body, "/code") {
		t.Errorf("plain body %q lacks the text or the numbered option, or shows its command", msg.Body)
	}
	if msg.RelatesTo == nil || msg.RelatesTo.InReplyTo == nil || msg.RelatesTo.InReplyTo.EventID != request {
		t.Errorf("the code reply is not a reply to the request: %+v", msg.RelatesTo)
	}
	if strings.HasPrefix(msg.Body, "> ") || strings.Contains(msg.FormattedBody, "mx-reply") {
		t.Errorf("the reply carries a quoted fallback: %q", msg.Body)
	}
	// "1" answers the option, as a tapped button; another number does not.
	since = time.Now()
	alice.Send(room, "1")
	second := alice.Wait("the reply to option 1", func(e *event.Event) bool {
		return replyFrom(room, bot.id(), since)(e) && e.ID != reply.ID
	})
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("handler got %d requests, want 2", len(reqs))
	}
	want := commands.Request{Person: "alice", Platform: "matrix", Prefix: "!", Chat: commands.Private, Text: "!code binance", DeletesMessages: true, Files: true}
	if got := reqs[0]; got.Person != want.Person || got.Platform != want.Platform || got.Prefix != want.Prefix || got.Chat != want.Chat || got.Text != want.Text || got.Attachment != nil ||
		got.Buttons != want.Buttons || got.DeletesMessages != want.DeletesMessages || got.Files != want.Files || got.MiniApp != want.MiniApp || got.Local != want.Local {
		t.Errorf("request = %+v, want %+v", got, want)
	}
	if got := reqs[1]; got.Text != "/code binance" || !got.Callback {
		t.Errorf("option 1 gave %q (callback %v), want the button's data", got.Text, got.Callback)
	}
	// The set was used up by "1" and replaced by the new reply's options:
	// a keycap reaction on that reply picks one too.
	if _, err := alice.Cli.SendReaction(context.Background(), room, second.ID, "1\ufe0f\u20e3"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitFor)
	for len(f.requests()) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if reqs := f.requests(); len(reqs) != 3 || reqs[2].Text != "/code binance" || !reqs[2].Callback {
		t.Errorf("the 1️⃣ reaction did not pick the option: %+v", reqs)
	}
}

func TestUnencryptedDMGetsPlainReply(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	alice, bot, room := dmWithBot(t, h, &fakeHandler{}, false, "trusted_private_chat")
	since := time.Now()
	alice.Send(room, "/help")
	reply := alice.Wait("the bot's reply", replyFrom(room, bot.id(), since))
	if matrixtest.Decrypted(reply) {
		t.Error("the reply in an unencrypted room was encrypted")
	}
	if got := reply.Content.AsMessage().Body; got != "ok: /help" {
		t.Errorf("reply body %q", got)
	}
}

func TestSecretMessageIsRedacted(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	f := &fakeHandler{reply: func(req commands.Request) []commands.Reply {
		return []commands.Reply{{Parts: []commands.Part{{Text: "Saved. I deleted your message."}}, DeleteRequest: true}}
	}}
	alice, bot, room := dmWithBot(t, h, f, true, "trusted_private_chat")
	since := time.Now()
	secret := alice.Send(room, "/add binance JBSWY3DPEHPK3PXP")
	red := alice.Wait("redaction of the secret", redactionOf(room, secret))
	if red.Sender != bot.id() {
		t.Errorf("redacted by %s, want the bot", red.Sender)
	}
	alice.Wait("the bot's reply", replyFrom(room, bot.id(), since))
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	orig, err := alice.Cli.GetEvent(ctx, room, secret)
	if err != nil {
		t.Fatal(err)
	}
	if len(orig.Content.Raw) != 0 {
		t.Errorf("the server still holds content for the secret message: %v keys", len(orig.Content.Raw))
	}
	for _, e := range alice.Seen(replyFrom(room, bot.id(), since)) {
		if strings.Contains(e.Content.AsMessage().Body, commands.DeleteFailedNotice) {
			t.Errorf("got a delete-failed notice although the redaction worked: %q", e.Content.AsMessage().Body)
		}
	}
}

func TestRedactionForbiddenIsExplained(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	f := &fakeHandler{reply: func(req commands.Request) []commands.Reply {
		return []commands.Reply{{Parts: []commands.Part{{Text: "Saved."}}, DeleteRequest: true}}
	}}
	// private_chat leaves the bot at power level 0: it may not redact.
	alice, bot, room := dmWithBot(t, h, f, true, "private_chat")
	since := time.Now()
	alice.Send(room, "/add binance JBSWY3DPEHPK3PXP")
	alice.Wait("the delete-failed notice", func(evt *event.Event) bool {
		return replyFrom(room, bot.id(), since)(evt) &&
			strings.Contains(evt.Content.AsMessage().Body, commands.DeleteFailedNotice)
	})
}

func TestOutsiderInviteIsRefused(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	alice := matrixtest.NewPerson(t, h, "alice")
	outsider := matrixtest.NewPerson(t, h, "bob-outsider")
	f := &fakeHandler{}
	bot := startBot(t, botConfig(t, h, f.serve(alice.ID(), "alice")))
	room := outsider.Room(true, "trusted_private_chat", bot.id())
	outsider.WaitMembership(room, bot.id(), event.MembershipLeave)
	if n := len(f.requests()); n != 0 {
		t.Errorf("handler got %d requests from an outsider's room", n)
	}
	// A configured person in the same bot still gets served.
	dm := alice.Room(true, "trusted_private_chat", bot.id())
	alice.WaitJoined(dm, bot.id())
}

func TestGroupRoomGetsNoSecrets(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	alice := matrixtest.NewPerson(t, h, "alice")
	carol := matrixtest.NewPerson(t, h, "carol")
	f := &fakeHandler{reply: func(req commands.Request) []commands.Reply {
		// A broken handler that ignores Chat: the adapter's second lock
		// must still keep the code out of the room.
		return []commands.Reply{{Parts: []commands.Part{{Text: "binance: "}, {Text: "987654", Code: true}}, Sensitive: true}}
	}}
	bot := startBot(t, botConfig(t, h, f.serve(alice.ID(), "alice").serve(carol.ID(), "carol")))
	room := alice.Room(true, "trusted_private_chat", bot.id(), carol.ID())
	alice.WaitJoined(room, bot.id())
	since := time.Now()
	alice.Send(room, "/code binance")
	reply := alice.Wait("the bot's refusal", replyFrom(room, bot.id(), since))
	if body := reply.Content.AsMessage().Body; strings.Contains(body, "987654") || !strings.Contains(body, "private chat") {
		t.Errorf("group reply %q: want a refusal without the code", body)
	}
	if reqs := f.requests(); len(reqs) != 1 || reqs[0].Chat != commands.Group {
		t.Errorf("requests %+v: want one with Chat=Group", reqs)
	}
}

func TestEncryptedAttachmentIsDecrypted(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	f := &fakeHandler{reply: func(req commands.Request) []commands.Reply {
		return []commands.Reply{{Parts: []commands.Part{{Text: "read it"}}, DeleteRequest: true}}
	}}
	alice, bot, room := dmWithBot(t, h, f, true, "trusted_private_chat")
	png := bytes.Repeat([]byte("\x89PNG fake image bytes "), 50)
	since := time.Now()
	sent := alice.SendImage(room, "qr.png", png)
	alice.Wait("the bot's reply", replyFrom(room, bot.id(), since))
	alice.Wait("redaction of the image", redactionOf(room, sent))
	reqs := f.requests()
	if len(reqs) != 1 || reqs[0].Attachment == nil {
		t.Fatalf("requests %+v: want one with an attachment", reqs)
	}
	a := reqs[0].Attachment
	if !a.Image || a.MIME != "image/png" || a.Name != "qr.png" || !bytes.Equal(a.Data, png) || reqs[0].Text != "" {
		t.Errorf("attachment %q %q image=%v, %d bytes (equal %v), text %q", a.Name, a.MIME, a.Image, len(a.Data), bytes.Equal(a.Data, png), reqs[0].Text)
	}
}

func TestRepliesExpire(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	f := &fakeHandler{reply: func(req commands.Request) []commands.Reply {
		now := time.Now()
		return []commands.Reply{{
			Parts:          []commands.Part{{Text: "123456", Code: true}},
			Sensitive:      true,
			CodeValidUntil: now.Add(500 * time.Millisecond),
			ExpiresAt:      now.Add(1500 * time.Millisecond),
		}}
	}}
	alice, bot, room := dmWithBot(t, h, f, true, "trusted_private_chat")
	since := time.Now()
	alice.Send(room, "/code binance")
	reply := alice.Wait("the code reply", replyFrom(room, bot.id(), since))
	edit := alice.Wait("the expiry edit", func(evt *event.Event) bool {
		msg := evt.Content.AsMessage()
		return evt.RoomID == room && evt.Type == event.EventMessage && msg.RelatesTo != nil &&
			msg.RelatesTo.Type == event.RelReplace && msg.RelatesTo.EventID == reply.ID
	})
	if nc := edit.Content.AsMessage().NewContent; nc == nil || nc.Body != expiredText(nil) {
		t.Errorf("edit new content %+v", nc)
	}
	alice.Wait("redaction of the code reply", redactionOf(room, reply.ID))
}

func TestLeavesRoomWhenAlone(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	alice, bot, room := dmWithBot(t, h, &fakeHandler{}, true, "trusted_private_chat")
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if _, err := alice.Cli.LeaveRoom(ctx, room); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitFor)
	for !bot.bot.cli.StateStore.IsMembership(ctx, room, bot.id(), event.MembershipLeave) {
		if time.Now().After(deadline) {
			t.Fatal("the bot stayed in a room with nobody else in it")
		}
		time.Sleep(50 * time.Millisecond) // polling another client's state, not timing logic
	}
}
