package telegram_test

// End-to-end tests: the real authbot binary (`authbot serve`) as a
// subprocess against the fake Bot API, with the real command handler, core
// and bbolt underneath.

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/authbot/authbot/bots/telegram/telegramtest"
	"github.com/authbot/authbot/internal/testkit"
)

// authbotBinary is the release build (goolm tag), built once per test run.
// Benchmarks may name another build in AUTHBOT_BENCH_BINARY (a binary of
// main kept aside), so before and after run against the same fake on the
// same machine state.
func authbotBinary(t testing.TB) string {
	t.Helper()
	if _, bench := t.(*testing.B); bench {
		if p := os.Getenv("AUTHBOT_BENCH_BINARY"); p != "" {
			return p
		}
	}
	return testkit.Authbot(t, "goolm")
}

func TestMain(m *testing.M) {
	code := m.Run()
	testkit.RemoveBuilds()
	os.Exit(code)
}

// proc is a running `authbot serve`.
type proc = testkit.Proc

// writeConfig writes a config for the fake API; extraUsers adds people
// with telegram ids 2001, 2002, ...
func writeConfig(t testing.TB, dir, apiURL string, extraUsers int, deleteAfter string) string {
	t.Helper()
	logLevel := "debug"
	var b strings.Builder
	if _, bench := t.(*testing.B); bench {
		logLevel = "info" // measure the bot, not its logging
		// Benchmarks send more codes per person than a person may.
		b.WriteString("rate_limits:\n  off: true\n")
	}
	fmt.Fprintf(&b, "data_dir: %s\nlog:\n  level: %s\ncodes:\n  delete_after: %s\n", filepath.Join(dir, "data"), logLevel, deleteAfter)
	if f := os.Getenv("AUTHBOT_BENCH_POSTGRES_DSN_FILE"); f != "" {
		// BenchmarkLoad on PostgreSQL (the README's figures): a DSN file
		// of an empty database, given by whoever runs the benchmark.
		fmt.Fprintf(&b, "storage: {driver: postgres, dsn_file: %s}\n", f)
	}
	fmt.Fprintf(&b, "telegram:\n  token: %q\n  api_url: %q\n", token, apiURL)
	fmt.Fprintf(&b, "users:\n  - name: alice\n    telegram: %d\n    admin: true\n  - name: bob\n    telegram: %d\n", alice, bob)
	for i := range extraUsers {
		fmt.Fprintf(&b, "  - name: p%d\n    telegram: %d\n", i, 2001+i)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func startServe(t testing.TB, config string) *proc {
	t.Helper()
	return testkit.Start(t, authbotBinary(t), []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Dir(config)}, "serve", "--config", config)
}

var codeRE = regexp.MustCompile(`<code>(\d{6,8})</code>`)

// checkCode asserts that text holds the TOTP code of secret at time at,
// computed independently with pquerna/otp (the adjacent steps allowed).
func checkCode(t *testing.T, text, secret string, period uint, at time.Time) {
	t.Helper()
	m := codeRE.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no code in %q", text)
	}
	for _, d := range []int{0, -1, 1} {
		want, err := totp.GenerateCodeCustom(secret, at.Add(time.Duration(d*int(period))*time.Second),
			totp.ValidateOpts{Period: period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		if want == m[1] {
			return
		}
	}
	t.Fatalf("code %s is not the TOTP of the secret at %v", m[1], at)
}

type e2e struct {
	t   *testing.T
	api *telegramtest.Server
}

func (e e2e) wait(after int, match func(telegramtest.Call) bool) (telegramtest.Call, int) {
	e.t.Helper()
	c, i, ok := e.api.WaitCall(after, 15*time.Second, match)
	if !ok {
		var seen []string
		for _, c := range e.api.Calls() {
			if c.Method != "getUpdates" {
				seen = append(seen, c.Method+" "+c.Fields["chat_id"]+" "+c.Error)
			}
		}
		e.t.Fatalf("expected call did not come; calls: %q", seen)
	}
	return c, i
}

// say sends text as from in its private chat and returns the bot's text
// reply.
func (e e2e) say(from int64, text string) telegramtest.Call {
	e.t.Helper()
	return e.sayWant(from, text, "")
}

// sayWant is say, waiting for the reply that contains want (other replies,
// such as to a redelivered update, are passed over).
func (e e2e) sayWant(from int64, text, want string) telegramtest.Call {
	e.t.Helper()
	n := e.api.NumCalls()
	e.api.SendText(telegramtest.Private(from), telegramtest.User{ID: from}, text)
	c, _ := e.wait(n, func(c telegramtest.Call) bool {
		return sendTo(from)(c) && strings.Contains(c.Fields["text"], want)
	})
	return c
}

func qrPNG(t *testing.T, content string) []byte {
	t.Helper()
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		t.Fatal(err)
	}
	code, err = barcode.Scale(code, 400, 400)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, code); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	githubKey = "JBSWY3DPEHPK3PXP"
	gitlabKey = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	fastKey   = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
)

func TestServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	api := telegramtest.New(token)
	defer api.Close()
	dir := t.TempDir()
	p := startServe(t, writeConfig(t, dir, api.URL(), 0, "3s"))
	e := e2e{t, api}
	menu, _ := e.wait(0, telegramtest.Method("setMyCommands", 0))
	if !strings.Contains(menu.Fields["commands"], `"command":"code"`) {
		t.Errorf("menu %s", menu.Fields["commands"])
	}

	t.Run("allowlist", func(t *testing.T) {
		c := e.say(eve, "/code github")
		if !strings.Contains(c.Fields["text"], fmt.Sprint(eve)) || codeRE.MatchString(c.Fields["text"]) {
			t.Errorf("refusal %q", c.Fields["text"])
		}
	})

	t.Run("add deletes the secret", func(t *testing.T) {
		n := api.NumCalls()
		id := api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/add github "+githubKey)
		del, _ := e.wait(n, telegramtest.Method("deleteMessage", alice))
		if del.Fields["message_id"] != fmt.Sprint(id) {
			t.Errorf("deleted %v, want %d", del.Fields, id)
		}
		c, _ := e.wait(n, sendTo(alice))
		if !strings.Contains(c.Fields["text"], "github") {
			t.Errorf("reply %q", c.Fields["text"])
		}
		if m, _ := api.Message(id); !m.Deleted {
			t.Error("message with the key is still in the chat")
		}
	})

	t.Run("code", func(t *testing.T) {
		c := e.say(alice, "/code github")
		checkCode(t, c.Fields["text"], githubKey, 30, c.At)
		if !strings.Contains(c.Fields["reply_markup"], "Refresh") {
			t.Errorf("no refresh button: %s", c.Fields["reply_markup"])
		}
	})

	t.Run("group refusal", func(t *testing.T) {
		group := telegramtest.Group(-4242)
		n := api.NumCalls()
		api.SendText(group, telegramtest.User{ID: alice}, "/code github")
		c, _ := e.wait(n, sendTo(group.ID))
		if codeRE.MatchString(c.Fields["text"]) || strings.Contains(c.Fields["text"], "github:") || !strings.Contains(c.Fields["text"], "private") {
			t.Errorf("group got %q", c.Fields["text"])
		}
		if !strings.Contains(c.Fields["reply_markup"], "https://t.me/"+telegramtest.BotUsername) {
			t.Errorf("no private-chat button: %s", c.Fields["reply_markup"])
		}
	})

	t.Run("QR photo import", func(t *testing.T) {
		img := qrPNG(t, "otpauth://totp/GitLab:alice@example.org?secret="+gitlabKey+"&issuer=GitLab")
		n := api.NumCalls()
		id := api.SendPhoto(telegramtest.Private(alice), telegramtest.User{ID: alice}, img, "", 0)
		e.wait(n, telegramtest.Method("deleteMessage", alice))
		c, _ := e.wait(n, sendTo(alice))
		if !strings.Contains(strings.ToLower(c.Fields["text"]), "gitlab") {
			t.Errorf("reply %q", c.Fields["text"])
		}
		if m, _ := api.Message(id); !m.Deleted {
			t.Error("QR photo still in the chat")
		}
	})

	t.Run("inline keyboard selection", func(t *testing.T) {
		c := e.say(alice, "/code git")
		var data string
		if m := regexp.MustCompile(`"text":"(?i:gitlab)[^"]*","callback_data":"([^"]+)"`).FindStringSubmatch(c.Fields["reply_markup"]); m != nil {
			data = m[1]
		} else {
			t.Fatalf("no gitlab button in %q / %s", c.Fields["text"], c.Fields["reply_markup"])
		}
		n := api.NumCalls()
		api.PressButton(telegramtest.Private(alice), telegramtest.User{ID: alice}, c.MessageID, data)
		e.wait(n, telegramtest.Method("answerCallbackQuery", 0))
		r, _ := e.wait(n, sendTo(alice))
		checkCode(t, r.Fields["text"], gitlabKey, 30, r.At)
	})

	t.Run("expiry edit and delete", func(t *testing.T) {
		n := api.NumCalls()
		api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice},
			"otpauth://totp/Fast:alice?secret="+fastKey+"&issuer=Fast&period=2")
		e.wait(n, sendTo(alice))
		c := e.say(alice, "/code fast")
		checkCode(t, c.Fields["text"], fastKey, 2, c.At)
		edit, _ := e.wait(n, func(x telegramtest.Call) bool {
			return telegramtest.Method("editMessageText", alice)(x) && x.Fields["message_id"] == fmt.Sprint(c.MessageID)
		})
		if codeRE.MatchString(edit.Fields["text"]) || !strings.Contains(edit.Fields["text"], "expired") || !strings.Contains(edit.Fields["reply_markup"], "callback_data") {
			t.Errorf("edit %v", edit.Fields)
		}
		if d := edit.At.Sub(c.At); d > 3*time.Second {
			t.Errorf("edited %v after sending; the code lives 2 s at most", d)
		}
		e.wait(n, func(x telegramtest.Call) bool {
			return telegramtest.Method("deleteMessage", alice)(x) && x.Fields["message_id"] == fmt.Sprint(c.MessageID)
		})
	})

	t.Run("429", func(t *testing.T) {
		api.Fail429("sendMessage", 1, 1)
		n := api.NumCalls()
		api.SendText(telegramtest.Private(bob), telegramtest.User{ID: bob}, "/help")
		first, _ := e.wait(n, func(c telegramtest.Call) bool { return c.Method == "sendMessage" && c.Error != "" })
		ok, _ := e.wait(n, sendTo(bob))
		if gap := ok.At.Sub(first.At); gap < time.Second {
			t.Errorf("retried after %v, retry_after was 1 s", gap)
		}
	})

	t.Run("SIGTERM", func(t *testing.T) {
		if err := p.Stop(t, syscall.SIGTERM, 15*time.Second); err != nil {
			t.Errorf("exit: %v", err)
		}
		if strings.Contains(p.Log(), githubKey) || strings.Contains(p.Log(), gitlabKey) {
			t.Error("a secret reached the log")
		}
	})
}

