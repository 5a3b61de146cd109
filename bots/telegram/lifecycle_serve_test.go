package telegram_test

// The message lifecycle through the real binary: `authbot serve` on the
// fake Bot API is stopped (SIGTERM) or killed (SIGKILL) while deletions and
// edits are pending, and started again on the same data dir.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/telegram/telegramtest"
	"github.com/authbot/authbot/internal/testkit"
)

// lifecycleConfig writes a config with short expiry times and, when
// metrics is set, a metrics listener.
func lifecycleConfig(t *testing.T, apiURL, codeAfter, exportAfter, metrics string) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\nlog:\n  level: debug\n", filepath.Join(dir, "data"))
	fmt.Fprintf(&b, "codes:\n  delete_after: %s\n  export_delete_after: %s\n", codeAfter, exportAfter)
	b.WriteString("rate_limits:\n  off: true\n")
	if metrics != "" {
		fmt.Fprintf(&b, "metrics:\n  listen: %s\n", metrics)
	}
	fmt.Fprintf(&b, "telegram:\n  token: %q\n  api_url: %q\n", token, apiURL)
	fmt.Fprintf(&b, "users:\n  - name: alice\n    telegram: %d\n    admin: true\n", alice)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// stopWith ends p with sig and waits for it to exit.
func stopWith(t *testing.T, p *proc, sig os.Signal) {
	t.Helper()
	if err := p.Stop(t, sig, 25*time.Second); sig == syscall.SIGTERM && err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, p.Log())
	}
}

// waitLog waits until the log holds line n times.
func waitLog(t *testing.T, p *proc, line string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(p.Log(), line) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the log does not show %q %d times:\n%s", line, n, p.Log())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func deleted(id int) func(telegramtest.Call) bool {
	return func(c telegramtest.Call) bool {
		return c.Method == "deleteMessage" && c.Fields["message_id"] == strconv.Itoa(id)
	}
}

// exportAndStop confirms /export binance, stops the bot with sig as soon as
// the export is sent, starts it again, and checks that the export's
// messages are deleted at their time by the new process.
func exportAndStop(t *testing.T, sig os.Signal) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	api := telegramtest.New(token)
	defer api.Close()
	cfg := lifecycleConfig(t, api.URL(), "2m", "4s", "")
	e := e2e{t, api}
	p := startServe(t, cfg)
	e.sayWant(alice, "/add binance "+githubKey, "Added")
	ask := e.sayWant(alice, "/export binance", "Show the backup key")
	m := regexp.MustCompile(`"callback_data":"(/export [^"]+ yes)"`).FindStringSubmatch(ask.Fields["reply_markup"])
	if m == nil {
		t.Fatalf("no confirm button: %s", ask.Fields["reply_markup"])
	}
	n := api.NumCalls()
	api.PressButton(telegramtest.Private(alice), telegramtest.User{ID: alice}, ask.MessageID, m[1])
	text, _ := e.wait(n, func(c telegramtest.Call) bool {
		return sendTo(alice)(c) && strings.Contains(c.Fields["text"], githubKey)
	})
	photo, _ := e.wait(n, telegramtest.Method("sendPhoto", alice))
	sentAt := text.At
	// Within a second of the export: the handler may still be finishing.
	stopWith(t, p, sig)
	for _, id := range []int{text.MessageID, photo.MessageID} {
		if msg, _ := api.Message(id); msg.Deleted {
			t.Fatalf("message %d deleted before the restart; the test proves nothing", id)
		}
	}
	n = api.NumCalls()
	startServe(t, cfg)
	if sig == syscall.SIGKILL {
		// Killed at once, the bot may have died between Telegram's answer
		// for the photo and storing its id: then the new process cannot
		// name it, and must say so in the chat instead.
		c, _ := e.wait(n, func(c telegramtest.Call) bool {
			return deleted(photo.MessageID)(c) || (sendTo(alice)(c) && strings.Contains(c.Fields["text"], "may have stayed in this chat"))
		})
		if c.Method == "sendMessage" {
			t.Log("the photo's id was not stored before the kill: the chat was told to delete it")
			e.wait(n, deleted(text.MessageID))
			return
		}
	}
	for _, id := range []int{text.MessageID, photo.MessageID} {
		c, _ := e.wait(n, deleted(id))
		if c.Error != "" {
			t.Errorf("deleting %d: %s", id, c.Error)
		}
		if early := sentAt.Add(4 * time.Second).Sub(c.At); early > 500*time.Millisecond {
			t.Errorf("message %d deleted %v before its time", id, early)
		}
		if msg, _ := api.Message(id); !msg.Deleted {
			t.Errorf("the export (message %d) is still in the chat after the restart", id)
		}
	}
}

