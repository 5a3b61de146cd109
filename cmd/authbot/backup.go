package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/authbot/authbot/backup"
	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/bolt"
	"github.com/authbot/authbot/storage/datadir"
	"github.com/authbot/authbot/storage/keyfile"
	"github.com/authbot/authbot/storage/postgres"
)

// How `authbot backup` gets a consistent copy while `serve` runs: bbolt
// holds an exclusive lock on authbot.db for its writer, so a second process
// cannot open the file, not even read-only. `serve` therefore answers on a
// unix socket in the data dir (backup.sock, 0600) with a snapshot taken
// inside one read transaction, and `authbot backup` asks it there. When no
// serve answers (the bot is stopped), the backup opens the database itself,
// read-only. Either way the copy is opened with the master key and every
// record is checked before the backup file is written.

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
	dir, err := resolveDataDir(*dataDir, *cfgPath, getenv)
	if err != nil {
		return err
	}
	r, err := backupRecipient(*passFile, *recipient, testScryptWorkFactor)
	if err != nil {
		return err
	}
	pg, err := postgresConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	var key seal.Key
	if pg != nil {
		key, err = existingKeyAnyStore(dir, getenv)
	} else {
		key, err = existingKey(dir, getenv)
	}
	if err != nil {
		return err
	}
	defer seal.Zero(&key)
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
	var matrixDSN string
	if pg != nil {
		matrixDSN = pg.Storage.DSN
	}
	m, err := writeBackup(ctx, *out, dir, matrixDSN, r, &key, snapshot)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s: %d people, %d accounts, all records checked\n", *out, m.People, m.Accounts)
	if _, ok := m.Files[backup.MatrixCryptoDB]; ok {
		fmt.Fprintln(stdout, "the Matrix crypto state is included: a restored bot is the same Matrix device")
	} else if hasMatrixState(dir) || (pg != nil && !matrixCopySupported && pg.Matrix.Enabled()) {
		fmt.Fprintln(stderr, "note: the Matrix crypto state was not included (this build has no Matrix support); after a restore the Matrix bot logs in as a new device")
	}
	return nil
}

// postgresConfig returns the config at path when it stores the data in
// PostgreSQL, else nil (no --config, or bbolt).
func postgresConfig(path string, getenv env) (*config.Config, error) {
	if path == "" {
		return nil, nil
	}
	cfg, err := config.LoadOffline(path, config.Env(getenv))
	if err != nil || cfg.Storage.Driver != config.DriverPostgres {
		return nil, err
	}
	return cfg, nil
}

// testScryptWorkFactor is 0 (age's default, about a second of scrypt) except
// in this package's tests, which lower it so they stay fast under -race.
// Never set outside tests: it weakens passphrase backups.
var testScryptWorkFactor = 0

// resolveDataDir picks the data dir from --data, else --config's
// data_dir, else the chat default.
func resolveDataDir(dataDir, cfgPath string, getenv env) (string, error) {
	switch {
	case dataDir != "" && cfgPath != "":
		return "", fmt.Errorf("give --data or --config, not both: %w", errUsage)
	case dataDir != "":
		return dataDir, nil
	case cfgPath != "":
		cfg, err := config.LoadOffline(cfgPath, config.Env(getenv))
		if err != nil {
			return "", err
		}
		return cfg.DataDir, nil
	}
	return defaultDataDir(getenv), nil
}

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

// existingKey loads the master key without ever creating one: a backup or
// a rotation of a data dir that has no key is a mistake to report.
func existingKey(dir string, getenv env) (seal.Key, error) {
	fromEnv := getenv(config.EnvMasterKey)
	if fromEnv == "" {
		if _, err := os.Stat(datadir.At(dir).Key()); errors.Is(err, fs.ErrNotExist) {
			return seal.Key{}, fmt.Errorf("no %s in %s and %s is not set: is this the data dir?", keyfile.FileName, dir, config.EnvMasterKey)
		}
	}
	if _, err := os.Stat(datadir.At(dir).DB()); err != nil {
		return seal.Key{}, fmt.Errorf("no database in %s: %w", dir, err)
	}
	return existingKeyAnyStore(dir, getenv)
}

// existingKeyAnyStore is existingKey for a data dir whose records may be
// in PostgreSQL (no authbot.db beside the key).
func existingKeyAnyStore(dir string, getenv env) (seal.Key, error) {
	fromEnv := getenv(config.EnvMasterKey)
	if fromEnv == "" {
		if _, err := os.Stat(datadir.At(dir).Key()); errors.Is(err, fs.ErrNotExist) {
			return seal.Key{}, fmt.Errorf("no %s in %s and %s is not set: is this the data dir?", keyfile.FileName, dir, config.EnvMasterKey)
		}
	}
	key, _, err := keyfile.Load(dir, fromEnv)
	if err != nil {
		return seal.Key{}, fmt.Errorf("master key: %w", err)
	}
	return key, nil
}

// writeBackup writes a checked, encrypted backup of dataDir to out
// atomically (see backupTo).
func writeBackup(ctx context.Context, out, dataDir, matrixDSN string, r age.Recipient, key *seal.Key, snapshot backup.SnapshotFunc) (backup.Manifest, error) {
	var m backup.Manifest
	err := backup.WriteFileAtomic(ctx, out, func(ctx context.Context, f *os.File) error {
		var err error
		m, err = backupTo(ctx, f, filepath.Dir(out), dataDir, matrixDSN, r, key, snapshot)
		return err
	})
	return m, err
}