// TestServeKill9 kills the bot with SIGKILL, once right after an /add was
// read (its reply possibly unsent), and restarts it: every account is
// still there and gives the right code.
func TestServeKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	api := telegramtest.New(token)
	defer api.Close()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, api.URL(), 0, "2m")
	e := e2e{t, api}
	p := startServe(t, cfg)
	e.say(alice, "/add github "+githubKey)
	e.say(alice, "/add gitlab "+gitlabKey)

	n := api.NumCalls()
	api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/add fast "+fastKey)
	e.wait(n, telegramtest.Method("deleteMessage", alice)) // read and being handled
	if err := p.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if exited, _ := p.Wait(time.Minute); !exited {
		t.Fatal("no exit a minute after SIGKILL")
	}

	startServe(t, cfg)
	c := e.sayWant(alice, "/list", "accounts")
	for _, name := range []string{"github", "gitlab", "fast"} {
		if !strings.Contains(c.Fields["text"], name) {
			t.Errorf("%s lost after kill -9: %q", name, c.Fields["text"])
		}
	}
	r := e.sayWant(alice, "/code gitlab", "<code>")
	checkCode(t, r.Fields["text"], gitlabKey, 30, r.At)
	r = e.sayWant(alice, "/code fast", "<code>")
	checkCode(t, r.Fields["text"], fastKey, 30, r.At)
}

// vmHWM is the peak resident set of pid in KiB, from /proc.
func vmHWM(pid int) int {
	if runtime.GOOS != "linux" {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb
		}
	}
	return 0
}
