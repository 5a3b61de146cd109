package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/authbot/authbot/bots/commands"
)

func TestAddThenCode(t *testing.T) {
	r := newRig(t)
	add := r.say("/add Binance " + "jbsw y3dp-ehpk 3pxp")
	if !add.DeleteRequest || !strings.Contains(add.PlainText(), "Added Binance") {
		t.Fatalf("add: %+v", add)
	}
	for _, q := range []string{"binance", "BIN", "b"} {
		rep := r.say("/code " + q)
		want, _ := totp.GenerateCode(demoKey, r.clock.Now())
		if got := codeOf(t, rep); got != want {
			t.Errorf("/code %s = %s, want %s", q, got, want)
		}
		if !strings.Contains(rep.PlainText(), "valid for 20 s") {
			t.Errorf("no seconds left in %q", rep.PlainText())
		}
		if !rep.Sensitive || rep.CodeValidUntil.Unix() != 1_800_000_030 || rep.ExpiresAt != r.clock.Now().Add(time.Minute) {
			t.Errorf("code reply flags: %+v", rep)
		}
		if strings.Contains(strings.ToUpper(rep.PlainText()), demoKey) {
			t.Error("a code reply echoes the secret")
		}
	}
}

func TestAddRejectsBrokenKeysAndStoresNothing(t *testing.T) {
	tests := []struct{ text, want string }{
		{"/add binance JBSWY3DPEHPK3PX1", "the 16th character, 1, is not used in backup keys; did you mean I?"},
		{"/add binance JBSW Y3DP EHPK 3PX1", "the 4th group, 3PX1: 1 is not used in backup keys; did you mean I?"},
		{"/add kraken 123456", "6-digit code from an app, not the backup key"},
		{"/add google work JBSW Y3DP EHPK 3PXP", "Is the name 'google-work' and the key JBSW •••• •••• 3PXP?"},
		{"/add google work jbsw y3dp ehpk 3pxp", "Is the name 'google-work' and the key JBSW •••• •••• 3PXP?"},
		{"/add google JBSW Y3DP EHPK 3PXP work", "Is the name 'google-work' and the key JBSW •••• •••• 3PXP?"},
		{"/add my bank JBSWY3DPEHPK3PXP", "Is the name 'my-bank' and the key JBSW •••• •••• 3PXP?"},
		{"/add odd JBSWY3 DPEHPK3PXP", "Is the name 'odd' and the key JBSW •••• •••• 3PXP?"},
		{"/add binance JBSWY3DP", "too short"},
		{"/add binance", "Now send me the backup key"}, // asks, stores nothing
		{"/add otpauth://totp/X?secret=JBSWY3DPEHPK3PXP&algorithm=MD5", "MD5"},
		{"/add otpauth://totp/X", "secret"},
		// A web page's address where the key belongs (issue 18): said
		// plainly, with where the key is, never as a "bad character".
		{"/add kraken https://www.kraken.com/u/security/2fa", "That is a web page address, not a backup key"},
		{"/add kraken https://www.kraken.com/u/security/2fa", "Then send /add kraken KEY."},
		{"/add https://accounts.google.com/signin", "Then send /add NAME KEY."},
		{"/add github www.github.com", "“Enter the key manually”"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r := newRig(t)
			rep := r.say(tt.text)
			if !strings.Contains(rep.PlainText(), tt.want) {
				t.Errorf("reply %q does not mention %q", rep.PlainText(), tt.want)
			}
			if strings.Contains(tt.text, "://") && !strings.HasPrefix(tt.text, "/add otpauth") && (strings.Contains(rep.PlainText(), "is not used in backup keys") || !rep.DeleteRequest) {
				t.Errorf("a web link is explained as a bad character, or its message is kept: %+v", rep)
			}
			if len(r.labels()) != 0 {
				t.Errorf("something was stored: %v", r.labels())
			}
		})
	}
}

