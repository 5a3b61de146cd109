package testkit_test

import (
	"context"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/internal/testkit"
)

const kitPath = "github.com/authbot/authbot/internal/testkit"

// TestOnlyTestsImportTestkit: the kit opens databases in temp dirs and
// registers -update; no program may link it. Test-helper packages (their
// name ends in "test", like bots/web/webtest) may, as only tests import
// them.
func TestOnlyTestsImportTestkit(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	fset := token.NewFileSet()
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "node_modules" || n == "testdata" || strings.HasPrefix(n, ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		dir := filepath.ToSlash(filepath.Dir(rel))
		if dir == "internal/testkit" || strings.HasPrefix(dir, "internal/testkit/") || strings.HasSuffix(filepath.Base(dir), "test") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == kitPath || strings.HasPrefix(p, kitPath+"/") {
				t.Errorf("%s imports %s: only tests may", rel, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d program files checked: the walk missed the tree", checked)
	}
}

// TestServiceReopens: a kit's file and key open again; the fake clock
// drives core (a code changes when the clock crosses a period).
func TestServiceReopens(t *testing.T) {
	ctx := context.Background()
	k := testkit.Service(t, testkit.Options{Start: time.Unix(1_800_000_010, 0)})
	p := otp.Default(otp.TOTP)
	p.Secret = []byte("12345678901234567890")
	if _, err := k.Svc.Add(ctx, "alice", core.NewAccount{Label: "binance", Key: otp.Key{Params: p}}); err != nil {
		t.Fatal(err)
	}
	first, err := k.Svc.Code(ctx, "alice", "binance")
	if err != nil {
		t.Fatal(err)
	}
	k.Clock.Advance(30 * time.Second)
	second, err := k.Svc.Code(ctx, "alice", "binance")
	if err != nil {
		t.Fatal(err)
	}
	if first.Code == second.Code {
		t.Errorf("the code %s did not change when the clock moved a period on", first.Code)
	}
	if err := k.Store.Close(); err != nil {
		t.Fatal(err)
	}
	again := testkit.Service(t, testkit.Options{Path: k.Path, Key: &k.Key, Clock: core.SystemClock{}})
	if again.Clock != nil {
		t.Error("a kit with its own clock has a fake one too")
	}
	if list, err := again.Svc.List(ctx, "alice"); err != nil || len(list) != 1 {
		t.Errorf("after reopen: %v, %v", list, err)
	}
	other := testkit.Key(t)
	if _, err := core.NewService(ctx, testkit.Bolt(t, filepath.Join(t.TempDir(), "x.db")), other, core.SystemClock{}); err != nil {
		t.Errorf("a new file under a new key: %v", err)
	}
}

// TestRunTranscript: the runner replaces a file's answers with the bot's,
// keeps commands, directives and comments, and moves the clock.
func TestRunTranscript(t *testing.T) {
	src := "// a comment\n> /add demo JBSWY3DPEHPK3PXP\nan answer the bot never gave\n> /code demo\n# clock +30s\n> /code demo\n> /nonsense\n"
	got := testkit.RunTranscript(t, "demo", src, testkit.TranscriptOptions{})
	lines := strings.Split(got, "\n")
	if lines[0] != "// a comment" || lines[1] != "> /add demo JBSWY3DPEHPK3PXP" {
		t.Fatalf("head of the transcript:\n%s", got)
	}
	if strings.Contains(got, "never gave") {
		t.Errorf("the file's wrong answer survived:\n%s", got)
	}
	var codes []string
	for i, l := range lines {
		if l == "> /code demo" && i+1 < len(lines) {
			codes = append(codes, lines[i+1])
		}
	}
	if len(codes) != 2 || codes[0] == codes[1] {
		t.Errorf("the two /code answers around # clock +30s: %q", codes)
	}
	if !strings.Contains(got, "# clock +30s\n") || !strings.HasSuffix(got, "(failed: a script exits non-zero)\n") {
		t.Errorf("directive or failure mark missing:\n%s", got)
	}
	if again := testkit.RunTranscript(t, "demo", got, testkit.TranscriptOptions{}); again != got {
		t.Errorf("a transcript is not stable over a second run:\n%s", testkit.Diff(got, again))
	}
	// In a group the same command is refused.
	group := testkit.RunTranscript(t, "group", "# group\n> /code demo\n# private\n> /code demo\n", testkit.TranscriptOptions{})
	if parts := strings.Split(group, "> /code demo\n"); len(parts) != 3 || !strings.Contains(parts[1], "private") || parts[1] == parts[2] {
		t.Errorf("a group chat is not told to ask in private:\n%s", group)
	}
	// The language hook reaches the console.
	en := testkit.RunTranscript(t, "demo", "> /language\n", testkit.TranscriptOptions{})
	de := testkit.RunTranscript(t, "demo", "> /language\n", testkit.TranscriptOptions{Lang: func(string) string { return "de" }})
	if en == de {
		t.Errorf("/language in German is the English one:\n%s", de)
	}
	// The hook reaches the handler.
	called := false
	testkit.RunTranscript(t, "demo", "> /help\n", testkit.TranscriptOptions{Handler: func(name string, o *commands.Options) {
		called = name == "demo"
	}})
	if !called {
		t.Error("the Handler hook was not called with the transcript's name")
	}
}
