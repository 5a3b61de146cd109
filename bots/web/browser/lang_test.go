package browser_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authbot/authbot/bots/web/webtest"
	"github.com/authbot/authbot/lang"
)

// TestRussianPage: a Telegram app set to Russian gets the page in Russian
// (the <html lang>, heading, group heading, footer) with the codes as they
// are, and a refusal in Russian.
func TestRussianPage(t *testing.T) {
	r := webtest.New(t, webtest.Options{})
	r.Add("alice", "github", webtest.TOTP([]byte("a six digit one!")), "")
	ru := lang.MustLoad().Printer(lang.Russian)
	ctx := tab(t)
	do(t, ctx, chromedp.Navigate(r.AppURL(r.InitDataLang(1001, r.Clock.Now(), "ru"), "")))
	waitFor(t, ctx, "the code", `document.querySelectorAll('button.code').length === 1`)
	waitFor(t, ctx, "Russian words", `document.documentElement.lang === 'ru' && document.querySelector('#heading').textContent === `+
		jsString(ru.T("web.page.heading"))+` && document.querySelector('h2').textContent === `+jsString(ru.T("web.page.yours"))+
		` && document.querySelector('#footer').textContent === `+jsString(ru.T("web.page.footer"))+` && document.title === `+jsString(ru.T("web.page.title")))
	if got := eval[string](t, ctx, `document.querySelector('button.code').getAttribute('aria-label')`); got != ru.T("web.page.copy_label", "Name", "github") {
		t.Errorf("copy label %q", got)
	}

	// Someone who is not a person, from a Russian app: refused in Russian.
	ctx = tab(t)
	do(t, ctx, chromedp.Navigate(r.AppURL(r.InitDataLang(777, r.Clock.Now().Add(time.Second), "ru"), "")))
	waitFor(t, ctx, "the refusal", `document.querySelector('#status').textContent === `+jsString(ru.T("web.api.closed")))
}
