package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/console"
	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/lang"
	"github.com/authbot/authbot/storage/datadir"
)

func runChat(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", defaultDataDir(getenv), "data directory (database and master key)")
	saveDir := fs.String("save", "", "write exported files and QR images to DIR and keep them (default: a private temporary dir, removed when the chat ends)")
	langFlag := fs.String("lang", "", "answer in this language (en, es, pt-BR, ru, uk, tr, id, de); default: LC_ALL, LC_MESSAGES or LANG, or the /language choice")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	copts := console.Options{Lang: string(lang.FromEnv(getenv))}
	if *langFlag != "" {
		t, ok := lang.Parse(*langFlag)
		if !ok {
			fmt.Fprintf(stderr, "authbot chat: --lang %q is not a language I speak; use one of %s\n", *langFlag, langList())
			return errUsage
		}
		copts.Lang, copts.LangForced = string(t), true
	}
	a, err := openLocalApp(ctx, *dataDir, stderr, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	cfg := a.cfg
	// The welcome and notes in the language the answers will be in.
	pr := lang.MustLoad().Printer(a.handler.Language(ctx, commands.Request{Person: console.Person, Lang: copts.Lang, LangForced: copts.LangForced}))
	interactive := false
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		interactive = true
		fmt.Fprintln(stdout, pr.T("console.welcome", "Version", version, "Dir", cfg.DataDir))
		// Passwords for /export and encrypted imports: not echoed.
		copts.ReadSecret = func() (string, error) {
			b, err := term.ReadPassword(int(f.Fd()))
			defer clear(b)
			return string(b), err
		}
	}
	copts.Prompt = interactive
	// Exported vaults and QR images carry every secret: they go only where
	// the person asked (--save), else to a private dir gone when the chat
	// ends. Versions before this one kept them in DATA/exports.
	if *saveDir != "" {
		copts.SaveDir = *saveDir
	} else {
		tmp, err := os.MkdirTemp("", "authbot-chat-")
		if err != nil {
			return fmt.Errorf("chat: a private dir for exported files: %w", err)
		}
		defer os.RemoveAll(tmp)
		copts.SaveDir, copts.SaveTemporary = tmp, true
	}
	if old := datadir.At(cfg.DataDir).Exports(); dirHasFiles(old) {
		fmt.Fprintln(stderr, pr.T("console.old_exports", "Dir", old))
	}
	err = console.Run(ctx, a.handler, stdin, stdout, copts)
	if interactive && errors.Is(err, console.ErrCommandFailed) {
		return nil // a person at the terminal saw each answer
	}
	return err // a pipe: non-zero exit when any command failed
}

// openLocalApp opens the data dir of the single local person that chat,
// import and export serve, with no config file.
func openLocalApp(ctx context.Context, dataDir string, stderr io.Writer, getenv env) (*app, error) {
	cfg := config.Default(dataDir)
	cfg.Log.Level = "warn" // the console is for answers; problems still show
	if l := getenv("AUTHBOT_LOG_LEVEL"); l != "" {
		// Hidden knob for tests and debugging (the log-secrets test runs
		// every command at debug level and greps stderr).
		cfg.Log.Level = l
	}
	return openApp(ctx, cfg, newLogger(stderr, cfg.Log), getenv)
}

// defaultDataDir is $XDG_DATA_HOME/authbot, else ~/.local/share/authbot,
// else ./authbot-data.
func defaultDataDir(getenv env) string {
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "authbot")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "share", "authbot")
	}
	return "authbot-data"
}

// langList is the codes --lang takes.
func langList() string {
	var out []string
	for _, t := range lang.All() {
		out = append(out, string(t))
	}
	return strings.Join(out, ", ")
}

// dirHasFiles reports whether dir exists and holds anything.
func dirHasFiles(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) > 0
}
