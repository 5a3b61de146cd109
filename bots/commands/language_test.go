package commands_test

import (
	"context"
	"strings"
	"testing"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/internal/testkit"
	"github.com/authbot/authbot/lang"
)

// TestLanguageChoice: the app's language until the person chooses one
// with /language; the choice is stored (a new handler over the same
// database keeps it) and wins over the app's; auto goes back; --lang
// (LangForced) wins over the choice.
func TestLanguageChoice(t *testing.T) {
	h, kit := testkit.Handler(t, commands.Options{})
	ctx := context.Background()
	send := func(h *commands.Handler, text, appLang string, forced bool) (string, bool) {
		t.Helper()
		rs := h.Handle(ctx, commands.Request{Person: "ana", Platform: "telegram", Chat: commands.Private, Text: text, Lang: appLang, LangForced: forced})
		var b []string
		failed := false
		for _, r := range rs {
			b = append(b, r.PlainText())
			failed = failed || r.Failed()
		}
		return strings.Join(b, "\n"), failed
	}
	cat := lang.MustLoad()
	first := func(t lang.Tag, id string) string {
		s := cat.Printer(t).T(id, "Language", t.Name(), "Command", "/language CODE", "Code", "x")
		head, _, _ := strings.Cut(s, "{{")
		return head[:min(len(head), 12)]
	}
	for _, step := range []struct {
		text, app string
		forced    bool
		want      string // the start of the reply
		failed    bool
	}{
		{"/language", "ru", false, first(lang.Russian, "lang.auto"), false},
		{"/language", "pt-br", false, first(lang.Portuguese, "lang.auto"), false},
		{"/language", "fr", false, first(lang.English, "lang.auto"), false},
		{"/language klingon", "ru", false, first(lang.Russian, "lang.unknown"), true},
		{"/language de", "ru", false, first(lang.German, "lang.set"), false},
		{"/language", "ru", false, first(lang.German, "lang.current"), false},
		{"/language", "uk", true, first(lang.Ukrainian, "lang.current"), false},
		{"/language auto", "tr", false, first(lang.Turkish, "lang.reset"), false},
		{"/language", "tr", false, first(lang.Turkish, "lang.auto"), false},
		{"/language Deutsch", "", false, first(lang.German, "lang.set"), false},
	} {
		got, failed := send(h, step.text, step.app, step.forced)
		if !strings.HasPrefix(got, step.want) || failed != step.failed {
			t.Errorf("%s (app %q, forced %v) = %q (failed %v); want it to start %q (failed %v)", step.text, step.app, step.forced, got, failed, step.want, step.failed)
		}
		if step.text == "/language" && !strings.Contains(got, "pt-BR Português (Brasil)") {
			t.Errorf("%s does not list the languages: %q", step.text, got)
		}
	}
	// A new handler (a restart) reads the stored choice.
	h2 := kit.Handler(commands.Options{})
	if got, _ := send(h2, "/language", "ru", false); !strings.HasPrefix(got, first(lang.German, "lang.current")) {
		t.Errorf("after a restart: %q, want German", got)
	}
}

// TestImportErrorInPersonsLanguage: a file sent as a photo that is no
// image is explained in the person's language (core/qr's reason through
// the catalogue), and in English exactly as core/qr words it.
func TestImportErrorInPersonsLanguage(t *testing.T) {
	h, _ := testkit.Handler(t, commands.Options{})
	cat := lang.MustLoad()
	for _, tag := range []lang.Tag{lang.English, lang.German, lang.Russian} {
		rs := h.Handle(context.Background(), commands.Request{Person: "ana", Platform: "telegram", Chat: commands.Private,
			Lang: string(tag), Files: true, Attachment: &commands.Attachment{Image: true, Data: []byte("not a picture at all")}})
		var b []string
		for _, r := range rs {
			b = append(b, r.PlainText())
		}
		got := strings.Join(b, "\n")
		if want := cat.Printer(tag).T("qr.err.not_image"); !strings.Contains(got, want) {
			t.Errorf("%s: reply %q lacks %q", tag, got, want)
		}
		if tag != lang.English && strings.Contains(got, "image I can read") {
			t.Errorf("%s: reply %q is still English", tag, got)
		}
	}
}
