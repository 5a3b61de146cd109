// Command authbot is a self-hosted two-factor authenticator that lives in
// Telegram and Matrix chats. This is the thin main: subcommands, flags,
// signals and wiring; everything else lives in the packages it builds.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

// errUsage marks a command-line mistake: usage is printed, exit status 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	switch {
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "authbot:", err)
		os.Exit(1)
	}
}

const usage = `authbot — your two-factor codes in Telegram and Matrix

Usage:
  authbot chat [--data DIR] [--save DIR]
                                  use authbot right here: type commands, get answers
                                  (exports go to --save DIR, else are removed at the end)
  authbot serve --config FILE     run the chat bots set up in FILE
  authbot import [--data DIR] FILE
                                  import another authenticator's export (Aegis, 2FAS,
                                  andOTP, Google, Bitwarden, Ente, FreeOTP+, Authenticator Pro)
  authbot export [--data DIR] NAME | --out FILE
                                  print one account's link, or write all to an encrypted Aegis vault
  authbot backup --out FILE ...   write an encrypted backup (database and master key)
  authbot restore --in FILE --data DIR ...   check a backup and restore it
  authbot migrate --config FILE --from bolt --to postgres
                                  copy every record into an empty store (or back), checked
  authbot rotate-key [--data DIR | --config FILE]
                                  re-wrap every key under a new master key (bbolt or PostgreSQL)
  authbot audit [--data DIR | --config FILE] [--vault NAME] [--limit N] [--json]
                                  print the audit log: who got which code, exports, membership
  authbot healthcheck [--url URL | --config FILE]
                                  exit 0 if the running bot answers (its /healthz, or its socket)
  authbot doctor [--config FILE]  check config, permissions, master key, clock, Telegram
                                  token, Matrix login, backup dir and disk; one line each
  authbot version                 print the version

Run "authbot chat" and send /help to see the chat commands.
`

// env is how run reads the environment; tests pass their own.
type env func(string) string

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	err := dispatch(ctx, args, stdin, stdout, stderr, getenv)
	if errors.Is(err, errUsage) {
		// Never exit 2 silently: say what was wrong (when the error says
		// more than "usage") and show the command's usage line.
		if msg := strings.TrimSuffix(err.Error(), ": "+errUsage.Error()); err != errUsage {
			fmt.Fprintln(stderr, "authbot:", msg)
		}
		fmt.Fprint(stderr, usageOf(args[0]))
	}
	return err
}

// usageOf is the usage text's lines for one subcommand (all of it when the
// command is unknown, which run has already printed).
func usageOf(cmd string) string {
	var b strings.Builder
	in := false
	for _, l := range strings.Split(usage, "\n") {
		switch {
		case strings.HasPrefix(l, "  authbot "+cmd+" ") || l == "  authbot "+cmd:
			in = true
		case in && strings.HasPrefix(l, "    "):
		default:
			in = false
		}
		if in {
			b.WriteString(l + "\n")
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return "usage:\n" + b.String()
}

func dispatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) error {
	switch args[0] {
	case "chat":
		return runChat(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "import":
		return runImport(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "export":
		return runExport(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "serve":
		return runServe(ctx, args[1:], stderr, getenv)
	case "backup":
		return runBackup(ctx, args[1:], stdout, stderr, getenv)
	case "restore":
		return runRestore(ctx, args[1:], stdout, stderr, getenv)
	case "migrate":
		return runMigrate(ctx, args[1:], stdout, stderr, getenv)
	case "rotate-key":
		return runRotateKey(ctx, args[1:], stdout, stderr, getenv)
	case "audit":
		return runAudit(ctx, args[1:], stdout, stderr, getenv)
	case "healthcheck":
		return runHealthcheck(ctx, args[1:], stdout, stderr, getenv)
	case "doctor":
		return runDoctor(ctx, args[1:], stdout, stderr, getenv)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "authbot", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "authbot: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}
