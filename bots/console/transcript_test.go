package console_test

import (
	"bytes"
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
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/bolt"
)

// go test ./bots/console -run TestTranscripts -update rewrites the golden
// files from what the console answers now; review the diff before
// committing it.
var update = flag.Bool("update", false, "rewrite testdata/transcripts/*.golden")

var buttonID = regexp.MustCompile(`send: \S+ #[0-9a-f]+`)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

// TestTranscripts runs every testdata/transcripts/NAME.txt through the
// console, over a real handler and a real bbolt file, and compares the
// whole conversation with NAME.golden. Lines of a script:
//
//	a command line     sent as the person typed it
//	# clock +25s       moves the fake clock
//	# admin            the local person is an admin from here on
//	// comment         ignored
func TestTranscripts(t *testing.T) {
	scripts, err := filepath.Glob("testdata/transcripts/*.txt")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, script := range scripts {
		name := strings.TrimSuffix(filepath.Base(script), ".txt")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(script)
			if err != nil {
				t.Fatal(err)
			}
			got := runScript(t, string(src))
			// Words people know, and commands they can type: no jargon,
			// no button ids.
			if strings.Contains(strings.ToLower(got), "base32") {
				t.Errorf("a reply says base32:\n%s", got)
			}
			if m := buttonID.FindString(got); m != "" {
				t.Errorf("a rendered button shows an id instead of a name: %s", m)
			}
			golden := strings.TrimSuffix(script, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("transcript %s differs from %s (run with -update after checking):\n%s", name, golden, diff(string(want), got))
			}
		})
	}
}

func runScript(t *testing.T, src string) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := bolt.Open(ctx, filepath.Join(dir, "authbot.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	key, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	// 12:00:10 UTC: codes are deterministic, 20 s left in the first.
	clk := &clock{t: time.Date(2027, 1, 15, 12, 0, 10, 0, time.UTC)}
	svc, err := core.NewService(ctx, store, key, clk)
	if err != nil {
		t.Fatal(err)
	}
	admin := false
	h := commands.New(svc, commands.Options{Clock: clk, IsAdmin: func(string) bool { return admin }})
	var out bytes.Buffer
	for _, line := range strings.Split(src, "\n") {
		switch {
		case strings.TrimSpace(line) == "", strings.HasPrefix(line, "//"):
			continue
		case strings.HasPrefix(line, "# clock +"):
			d, err := time.ParseDuration(strings.TrimPrefix(line, "# clock +"))
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			clk.t = clk.t.Add(d)
			out.WriteString(line + "\n")
			continue
		case line == "# admin":
			admin = true
			out.WriteString(line + "\n")
			continue
		}
		out.WriteString("> " + line + "\n")
		err := console.Run(ctx, h, strings.NewReader(line+"\n"), &out, console.Options{SaveDir: filepath.Join(dir, "saved")})
		switch {
		case errors.Is(err, console.ErrCommandFailed):
			out.WriteString("(failed: a script exits non-zero)\n")
		case err != nil:
			t.Fatalf("%s: %v", line, err)
		}
	}
	// Saved files have random-free names but sit in a temporary dir.
	return strings.ReplaceAll(out.String(), dir, "$DIR")
}

// diff shows the first differing lines.
func diff(want, got string) string {
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