func TestServeExportDeletedAfterSIGTERM(t *testing.T) { exportAndStop(t, syscall.SIGTERM) }
func TestServeExportDeletedAfterKill9(t *testing.T)   { exportAndStop(t, syscall.SIGKILL) }

// TestServeCodeEditedAfterRestart: a code message whose code expires while
// the bot is down (killed) is edited to say so by the next process.
func TestServeCodeEditedAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	api := telegramtest.New(token)
	defer api.Close()
	cfg := lifecycleConfig(t, api.URL(), "2m", "1m", "")
	e := e2e{t, api}
	p := startServe(t, cfg)
	e.sayWant(alice, "otpauth://totp/Slow:alice?secret="+fastKey+"&issuer=Slow&period=6", "Added")
	code := e.sayWant(alice, "/code slow", "<code>")
	validUntil := time.Unix((code.At.Unix()/6+1)*6, 0)
	// Let the handler finish (it stores the jobs; codes are not announced
	// ahead, see sendTracked), then kill.
	waitLog(t, p, "telegram: message handled", 2)
	stopWith(t, p, syscall.SIGKILL)
	n := api.NumCalls()
	startServe(t, cfg)
	edit, _ := e.wait(n, func(c telegramtest.Call) bool {
		return telegramtest.Method("editMessageText", alice)(c) && c.Fields["message_id"] == strconv.Itoa(code.MessageID)
	})
	if codeRE.MatchString(edit.Fields["text"]) || !strings.Contains(edit.Fields["text"], "expired") {
		t.Errorf("edit %q", edit.Fields["text"])
	}
	if early := validUntil.Sub(edit.At); early > 500*time.Millisecond {
		t.Errorf("edited %v before the code expired", early)
	}
	if !strings.Contains(edit.Fields["reply_markup"], "Refresh") {
		t.Errorf("the refresh button was lost: %s", edit.Fields["reply_markup"])
	}
}

