//go:build goolm

package matrix

// The message lifecycle through the real binary on Dendrite: `authbot
// serve` is stopped (SIGTERM) or killed (SIGKILL) right after an export,
// and the next process redacts the export at its time.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/matrix/matrixtest"
	"github.com/authbot/authbot/internal/testkit"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

func startServe(t *testing.T, bin, config string) *testkit.Proc {
	t.Helper()
	return testkit.Start(t, bin, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Dir(config)}, "serve", "--config", config)
}

// stop ends p with sig; after SIGTERM the exit must be clean.
func stop(t *testing.T, p *testkit.Proc, sig os.Signal) {
	t.Helper()
	if err := p.Stop(t, sig, 30*time.Second); sig == syscall.SIGTERM && err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

func TestServeExportRedactedAfterRestart(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	bin := testkit.Authbot(t, "goolm")
	for _, sig := range []os.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			botLocal := h.Register(t, "srv", botPassword)
			alice := matrixtest.NewPerson(t, h, "alice")
			cfg := filepath.Join(dir, "config.yaml")
			conf := fmt.Sprintf("data_dir: %s\nlog:\n  level: debug\ncodes:\n  delete_after: 2m\n  export_delete_after: 5s\n"+
				"rate_limits:\n  off: true\nmatrix:\n  homeserver: %q\n  user_id: %q\n  password: %q\nusers:\n  - name: alice\n    matrix: %q\n",
				filepath.Join(dir, "data"), h.URL, h.UserID(botLocal), botPassword, alice.ID())
			if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			botID := id.UserID(h.UserID(botLocal))
			p := startServe(t, bin, cfg)
			dm := alice.Room(true, "trusted_private_chat", botID)
			alice.WaitJoined(dm, botID)
			add := alice.Send(dm, "/add binance "+testSecret)
			alice.Wait("redaction of the /add", redactionOf(dm, add))

			export := alice.Send(dm, "/export binance yes")
			fromBot := func(evt *event.Event) bool {
				return evt.RoomID == dm && evt.Sender == botID && evt.Type == event.EventMessage
			}
			text := alice.After("the export text", export, func(evt *event.Event) bool {
				return fromBot(evt) && strings.Contains(evt.Content.AsMessage().Body, "otpauth://")
			})
			image := alice.After("the export QR", export, func(evt *event.Event) bool {
				return fromBot(evt) && evt.Content.AsMessage().MsgType == event.MsgImage
			})
			sentAt := time.UnixMilli(text.Timestamp)
			stop(t, p, sig)
			if len(alice.Seen(redactionOf(dm, text.ID))) > 0 {
				t.Fatal("the export was redacted before the restart; the test proves nothing")
			}
			startServe(t, bin, cfg)
			if sig == syscall.SIGKILL {
				// Killed at once, the bot may have died between the
				// homeserver's answer for the QR and storing its id: the
				// new process must then say so in the room.
				evt := alice.After("the QR's redaction or a notice", export, func(evt *event.Event) bool {
					return redactionOf(dm, image.ID)(evt) || (fromBot(evt) && strings.Contains(evt.Content.AsMessage().Body, "may have stayed in this room"))
				})
				if evt.Type != event.EventRedaction {
					t.Log("the QR's id was not stored before the kill: the room was told to remove it")
					alice.Wait("redaction of the export text", redactionOf(dm, text.ID))
					return
				}
			}
			for _, e := range []*event.Event{text, image} {
				red := alice.Wait("redaction of the export", redactionOf(dm, e.ID))
				if red.Sender != botID {
					t.Errorf("redacted by %s", red.Sender)
				}
				if early := sentAt.Add(5 * time.Second).Sub(time.UnixMilli(red.Timestamp)); early > time.Second {
					t.Errorf("redacted %v before its time", early)
				}
			}
		})
	}
}
