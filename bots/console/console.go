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
	"github.com/authbot/authbot/lang"
)

// Handler is what the console needs from the command language.
type Handler interface {
	Handle(ctx context.Context, req commands.Request) []commands.Reply
}

// languager is what *commands.Handler offers beyond Handler: the language
// its replies to req are in (the person's /language choice first), which
// the console's own lines (buttons, saved files, the hidden-typing prompt)
// follow too. Without it they follow Options.Lang.
type languager interface {
	Language(ctx context.Context, req commands.Request) lang.Tag
}

// printerFor is the catalogue in the language of req's replies.
func printerFor(ctx context.Context, h Handler, req commands.Request) *lang.Printer {
	t := lang.Match(req.Lang)
	if l, ok := h.(languager); ok {
		t = l.Language(ctx, req)
	}
	return lang.MustLoad().Printer(t)
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
	// The language of the last answer, for the prompt before the next.
	pr := printerFor(ctx, h, commands.Request{Person: Person, Lang: opts.Lang, LangForced: opts.LangForced})
	for {
		hidden := secretNext && opts.ReadSecret != nil
		secretNext = false
		if opts.Prompt {
			if hidden {
				fmt.Fprint(w, pr.T("console.hidden")+" ")
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
		replies := h.Handle(ctx, req)
		pr = printerFor(ctx, h, req) // after Handle: /language de says its lines in German
		for _, rep := range replies {
			bad = bad || rep.Failed() && rep.To == ""
			secretNext = secretNext || rep.AsksSecret && rep.To == ""
			render(w, pr, rep, opts)
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

func render(w io.Writer, pr *lang.Printer, rep commands.Reply, opts Options) {
	fmt.Fprintln(w, rep.PlainText())
	for _, row := range rep.Buttons {
		for _, b := range row {
			fmt.Fprintf(w, "  [%s] %s\n", b.Label, pr.T("console.send", "Command", b.Command()))
		}
	}
	for _, f := range []*commands.File{rep.Image, rep.File} {
		if f == nil {
			continue
		}
		path, err := save(opts.SaveDir, f)
		if err != nil {
			// The person is at the machine: the file system's reason
			// (a full disk, no permission) is theirs to act on.
			fmt.Fprintln(w, "("+pr.T("console.save_failed", "Name", f.Name, "Err", err.Error())+")")
			continue
		}
		if opts.SaveTemporary {
			fmt.Fprintln(w, pr.T("console.saved_temp", "Path", path, "Command", "authbot chat --save DIR"))
		} else {
			fmt.Fprintln(w, pr.T("console.saved", "Path", path))
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
