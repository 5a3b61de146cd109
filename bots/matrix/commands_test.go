//go:build goolm

package matrix

import (
	"context"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/matrix/matrixtest"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/qr"
	"github.com/authbot/authbot/internal/testkit"
)

// These tests run the real command handler over a real bolt database, so
// the whole path is real: Dendrite, E2EE, the adapter, commands, core.

// realHandler is the real command handler over a real bolt database whose
// service has people as its config users (no admins): its people
// directory is the only place the bot learns who is who, as in authbot
// serve. The Matrix user ids are known only once registered on Dendrite,
// so callers register the people first.
func realHandler(t testing.TB, people map[id.UserID]string) *commands.Handler {
	t.Helper()
	return testkit.Service(t, testkit.Options{Clock: core.SystemClock{}, Service: core.ServiceOptions{Users: configUsers(people)}}).Handler(commands.Options{
		Log:               testLogger(t),
		CodeDeleteAfter:   time.Minute,
		ExportDeleteAfter: time.Minute,
	})
}

// configUsers turns a Matrix user -> person map into core's config users,
// in user id order (one identity each).
func configUsers(people map[id.UserID]string) []core.ConfigUser {
	var out []core.ConfigUser
	for _, u := range slices.Sorted(maps.Keys(people)) {
		out = append(out, core.ConfigUser{Name: people[u], Identities: []core.Identity{{Platform: Platform, ID: u.String()}}})
	}
	return out
}

// testSecret is RFC 6238's SHA-1 test key ("12345678901234567890") in base32.
const testSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

var codeSpan = regexp.MustCompile(`<code>(\d{6,8})</code>`)

// checkCode asserts that reply carries the TOTP code for testSecret valid at
// some moment between from and to, computed independently with pquerna/otp.
func checkCode(t *testing.T, reply *event.Event, from, to time.Time) {
	t.Helper()
	if !matrixtest.Decrypted(reply) {
		t.Error("the code reply was not encrypted")
	}
	msg := reply.Content.AsMessage()
	m := codeSpan.FindStringSubmatch(msg.FormattedBody)
	if m == nil {
		t.Fatalf("no <code> span with a code in %q", msg.FormattedBody)
	}
	var want []string
	for at := from.Add(-time.Second); !at.After(to.Add(time.Second)); at = at.Add(time.Second) {
		c, err := totp.GenerateCode(testSecret, at)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, c)
	}
	if !slices.Contains(want, m[1]) {
		t.Errorf("code %s is not the RFC 6238 code for the secret (want one of %v)", m[1], slices.Compact(want))
	}
	if !strings.Contains(msg.Body, m[1]) {
		t.Errorf("plain body %q lacks the code", msg.Body)
	}
}

func TestAddAndCodeOverE2EEWithRestart(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	alice := matrixtest.NewPerson(t, h, "alice")
	handler := realHandler(t, map[id.UserID]string{alice.ID(): "alice"})
	cfg := botConfig(t, h, handler)
	bot := startBot(t, cfg)
	room := alice.Room(true, "trusted_private_chat", bot.id())
	alice.WaitJoined(room, bot.id())

	// Encrypted /add: the bot stores it and redacts the message.
	since := time.Now()
	add := alice.Send(room, "!add binance "+testSecret)
	red := alice.Wait("redaction of the /add message", redactionOf(room, add))
	if red.Sender != bot.id() {
		t.Errorf("the /add message was redacted by %s", red.Sender)
	}
	addReply := alice.Wait("the /add reply", replyFrom(room, bot.id(), since))
	if body := addReply.Content.AsMessage().Body; strings.Contains(body, testSecret) {
		t.Error("the /add reply repeats the secret")
	} else if !strings.Contains(body, "Send !code binance") || strings.Contains(body, "/code") {
		t.Errorf("the /add reply does not speak Matrix's ! prefix: %q", body)
	}

	// Encrypted /code: the decrypted reply has the right code.
	since = time.Now()
	alice.Send(room, "!code binance")
	reply := alice.Wait("the /code reply", func(evt *event.Event) bool {
		return replyFrom(room, bot.id(), since)(evt) && codeSpan.MatchString(evt.Content.AsMessage().FormattedBody)
	})
	checkCode(t, reply, since, time.Now())

	// Restart: same device, same keys, and decryption still works.
	device := bot.bot.cli.DeviceID
	identity := bot.bot.helper.Machine().OwnIdentity().IdentityKey
	bot.stop()
	bot = startBot(t, cfg)
	if got := bot.bot.cli.DeviceID; got != device {
		t.Errorf("device after restart = %s, want %s", got, device)
	}
	if got := bot.bot.helper.Machine().OwnIdentity().IdentityKey; got != identity {
		t.Error("identity key changed across the restart")
	}
	since = time.Now()
	alice.Send(room, "/code binance")
	reply = alice.Wait("the /code reply after restart", func(evt *event.Event) bool {
		return replyFrom(room, bot.id(), since)(evt) && codeSpan.MatchString(evt.Content.AsMessage().FormattedBody)
	})
	checkCode(t, reply, since, time.Now())
}

