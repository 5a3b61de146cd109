// Package console is the stdin/stdout adapter: the same commands as in a
// chat, read line by line, answered as plain text, for the single local
// person. It is how a newcomer tries authbot and how scripts drive it.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/authbot/authbot/bots/commands"
)

// Handler is what the console needs from the command language.
type Handler interface {
	Handle(ctx context.Context, req commands.Request) []commands.Reply
}

// Person is the id the console acts as.
const Person = "local"

// Options configure a console session.
type Options struct {
	// Prompt prints "> " before each line (when stdin is a terminal).
	Prompt bool
	// SaveDir is where images and files from replies are written (0600):
	// the dir the person asked for (authbot chat --save), or a private
	// temporary one that the caller removes when the session ends
	// (SaveTemporary), so exports are never left behind unasked.
	SaveDir       string
	SaveTemporary bool
	// ReadSecret, when set, reads the line that answers a reply asking for
	// a secret (commands.Reply.AsksSecret: an export or import password)
	// instead of the line reader: authbot chat reads it from the terminal
	// without echo. Unset (a pipe, a test), that line is read like any other.
	ReadSecret func() (string, error)
	// Lang is the terminal's language (lang.FromEnv: LC_ALL, LC_MESSAGES,
	// LANG), or the one asked for with --lang when LangForced.
	Lang       string
	LangForced bool
}

// ErrCommandFailed is returned (wrapped) by Run when any command did not
// do what was asked, so a script driving the console exits non-zero.
var ErrCommandFailed = errors.New("a command failed")

// Run reads commands from in until EOF or ctx ends and writes the answers
// to out. All lines are answered; when any of them failed the error wraps
// ErrCommandFailed.
func Run(ctx context.Context, h Handler, in io.Reader, out io.Writer, opts Options) (err error) {
	failed, total := 0, 0
	defer func() {
		if err == nil && failed > 0 {
			err = fmt.Errorf("%d of %d commands: %w", failed, total, ErrCommandFailed)
		}
	}()
	r := bufio.NewReaderSize(in, 64<<10)
	w := bufio.NewWriter(out)
	defer w.Flush()
	secretNext := false
	for {
		hidden := secretNext && opts.ReadSecret != nil
		secretNext = false
		if opts.Prompt {
			if hidden {
				fmt.Fprint(w, "(typing is hidden) ")
			} else {
				fmt.Fprint(w, "> ")
			}
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write answer: %w", err)
		}
		var line string
		var err error
		if hidden {
			line, err = opts.ReadSecret()
			fmt.Fprintln(w) // the terminal did not echo the Enter either
		} else {
			line, err = readLine(r, commands.MaxMessageBytes+1)
		}
		if errors.Is(err, io.EOF) && line == "" {
			return nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read command: %w", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if strings.TrimSpace(line) == "" {
			secretNext = hidden // an empty line: still waiting for the password
			continue
		}
		// Local: whoever types here runs the bot. No files, no deletions:
		// a terminal line cannot be taken back.
		req := commands.Request{Person: Person, Platform: "console", Chat: commands.Private, Text: line, Lang: opts.Lang, LangForced: opts.LangForced,
			Local: true}
		total++
		bad := false
		for _, rep := range h.Handle(ctx, req) {
			bad = bad || rep.Failed() && rep.To == ""
			secretNext = secretNext || rep.AsksSecret && rep.To == ""
			render(w, rep, opts)
		}
		if bad {
			failed++
		}
	}
}

// readLine reads one line, keeping at most limit bytes of it: the rest of
// an over-long line is read and dropped so the next line starts clean.
func readLine(r *bufio.Reader, limit int) (string, error) {
	var b []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if len(b) < limit {
			b = append(b, chunk[:min(len(chunk), limit-len(b))]...)
		}
		if err != nil {
			return string(b), err
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

func render(w io.Writer, rep commands.Reply, opts Options) {
	fmt.Fprintln(w, rep.PlainText())
	for _, row := range rep.Buttons {
		for _, b := range row {
			fmt.Fprintf(w, "  [%s] send: %s\n", b.Label, b.Command())
		}
	}
	for _, f := range []*commands.File{rep.Image, rep.File} {
		if f == nil {
			continue
		}
		path, err := save(opts.SaveDir, f)
		if err != nil {
			fmt.Fprintf(w, "(could not save %s: %v)\n", f.Name, err)
			continue
		}
		if opts.SaveTemporary {
			fmt.Fprintf(w, "Saved %s (readable only by you). It is removed when this chat ends; to keep files, start it with: authbot chat --save DIR\n", path)
		} else {
			fmt.Fprintf(w, "Saved %s (readable only by you). Delete it once you are done with it.\n", path)
		}
		if f.Caption != "" {
			fmt.Fprintln(w, f.Caption)
		}
	}
}

// save writes f under dir with a name that cannot escape it.
func save(dir string, f *commands.File) (string, error) {
	if dir == "" {
		dir = "."
	}
	name := filepath.Base(filepath.Clean("/" + f.Name))
	if name == "/" || name == "." {
		name = "authbot-file"
	}
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, f.Data, 0o600)
}
