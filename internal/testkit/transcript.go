package testkit

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/console"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/lang"
)

// update is -update on any test binary that imports testkit:
// go test ./bots/console -run TestTranscripts -update rewrites the
// transcripts from what the bot answers now; review the diff before
// committing it.
var update = flag.Bool("update", false, "rewrite the chat transcripts (testdata/transcripts/*.txt) from the current replies")

// TranscriptStart is where a transcript's clock starts: 12:00:10 UTC, so
// codes are deterministic and the first has 20 s left.
func TranscriptStart() time.Time { return time.Date(2027, 1, 15, 12, 0, 10, 0, time.UTC) }

// TranscriptOptions tune Transcripts.
type TranscriptOptions struct {
	// Start is the fake clock's first time; zero means TranscriptStart.
	Start time.Time
	// Handler, if set, adjusts the handler's options for the transcript
	// called name (its file name without .txt): a language, rate limits.
	Handler func(name string, o *commands.Options)
	// Lang, if set, is the language the terminal reports for the
	// transcript called name (what lang.FromEnv gives the console), so one
	// conversation can be run per language; "" is none (English).
	Lang func(name string) string
}

// buttonID is how the console would show a button that has no name.
var buttonID = regexp.MustCompile(`send: \S+ #[0-9a-f]+`)

// Transcripts runs every transcript file matching glob (for example
// "testdata/transcripts/*.txt") through the console adapter, over a real
// handler and service on a bbolt file, each in its own subtest and
// database, and compares the conversation with the file. A transcript is
// the conversation itself:
//
//	> /code binance    a line the person sends, as typed
//	any other line     the bot's answer to the line above (the expected text)
//	# clock +25s       moves the fake clock
//	# admin            the person is an admin from here on (the service is
//	                   opened again with them as a config admin)
//	# group            messages come from a group chat from here on
//	# private          ... and from the private chat again
//	// comment         kept, not sent
//
// "(failed: a script exits non-zero)" after an answer says the console
// reported that command as failed. With -update the answers in the file
// are rewritten from what the bot says now.
func Transcripts(t *testing.T, glob string, opts TranscriptOptions) {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts match %s: %v", glob, err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := RunTranscript(t, name, string(src), opts)
			// Words people know, and commands they can type: no jargon,
			// no button ids.
			if strings.Contains(strings.ToLower(got), "base32") {
				t.Errorf("a reply says base32:\n%s", got)
			}
			if m := buttonID.FindString(got); m != "" {
				t.Errorf("a rendered button shows an id instead of a name: %s", m)
			}
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != string(src) {
				t.Errorf("the bot's answers differ from %s (run with -update, then check the diff):\n%s", file, Diff(string(src), got))
			}
		})
	}
}

// RunTranscript sends the "> " lines of src to a new console over a new
// kit and returns the transcript as it happened: src's commands,
// directives and comments with the bot's answers in place of src's.
func RunTranscript(t *testing.T, name, src string, opts TranscriptOptions) string {
	t.Helper()
	ctx := context.Background()
	start := opts.Start
	if start.IsZero() {
		start = TranscriptStart()
	}
	k := Service(t, Options{Start: start})
	var ho commands.Options
	if opts.Handler != nil {
		opts.Handler(name, &ho)
	}
	h := &chat{h: k.Handler(ho)}
	co := console.Options{SaveDir: filepath.Join(k.Dir, "saved")}
	if opts.Lang != nil {
		co.Lang = opts.Lang(name)
	}
	var out strings.Builder
	for _, line := range strings.Split(src, "\n") {
		switch {
		case strings.HasPrefix(line, "//"):
			out.WriteString(line + "\n")
		case strings.HasPrefix(line, "# clock +"):
			d, err := time.ParseDuration(strings.TrimPrefix(line, "# clock +"))
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			k.Clock.Advance(d)
			out.WriteString(line + "\n")
		case line == "# admin":
			// Admins are config users (core's people directory): a second
			// service over the same file, with the console's person in the
			// config as an admin, serves the lines after this one.
			if err := k.Svc.FlushAudit(ctx); err != nil {
				t.Fatal(err)
			}
			svc := NewService(t, k.Store, k.Key, k.clock, core.ServiceOptions{Users: []core.ConfigUser{{Name: console.Person, Admin: true}}})
			t.Cleanup(func() { _ = svc.FlushAudit(context.Background()) })
			if ho.Clock == nil {
				ho.Clock = k.clock
			}
			h.h = commands.New(svc, ho)
			out.WriteString(line + "\n")
		case line == "# group", line == "# private":
			h.group = line == "# group"
			out.WriteString(line + "\n")
		case strings.HasPrefix(line, "#"):
			t.Fatalf("unknown directive %q (known: # clock +DURATION, # admin, # group, # private)", line)
		case strings.HasPrefix(line, "> "):
			cmd := strings.TrimPrefix(line, "> ")
			out.WriteString(line + "\n")
			var reply strings.Builder
			err := console.Run(ctx, h, strings.NewReader(cmd+"\n"), &reply, co)
			for _, l := range strings.SplitAfter(reply.String(), "\n") {
				if strings.HasPrefix(l, "> ") || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "//") {
					t.Fatalf("%s: the answer line %q would read as a command, directive or comment", cmd, l)
				}
			}
			out.WriteString(reply.String())
			switch {
			case errors.Is(err, console.ErrCommandFailed):
				out.WriteString("(failed: a script exits non-zero)\n")
			case err != nil:
				t.Fatalf("%s: %v", cmd, err)
			}
		}
		// Anything else is an answer of the file's, replaced by the bot's.
	}
	// Saved files have random-free names but sit in a temporary dir.
	return strings.TrimSuffix(strings.ReplaceAll(out.String(), k.Dir, "$DIR"), "\n") + "\n"
}

// chat is the handler as the console reaches it, in the kind of chat the
// transcript is at: the console itself only has a private chat.
type chat struct {
	h     *commands.Handler
	group bool
}

func (c *chat) Handle(ctx context.Context, req commands.Request) []commands.Reply {
	if c.group {
		req.Chat = commands.Group
	}
	return c.h.Handle(ctx, req)
}

// Language passes the handler's language on, so the console's own lines
// follow /language as they do in authbot chat.
func (c *chat) Language(ctx context.Context, req commands.Request) lang.Tag {
	return c.h.Language(ctx, req)
}

// Diff shows the first differing lines of two texts.
func Diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			fmt.Fprintf(&b, "line %d:\n  want: %s\n  got:  %s\n", i+1, a, c)
			if b.Len() > 2000 {
				break
			}
		}
	}
	return b.String()
}
