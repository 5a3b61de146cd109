package console

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbot/authbot/bots/commands"
)

// echo is a fake handler that answers with what it got, plus the extras a
// reply can carry.
type echo struct{ got []string }

func (e *echo) Handle(ctx context.Context, req commands.Request) []commands.Reply {
	e.got = append(e.got, req.Text)
	if req.Person != Person || req.Chat != commands.Private || req.Platform != "console" {
		panic("console must speak as the single local person in a private chat")
	}
	r := commands.Reply{Parts: []commands.Part{{Text: "got "}, {Text: req.Text, Code: true}}}
	if req.Text == "/pick" {
		r.Buttons = [][]commands.Button{{{Label: "binance", Data: "/code #1"}}}
		r.Image = &commands.File{Name: "../../escape.png", Data: []byte("png")}
	}
	return []commands.Reply{r}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", commands.MaxMessageBytes+5000)
	in := strings.NewReader("/help\n\n  \n/pick\n" + long + "\nlast line without newline")
	var out bytes.Buffer
	h := &echo{}
	if err := Run(context.Background(), h, in, &out, Options{SaveDir: dir}); err != nil {
		t.Fatal(err)
	}
	if len(h.got) != 4 {
		t.Fatalf("handled %d lines, want 4 (blank lines skipped): %q", len(h.got), h.got)
	}
	if len(h.got[2]) != commands.MaxMessageBytes+1 {
		t.Errorf("an over-long line reached the handler with %d bytes; it should be cut just past the limit", len(h.got[2]))
	}
	if h.got[3] != "last line without newline" {
		t.Errorf("last line = %q", h.got[3])
	}
	text := out.String()
	for _, want := range []string{"got /help", "[binance] send: /code #1", "Saved " + filepath.Join(dir, "escape.png")} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	st, err := os.Stat(filepath.Join(dir, "escape.png"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("saved file: %v %v", st, err)
	}
}
