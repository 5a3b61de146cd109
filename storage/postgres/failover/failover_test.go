package failover

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
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

// proc is one running `authbot serve`.
type proc struct {
	name   string
	cmd    *exec.Cmd
	health string
	mu     sync.Mutex
	log    bytes.Buffer
	done   chan struct{}
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.Write(b)
}

func (p *proc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// role asks /healthz: "ok" (active), "standby", or "" when it does not
// answer.
func (p *proc) role() string {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(p.health)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	first, _, _ := strings.Cut(string(b), "\n") // adapter lines follow
	return strings.TrimSpace(first)
}

func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

type rig struct {
	t      *testing.T
	api    *telegramtest.Server
	dir    string
	env    []string
	n      int
	procs  []*proc
	allLog []*proc
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start starts one more `authbot serve` with a data dir of its own: only
// the master key (in the environment, as on two machines) and the database
// are shared.
func (r *rig) start() *proc {
	r.t.Helper()
	r.n++
	name := fmt.Sprintf("p%d", r.n)
	port := freePort(r.t)
	dir := filepath.Join(r.dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		r.t.Fatal(err)
	}
	cfg := fmt.Sprintf(`data_dir: %s
log: {level: info}
codes: {delete_after: 10m}
storage: {driver: postgres, dsn_file: %s, lease_ttl: 2s}
metrics: {listen: "127.0.0.1:%d"}
rate_limits: {off: true}
telegram: {token: %q, api_url: %q}
users:
  - {name: alice, telegram: %d, admin: true}
`, filepath.Join(dir, "data"), filepath.Join(r.dir, "dsn"), port, token, r.api.URL(), alice)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		r.t.Fatal(err)
	}
	p := &proc{name: name, health: fmt.Sprintf("http://127.0.0.1:%d/healthz", port), done: make(chan struct{})}
	p.cmd = exec.Command(authbotBinary(r.t), "serve", "--config", path)
	p.cmd.Env = r.env
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	r.procs = append(r.procs, p)
	r.allLog = append(r.allLog, p)
	return p
}

// active waits until exactly one process says it is active and returns it.
func (r *rig) active(timeout time.Duration) *proc {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var act []*proc
		for _, p := range r.procs {
			if p.role() == "ok" {
				act = append(act, p)
			}
		}
		if len(act) == 1 {
			return act[0]
		}
		if len(act) > 1 {
			r.t.Fatalf("%d processes are active at once", len(act))
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("no process became active within %v", timeout)
	return nil
}

func (r *rig) waitStandby(p *proc) {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if p.role() == "standby" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("%s did not come up as standby", p.name)
}

func (r *rig) drop(p *proc) {
	p.kill()
	r.procs = slices.DeleteFunc(r.procs, func(q *proc) bool { return q == p })
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
	r := &rig{t: t, api: api, dir: dir, env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AUTHBOT_MASTER_KEY=" + seal.Encode(&key)}}
	authbotBinary(t)
	defer func() {
		for _, p := range r.procs {
			p.kill()
		}
		if t.Failed() {
			for _, p := range r.allLog {
				t.Logf("--- %s log:\n%s", p.name, p.logText())
			}
		}
	}()

	first := r.start()
	r.start()
	act := r.active(30 * time.Second)
	for _, p := range r.procs {
		if p != act {
			r.waitStandby(p)
		}
	}
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
		r.drop(act)
		r.start()
		at, ok := codeOne(20 * time.Second)
		if !ok {
			t.Fatalf("round %d: no answer within 20 s of killing the active process", round)
		}
		takeovers = append(takeovers, at.Sub(killed))
		// Either the old standby or the fresh process may have won.
		act = r.active(10 * time.Second)
		for _, p := range r.procs {
			if p != act {
				r.waitStandby(p)
			}
		}
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
