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
	if req.Text == "/export" {
		r.AsksSecret = true // "choose a password and send it now"
		r.Parts = []commands.Part{{Text: "send the password"}}
	}
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

// TestSecretLineIsReadHidden: the line that answers a reply asking for a
// secret comes from ReadSecret (the terminal without echo), never from the
// line reader, and is not written back; without ReadSecret (a pipe) it is
// an ordinary line.
func TestSecretLineIsReadHidden(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		secrets []string // what ReadSecret returns, in turn; nil: no ReadSecret
		want    []string // the texts the handler gets
		prompts int      // "(typing is hidden)" prompts shown
	}{
		{"terminal", "/export\n/list\n", []string{"correct horse battery"}, []string{"/export", "correct horse battery", "/list"}, 1},
		{"empty line keeps it hidden", "/export\n/list\n", []string{"", "correct horse battery"}, []string{"/export", "correct horse battery", "/list"}, 2},
		{"pipe", "/export\ncorrect horse battery\n/list\n", nil, []string{"/export", "correct horse battery", "/list"}, 0},
		{"no question, no hidden read", "/list\n/help\n", []string{"never read"}, []string{"/list", "/help"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &echo{}
			opts := Options{Prompt: true, SaveDir: t.TempDir()}
			reads := 0
			if tt.secrets != nil {
				opts.ReadSecret = func() (string, error) {
					if reads == len(tt.secrets) {
						t.Fatal("ReadSecret called more often than a secret was asked for")
					}
					reads++
					return tt.secrets[reads-1], nil
				}
			}
			var out bytes.Buffer
			if err := Run(context.Background(), h, strings.NewReader(tt.in), &out, opts); err != nil {
				t.Fatal(err)
			}
			if strings.Join(h.got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("handler got %q, want %q", h.got, tt.want)
			}
			if n := strings.Count(out.String(), "(typing is hidden)"); n != tt.prompts {
				t.Errorf("%d hidden prompts, want %d:\n%s", n, tt.prompts, out.String())
			}
			if tt.secrets != nil && tt.prompts > 0 && strings.Count(out.String(), "correct horse battery") > 1 {
				// Once in the echo fake's own answer ("got ..."), never as input.
				t.Errorf("the password was written back:\n%s", out.String())
			}
		})
	}
}

// TestSaveTemporaryWording: files in a temporary dir say they go away and
// how to keep them.
func TestSaveTemporaryWording(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := Run(context.Background(), &echo{}, strings.NewReader("/pick\n"), &out, Options{SaveDir: dir, SaveTemporary: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "removed when this chat ends") || !strings.Contains(out.String(), "authbot chat --save DIR") {
		t.Errorf("output:\n%s", out.String())
	}
}
