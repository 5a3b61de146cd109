package browser_test

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/authbot/authbot/bots/web/webtest"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
)

// One headless Chromium for the whole package: starting it is most of the
// wall time. Each test gets its own browser context (own cookies).
var (
	browserCtx context.Context
	browserErr error
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	path := chromium()
	if path == "" {
		browserErr = errors.New("chromium not found (apt-get install chromium, or set CHROMIUM)")
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "authbot-chromium-")
	if err != nil {
		browserErr = err
		return m.Run()
	}
	defer os.RemoveAll(dir)
	// Flags as the machine notes say: no sandbox (root), no GPU, and no
	// background traffic to Google's hosts (the network is closed).
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(420, 860),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[int]("1")); err != nil {
		browserErr = fmt.Errorf("start chromium: %w", err)
		return m.Run()
	}
	browserCtx = bctx
	return m.Run()
}

func chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// tab opens a new tab in a fresh browser context. Without a browser the
// test fails under CI=true and is skipped elsewhere.
func tab(t *testing.T) context.Context {
	t.Helper()
	if browserCtx == nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser tests need Chromium: %v", browserErr)
		}
		t.Skipf("no browser: %v", browserErr)
	}
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelT)
	return ctx
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript condition in the page.
func waitFor(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText"))
		t.Fatalf("waiting for %s: %v\npage text:\n%s", what, err, html)
	}
}

// shownCodes is name -> code (without the space) as the page shows them.
const shownCodes = `Object.fromEntries([...document.querySelectorAll('li.account')].filter(li => li.querySelector('button.code')).map(li =>
  [li.closest('section').querySelector('h2').textContent + '|' + li.querySelector('.name').textContent, li.querySelector('button.code').textContent.replace(/ /g, '')]))`

var (
	rfc1   = []byte("12345678901234567890")
	rfc256 = []byte("12345678901234567890123456789012")
	rfc512 = []byte("1234567890123456789012345678901234567890123456789012345678901234")
)

func rfcParams(alg otp.Algorithm, secret []byte) otp.Params {
	return otp.Params{Kind: otp.TOTP, Algorithm: alg, Digits: 8, Period: 30, Secret: secret}
}

const evil = `<img src=x onerror="window.__pwned=1">`

