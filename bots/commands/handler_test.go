package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/internal/testkit"
)

const demoKey = "JBSWY3DPEHPK3PXP" // the well-known demo key, 10 bytes

// rig is a handler over a real bbolt file.
type rig struct {
	t     *testing.T
	h     *commands.Handler
	svc   *core.Service
	clock *testkit.Clock
	// platform is what as() and expect() send on; "" is the console.
	platform string
}

// rigPeople are the config's people of the test rigs, none an admin:
// /vault add takes only people.
func rigPeople() []core.ConfigUser {
	var users []core.ConfigUser
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		users = append(users, core.ConfigUser{Name: name})
	}
	return users
}

func newRig(t *testing.T) *rig {
	t.Helper()
	return rigWith(t, core.ServiceOptions{Users: rigPeople()}, commands.Options{CodeDeleteAfter: time.Minute, ExportDeleteAfter: 30 * time.Second})
}

// rigWith is a rig over a service with so, its handler built with ho (the
// clock is the rig's fake one, at 1_800_000_010: 20 s left in a period).
func rigWith(t *testing.T, so core.ServiceOptions, ho commands.Options) *rig {
	t.Helper()
	k := testkit.Service(t, testkit.Options{Start: time.Unix(1_800_000_010, 0), Service: so})
	return &rig{t: t, h: k.Handler(ho), svc: k.Svc, clock: k.Clock}
}

func (r *rig) send(platform, text string) []commands.Reply {
	r.t.Helper()
	replies := r.h.Handle(context.Background(), withCaps(commands.Request{Person: "alice", Platform: platform, Chat: commands.Private, Text: text}))
	if len(replies) == 0 {
		r.t.Fatalf("%q: no reply", text)
	}
	return replies
}

func (r *rig) say(text string) commands.Reply { return r.send("console", text)[0] }

func (r *rig) labels() []string {
	list, err := r.svc.List(context.Background(), "alice")
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, a := range list {
		out = append(out, a.Label)
	}
	return out
}

func codeOf(t *testing.T, rep commands.Reply) string {
	t.Helper()
	for _, p := range rep.Parts {
		if p.Code {
			return p.Text
		}
	}
	t.Fatalf("no code span in %q", rep.PlainText())
	return ""
}

// as sends text as person in a private console chat and returns all reply
// text joined, plus the replies.
func (r *rig) as(person, text string) (string, []commands.Reply) {
	r.t.Helper()
	platform := r.platform
	if platform == "" {
		platform = "console"
	}
	replies := r.h.Handle(context.Background(), withCaps(commands.Request{Person: person, Platform: platform, Chat: commands.Private, Text: text}))
	if len(replies) == 0 {
		r.t.Fatalf("%s %q: no reply", person, text)
	}
	var b strings.Builder
	for _, rep := range replies {
		b.WriteString(rep.PlainText())
		if rep.File != nil {
			b.Write(rep.File.Data)
			b.WriteString(rep.File.Caption)
		}
		if rep.Image != nil {
			b.WriteString(rep.Image.Caption)
		}
		b.WriteString("\n")
	}
	return b.String(), replies
}

func (r *rig) expect(person, text string, wants ...string) string {
	r.t.Helper()
	out, _ := r.as(person, text)
	for _, w := range wants {
		if !strings.Contains(out, w) {
			r.t.Errorf("%s %q: reply %q lacks %q", person, text, out, w)
		}
	}
	return out
}
