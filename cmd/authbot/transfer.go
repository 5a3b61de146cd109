package main

import (
	"bufio"
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
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/qr"
	"github.com/authbot/authbot/core/transfer"
)

// runImport: authbot import [--data DIR] FILE, for the local person that
// authbot chat serves. Exit status is non-zero when nothing was imported.
func runImport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", defaultDataDir(getenv), "data directory (database and master key)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: authbot import [--data DIR] FILE")
		return errUsage
	}
	data, err := readLimited(fs.Arg(0), transfer.MaxInput)
	if err != nil {
		return err
	}
	// The import flow chat uses too (transfer.ReadAny): export files, or
	// the QR codes of a picture.
	im, qrs := transfer.NewImporter(), qr.NewDecoder()
	files := [][]byte{data}
	found, err := im.ReadAny(ctx, qrs, files, "")
	if errors.Is(err, transfer.ErrNeedFile) {
		// Steam: the manifest.json beside an encrypted maFile, or the
		// maFiles a manifest.json lists.
		if more := steamCompanions(fs.Arg(0), data); len(more) > 0 {
			files = append(files, more...)
			found, err = im.ReadAny(ctx, qrs, files, "")
		}
	}
	if errors.Is(err, transfer.ErrPasswordRequired) {
		slow := errors.Is(err, transfer.ErrSlowKDF)
		var pw string
		if pw, err = readPassword(stdin, stderr, "Password of "+fs.Arg(0)+": "); err != nil {
			return err
		}
		if slow {
			fmt.Fprintln(stderr, "Opening it takes a few seconds (longer on a small, busy machine).")
		}
		found, err = im.ReadAny(ctx, qrs, files, pw)
	}
	switch {
	case errors.Is(err, qr.ErrNoQR), errors.Is(err, qr.ErrNotImage), errors.Is(err, qr.ErrImageTooLarge):
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	case err != nil:
		return fmt.Errorf("%s: %s", fs.Arg(0), commands.ImportFailure(err))
	}
	var results []*transfer.Result
	for _, f := range found {
		if f.Link != "" {
			// A single link from a QR code: read like a pasted one.
			f.Result, f.Err = im.Import(ctx, []byte(f.Link), "")
		}
		if f.Err != nil {
			return fmt.Errorf("%s: %s", fs.Arg(0), commands.ImportFailure(f.Err))
		}
		results = append(results, f.Result)
	}

	a, err := openLocalApp(ctx, *dataDir, stderr, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	added, dups := 0, 0
	var texts []string
	for _, r := range results {
		rep, text, err := a.handler.Import(ctx, console.Person, r)
		if err != nil {
			return fmt.Errorf("import %s: nothing was stored: %w", fs.Arg(0), err)
		}
		added += len(rep.Added)
		dups += len(rep.Duplicates)
		texts = append(texts, text)
	}
	switch {
	case added == 0 && dups > 0:
		// Running the same import twice is not an error: everything in the
		// file is safe here already.
		fmt.Fprintf(stdout, "Already stored: all %d %s in %s are here, nothing to add.\n", dups, plural(dups, "account", "accounts"), fs.Arg(0))
		return nil
	case added == 0:
		return errors.New("nothing was imported")
	}
	for _, t := range texts {
		fmt.Fprintln(stdout, t)
	}
	return nil
}

// runExport: authbot export [--data DIR] NAME prints one account's link;
// authbot export [--data DIR] --out FILE writes every account to an
// encrypted Aegis vault.
func runExport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", defaultDataDir(getenv), "data directory (database and master key)")
	out := fs.String("out", "", "write all accounts to this encrypted Aegis vault file")
	if err := fs.Parse(args); err != nil || (fs.NArg() == 0) == (*out == "") || fs.NArg() > 1 {
		fmt.Fprintln(stderr, "usage: authbot export [--data DIR] NAME   or   authbot export [--data DIR] --out FILE")
		return errUsage
	}
	a, err := openLocalApp(ctx, *dataDir, stderr, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	if fs.NArg() == 1 {
		acct, err := a.svc.Export(ctx, console.Person, fs.Arg(0))
		if err != nil {
			return fmt.Errorf("export %s: %w", fs.Arg(0), err)
		}
		k := acct.Key()
		fmt.Fprintf(stdout, "%s\nbackup key: %s\n", k.URI(), otp.EncodeSecret(k.Params.Secret))
		return nil
	}
	accounts, err := a.svc.ExportAll(ctx, console.Person)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	pw, err := readPassword(stdin, stderr, fmt.Sprintf("Password for the export file (at least %d characters): ", transfer.MinExportPassword))
	if err != nil {
		return err
	}
	if err := transfer.CheckExportPassword(pw); err != nil {
		return err
	}
	keys := make([]otp.Key, len(accounts))
	for i, acct := range accounts {
		keys[i] = acct.Key()
	}
	vault, err := transfer.ExportAegis(keys, pw)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if _, err := f.Write(vault); err != nil {
		f.Close()
		return fmt.Errorf("export: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(stdout, "Wrote %d accounts to %s (an encrypted Aegis vault; Aegis and 2FAS open it with the password).\n", len(keys), *out)
	return nil
}

// readPassword asks on the terminal without echo, or reads the first line
// of stdin when it is not a terminal (scripts).
func readPassword(stdin io.Reader, stderr io.Writer, prompt string) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password given (on a pipe, the first line of stdin is the password)")
	}
	return line, nil
}

// readLimited reads a file, refusing one over limit bytes before reading
// it all.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w", path, transfer.ErrTooLarge)
	}
	return data, nil
}

// steamCompanions reads the files that complete a Steam export beside
// path: for a manifest.json the maFiles it lists, for anything else the
// manifest.json in the same folder. Files that are missing or too large
// are left out; the import then says what is still missing.
func steamCompanions(path string, data []byte) [][]byte {
	dir := filepath.Dir(path)
	var out [][]byte
	read := func(name string) {
		if b, err := readLimited(filepath.Join(dir, filepath.Base(name)), transfer.MaxInput); err == nil {
			out = append(out, b)
		}
	}
	if names, ok := transfer.SteamManifestFiles(data); ok {
		for _, n := range names {
			if n != "" && filepath.Base(n) != filepath.Base(path) {
				read(n)
			}
		}
		return out
	}
	if filepath.Base(path) != "manifest.json" {
		read("manifest.json")
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