// TestMiniApp: launch data in the fragment (no telegram-web-app.js),
// RFC 6238 codes for every account, the countdown, the code change at the
// period boundary (fake clock on the server), copy, the theme, a name that
// is HTML rendered as text, and a CSP that stops injected script.
func TestMiniApp(t *testing.T) {
	r := webtest.New(t, webtest.Options{})
	bg := context.Background()
	// 1111111107: 3 s before the end of the step RFC 6238 tests at 1111111109.
	r.Clock.Set(time.Unix(1111111107, 0))
	r.Add("alice", "rfc-sha1", rfcParams(otp.SHA1, rfc1), "RFC 6238")
	r.Add("alice", "rfc-sha256", rfcParams(otp.SHA256, rfc256), "")
	r.Add("alice", "rfc-sha512", rfcParams(otp.SHA512, rfc512), "")
	six := []byte("a six digit one!")
	r.Add("alice", "github", webtest.TOTP(six), evil)
	r.Add("alice", "counter", webtest.HOTP([]byte("counter secret!!"), 0), "")
	if _, err := r.Svc.CreateVault(bg, "alice", "family"); err != nil {
		t.Fatal(err)
	}
	r.Add("alice", "family/netflix", webtest.TOTP([]byte("family secret 12")), "Netflix")

	ctx := tab(t)
	theme := `{"bg_color":"#17212b","text_color":"#f5f5f5","hint_color":"#708499","link_color":"#6ab3f3","button_color":"#5288c1","button_text_color":"#ffffff","secondary_bg_color":"#232e3c"}`
	do(t, ctx, chromedp.Navigate(r.AppURL(r.InitData(1001, r.Clock.Now()), theme)))
	waitFor(t, ctx, "codes", `document.querySelectorAll('button.code').length === 5`)

	sixCode := func(at time.Time, secret []byte) string {
		c, err := totp.GenerateCodeCustom(base32.StdEncoding.EncodeToString(secret), at, totp.ValidateOpts{Period: 30, Digits: 6})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	check := func(want map[string]string) {
		t.Helper()
		got := eval[map[string]string](t, ctx, shownCodes)
		if len(got) != len(want) {
			t.Errorf("page shows %d codes %v, want %d", len(got), got, len(want))
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: page shows %q, want %q", k, got[k], v)
			}
		}
	}
	at := r.Clock.Now()
	check(map[string]string{
		"Your accounts|rfc-sha1":   "07081804", // RFC 6238 appendix B, T = 1111111109
		"Your accounts|rfc-sha256": "68084774",
		"Your accounts|rfc-sha512": "25091201",
		"Your accounts|github":     sixCode(at, six),
		"Vault family|netflix":     sixCode(at, []byte("family secret 12")),
	})
	// The HOTP account has a button, not a code.
	if n := eval[int](t, ctx, `[...document.querySelectorAll('button.action')].filter(b => b.textContent === 'New code').length`); n != 1 {
		t.Errorf("%d 'New code' buttons, want 1", n)
	}
	// The theme came from the fragment.
	if bgc := eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`); bgc != "rgb(23, 33, 43)" {
		t.Errorf("background %q, want Telegram's bg_color", bgc)
	}
	// The issuer that is HTML is text: no image was made of it.
	if n := eval[int](t, ctx, `document.querySelectorAll('img').length`); n != 0 {
		t.Errorf("%d img elements: an account name was parsed as HTML", n)
	}
	if !eval[bool](t, ctx, `[...document.querySelectorAll('.sub')].some(e => e.textContent === `+jsString(evil)+`)`) {
		t.Error("the account's issuer is not shown as text")
	}

	// The countdown moves (3 s left at load).
	waitFor(t, ctx, "countdown at 2 or less", `[...document.querySelectorAll('.ring .secs')].every(s => +s.textContent <= 2 && +s.textContent >= 0)`)
	// The period ends: the server's clock moves on, and the page asks again
	// at the boundary and shows the next codes.
	r.Clock.Set(time.Unix(1111111111, 0))
	waitFor(t, ctx, "the next code", `document.querySelector('#acct-'+`+jsString(accountID(t, r, "rfc-sha1"))+`+' button.code').textContent.replace(/ /g,'') === '14050471'`)
	at = r.Clock.Now()
	check(map[string]string{
		"Your accounts|rfc-sha1":   "14050471", // T = 1111111111
		"Your accounts|rfc-sha256": "67062674",
		"Your accounts|rfc-sha512": "99943326",
		"Your accounts|github":     sixCode(at, six),
		"Vault family|netflix":     sixCode(at, []byte("family secret 12")),
	})
	if err := os.MkdirAll(filepath.Join("testdata", "out"), 0o755); err == nil {
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			_ = os.WriteFile(filepath.Join("testdata", "out", "miniapp.png"), png, 0o644)
		}
	}

	// Copy: a click puts the code on the clipboard.
	if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-read"}, Setting: browser.PermissionSettingGranted, Origin: r.URL,
		BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
	}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("#acct-"+accountID(t, r, "rfc-sha1")+" button.code")))
	waitFor(t, ctx, "the toast", `document.querySelector('#toast').textContent === 'Copied'`)
	if clip := eval[string](t, ctx, `navigator.clipboard.readText()`); clip != "14050471" {
		t.Errorf("clipboard %q, want 14050471", clip)
	}

	// HOTP on request only: RFC 4226 gives 755224 for counter 0 of its
	// secret; this one has its own, so compare with core's generator.
	do(t, ctx, chromedp.Click(chromedp.CSS("#acct-"+accountID(t, r, "counter")+" button.action")))
	waitFor(t, ctx, "the HOTP code", `!!document.querySelector('#acct-'+`+jsString(accountID(t, r, "counter"))+`+' button.code')`)
	wantH, _, _ := otp.Code(webtest.HOTP([]byte("counter secret!!"), 0), at)
	if got := eval[string](t, ctx, `document.querySelector('#acct-'+`+jsString(accountID(t, r, "counter"))+`+' button.code').textContent.replace(/ /g,'')`); got != wantH {
		t.Errorf("HOTP code %q, want %q", got, wantH)
	}

	// CSP: markup injected into the page cannot run script, inline or in
	// an attribute; the browser reports the violations.
	eval[bool](t, ctx, `(() => {
		window.__violations = 0;
		document.addEventListener('securitypolicyviolation', () => window.__violations++);
		document.body.insertAdjacentHTML('beforeend', `+jsString(evil)+`);
		const s = document.createElement('script'); s.textContent = 'window.__pwned2 = 1'; document.body.appendChild(s);
		return true })()`)
	waitFor(t, ctx, "CSP violation reports", `window.__violations >= 2`)
	if eval[bool](t, ctx, `window.__pwned === 1 || window.__pwned2 === 1`) {
		t.Fatal("injected script ran despite the CSP")
	}

	// Hidden page: the codes go.
	eval[bool](t, ctx, `(() => { Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
		document.dispatchEvent(new Event('visibilitychange')); return true })()`)
	if n := eval[int](t, ctx, `document.querySelectorAll('button.code').length`); n != 0 {
		t.Errorf("%d codes still on a hidden page", n)
	}
	if strings.Contains(eval[string](t, ctx, `document.body.innerText`), "1405") {
		t.Error("a code is still in the hidden page's text")
	}
}

func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == '<' || r == '>':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func accountID(t *testing.T, r *webtest.Rig, label string) string {
	t.Helper()
	s, err := r.Svc.Resolve(context.Background(), "alice", label)
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

// TestRefusedLaunchData: forged, stale and other people's launch data get
// 401 and no codes, in the page and at the API.
func TestRefusedLaunchData(t *testing.T) {
	r := webtest.New(t, webtest.Options{})
	r.Add("alice", "github", webtest.TOTP([]byte("a six digit one!")), "")
	now := r.Clock.Now()
	good := r.InitData(1001, now)
	ctx := tab(t)
	for _, tt := range []struct{ name, data string }{
		{"forged", strings.Replace(good, "1001", "1002", 1)},
		{"stale", r.InitData(1001, now.Add(-25*time.Hour))},
		{"not a person", r.InitData(777, now)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			do(t, ctx, chromedp.Navigate(r.AppURL(tt.data, "")))
			waitFor(t, ctx, "the refusal", `document.querySelector('#status').textContent.includes('not open for you')`)
			if n := eval[int](t, ctx, `document.querySelectorAll('button.code, li.account').length`); n != 0 {
				t.Fatalf("%d accounts shown", n)
			}
			st := eval[string](t, ctx, `fetch('/api/codes', {method: 'POST', headers: {'Content-Type': 'application/json', 'Authorization': 'tma ' + `+jsString(tt.data)+`}, body: '{}'})
				.then(r => r.text().then(b => r.status + ' ' + b))`)
			if !strings.HasPrefix(st, "401 ") || strings.Contains(st, "accounts") {
				t.Fatalf("API: %s", st)
			}
		})
	}
}

// TestWebLink: a /web link opens the page once, takes the token out of
// the address bar, keeps the session in an HttpOnly cookie, and ends it
// when idle; a used or expired link is refused.
func TestWebLink(t *testing.T) {
	r := webtest.New(t, webtest.Options{Idle: 2 * time.Second})
	r.Add("alice", "github", webtest.TOTP([]byte("a six digit one!")), "")
	link, _, _, err := r.Server.NewLink(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	ctx := tab(t)
	do(t, ctx, chromedp.Navigate(link))
	waitFor(t, ctx, "codes", `document.querySelectorAll('button.code').length === 1`)
	if loc := eval[string](t, ctx, `location.href`); loc != r.URL+"/" {
		t.Errorf("address bar %q still carries the token", loc)
	}
	if ck := eval[string](t, ctx, `document.cookie`); ck != "" {
		t.Errorf("script can read the session cookie: %q", ck)
	}
	// Idle for longer than Idle: the page blanks and the session ends.
	waitFor(t, ctx, "the idle end", `document.querySelector('#status').textContent.includes('without use')`)
	if n := eval[int](t, ctx, `document.querySelectorAll('button.code').length`); n != 0 {
		t.Errorf("%d codes after the idle end", n)
	}
	waitFor(t, ctx, "the session to end", `fetch('/api/codes', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'}).then(r => r.status === 401)`)

	// The same link again, in another browser: refused.
	ctx2 := tab(t)
	do(t, ctx2, chromedp.Navigate(link))
	waitFor(t, ctx2, "the refusal", `document.querySelector('#status').textContent.includes('used already or has expired')`)
	if n := eval[int](t, ctx2, `document.querySelectorAll('button.code').length`); n != 0 {
		t.Errorf("a used link shows %d codes", n)
	}
	// An expired one: refused too.
	link2, _, _, err := r.Server.NewLink(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	r.Clock.Advance(5*time.Minute + time.Second)
	ctx3 := tab(t)
	do(t, ctx3, chromedp.Navigate(link2))
	waitFor(t, ctx3, "the refusal", `document.querySelector('#status').textContent.includes('used already or has expired')`)
}

// TestCodesOnlyMember: a member who may only get codes sees codes, and no
// secret, export or link anywhere in the page or its API answers.
func TestCodesOnlyMember(t *testing.T) {
	r := webtest.New(t, webtest.Options{})
	bg := context.Background()
	if _, err := r.Svc.CreateVault(bg, "alice", "team"); err != nil {
		t.Fatal(err)
	}
	secret := []byte("team aws secret!")
	r.Add("alice", "team/aws", webtest.TOTP(secret), "Amazon")
	if _, err := r.Svc.AddMember(bg, "alice", "team", "bob", core.RoleCodesOnly); err != nil {
		t.Fatal(err)
	}
	ctx := tab(t)
	do(t, ctx, chromedp.Navigate(r.AppURL(r.InitData(1002, r.Clock.Now()), "")))
	waitFor(t, ctx, "the code", `document.querySelectorAll('button.code').length === 1`)
	want, _ := totp.GenerateCodeCustom(base32.StdEncoding.EncodeToString(secret), r.Clock.Now(), totp.ValidateOpts{Period: 30, Digits: 6})
	if got := eval[map[string]string](t, ctx, shownCodes); got["Vault team|aws"] != want {
		t.Errorf("codes %v, want team/aws %s", got, want)
	}
	dom := eval[string](t, ctx, `document.documentElement.outerHTML`)
	api := eval[string](t, ctx, `fetch('/api/codes', {method: 'POST', headers: {'Content-Type': 'application/json', 'Authorization': 'tma ' + new URLSearchParams(location.hash.slice(1)).get('tgWebAppData')}, body: '{}'}).then(r => r.text())`)
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	for _, bad := range []string{b32, string(secret), "otpauth", "export", "secret\""} {
		for where, text := range map[string]string{"DOM": dom, "API": api} {
			if strings.Contains(strings.ToLower(text), strings.ToLower(bad)) {
				t.Errorf("%s holds %q", where, bad)
			}
		}
	}
}
