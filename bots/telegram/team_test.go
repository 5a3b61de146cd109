package telegram_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/telegram"
	"github.com/authbot/authbot/bots/telegram/telegramtest"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/internal/testkit"
)

// teamRig runs the adapter over the real handler and service (bbolt in a
// temp dir) against the fake Bot API: alice is the config admin, everyone
// else arrives with an invite.
type teamRig struct {
	t   *testing.T
	api *telegramtest.Server
	svc *core.Service
}

func startTeam(t *testing.T) *teamRig {
	t.Helper()
	// alice is the config's admin (core's people directory). Cheap Argon2:
	// /lock at the default 64 MiB cost outran the 10 s wait under -race on
	// a loaded machine, and the KDF's cost is not what these tests check.
	k := testkit.Service(t, testkit.Options{Clock: core.SystemClock{}, Service: core.ServiceOptions{
		Argon2: seal.Argon2Params{Time: 1, MemoryKiB: 1024, Threads: 1},
		Users: []core.ConfigUser{
			{Name: "alice", Identities: []core.Identity{{Platform: "telegram", ID: strconv.FormatInt(alice, 10)}}, Admin: true}}}})
	svc := k.Svc
	var bot *telegram.Bot
	var botMu sync.Mutex
	h := k.Handler(commands.Options{
		TelegramBotName: func() string {
			botMu.Lock()
			defer botMu.Unlock()
			return bot.Username()
		},
	})
	api := telegramtest.New(token)
	t.Cleanup(api.Close)
	api.LongPoll = 200 * time.Millisecond
	b, err := telegram.New(telegram.Config{
		Token:       token,
		APIURL:      api.URL(),
		Outbox:      newOutbox(t, nil),
		Handler:     h,
		PollTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	botMu.Lock()
	bot = b
	botMu.Unlock()
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("Run did not return")
		}
	})
	return &teamRig{t: t, api: api, svc: svc}
}

// say sends text from user in their private chat and returns the text of
// the next message the bot sends to chat.
func (r *teamRig) say(user int64, text string, chat int64) telegramtest.Call {
	r.t.Helper()
	after := r.api.NumCalls()
	r.api.SendText(telegramtest.Private(user), telegramtest.User{ID: user}, text)
	return r.next(after, chat)
}

func (r *teamRig) next(after int, chat int64) telegramtest.Call {
	r.t.Helper()
	c, _, ok := r.api.WaitCall(after, 10*time.Second, sendTo(chat))
	if !ok {
		r.t.Fatalf("no message to chat %d", chat)
	}
	return c
}

func expectText(t *testing.T, c telegramtest.Call, want string) {
	t.Helper()
	if !strings.Contains(c.Fields["text"], want) {
		t.Fatalf("text %q, want it to contain %q", c.Fields["text"], want)
	}
}

var teamCodeRE = regexp.MustCompile(`<code>(\d{6})</code>`)

func expectCode(t *testing.T, c telegramtest.Call) {
	t.Helper()
	if !teamCodeRE.MatchString(c.Fields["text"]) {
		t.Fatalf("no code in %q", c.Fields["text"])
	}
}

