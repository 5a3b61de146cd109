package commands_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/authbot/authbot/bots/commands"
)

func TestGroupsGetNoSecrets(t *testing.T) {
	r := newRig(t)
	r.say("/add binance " + demoKey + "AAAAAAAA")
	for _, text := range []string{"/code", "/code binance", "/list", "/export binance yes", "/recover"} {
		rep := r.h.Handle(context.Background(), withCaps(commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Group, Text: text}))
		if len(rep) != 1 || rep[0].Sensitive || strings.Contains(rep[0].PlainText(), "binance") || !strings.Contains(rep[0].PlainText(), "private chat") {
			t.Errorf("%s in a group: %+v", text, rep)
		}
	}
	rep := r.h.Handle(context.Background(), withCaps(commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Group, Text: "/add x " + demoKey}))
	if !rep[0].DeleteRequest || len(r.labels()) != 1 {
		t.Errorf("secret in a group: %+v, stored %v", rep, r.labels())
	}
}

func TestBadInputGetsHelpfulAnswers(t *testing.T) {
	r := newRig(t)
	tests := []struct{ text, want string }{
		{"/frobnicate", "I don't know /frobnicate"},
		{"/code binance", "no accounts yet"},
		{"/rename a", "Use: /rename OLD NEW"},
		{"hello", "/help"},
		{"JBSWY3DPEHPK3PXPJBSWY3DP", "looks like a backup key"},
		{"/add " + strings.Repeat("A", 20000), "too long"},
		{"/cancel", "nothing to cancel"},
	}
	for _, tt := range tests {
		if rep := r.say(tt.text); !strings.Contains(rep.PlainText(), tt.want) {
			t.Errorf("%.30q: reply %q lacks %q", tt.text, rep.PlainText(), tt.want)
		}
	}
}

// The "!" prefix (Matrix) runs the same commands under the same rules, and
// every reply shows "!".
func TestMatrixPrefix(t *testing.T) {
	r := newRig(t)
	send := func(text string) []commands.Reply {
		t.Helper()
		return r.h.Handle(context.Background(), withCaps(commands.Request{Person: "alice", Platform: "matrix", Prefix: commands.MatrixPrefix, Chat: commands.Private, Text: text}))
	}
	add := send("!add binance " + demoKey)
	if !add[0].DeleteRequest || !strings.Contains(add[0].PlainText(), "Added binance.") || !strings.Contains(add[0].PlainText(), "Send !code binance") {
		t.Fatalf("!add: %+v", add[0])
	}
	code := send("!code binance")
	if !code[0].Sensitive || !regexp.MustCompile(`binance: \d{6}`).MatchString(code[0].PlainText()) {
		t.Fatalf("!code: %q", code[0].PlainText())
	}
	if got := send("/code binance"); !regexp.MustCompile(`binance: \d{6}`).MatchString(got[0].PlainText()) {
		t.Fatalf("/code on Matrix: %q", got[0].PlainText())
	}
	help := send("!help")[0].PlainText()
	if !strings.Contains(help, "!code [NAME]") || regexp.MustCompile(`(^|\s)/[a-z]`).MatchString(help) {
		t.Errorf("help still shows /:\n%s", help)
	}
	if got := send("!nosuch")[0].PlainText(); !strings.Contains(got, "I don't know !nosuch") || !strings.Contains(got, "!help") {
		t.Errorf("unknown: %q", got)
	}
	// A mistyped command with a secret: suggested in the ! form, deleted.
	if got := send("!unlokc my long passphrase"); !got[0].DeleteRequest || !strings.Contains(got[0].PlainText(), "Did you mean !unlock") {
		t.Errorf("mistyped !unlock: %+v", got[0])
	}
	if got := send("hello")[0].PlainText(); !strings.Contains(got, "Commands start with !.") {
		t.Errorf("free text: %q", got)
	}
	// A wrong !add with a key is deleted exactly like a wrong /add.
	if bad := send("!add binance2 NOT*A*KEY"); !bad[0].DeleteRequest {
		t.Errorf("a failed !add is not deleted: %+v", bad[0])
	}
	// In a group, "!code" is refused like "/code".
	group := r.h.Handle(context.Background(), withCaps(commands.Request{Person: "alice", Platform: "matrix", Prefix: "!", Chat: commands.Group, Text: "!code binance"}))
	if len(group) == 0 || strings.Contains(group[0].PlainText(), "binance:") {
		t.Errorf("group: %+v", group)
	}
}
