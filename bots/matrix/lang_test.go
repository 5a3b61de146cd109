//go:build goolm

package matrix

import (
	"context"
	"strings"
	"testing"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/lang"
)

// langHandler answers nothing and says every person chose tag.
type langHandler struct{ tag lang.Tag }

func (h langHandler) Handle(context.Context, commands.Request) []commands.Reply { return nil }
func (h langHandler) Language(_ context.Context, req commands.Request) lang.Tag {
	if req.Person == "" {
		return lang.English
	}
	return h.tag
}

// TestAdapterTextsInPersonsLanguage: what the Matrix adapter says itself
// (the numbered options, a code's expiry, a secret it could not remove,
// verification) follows the person's /language choice as the handler
// reports it; a stranger and a handler that cannot say get English. A
// unit test of the text path: the Dendrite tests run the same functions.
func TestAdapterTextsInPersonsLanguage(t *testing.T) {
	ctx := context.Background()
	cat := lang.MustLoad()
	ru := cat.Printer(lang.Russian)
	b := &Bot{cfg: Config{Handler: langHandler{lang.Russian}}}
	if got := b.printerOf(ctx, "alice").Tag(); got != lang.Russian {
		t.Errorf("printerOf(alice) = %s, want ru", got)
	}
	if got := b.printerOf(ctx, "").Tag(); got != lang.English {
		t.Errorf("a stranger's printer = %s, want en", got)
	}
	if got := (&Bot{cfg: Config{Handler: &fakeHandler{}}}).printerOf(ctx, "alice").Tag(); got != lang.English {
		t.Errorf("a handler without languages gives %s, want en", got)
	}
	if got := printerIn(withPrinter(ctx, ru)).Tag(); got != lang.Russian {
		t.Errorf("printerIn = %s", got)
	}

	r := commands.Reply{Parts: []commands.Part{{Text: "binance: "}, {Text: "123456", Code: true}},
		Buttons: [][]commands.Button{{{Label: "Обновить", Data: "/code #1"}, {Data: "/cancel"}}}}
	got := renderIn(ru, r).Body
	if want := "binance: 123456\n\n" + ru.T("matrix.choice_prompt") + "\n1. Обновить\n2. " + ru.T("matrix.option", "N", 2); got != want {
		t.Errorf("options in Russian:\n got %q\nwant %q", got, want)
	}
	if e := expiredEditIn(ru, "$abc"); e.NewContent.Body != ru.T("matrix.expired") || e.Body != "* "+ru.T("matrix.expired") {
		t.Errorf("expiry in Russian: %q / %q", e.Body, e.NewContent.Body)
	}
	sas := sasText(ru, []rune{'🐶'}, []string{"Dog"}, nil)
	if !strings.HasPrefix(sas, ru.T("matrix.sas_emoji")) || !strings.HasSuffix(sas, ru.T("matrix.sas_confirm")) || strings.Contains(sas, "Verifying") {
		t.Errorf("verification in Russian: %q", sas)
	}
	if got, want := renderText(r).Body, "binance: 123456\n\nReply with a number:\n1. Обновить\n2. Option 2"; got != want {
		t.Errorf("renderText is English: %q", got)
	}
}