func TestGroupRoomRealHandlerPostsNoCode(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	alice := matrixtest.NewPerson(t, h, "alice")
	carol := matrixtest.NewPerson(t, h, "carol")
	handler := realHandler(t, map[id.UserID]string{alice.ID(): "alice"})
	bot := startBot(t, botConfig(t, h, handler))
	dm := alice.Room(true, "trusted_private_chat", bot.id())
	alice.WaitJoined(dm, bot.id())
	since := time.Now()
	alice.Send(dm, "/add binance "+testSecret)
	alice.Wait("the /add reply", replyFrom(dm, bot.id(), since))

	group := alice.Room(true, "trusted_private_chat", bot.id(), carol.ID())
	alice.WaitJoined(group, bot.id())
	since = time.Now()
	alice.Send(group, "/code binance")
	reply := alice.Wait("the bot's answer in the group", replyFrom(group, bot.id(), since))
	body := reply.Content.AsMessage().Body
	if codeSpan.MatchString(reply.Content.AsMessage().FormattedBody) || regexp.MustCompile(`\d{6}`).MatchString(body) || strings.Contains(body, "binance") {
		t.Errorf("group answer %q carries a code or an account name", body)
	}
	// Nothing else from the bot in the group carries a code either.
	for _, e := range alice.Seen(replyFrom(group, bot.id(), since)) {
		if regexp.MustCompile(`\d{6}`).MatchString(e.Content.AsMessage().Body) {
			t.Errorf("group message %q carries digits that may be a code", e.Content.AsMessage().Body)
		}
	}
}

func TestSurvivesHomeserverRestart(t *testing.T) {
	h := needHomeserver(t)
	// Not parallel: it restarts the shared homeserver. Sequential tests run
	// before the parallel ones resume, so nothing else is mid-flight.
	alice, bot, room := dmWithBot(t, h, &fakeHandler{}, true, "trusted_private_chat")
	since := time.Now()
	alice.Send(room, "before")
	alice.Wait("reply before the restart", replyFrom(room, bot.id(), since))

	h.Restart(t)

	since = time.Now()
	alice.Send(room, "after")
	reply := alice.Wait("reply after the restart", func(evt *event.Event) bool {
		return replyFrom(room, bot.id(), since)(evt) && evt.Content.AsMessage().Body == "ok: after"
	})
	if !matrixtest.Decrypted(reply) {
		t.Error("reply after the restart was not encrypted")
	}
}

func TestEncryptedQRImageAddsAccount(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	alice := matrixtest.NewPerson(t, h, "alice")
	handler := realHandler(t, map[id.UserID]string{alice.ID(): "alice"})
	bot := startBot(t, botConfig(t, h, handler))
	room := alice.Room(true, "trusted_private_chat", bot.id())
	alice.WaitJoined(room, bot.id())

	png, err := qr.Encode("otpauth://totp/GitHub:alice?secret="+testSecret+"&issuer=GitHub", 256)
	if err != nil {
		t.Fatal(err)
	}
	since := time.Now()
	img := alice.SendImage(room, "screenshot.png", png)
	alice.Wait("redaction of the QR image", redactionOf(room, img))
	alice.Wait("the reply to the QR image", replyFrom(room, bot.id(), since))

	since = time.Now()
	alice.Send(room, "/code github")
	reply := alice.Wait("the /code reply", func(evt *event.Event) bool {
		return replyFrom(room, bot.id(), since)(evt) && codeSpan.MatchString(evt.Content.AsMessage().FormattedBody)
	})
	checkCode(t, reply, since, time.Now())
}

func TestAccessTokenLogin(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	alice := matrixtest.NewPerson(t, h, "alice")
	cfg := botConfig(t, h, new(fakeHandler).serve(alice.ID(), "alice"))
	// Get a token the way an operator would (e.g. from Element's settings).
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	cli, err := mautrix.NewClient(h.URL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Login(ctx, &mautrix.ReqLogin{
		Type:       mautrix.AuthTypePassword,
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: string(cfg.UserID)},
		Password:   botPassword,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Password, cfg.AccessToken = "", resp.AccessToken
	bot := startBot(t, cfg)
	if bot.bot.cli.DeviceID != resp.DeviceID {
		t.Errorf("device %s, want the token's %s", bot.bot.cli.DeviceID, resp.DeviceID)
	}
	room := alice.Room(true, "trusted_private_chat", bot.id())
	alice.WaitJoined(room, bot.id())
	since := time.Now()
	alice.Send(room, "hello")
	if r := alice.Wait("reply", replyFrom(room, bot.id(), since)); !matrixtest.Decrypted(r) {
		t.Error("reply not encrypted")
	}

	// The same store with a token for another device is refused, clearly.
	bot.stop()
	resp2, err := cli.Login(ctx, &mautrix.ReqLogin{
		Type:       mautrix.AuthTypePassword,
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: string(cfg.UserID)},
		Password:   botPassword,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.AccessToken = resp2.AccessToken
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Run(ctx); !errors.Is(err, ErrMismatchedDevice) {
		t.Errorf("Run with another device's token = %v, want ErrMismatchedDevice", err)
	}
}
