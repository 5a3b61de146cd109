package commands_test

import (
	"encoding/base32"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/authbot/authbot/core/recovery"
	"github.com/authbot/authbot/lang"
)

func TestRecoveryCodesCheckAndGuidance(t *testing.T) {
	r := newRig(t)
	r.say("/add binance JBSWY3DPEHPK3PXPJBSWY3DP")
	if rep := r.say("/recover"); !strings.Contains(rep.PlainText(), "/check binance CODE") {
		t.Errorf("checklist: %q", rep.PlainText())
	}
	code, _ := totp.GenerateCode("JBSWY3DPEHPK3PXPJBSWY3DP", r.clock.Now())
	if rep := r.say("/check binance " + code); !strings.Contains(rep.PlainText(), "It matches") {
		t.Errorf("check: %q", rep.PlainText())
	}
	if rep := r.say("/check binance 000000"); !strings.Contains(rep.PlainText(), "does not match") {
		t.Errorf("bad check: %q", rep.PlainText())
	}
	if rep := r.say("/recovery-codes binance aaaa-1111 bbbb-2222 cccc-3333"); !rep.DeleteRequest || !strings.Contains(rep.PlainText(), "Stored 3") {
		t.Errorf("store codes: %q", rep.PlainText())
	}
	if rep := r.say("/recover binance used BBBB-2222"); !strings.Contains(rep.PlainText(), "2 unused") {
		t.Errorf("use code: %q", rep.PlainText())
	}
	guide := r.say("/recover binance").PlainText()
	for _, want := range []string{"Nothing is lost: /code binance still works", "/export binance"} {
		if !strings.Contains(guide, want) {
			t.Errorf("guidance lacks %q:\n%s", want, guide)
		}
	}
	if strings.Contains(guide, "recovery code") {
		t.Errorf("Binance gives no recovery codes, but the guidance speaks of them:\n%s", guide)
	}
	unknown := r.say("/recover someobscureservice").PlainText()
	if !regexp.MustCompile(`(?i)recovery`).MatchString(unknown) {
		t.Errorf("generic guidance: %q", unknown)
	}
	gh := r.say("/recover github").PlainText()
	if !strings.Contains(gh, "Use a recovery code or request a reset") || strings.Contains(gh, "/export") {
		t.Errorf("guidance without a key: %q", gh)
	}
	// The reply is exactly the answer core/recovery renders, so its
	// one-screen and wording tests measure what the person reads.
	base, err := recovery.Load()
	if err != nil {
		t.Fatal(err)
	}
	if want := base.Guide(lang.English, "github", "", recovery.State{Name: "github"}).Text(); gh != want {
		t.Errorf("/recover github differs from the rendered guide:\ngot:\n%s\nwant:\n%s", gh, want)
	}
}

func TestRecoverChecklistNamesWhatToFix(t *testing.T) {
	r := newRig(t)
	key := func(i int) string {
		return base32.StdEncoding.EncodeToString([]byte(fmt.Sprintf("checklist-key-%03d", i)))
	}
	for i, n := range []string{"alpha", "bravo", "charlie"} {
		r.say("/add " + n + " " + key(i))
	}
	code, _ := totp.GenerateCode(key(0), r.clock.Now())
	r.say("/check alpha " + code)
	r.say("/recovery-codes bravo aaaa-1111")
	text := r.say("/recover").PlainText()
	if !strings.Contains(text, "One account has neither") || !strings.Contains(text, "/check charlie CODE") {
		t.Errorf("checklist:\n%s", text)
	}
	for _, fixed := range []string{"/check alpha", "/check bravo"} {
		if strings.Contains(text, fixed) {
			t.Errorf("checklist lists a fixed account (%s):\n%s", fixed, text)
		}
	}
	if !strings.Contains(text, "bravo has 1 unused recovery code left") {
		t.Errorf("checklist misses the last recovery code:\n%s", text)
	}

	// Many accounts: still one short screen, with a count of the rest.
	for i := 0; i < 10; i++ {
		r.say(fmt.Sprintf("/add acct%02d %s", i, key(100+i)))
	}
	text = r.say("/recover").PlainText()
	if n := strings.Count(text, "\n") + 1; n > 12 || len(text) > 900 {
		t.Errorf("checklist is %d lines, %d bytes:\n%s", n, len(text), text)
	}
	if !strings.Contains(text, "11 accounts have neither") || !strings.Contains(text, "and 5 more") {
		t.Errorf("checklist:\n%s", text)
	}
}
