package failover

import (
	"crypto/rand"
	"encoding/base32"
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

	"github.com/authbot/authbot/bots/telegram/telegramtest"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/internal/testkit"
	"github.com/authbot/authbot/storage/postgres/pgtest"
)

const (
	token      = "4242:failover-test-token"
	alice      = int64(1001)
	hotpSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
)

// authbotBinary is the real binary, built once per test run.
func authbotBinary(t *testing.T) string {
	t.Helper()
	return testkit.Authbot(t, "goolm")
}

func TestMain(m *testing.M) {
	os.Exit(func() int {
		defer testkit.RemoveBuilds()
		return pgtest.Run(m)
	}())
}

// rig runs the serve processes (each with a data dir of its own, as on
// two machines: only the master key, in the environment, and the database
// are shared) against the fake Bot API.
type rig struct {
	api *telegramtest.Server
	testkit.Fleet
}

// say sends text from alice and waits for a reply containing want; it
// returns the reply text and when it came.
func (r *rig) say(text, want string, timeout time.Duration) (string, time.Time, bool) {
	n := r.api.NumCalls()
	r.api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, text)
	c, _, ok := r.api.WaitCall(n, timeout, func(c telegramtest.Call) bool {
		return c.Method == "sendMessage" && c.Fields["chat_id"] == fmt.Sprint(alice) && strings.Contains(c.Fields["text"], want)
	})
	return c.Fields["text"], c.At, ok
}

var codeRE = regexp.MustCompile(`<code>(\d{6,8})</code>`)

func newSecret() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// TestFailover: two serve processes on one database; the active one is
// killed with SIGKILL during /add and HOTP /code traffic, again and again,
// and a fresh standby started each time. Every acknowledged /add must be
// there at the end, no HOTP code may be handed out twice, and no two
// processes may ever poll Telegram at once. Then PostgreSQL itself is
// restarted under load and the bot must recover by itself.
func TestFailover(t *testing.T) {
	dsn := pgtest.NewDB(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dsn"), []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key, _ := seal.NewKey()
	api := telegramtest.New(token)
	defer api.Close()
	api.LongPoll = 500 * time.Millisecond
	r := &rig{api: api, Fleet: testkit.Fleet{
		Bin: authbotBinary(t),
		Dir: dir,
		Env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AUTHBOT_MASTER_KEY=" + seal.Encode(&key)},
		Conf: fmt.Sprintf(`log: {level: info}
codes: {delete_after: 10m}
storage: {driver: postgres, dsn_file: %s, lease_ttl: 2s}
rate_limits: {off: true}
telegram: {token: %q, api_url: %q}
users:
  - {name: alice, telegram: %d, admin: true}
`, filepath.Join(dir, "dsn"), token, api.URL(), alice),
	}}

	first := r.Start(t)
	r.Start(t)
	act := r.Settled(t, 30*time.Second)
	if act != first {
		t.Logf("the second process won the first lease")
	}
	if _, _, ok := r.say("/add h0 otpauth://hotp/Bank:h0?secret="+hotpSecret+"&counter=0&digits=8", "h0", 15*time.Second); !ok {
		t.Fatal("no answer to the first /add")
	}

	codes := map[string]int{} // acknowledged HOTP code -> times seen
	acked := map[string]bool{}
	next := 0
	addOne := func(timeout time.Duration) bool {
		label := fmt.Sprintf("a%d", next)
		next++
		_, _, ok := r.say("/add "+label+" otpauth://totp/"+label+"?secret="+newSecret(), "Added", timeout)
		if ok {
			acked[label] = true
		}
		return ok
	}
	codeOne := func(timeout time.Duration) (time.Time, bool) {
		text, at, ok := r.say("/code h0", "<code>", timeout)
		if ok {
			m := codeRE.FindStringSubmatch(text)
			if m == nil {
				t.Fatalf("no code in %q", text)
			}
			codes[m[1]]++
		}
		return at, ok
	}

	rounds := 20
	if testing.Short() {
		rounds = 3
	}
	budget := time.Now().Add(75 * time.Second) // room for all 20 rounds (about 3 s each) while bounding the wall time on a busy machine
	var takeovers []time.Duration
	for round := 0; round < rounds && time.Now().Before(budget); round++ {
		addOne(10 * time.Second)
		codeOne(10 * time.Second)
		// Mid-traffic: a command in flight as the active one dies.
		n := api.NumCalls()
		api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/code h0")
		api.WaitCall(n, 2*time.Second, func(c telegramtest.Call) bool { return c.Method == "getUpdates" && c.Fields["offset"] != "" })
		killed := time.Now()
		r.Drop(t, act)
		r.Start(t)
		at, ok := codeOne(20 * time.Second)
		if !ok {
			t.Fatalf("round %d: no answer within 20 s of killing the active process", round)
		}
		takeovers = append(takeovers, at.Sub(killed))
		// Either the old standby or the fresh process may have won.
		act = r.Settled(t, 30*time.Second)
	}
	if len(takeovers) < rounds {
		t.Logf("ran %d of %d kill rounds within the time budget", len(takeovers), rounds)
	}
	slices.Sort(takeovers)
	t.Logf("takeover after kill -9 (kill to first answer), %d rounds: p50 %v, max %v",
		len(takeovers), takeovers[len(takeovers)/2].Round(time.Millisecond), takeovers[len(takeovers)-1].Round(time.Millisecond))
	if max := takeovers[len(takeovers)-1]; max > 10*time.Second {
		t.Errorf("slowest takeover %v, want within 10 s", max)
	}

	// PostgreSQL restarted under load: the bot finds its way back.
	stop := make(chan struct{})
	restarted := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		restarted <- pgtest.Shared(t).Restart()
		close(stop)
	}()
	for i := 0; ; i++ {
		select {
		case <-stop:
		default:
			codeOne(2 * time.Second) // answered or not while the database is down
			continue
		}
		break
	}
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	if _, ok := codeOne(30 * time.Second); !ok {
		t.Fatal("the bot did not answer within 30 s of PostgreSQL coming back")
	}
	t.Logf("after the PostgreSQL restart the bot answered again in %v", time.Since(back).Round(time.Millisecond))
	addOne(15 * time.Second)

	// Every acknowledged change is there.
	text, _, ok := r.say("/list", "h0", 15*time.Second)
	if !ok {
		t.Fatal("no answer to /list")
	}
	for label := range acked {
		if !regexp.MustCompile(`\b` + label + `\b`).MatchString(text) {
			t.Errorf("acknowledged /add %s is missing after the failovers", label)
		}
	}
	// No HOTP code twice, and each is a real code of the account.
	valid := map[string]bool{}
	for c := uint64(0); c < 2000; c++ {
		code, _ := hotp.GenerateCodeCustom(hotpSecret, c, hotp.ValidateOpts{Digits: otp.DigitsEight, Algorithm: otp.AlgorithmSHA1})
		valid[code] = true
	}
	for code, n := range codes {
		if n > 1 {
			t.Errorf("HOTP code %s handed out %d times", code, n)
		}
		if !valid[code] {
			t.Errorf("%s is no HOTP code of the account", code)
		}
	}
	if m := api.MaxConcurrentPolls(); m > 1 {
		t.Errorf("%d processes polled Telegram at once", m)
	}
	t.Logf("%d acknowledged adds, %d HOTP codes, all present and distinct", len(acked), len(codes))
}
