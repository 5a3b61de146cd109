package commands_test

import (
	"context"
	"encoding/base32"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/qr"
	"github.com/authbot/authbot/core/recovery"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/core/transfer"
	"github.com/authbot/authbot/storage/bolt"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

const demoKey = "JBSWY3DPEHPK3PXP" // the well-known demo key, 10 bytes

// rig is a handler over a real bbolt file.
type rig struct {
	t     *testing.T
	h     *commands.Handler
	svc   *core.Service
	clock *fakeClock
	// platform is what as() and expect() send on; "" is the console.
	platform string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx := context.Background()
	store, err := bolt.Open(ctx, filepath.Join(t.TempDir(), "authbot.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	key, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Unix(1_800_000_010, 0)}
	svc, err := core.NewService(ctx, store, key, clock)
	if err != nil {
		t.Fatal(err)
	}
	h := commands.New(svc, commands.Options{Clock: clock, CodeDeleteAfter: time.Minute, ExportDeleteAfter: 30 * time.Second})
	return &rig{t: t, h: h, svc: svc, clock: clock}
}

func (r *rig) send(platform, text string) []commands.Reply {
	r.t.Helper()
	replies := r.h.Handle(context.Background(), commands.Request{Person: "alice", Platform: platform, Chat: commands.Private, Text: text})
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

func TestAddThenCode(t *testing.T) {
	r := newRig(t)
	add := r.say("/add Binance " + "jbsw y3dp-ehpk 3pxp")
	if !add.DeleteRequest || !strings.Contains(add.PlainText(), "Added Binance") {
		t.Fatalf("add: %+v", add)
	}
	for _, q := range []string{"binance", "BIN", "b"} {
		rep := r.say("/code " + q)
		want, _ := totp.GenerateCode(demoKey, r.clock.t)
		if got := codeOf(t, rep); got != want {
			t.Errorf("/code %s = %s, want %s", q, got, want)
		}
		if !strings.Contains(rep.PlainText(), "valid for 20 s") {
			t.Errorf("no seconds left in %q", rep.PlainText())
		}
		if !rep.Sensitive || rep.CodeValidUntil.Unix() != 1_800_000_030 || rep.ExpiresAt != r.clock.t.Add(time.Minute) {
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
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r := newRig(t)
			rep := r.say(tt.text)
			if !strings.Contains(rep.PlainText(), tt.want) {
				t.Errorf("reply %q does not mention %q", rep.PlainText(), tt.want)
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
	pick := r.h.Handle(context.Background(), commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Private, Text: amb.Buttons[0][0].Data, Callback: true})
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

func TestGroupsGetNoSecrets(t *testing.T) {
	r := newRig(t)
	r.say("/add binance " + demoKey + "AAAAAAAA")
	for _, text := range []string{"/code", "/code binance", "/list", "/export binance yes", "/recover"} {
		rep := r.h.Handle(context.Background(), commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Group, Text: text})
		if len(rep) != 1 || rep[0].Sensitive || strings.Contains(rep[0].PlainText(), "binance") || !strings.Contains(rep[0].PlainText(), "private chat") {
			t.Errorf("%s in a group: %+v", text, rep)
		}
	}
	rep := r.h.Handle(context.Background(), commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Group, Text: "/add x " + demoKey})
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

func TestImportFileAndQR(t *testing.T) {
	r := newRig(t)
	data, err := os.ReadFile("../../core/transfer/testdata/aegis_plain.json")
	if err != nil {
		t.Fatal(err)
	}
	file := func(d []byte, image bool) commands.Reply {
		return r.h.Handle(context.Background(), commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Private,
			Attachment: &commands.Attachment{Name: "x.bin", Data: d, Image: image}})[0]
	}
	rep := file(data, false)
	if !rep.DeleteRequest || !strings.Contains(rep.PlainText(), "Imported") {
		t.Fatalf("aegis import: %q", rep.PlainText())
	}
	n := len(r.labels())
	if rep := file(data, false); len(r.labels()) != n || !strings.Contains(rep.PlainText(), "Already stored") {
		t.Errorf("second import doubled accounts or did not say so: %q", rep.PlainText())
	}
	png, err := qr.Encode("otpauth://totp/QRCo:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=QRCo", 300)
	if err != nil {
		t.Fatal(err)
	}
	if rep := file(png, true); !strings.Contains(rep.PlainText(), "Added qrco") {
		t.Errorf("QR import: %q", rep.PlainText())
	}
	noQR, _ := qr.Encode("x", 10)
	noQR = noQR[:len(noQR)/2] // a broken image
	if rep := file(noQR, true); !rep.DeleteRequest || strings.Contains(rep.PlainText(), "Imported") {
		t.Errorf("broken image: %q", rep.PlainText())
	}
	if rep := file([]byte("{\"hello\": 1}"), false); !strings.Contains(rep.PlainText(), "did not recognise") {
		t.Errorf("unknown file: %q", rep.PlainText())
	}
}

func TestExportAllThenImportWithPassword(t *testing.T) {
	r := newRig(t)
	r.say("/add github JBSWY3DPEHPK3PXPJBSWY3DP")
	r.say("/add gitlab KRSXG5CTMVRXEZLUKRSXG5CT")
	r.say("/export")
	if rep := r.say("short"); !strings.Contains(rep.PlainText(), "too short") {
		t.Fatalf("short password: %q", rep.PlainText())
	}
	out := r.send("console", "correct horse battery")
	if len(out) < 2 || out[0].File == nil || out[1].Image == nil || !out[0].DeleteRequest {
		t.Fatalf("export all: %+v", out)
	}
	res, err := transfer.Import(context.Background(), out[0].File.Data, "correct horse battery")
	if err != nil || len(res.Keys) != 2 {
		t.Fatalf("exported vault does not import: %v", err)
	}
	// Into a fresh vault, through the chat, with the password flow.
	r2 := newRig(t)
	ask := r2.h.Handle(context.Background(), commands.Request{Person: "alice", Platform: "telegram", Chat: commands.Private,
		Attachment: &commands.Attachment{Data: out[0].File.Data}})[0]
	if !strings.Contains(ask.PlainText(), "encrypted") {
		t.Fatalf("no password question: %q", ask.PlainText())
	}
	if rep := r2.say("wrong password"); !strings.Contains(rep.PlainText(), "does not open") || !rep.DeleteRequest {
		t.Fatalf("wrong password: %q", rep.PlainText())
	}
	if rep := r2.say("correct horse battery"); !strings.Contains(rep.PlainText(), "Imported 2") {
		t.Fatalf("right password: %q", rep.PlainText())
	}
	// Codes survive the round trip.
	a, b := codeOf(t, r.say("/code github")), codeOf(t, r2.say("/code github"))
	if a != b {
		t.Errorf("codes differ after export and import: %s vs %s", a, b)
	}
}

func TestExportOneAsksThenShowsLinkAndQR(t *testing.T) {
	r := newRig(t)
	r.say("/add github JBSWY3DPEHPK3PXPJBSWY3DP")
	ask := r.say("/export github")
	if ask.Image != nil || len(ask.Buttons) == 0 {
		t.Fatalf("export without confirmation: %+v", ask)
	}
	rep := r.say(ask.Buttons[0][0].Data)
	if rep.Image == nil || rep.ExpiresAt != r.clock.t.Add(30*time.Second) || !rep.Sensitive {
		t.Fatalf("export: %+v", rep)
	}
	texts, err := qr.Decode(context.Background(), rep.Image.Data)
	if err != nil || len(texts) != 1 {
		t.Fatalf("QR: %v %v", texts, err)
	}
	k, err := otp.ParseURI(texts[0])
	if err != nil || otp.EncodeSecret(k.Params.Secret) != "JBSWY3DPEHPK3PXPJBSWY3DP" {
		t.Errorf("QR holds %v, %v", k, err)
	}
}

func TestRecoveryCodesCheckAndGuidance(t *testing.T) {
	r := newRig(t)
	r.say("/add binance JBSWY3DPEHPK3PXPJBSWY3DP")
	if rep := r.say("/recover"); !strings.Contains(rep.PlainText(), "/check binance CODE") {
		t.Errorf("checklist: %q", rep.PlainText())
	}
	code, _ := totp.GenerateCode("JBSWY3DPEHPK3PXPJBSWY3DP", r.clock.t)
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
	if want := base.Guide(recovery.English, "github", "", recovery.State{Name: "github"}).Text(); gh != want {
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
	code, _ := totp.GenerateCode(key(0), r.clock.t)
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

func TestExportSteamSaysWhichAppsWork(t *testing.T) {
	r := newRig(t)
	r.say("/add otpauth://totp/Steam:gaben?secret=JBSWY3DPEHPK3PXPJBSWY3DP&issuer=Steam&encoder=steam")
	r.say("/add plain JBSWY3DPEHPK3PXP")
	var steam string
	for _, l := range r.labels() {
		if l != "plain" {
			steam = l
		}
	}
	text := r.say("/export " + steam + " yes").PlainText()
	if !strings.Contains(text, "only in apps that support Steam Guard") || !strings.Contains(text, "Google Authenticator accepts it but makes wrong codes") {
		t.Errorf("steam export:\n%s", text)
	}
	if text := r.say("/export plain yes").PlainText(); strings.Contains(text, "Steam") {
		t.Errorf("a plain export speaks of Steam:\n%s", text)
	}
	if text := r.say("/recover " + steam).PlainText(); !strings.Contains(text, "Steam Guard (Aegis, 2FAS…)") {
		t.Errorf("steam guidance:\n%s", text)
	}
}

func TestMenuFitsPlatforms(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	for _, m := range commands.Menu() {
		if !valid.MatchString(m.Command) || len(m.Description) < 3 || len(m.Description) > 256 {
			t.Errorf("menu item %+v does not fit Telegram's limits", m)
		}
	}
}

// The "!" prefix (Matrix) runs the same commands under the same rules, and
// every reply shows "!".
func TestMatrixPrefix(t *testing.T) {
	r := newRig(t)
	send := func(text string) []commands.Reply {
		t.Helper()
		return r.h.Handle(context.Background(), commands.Request{Person: "alice", Platform: "matrix", Prefix: commands.MatrixPrefix, Chat: commands.Private, Text: text})
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
	group := r.h.Handle(context.Background(), commands.Request{Person: "alice", Platform: "matrix", Prefix: "!", Chat: commands.Group, Text: "!code binance"})
	if len(group) == 0 || strings.Contains(group[0].PlainText(), "binance:") {
		t.Errorf("group: %+v", group)
	}
}

// A code about to expire comes with the next one (RFC 6238 at the next step).
func TestCodeShowsNextWhenTimeIsShort(t *testing.T) {
	r := newRig(t)
	r.say("/add demo " + demoKey)
	r.clock.t = time.Unix(1_800_000_026, 0) // 4 s left
	rep := r.say("/code demo")
	now, _ := totp.GenerateCode(demoKey, r.clock.t)
	next, _ := totp.GenerateCode(demoKey, time.Unix(1_800_000_030, 0))
	want := "demo: " + now + ", then " + next + " from " + time.Unix(1_800_000_030, 0).Format("15:04:05")
	if !strings.HasPrefix(rep.PlainText(), want) {
		t.Errorf("reply %q, want it to start %q", rep.PlainText(), want)
	}
	r.clock.t = time.Unix(1_800_000_025, 0) // 5 s left: enough
	if rep := r.say("/code demo"); strings.Contains(rep.PlainText(), "then") {
		t.Errorf("5 s left gave the next code: %q", rep.PlainText())
	}
}

// Suggestions come from the asking person's own names only.
func TestSuggestionsNeverShowOthersNames(t *testing.T) {
	r := newRig(t)
	bob := func(text string) []commands.Reply {
		return r.h.Handle(context.Background(), commands.Request{Person: "bob", Platform: "console", Chat: commands.Private, Text: text})
	}
	bob("/add binance " + demoKey)
	r.say("/add gitlab KRSXG5CTMVRXEZLUKRSXG5CT")
	for _, text := range []string{"/code binanse", "binance", "code binanse", "/cod binanse"} {
		if got := r.say(text).PlainText(); strings.Contains(got, "binance") {
			t.Errorf("%s: alice sees bob's name: %q", text, got)
		}
		if got := bob(text)[0].PlainText(); !strings.Contains(got, "/code binance") {
			t.Errorf("%s: bob gets no suggestion: %q", text, got)
		}
	}
}

// /help fits the person and the platform.
func TestHelpFits(t *testing.T) {
	r := newRig(t)
	help := r.say("/help").PlainText()
	for _, c := range []string{"/code", "/add", "/list", "/export", "/recover", "/check"} {
		if !strings.Contains(help, c+" ") {
			t.Errorf("everyday help lacks %s:\n%s", c, help)
		}
	}
	for _, w := range []string{"screenshot", "button", "tap", "/vault", "/invite"} {
		if strings.Contains(strings.ToLower(help), w) {
			t.Errorf("console help mentions %q:\n%s", w, help)
		}
	}
	if team := r.say("/help team").PlainText(); !strings.Contains(team, "/vault") || strings.Contains(team, "/invite") {
		t.Errorf("/help team for a non-admin:\n%s", team)
	}
	if tg := r.send("telegram", "/help")[0].PlainText(); !strings.Contains(tg, "screenshot") {
		t.Errorf("telegram help does not say screenshots work:\n%s", tg)
	}
}
