package telegram_test

// Poison pills through the real binary: one message must never crash the
// bot, and one update that does (here: a test-only hook that exits, as an
// out-of-memory kill would) must not crash it at every start.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/telegram/telegramtest"
	"github.com/authbot/authbot/internal/testkit"
)

// reviewPoisonLink is the security review's 63-byte link: batch_size
// 2^31-1, index 0, no accounts. Before the fix, its "missing parts" list
// ran the bot out of memory.
const reviewPoisonLink = "otpauth-migration://offline?data=EAEY/////4cAIAAo////////////AQ"

func TestServePoisonLinkRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if len(reviewPoisonLink) != 63 {
		t.Fatalf("link is %d bytes", len(reviewPoisonLink))
	}
	api := telegramtest.New(token)
	defer api.Close()
	dir := t.TempDir()
	p := startServe(t, writeConfig(t, dir, api.URL(), 0, "2m"))
	e := e2e{t, api}
	e.say(alice, "/add github "+githubKey)

	r := e.sayWant(alice, reviewPoisonLink, "Nothing was stored")
	if txt := r.Fields["text"]; !strings.Contains(txt, "at most 100") || len(txt) > 500 {
		t.Fatalf("refusal: %q", txt)
	}
	// The same as a QR photo.
	n := api.NumCalls()
	api.SendPhoto(telegramtest.Private(alice), telegramtest.User{ID: alice}, qrPNG(t, reviewPoisonLink), "", 0)
	c, _ := e.wait(n, func(c telegramtest.Call) bool {
		return sendTo(alice)(c) && strings.Contains(c.Fields["text"], "Nothing was stored")
	})
	if !strings.Contains(c.Fields["text"], "at most 100") {
		t.Fatalf("photo refusal: %q", c.Fields["text"])
	}
	if exited, err := p.Wait(0); exited {
		t.Fatalf("the bot stopped: %v", err)
	}
	code := e.sayWant(alice, "/code github", "<code>")
	checkCode(t, code.Fields["text"], githubKey, 30, code.At)
}

// crashBinary builds authbot with the test-only crash hook
// (cmd/authbot/crashhook.go).
func crashBinary(t *testing.T) string {
	t.Helper()
	return testkit.Authbot(t, "goolm authbot_crashhook")
}

// startCrashing starts the hooked binary; it exits while handling a
// message whose text is crashOn.
func startCrashing(t *testing.T, config, crashOn string) *proc {
	t.Helper()
	return testkit.Start(t, crashBinary(t), []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Dir(config), "AUTHBOT_TEST_CRASH_ON=" + crashOn},
		"serve", "--config", config)
}

// waitExit waits for the crash; the exit status is the hook's.
func waitExit(t *testing.T, p *proc) {
	t.Helper()
	exited, err := p.Wait(30 * time.Second)
	if !exited {
		t.Fatal("the bot did not crash")
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 86 {
		t.Fatalf("the bot did not crash in the hook: %v", err)
	}
}

// TestServeCrashLoopEnds: an update that crashes the bot is handled again
// once after the restart (at-least-once: it might have been a power cut),
// and when that crashes too, the next start skips it, tells the sender,
// and serves everyone else.
func TestServeCrashLoopEnds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	api := telegramtest.New(token)
	defer api.Close()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, api.URL(), 0, "2m")
	e := e2e{t, api}
	const poison = "/poison"

	p := startCrashing(t, cfg, poison)
	e.say(alice, "/add github "+githubKey)
	api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, poison)
	waitExit(t, p) // first crash

	p = startCrashing(t, cfg, poison)
	waitExit(t, p) // handled again once: second crash

	n := api.NumCalls()
	startCrashing(t, cfg, poison)
	c, _ := e.wait(n, func(c telegramtest.Call) bool {
		return sendTo(alice)(c) && strings.Contains(c.Fields["text"], "could not handle")
	})
	if strings.Count(c.Fields["text"], ".") > 1 || len(c.Fields["text"]) > 200 {
		t.Fatalf("skip notice is not one short sentence: %q", c.Fields["text"])
	}
	code := e.sayWant(alice, "/code github", "<code>")
	checkCode(t, code.Fields["text"], githubKey, 30, code.At)
	// bob, who sent nothing bad, is served too.
	e.sayWant(bob, "/list", "")
}

// TestServeCrashInSpan: the poison update arrives while the bot long-polls,
// so the record covers it only by its span (its handler starts without a
// write of its own), and bob writes while the bot is down, into the same
// span. The next start cannot tell which of the two the crashed run had
// fetched: it handles them one at a time, so the second crash names the
// poison alone. The third start skips the poison, tells alice, and
// answers bob.
func TestServeCrashInSpan(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	api := telegramtest.New(token)
	defer api.Close()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, api.URL(), 0, "2m")
	e := e2e{t, api}
	const poison = "/poison"

	p := startCrashing(t, cfg, poison)
	e.say(alice, "/add github "+githubKey) // the bot has seen an id: a span follows it
	api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, poison)
	waitExit(t, p) // first crash
	api.SendText(telegramtest.Private(bob), telegramtest.User{ID: bob}, "/list")

	n := api.NumCalls()
	p = startCrashing(t, cfg, poison)
	waitExit(t, p) // the poison, handled alone: second crash
	for _, c := range api.Calls()[n:] {
		if sendTo(bob)(c) {
			t.Fatalf("bob was answered beside the poison: %q", c.Fields["text"])
		}
	}

	n = api.NumCalls()
	startCrashing(t, cfg, poison)
	e.wait(n, func(c telegramtest.Call) bool {
		return sendTo(alice)(c) && strings.Contains(c.Fields["text"], "could not handle")
	})
	c, _ := e.wait(n, sendTo(bob))
	if strings.Contains(c.Fields["text"], "could not handle") {
		t.Fatalf("bob's update was skipped: %q", c.Fields["text"])
	}
	code := e.sayWant(alice, "/code github", "<code>")
	checkCode(t, code.Fields["text"], githubKey, 30, code.At)
}