func metric(t *testing.T, addr, series string) string {
	t.Helper()
	var resp *http.Response
	var err error
	for range 50 { // the listener may still be starting
		if resp, err = http.Get("http://" + addr + "/metrics"); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

// TestServeTooOldDeletionDropped: Telegram refuses to delete a message
// older than 48 hours. The job for it is tried once, dropped, counted in
// the metrics and said in the log; it does not come back after a restart.
func TestServeTooOldDeletionDropped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	api := telegramtest.New(token)
	defer api.Close()
	addr := testkit.FreeAddr(t)
	cfg := lifecycleConfig(t, api.URL(), "3s", "1m", addr)
	e := e2e{t, api}
	p := startServe(t, cfg)
	e.sayWant(alice, "/add binance "+githubKey, "Added")
	code := e.sayWant(alice, "/code binance", "<code>")
	stopWith(t, p, syscall.SIGTERM)
	// The bot was down for two days.
	if !api.Age(code.MessageID, 49*time.Hour) {
		t.Fatal("no such message")
	}
	n := api.NumCalls()
	p = startServe(t, cfg)
	c, _ := e.wait(n, deleted(code.MessageID))
	if !strings.Contains(c.Error, "can't be deleted") {
		t.Fatalf("the fake did not refuse: %+v", c)
	}
	series := `authbot_outbox_jobs_total{action="delete",outcome="too_old",platform="telegram"}`
	deadline := time.Now().Add(10 * time.Second)
	for metric(t, addr, series) != "1" {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %q, want 1", series, metric(t, addr, series))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The job leaves the queue just after it is counted; the gauge
	// follows at its next update.
	pending := `authbot_outbox_pending{platform="telegram"}`
	for metric(t, addr, pending) != "0" {
		if time.Now().After(deadline) {
			t.Fatalf("pending = %q after the drop", metric(t, addr, pending))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(p.Log(), "too_old") {
		t.Errorf("the log does not say why the job was dropped:\n%s", p.Log())
	}
	stopWith(t, p, syscall.SIGTERM)
	n = api.NumCalls()
	startServe(t, cfg)
	e.sayWant(alice, "/help", "What I can do")
	for _, c := range api.Calls()[n:] {
		if deleted(code.MessageID)(c) {
			t.Error("the dropped job was tried again after a restart")
		}
	}
}

// TestServeThousandJobsSurviveRestart: a thousand code messages leave a
// thousand pending deletions (the codes, with a 10-minute period, outlive
// delete_after, so there are no expiry edits); after a SIGTERM and a
// restart all of them run, in the order the messages were sent.
func TestServeThousandJobsSurviveRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	api := telegramtest.New(token)
	defer api.Close()
	cfg := lifecycleConfig(t, api.URL(), "40s", "1m", "")
	e := e2e{t, api}
	p := startServe(t, cfg)
	e.sayWant(alice, "otpauth://totp/Slow:alice?secret="+fastKey+"&issuer=Slow&period=600", "Added")
	const jobs = 1000
	n := api.NumCalls()
	for range jobs {
		api.SendText(telegramtest.Private(alice), telegramtest.User{ID: alice}, "/code slow")
	}
	var ids []int
	for len(ids) < jobs {
		c, i := e.wait(n, func(c telegramtest.Call) bool { return sendTo(alice)(c) && codeRE.MatchString(c.Fields["text"]) })
		ids = append(ids, c.MessageID)
		n = i + 1
	}
	waitLog(t, p, "telegram: message handled", jobs+1)
	stopWith(t, p, syscall.SIGTERM)
	for _, id := range ids {
		if m, _ := api.Message(id); m.Deleted {
			t.Fatal("an export was deleted before the restart; the test proves nothing")
		}
	}
	n = api.NumCalls()
	p = startServe(t, cfg)
	waitLog(t, p, "outbox: jobs waiting from before", 1)
	m := regexp.MustCompile(`jobs waiting from before.* count=(\d+)`).FindStringSubmatch(p.Log())
	if got, _ := strconv.Atoi(m[1]); got < jobs { // more: the period ended early, and expiry edits wait too
		t.Fatalf("%d jobs came back after the restart, want %d", got, jobs)
	}
	var deletes []int
	deadline := time.Now().Add(60 * time.Second)
	for len(deletes) < jobs {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages deleted after the restart", len(deletes), jobs)
		}
		c, i, ok := api.WaitCall(n, time.Second, func(c telegramtest.Call) bool {
			return c.Method == "deleteMessage" && c.Fields["chat_id"] == strconv.FormatInt(alice, 10)
		})
		if !ok {
			continue
		}
		n = i + 1
		id, _ := strconv.Atoi(c.Fields["message_id"])
		if c.Error != "" {
			t.Fatalf("deleting %d: %s", id, c.Error)
		}
		deletes = append(deletes, id)
	}
	for i, id := range ids {
		if deletes[i] != id {
			t.Fatalf("deletion %d was of message %d, want %d (the order they were sent)", i, deletes[i], id)
		}
	}
}