// TestTeamThroughTelegram is issue 6 end to end through the adapter: an
// invite deep link makes a stranger a person, a shared vault gives them
// codes, an approval request reaches the admin's private chat with
// buttons, the admin's tap sends the code to the member's private chat,
// and /remove makes them a stranger again.
func TestTeamThroughTelegram(t *testing.T) {
	r := startTeam(t)
	const bobID = int64(2002)

	// A stranger gets the usual refusal, and a bad token is explained.
	expectText(t, r.say(bobID, "hello", bobID), "2002")
	expectText(t, r.say(bobID, "/start aaaaaaaaaaaaaaaaaaaaaaaaaa", bobID), "invite is unknown")

	// The admin's invite carries a deep link with the bot's username.
	c := r.say(alice, "/invite bob", alice)
	m := regexp.MustCompile(`https://t\.me/` + telegramtest.BotUsername + `\?start=([a-z2-7]+)`).FindStringSubmatch(c.Fields["text"])
	if m == nil {
		t.Fatalf("no deep link in %q", c.Fields["text"])
	}
	// Opening the link sends "/start TOKEN".
	expectText(t, r.say(bobID, "/start "+m[1], bobID), "Welcome, bob!")
	expectText(t, r.say(bobID, "/add github JBSWY3DPEHPK3PXP", bobID), "github")
	expectCode(t, r.say(bobID, "/code github", bobID))

	// A shared vault.
	expectText(t, r.say(alice, "/vault new team", alice), "Made the shared vault team")
	expectText(t, r.say(alice, "/add team/aws JBSWY3DPEHPK3PXP", alice), "aws")
	expectText(t, r.say(alice, "/vault add team bob", alice), "bob is now in team")
	expectCode(t, r.say(bobID, "/code team/aws", bobID))

	// Approval: the request goes to alice's private chat with buttons.
	expectText(t, r.say(alice, "/vault approval team on", alice), "now need an admin")
	after := r.api.NumCalls()
	r.api.SendText(telegramtest.Private(bobID), telegramtest.User{ID: bobID}, "/code team/aws deploy fix")
	expectText(t, r.next(after, bobID), "I asked the admins of team")
	req := r.next(after, alice)
	expectText(t, req, "bob asks for a code for team/aws")
	ids := regexp.MustCompile(`"callback_data":"(/approve [^" ]+ once)"`).FindStringSubmatch(req.Fields["reply_markup"])
	if ids == nil {
		t.Fatalf("no Once button in %s", req.Fields["reply_markup"])
	}
	after = r.api.NumCalls()
	r.api.PressButton(telegramtest.Private(alice), telegramtest.User{ID: alice}, req.MessageID, ids[1])
	expectText(t, r.next(after, alice), "Approved")
	got := r.next(after, bobID)
	expectText(t, got, "alice approved your request")
	// A one-time grant is used by bob's own tap, so the code surely
	// reaches him.
	get := regexp.MustCompile(`"callback_data":"(/code #[^"]+)"`).FindStringSubmatch(got.Fields["reply_markup"])
	if get == nil {
		t.Fatalf("no Get the code button in %s", got.Fields["reply_markup"])
	}
	after = r.api.NumCalls()
	r.api.PressButton(telegramtest.Private(bobID), telegramtest.User{ID: bobID}, got.MessageID, get[1])
	expectCode(t, r.next(after, bobID))

	// /remove: bob is a stranger again.
	expectText(t, r.say(alice, "/remove bob", alice), "still in shared vaults")
	expectText(t, r.say(alice, "/vault remove team bob", alice), "bob is out of team")
	expectText(t, r.say(alice, "/remove bob", alice), "Removed bob")
	c = r.say(bobID, "/code github", bobID)
	expectText(t, c, "private bot")
	if teamCodeRE.MatchString(c.Fields["text"]) {
		t.Fatal("a removed person got a code")
	}
}

// TestReplyToWithoutTelegramIdentity: a reply for someone who is not on
// Telegram is dropped; the sender still gets theirs.
func TestReplyToWithoutTelegramIdentity(t *testing.T) {
	h := &fakeHandler{reply: func(req commands.Request) []commands.Reply {
		return []commands.Reply{
			{Parts: []commands.Part{{Text: "asked"}}},
			{To: "carol", Parts: []commands.Part{{Text: "for carol"}}, Sensitive: true},
			{To: "bob", Parts: []commands.Part{{Text: "for bob"}}, Sensitive: true},
		}
	}}
	hs := start(t, h, nil)
	after := hs.api.NumCalls()
	hs.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/code x")
	c := hs.wait(after, sendTo(bob))
	if c.Fields["text"] != "for bob" {
		t.Errorf("bob got %q", c.Fields["text"])
	}
	hs.wait(after, sendTo(alice))
	if err := hs.stop(); err != nil {
		t.Fatal(err)
	}
	for _, c := range hs.api.CallsTo("sendMessage") {
		if strings.Contains(c.Fields["text"], "carol") {
			t.Errorf("a reply for carol went to chat %s", c.Fields["chat_id"])
		}
	}
}
