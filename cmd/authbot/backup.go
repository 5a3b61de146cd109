package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"filippo.io/age"

	"github.com/authbot/authbot/backup"
	"github.com/authbot/authbot/storage/bolt"
	"github.com/authbot/authbot/storage/datadir"
	"github.com/authbot/authbot/storage/postgres"
)

// runBackup: how the copy is taken while serve runs, and how it is
// checked, is backup.Create (backup/create.go).

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "backup file to write (required)")
	dataDir := fs.String("data", "", "data directory (default: data_dir of --config, else the chat data dir)")
	cfgPath := fs.String("config", "", "configuration file whose data_dir to back up")
	passFile := fs.String("passphrase-file", "", "file holding the backup passphrase")
	recipient := fs.String("recipient", "", "age public key (age1...) to encrypt to, instead of a passphrase")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: authbot backup --out FILE [--data DIR | --config FILE] (--passphrase-file F | --recipient AGE_KEY)")
		return errUsage
	}
	o, err := openOffline(ctx, *dataDir, *cfgPath, getenv, offlineKeyOnly)
	if err != nil {
		return err
	}
	defer o.Close()
	r, err := backupRecipient(*passFile, *recipient, testScryptWorkFactor)
	if err != nil {
		return err
	}
	dir, pg, key := o.dir, o.pg, &o.key
	snapshot := func(ctx context.Context, w io.Writer) (int64, error) {
		if pg != nil {
			// PostgreSQL has no file lock: read it directly, from one
			// snapshot, whether or not serve runs.
			s, err := postgres.Open(ctx, pg.Storage.DSN)
			if err != nil {
				return 0, err
			}
			defer s.Close()
			return pgStore{s}.Backup(ctx, w)
		}
		n, err := backup.Fetch(ctx, datadir.At(dir).Socket(), w)
		if !errors.Is(err, backup.ErrNoServer) {
			return n, err
		}
		store, err := bolt.Open(ctx, datadir.At(dir).DB(), bolt.Options{ReadOnly: true})
		if errors.Is(err, bolt.ErrLocked) {
			return 0, fmt.Errorf("%w; stop it (authbot chat), or back up through a running authbot serve", err)
		}
		if err != nil {
			return 0, err
		}
		defer store.Close()
		return store.Backup(ctx, w)
	}
	// Never replace an existing backup: it may be the only good one.
	if _, err := os.Lstat(*out); err == nil {
		return fmt.Errorf("%s already exists; give a new file name (an existing backup is never overwritten)", *out)
	}
	opts := backup.CreateOptions{DataDir: dir, Recipient: r, Key: key, Snapshot: snapshot, Version: version}
	if pg != nil {
		opts.ExportMatrix = pgMatrixExport(pg.Storage.DSN)
	}
	m, err := backup.CreateFile(ctx, *out, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s: %d people, %d accounts, all records checked\n", *out, m.People, m.Accounts)
	if _, ok := m.Files[backup.MatrixCryptoDB]; ok {
		fmt.Fprintln(stdout, "the Matrix crypto state is included: a restored bot is the same Matrix device")
	} else if backup.HasMatrixState(dir) || (pg != nil && !matrixCopySupported && pg.Matrix.Enabled()) {
		fmt.Fprintln(stderr, "note: the Matrix crypto state was not included (this build has no Matrix support); after a restore the Matrix bot logs in as a new device")
	}
	return nil
}

// testScryptWorkFactor is 0 (age's default, about a second of scrypt) except
// in this package's tests, which lower it so they stay fast under -race.
// Never set outside tests: it weakens passphrase backups.
var testScryptWorkFactor = 0

// backupRecipient builds the age recipient from exactly one of the flags.
func backupRecipient(passFile, recipient string, workFactor int) (age.Recipient, error) {
	switch {
	case (passFile == "") == (recipient == ""):
		return nil, fmt.Errorf("give exactly one of --passphrase-file or --recipient: %w", errUsage)
	case recipient != "":
		return backup.ParseRecipient(recipient)
	}
	pass, err := readPassphrase(passFile)
	if err != nil {
		return nil, err
	}
	return backup.PassphraseRecipient(pass, workFactor)
}

// readPassphrase reads a passphrase file: bounded, trailing newline cut.
func readPassphrase(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("passphrase file: %w", err)
	}
	defer f.Close()
	// Like master.key: a passphrase others on the machine can read opens
	// every backup it protects.
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("passphrase file %s is readable by other users (mode %04o); run: chmod 600 %s", path, st.Mode().Perm(), path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4<<10))
	if err != nil {
		return "", fmt.Errorf("passphrase file: %w", err)
	}
	pass := strings.TrimRight(string(b), "\r\n")
	if pass == "" {
		return "", fmt.Errorf("passphrase file %s is empty", path)
	}
	return pass, nil
}

// pgMatrixExport is backup.CreateOptions.ExportMatrix for a PostgreSQL
// install: the crypto store is read from PostgreSQL into a SQLite file of
// the same shape (exportMatrixState), so a backup holds it the same way
// whichever store wrote it and restores into either. The outbox, not
// pending.json, keeps the redactions there.
func pgMatrixExport(dsn string) func(ctx context.Context, path string) (bool, error) {
	return func(ctx context.Context, path string) (bool, error) {
		_, ok, err := exportMatrixState(ctx, dsn, path)
		return ok, err
	}
}