func TestAddForms(t *testing.T) {
	r := newRig(t)
	r.say("/add")
	r.say("github JBSWY3DPEHPK3PXPJBSWY3DP")
	r.say("/add gitlab")
	r.say("\"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\"")
	r.say("otpauth://totp/ACME%20Co:alice@example.com?secret=KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU&issuer=ACME%20Co&digits=8&period=60")
	r.say("/add bank otpauth://hotp/Bank:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=5")
	got := strings.Join(r.labels(), ",")
	if got != "acme-co,bank,github,gitlab" {
		t.Fatalf("labels = %s", got)
	}
	rep := r.say("/code acme")
	if c := codeOf(t, rep); len(c) != 8 {
		t.Errorf("8-digit code = %q", c)
	}
	if rep := r.say("/code bank"); !strings.Contains(rep.PlainText(), "counter-based") {
		t.Errorf("hotp reply: %q", rep.PlainText())
	}
}

func TestCodeChoices(t *testing.T) {
	r := newRig(t)
	r.say("/add github JBSWY3DPEHPK3PXPJBSWY3DP")
	r.say("/add gitlab KRSXG5CTMVRXEZLUKRSXG5CT")
	amb := r.say("/code git")
	if len(amb.Buttons) == 0 || !strings.Contains(amb.PlainText(), "2 accounts match") {
		t.Fatalf("ambiguous: %+v", amb)
	}
	// A button carries a command that picks exactly one account.
	pick := r.h.Handle(context.Background(), withCaps(commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Private, Text: amb.Buttons[0][0].Data, Callback: true}))
	if !strings.HasPrefix(pick[0].PlainText(), "github: ") {
		t.Errorf("button picked %q", pick[0].PlainText())
	}
	if tg := r.send("telegram", "/code")[0]; len(tg.Buttons) == 0 {
		t.Error("/code alone on telegram gives no keyboard")
	}
	all := r.say("/code")
	if !strings.Contains(all.PlainText(), "github: ") || !strings.Contains(all.PlainText(), "gitlab: ") {
		t.Errorf("/code alone on the console: %q", all.PlainText())
	}
	if rep := r.say("/code nothing"); !strings.Contains(rep.PlainText(), "No account matches") {
		t.Errorf("no match: %q", rep.PlainText())
	}
}

func TestRenameAndDeleteAsksFirst(t *testing.T) {
	r := newRig(t)
	r.say("/add binance " + demoKey + "AAAAAAAA")
	r.say("/rename binance exchange")
	ask := r.say("/del exch")
	if len(r.labels()) != 1 || len(ask.Buttons) == 0 {
		t.Fatalf("/del deleted without asking: %v %+v", r.labels(), ask)
	}
	done := r.say(ask.Buttons[0][0].Data)
	if !strings.Contains(done.PlainText(), "Deleted exchange") || len(r.labels()) != 0 {
		t.Fatalf("confirm: %q, left %v", done.PlainText(), r.labels())
	}
}

// A code about to expire comes with the next one (RFC 6238 at the next step).
func TestCodeShowsNextWhenTimeIsShort(t *testing.T) {
	r := newRig(t)
	r.say("/add demo " + demoKey)
	r.clock.Set(time.Unix(1_800_000_026, 0)) // 4 s left
	rep := r.say("/code demo")
	now, _ := totp.GenerateCode(demoKey, r.clock.Now())
	next, _ := totp.GenerateCode(demoKey, time.Unix(1_800_000_030, 0))
	want := "demo: " + now + ", then " + next + " from " + time.Unix(1_800_000_030, 0).Format("15:04:05")
	if !strings.HasPrefix(rep.PlainText(), want) {
		t.Errorf("reply %q, want it to start %q", rep.PlainText(), want)
	}
	r.clock.Set(time.Unix(1_800_000_025, 0)) // 5 s left: enough
	if rep := r.say("/code demo"); strings.Contains(rep.PlainText(), "then") {
		t.Errorf("5 s left gave the next code: %q", rep.PlainText())
	}
}
