//go:build goolm

package matrixfailover

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/matrix/matrixtest"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/internal/testkit"
	"github.com/authbot/authbot/storage/postgres/pgtest"
)

const (
	botPassword = "bot-password-1"
	hotpSecret  = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
)

// authbotBinary is the real binary, built once per test run.
func authbotBinary(t *testing.T) string {
	t.Helper()
	return testkit.Authbot(t, "goolm")
}

var (
	hotpRE   = regexp.MustCompile(`\b(\d{8})\b`)
	deviceRE = regexp.MustCompile(`matrix: logged in.*device=(\S+)`)
)

// TestMatrixStandby: two serve processes on one PostgreSQL database and a
// real Dendrite; a person's own E2EE client asks for HOTP codes in an
// encrypted direct chat while the active process is killed with SIGKILL
// three times (a fresh standby started each time). After every takeover
// the new active process must be the same Matrix device (one device on the
// homeserver, the same id in every log), decrypt the person's new messages
// — on the megolm session it already had, and on a new one the person's
// client shares over olm — and send replies that decrypt on the person's
// side. No message may be answered twice, and no HOTP code handed out
// twice.
func TestMatrixStandby(t *testing.T) {
	h := needHomeserver(t)
	dsn := pgtest.NewDatabase(t) // a database of its own: mautrix finds its tables by name
	dir := t.TempDir()
	dsnFile := filepath.Join(dir, "dsn")
	if err := os.WriteFile(dsnFile, []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.Register(t, "bot", botPassword)
	botID := id.UserID(h.UserID("bot"))
	alice := matrixtest.NewPerson(t, h, "alice")
	key, _ := seal.NewKey()
	// The serve processes: each with a data dir of its own (as on separate
	// machines), sharing only the master key (in the environment) and the
	// PostgreSQL database.
	r := &testkit.Fleet{
		Bin: authbotBinary(t),
		Dir: dir,
		Env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AUTHBOT_MASTER_KEY=" + seal.Encode(&key)},
		Conf: fmt.Sprintf(`log: {level: info}
codes: {delete_after: 10m}
storage: {driver: postgres, dsn_file: %s, lease_ttl: 2s}
rate_limits: {off: true}
matrix: {homeserver: %q, user_id: %q, password: %q}
users:
  - {name: alice, matrix: %q, admin: true}
`, dsnFile, h.URL, botID, botPassword, alice.Cli.UserID),
	}

	r.Start(t)
	r.Start(t)
	act := r.Settled(t, 90*time.Second)
	dm := alice.DirectChat(botID)

	fromBot := func(evt *event.Event) bool {
		return evt.RoomID == dm && evt.Sender == botID && evt.Type == event.EventMessage
	}
	replyTo := func(req id.EventID) func(*event.Event) bool {
		return func(evt *event.Event) bool {
			if !fromBot(evt) {
				return false
			}
			rel := evt.Content.AsMessage().RelatesTo
			return rel != nil && rel.InReplyTo != nil && rel.InReplyTo.EventID == req
		}
	}
	codes := map[string]int{}
	var asked []id.EventID
	// code asks for the HOTP code and waits for the reply to that message.
	code := func(timeout time.Duration) (time.Time, bool) {
		t.Helper()
		req := alice.Send(dm, "!code h0")
		asked = append(asked, req)
		evt, ok := alice.WaitUpTo(timeout, replyTo(req))
		if !ok {
			return time.Time{}, false
		}
		at := time.Now()
		if !matrixtest.Decrypted(evt) {
			t.Errorf("the reply to %s was not end-to-end encrypted", req)
		}
		m := hotpRE.FindStringSubmatch(evt.Content.AsMessage().Body)
		if m == nil {
			t.Fatalf("no code in the reply %q", evt.Content.AsMessage().Body)
		}
		codes[m[1]]++
		return at, true
	}

	alice.Send(dm, "!add h0 otpauth://hotp/Bank:h0?secret="+hotpSecret+"&counter=0&digits=8")
	if _, ok := alice.WaitUpTo(30*time.Second, func(evt *event.Event) bool {
		return fromBot(evt) && strings.Contains(evt.Content.AsMessage().Body, "Added h0")
	}); !ok {
		t.Fatal("no answer to !add")
	}
	if _, ok := code(30 * time.Second); !ok {
		t.Fatal("no answer to the first !code")
	}

	const rounds = 3
	var takeovers []time.Duration
	var inFlight []id.EventID
	for round := 0; round < rounds; round++ {
		// A message on its way as the active one dies: answered once by
		// one of them, or (when the killed one had already taken it from
		// its sync) by none, never by both.
		inFlight = append(inFlight, alice.Send(dm, "!code h0"))
		asked = append(asked, inFlight[len(inFlight)-1])
		time.Sleep(time.Duration(round) * 150 * time.Millisecond)
		killed := time.Now()
		r.Drop(t, act)
		r.Start(t)
		if round%2 == 1 {
			alice.NewMegolmSession(dm)
		}
		at, ok := code(45 * time.Second)
		if !ok {
			t.Fatalf("round %d: no answer within 45 s of killing the active process", round)
		}
		takeovers = append(takeovers, at.Sub(killed))
		act = r.Settled(t, 30*time.Second)
	}
	// The last new process's first session: one more message on a new
	// megolm session, answered.
	alice.NewMegolmSession(dm)
	if _, ok := code(30 * time.Second); !ok {
		t.Fatal("no answer on a new megolm session after the last takeover")
	}

	slices.Sort(takeovers)
	t.Logf("Matrix takeover after kill -9 (kill to the person's decrypted reply), %d rounds, lease_ttl 2s: p50 %v, max %v",
		len(takeovers), takeovers[len(takeovers)/2].Round(time.Millisecond), takeovers[len(takeovers)-1].Round(time.Millisecond))

	// Let stragglers arrive before counting answers.
	time.Sleep(2 * time.Second)
	for _, req := range asked {
		if n := len(alice.Seen(replyTo(req))); n > 1 {
			t.Errorf("message %s answered %d times", req, n)
		}
	}
	var answered []int
	for i, req := range inFlight {
		if len(alice.Seen(replyTo(req))) == 1 {
			answered = append(answered, i)
		}
	}
	// mautrix stores the sync token before it hands the events on, so a
	// message the killed process had taken but not yet answered stays
	// unanswered (at most once, never twice): the person asks again.
	t.Logf("of the %d messages sent just before a kill (0, 150, 300 ms before it), rounds %v were answered (once)", len(inFlight), answered)
	for _, evt := range alice.Seen(fromBot) {
		if !matrixtest.Decrypted(evt) {
			t.Errorf("a message from the bot was not encrypted: %s", evt.ID)
		}
	}
	for _, evt := range alice.Undecryptable() {
		t.Errorf("the person's client could not decrypt %s from %s", evt.ID, evt.Sender)
	}
	valid := map[string]bool{}
	for c := uint64(0); c < 200; c++ {
		v, _ := hotp.GenerateCodeCustom(hotpSecret, c, hotp.ValidateOpts{Digits: otp.DigitsEight, Algorithm: otp.AlgorithmSHA1})
		valid[v] = true
	}
	for c, n := range codes {
		if n > 1 {
			t.Errorf("HOTP code %s handed out %d times", c, n)
		}
		if !valid[c] {
			t.Errorf("%s is no HOTP code of the account", c)
		}
	}

	// One device all along: the homeserver lists one for the bot, and
	// every process that became active logged in as it.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	keys, err := alice.Cli.QueryKeys(ctx, &mautrix.ReqQueryKeys{DeviceKeys: mautrix.DeviceKeysRequest{botID: mautrix.DeviceIDList{}}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(keys.DeviceKeys[botID]); n != 1 {
		t.Errorf("the bot has %d devices on the homeserver, want 1 (a standby logged in as a new device)", n)
	}
	devices := map[string][]string{}
	for _, p := range r.All {
		for _, m := range deviceRE.FindAllStringSubmatch(p.Log(), -1) {
			devices[strings.Trim(m[1], `"`)] = append(devices[strings.Trim(m[1], `"`)], p.Name)
		}
	}
	if len(devices) != 1 {
		t.Errorf("the processes logged in as %d devices, want 1: %v", len(devices), devices)
	}
	t.Logf("%d HOTP codes, all distinct; one device %v", len(codes), devices)
}