// backupTo takes a snapshot into temporary files in tmpDir, checks it
// (opens every record with key), and only then writes the encrypted backup
// to w. The Matrix adapter's state in dataDir goes with it when this build
// can copy it (see matrixState); matrixDSN, when set, is the PostgreSQL
// database that holds the records and the Matrix crypto store instead.
// Used by `authbot backup` and by serve's schedule.
func backupTo(ctx context.Context, w io.Writer, tmpDir, dataDir, matrixDSN string, r age.Recipient, key *seal.Key, snapshot backup.SnapshotFunc) (backup.Manifest, error) {
	var m backup.Manifest
	work, err := os.MkdirTemp(tmpDir, ".authbot-snapshot-*")
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(work)
	tmp, err := os.OpenFile(datadir.At(work).DB(), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	defer tmp.Close()
	n, err := snapshot(ctx, tmp)
	if err != nil {
		return m, fmt.Errorf("backup: snapshot: %w", err)
	}
	rep, err := checkDatabase(ctx, tmp.Name(), key)
	if err != nil {
		return m, fmt.Errorf("backup: the snapshot did not check out, nothing written: %w", err)
	}
	extra, err := matrixState(ctx, dataDir, matrixDSN, work)
	for _, f := range extra {
		defer f.Body.(io.Closer).Close()
	}
	if err != nil {
		return m, fmt.Errorf("backup: Matrix state: %w", err)
	}
	m = backup.Manifest{Created: time.Now().UTC(), Version: version, People: rep.People, Accounts: rep.Accounts}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	if err := backup.Write(w, r, tmp, n, key, m, extra...); err != nil {
		return m, err
	}
	m.Files = map[string]int64{}
	for _, f := range extra {
		m.Files[f.Name] = f.Size
	}
	return m, nil
}

// hasMatrixState reports whether dataDir holds a Matrix crypto store.
func hasMatrixState(dataDir string) bool {
	_, err := os.Stat(datadir.At(dataDir).MatrixCryptoDB())
	return err == nil
}

// matrixState copies the Matrix adapter's state into work and returns it
// as backup files (each Body an open *os.File for the caller to close):
// crypto.db as a consistent SQLite copy (VACUUM INTO, safe while serve
// runs) that passed SQLite's integrity check, and a pending.json left by a
// version before the outbox (the adapter moves it into the database at its
// next start), so one open file is one whole version.
// With dsn (storage.driver postgres) the crypto store is read from
// PostgreSQL into a SQLite file of the same shape (exportMatrixState), so
// a backup holds it the same way whichever store wrote it and restores
// into either. Nothing when there is no Matrix state or this build cannot
// copy it (no goolm tag: runBackup says so).
func matrixState(ctx context.Context, dataDir, dsn, work string) ([]backup.File, error) {
	if !backup.SQLiteSupported || (dsn == "" && !hasMatrixState(dataDir)) {
		return nil, nil
	}
	var files []backup.File
	add := func(name, path string) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		if max := backup.Allowed[name]; fi.Size() > max {
			f.Close()
			return fmt.Errorf("%s is %d bytes, more than the %d a backup holds", path, fi.Size(), max)
		}
		files = append(files, backup.File{Name: name, Size: fi.Size(), Body: f})
		return nil
	}
	copyPath := filepath.Join(work, datadir.CryptoDBName)
	if dsn != "" {
		// The outbox, not pending.json, keeps the redactions there.
		if _, ok, err := exportMatrixState(ctx, dsn, copyPath); err != nil || !ok {
			return nil, err
		}
		if err := backup.CheckSQLite(ctx, copyPath); err != nil {
			return nil, err
		}
		err := add(backup.MatrixCryptoDB, copyPath)
		return files, err
	}
	if err := backup.SnapshotSQLite(ctx, datadir.At(dataDir).MatrixCryptoDB(), copyPath); err != nil {
		return nil, err
	}
	if err := backup.CheckSQLite(ctx, copyPath); err != nil {
		return nil, err
	}
	if err := add(backup.MatrixCryptoDB, copyPath); err != nil {
		return files, err
	}
	pending := datadir.At(dataDir).MatrixPending()
	if err := add(backup.MatrixPending, pending); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return files, err
	}
	return files, nil
}

// checkDatabase opens the bbolt file at path read-only (bbolt's own
// checks), checks key against it and opens every record.
func checkDatabase(ctx context.Context, path string, key *seal.Key) (core.VerifyReport, error) {
	store, err := bolt.Open(ctx, path, bolt.Options{ReadOnly: true})
	if err != nil {
		return core.VerifyReport{}, err
	}
	defer store.Close()
	return checkStore(ctx, store, key)
}

// checkStore checks key against store and opens every record.
func checkStore(ctx context.Context, store core.Store, key *seal.Key) (core.VerifyReport, error) {
	if err := core.CheckMasterKey(ctx, store, key); err != nil {
		if errors.Is(err, core.ErrNotFound) {
			return core.VerifyReport{}, errors.New("the database has no key check record (never opened by authbot)")
		}
		return core.VerifyReport{}, err
	}
	svc, err := core.NewService(ctx, store, *key, core.SystemClock{})
	if err != nil {
		return core.VerifyReport{}, err
	}
	// Verify opens shared vaults too: a backup whose vaults cannot be
	// read is no backup.
	return svc.Verify(ctx)
}
