//go:build goolm

package elementtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/matrix"
	"github.com/authbot/authbot/bots/matrix/matrixtest"
	"github.com/authbot/authbot/bots/outbox"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/internal/testkit"
)

var (
	hs        *matrixtest.Homeserver
	hsErr     error
	clientDir string // holds node_modules (scripts/element-client.sh)
	clientErr error
)

func TestMain(m *testing.M) {
	// Dendrite and npm in parallel: both are slow the first time.
	done := make(chan struct{})
	go func() {
		defer close(done)
		clientDir, clientErr = installClient()
	}()
	hs, hsErr = matrixtest.Start("authbot-element-dendrite-")
	<-done
	code := m.Run()
	if hs != nil {
		hs.Stop()
	}
	os.Exit(code)
}

func installClient() (string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", fmt.Errorf("node not found (apt-get install nodejs npm): %w", err)
	}
	script := filepath.Join(matrixtest.RepoRoot(), "scripts", "element-client.sh")
	if out, err := exec.Command(script, "install").CombinedOutput(); err != nil {
		return "", fmt.Errorf("scripts/element-client.sh install: %v: %s", err, out)
	}
	out, err := exec.Command(script, "dir").Output()
	if err != nil {
		return "", fmt.Errorf("scripts/element-client.sh dir: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// need fails the test under CI=true when a part could not be set up, and
// skips it (saying why) elsewhere.
func need(t *testing.T) {
	t.Helper()
	for _, err := range []error{hsErr, clientErr} {
		if err == nil {
			continue
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Element client test needs Dendrite and Node: %v", err)
		}
		t.Skipf("not available (%v); set CI=true to make this a failure", err)
	}
}

// testSecret is RFC 6238's SHA-1 test key in base32.
const testSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// realHandler is the real command handler and the bot's outbox over one
// real bbolt file, as authbot serve wires them.
// realHandler is the real command handler whose service has alice (a
// Matrix user registered on Dendrite) as its one config user: its people
// directory is how the bot knows her, as in authbot serve.
func realHandler(t *testing.T, alice id.UserID) (*commands.Handler, *outbox.Outbox) {
	t.Helper()
	users := []core.ConfigUser{{Name: "alice", Identities: []core.Identity{{Platform: matrix.Platform, ID: alice.String()}}}}
	k := testkit.Service(t, testkit.Options{Clock: core.SystemClock{}, Service: core.ServiceOptions{Users: users}})
	return k.Handler(commands.Options{CodeDeleteAfter: time.Minute}), k.Outbox(t, outbox.Options{Platform: matrix.Platform})
}

type finding struct {
	Step string `json:"step"`
	// the fields the steps report (see js/client.mjs)
	Device               string `json:"device"`
	SignedByOwner        bool   `json:"signedByOwner"`
	CrossSigningVerified bool   `json:"crossSigningVerified"`
	Body                 string `json:"body"`
	MsgType              string `json:"msgtype"`
	Formatted            string `json:"formatted"`
	SentAt               int64  `json:"sentAt"`
	InReplyTo            string `json:"inReplyTo"`
	Request              string `json:"request"`
	Decrypted            bool   `json:"decrypted"`
}

type undecryptable struct{ reasons chan string }

func (u undecryptable) Undecryptable(reason string) {
	select {
	case u.reasons <- reason:
	default:
	}
}

// TestElementClient: a person on matrix-js-sdk's Rust crypto opens a DM as
// Element does, adds an account and gets its code with "!", sees the bot's
// device cross-signed by its owner, reads replies on a second unverified
// device, and is told when Element withholds the key from the bot.
func TestElementClient(t *testing.T) {
	need(t)
	const botPassword, alicePassword = "bot-password-123", "alice-password-1"
	hs.Register(t, "bot", botPassword)
	hs.Register(t, "alice", alicePassword)
	alice := id.UserID(hs.UserID("alice"))
	metrics := undecryptable{reasons: make(chan string, 16)}
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	handler, box := realHandler(t, alice)
	bot, err := matrix.New(matrix.Config{
		Homeserver:      hs.URL,
		UserID:          id.UserID(hs.UserID("bot")),
		Password:        botPassword,
		StateDir:        filepath.Join(t.TempDir(), "matrix"),
		PickleKey:       []byte("0123456789abcdef0123456789abcdef"),
		CrossSigningKey: []byte("cross-signing-seal-key-32-bytes!"),
		Handler:         handler,
		Outbox:          box,
		Log:             log,
		Metrics:         metrics,
		RetryMin:        100 * time.Millisecond,
		RetryMax:        time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- bot.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-runErr; err != nil {
			t.Errorf("bot: %v", err)
		}
	}()

	// The client runs from a temp dir that sees the shared node_modules.
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(clientDir, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"client.mjs", "polyfill.mjs"} {
		script, err := os.ReadFile(filepath.Join("js", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), script, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	nodeCtx, stop := context.WithTimeout(ctx, 3*time.Minute)
	defer stop()
	cmd := exec.CommandContext(nodeCtx, "node", "client.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HS="+hs.URL, "USER=alice", "PASSWORD="+alicePassword,
		"BOT="+hs.UserID("bot"), "SECRET="+testSecret)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	found := map[string][]finding{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var f finding
		if json.Unmarshal(sc.Bytes(), &f) == nil {
			found[f.Step] = append(found[f.Step], f)
			t.Logf("client: %s", sc.Bytes())
		}
	}
	if err != nil {
		t.Fatalf("the Element client failed: %v\n%s", err, lastLines(stderr.String(), 30))
	}

	devices := found["bot-device"]
	if len(devices) == 0 {
		t.Fatal("the client saw no device of the bot")
	}
	for _, d := range devices {
		if !d.SignedByOwner {
			t.Errorf("the client does not see the bot's device %s as signed by its owner (red shield)", d.Device)
		}
	}
	if add := one(t, found, "add"); !add.Decrypted || add.MsgType != "m.notice" || !strings.Contains(add.Body, "Added binance.") || !strings.Contains(add.Body, "Send !code binance") {
		t.Errorf("!add reply: %+v", add)
	}
	code := one(t, found, "code")
	if !code.Decrypted || code.MsgType != "m.notice" {
		t.Errorf("!code reply is not a decrypted m.notice: %+v", code)
	}
	if code.InReplyTo == "" || code.InReplyTo != code.Request {
		t.Errorf("!code reply relates to %q, want the request %q", code.InReplyTo, code.Request)
	}
	if strings.Contains(code.Formatted, "mx-reply") || strings.HasPrefix(code.Body, "> ") {
		t.Errorf("the code reply has a quoted fallback: %q", code.Body)
	}
	checkCode(t, code)
	if second := one(t, found, "second-device"); !second.Decrypted || !strings.Contains(second.Body, "binance") {
		t.Errorf("the second, unverified device did not read the reply: %+v", second)
	}
	if w := one(t, found, "withheld"); !strings.Contains(w.Body, "not share keys with unverified sessions") || w.MsgType != "m.notice" {
		t.Errorf("withheld key notice: %+v", w)
	}
	select {
	case r := <-metrics.reasons:
		if r != "withheld_unverified" {
			t.Errorf("undecryptable counted as %q, want withheld_unverified", r)
		}
	default:
		t.Error("the undecryptable message was not counted")
	}
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// checkCode: the code is testSecret's TOTP at the time the reply was sent.
func checkCode(t *testing.T, f finding) {
	t.Helper()
	m := sixDigits.FindStringSubmatch(f.Body)
	if m == nil {
		t.Fatalf("no code in %q", f.Body)
	}
	sent := time.UnixMilli(f.SentAt)
	for _, at := range []time.Time{sent, sent.Add(-30 * time.Second), sent.Add(30 * time.Second)} {
		want, err := totp.GenerateCode(testSecret, at)
		if err != nil {
			t.Fatal(err)
		}
		if m[1] == want {
			return
		}
	}
	t.Errorf("code %s is not the TOTP of the key around %v", m[1], sent)
}

func one(t *testing.T, found map[string][]finding, step string) finding {
	t.Helper()
	if len(found[step]) != 1 {
		t.Fatalf("step %s reported %d times, want once", step, len(found[step]))
	}
	return found[step][0]
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
