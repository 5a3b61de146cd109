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
	"time"

	"filippo.io/age"

	"github.com/authbot/authbot/backup"
	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/bolt"
	"github.com/authbot/authbot/storage/datadir"
	"github.com/authbot/authbot/storage/keyfile"
	"github.com/authbot/authbot/storage/postgres"
)

// runRestore: the checks before anything is swapped are backup.Restore
// (backup/restore.go).

func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "backup file to restore (required)")
	dataDir := fs.String("data", "", "data directory to restore into (required, unless --config stores the data in PostgreSQL)")
	cfgPath := fs.String("config", "", "restore into the PostgreSQL database of this config (storage.driver: postgres)")
	passFile := fs.String("passphrase-file", "", "file holding the backup passphrase")
	identity := fs.String("identity", "", "age identity file (AGE-SECRET-KEY-...) for a backup made with --recipient")
	force := fs.Bool("force", false, "replace an existing data dir (it is moved aside, not deleted)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	pg, err := postgresConfig(*cfgPath, getenv)
	if err != nil {
		return err
	}
	if *in == "" || (*dataDir == "") == (pg == nil) || fs.NArg() > 0 || (*passFile == "") == (*identity == "") {
		fmt.Fprintln(stderr, "usage: authbot restore --in FILE (--data DIR | --config FILE-with-postgres) (--passphrase-file F | --identity FILE) [--force]")
		return errUsage
	}
	var ids []age.Identity
	if *passFile != "" {
		pass, err := readPassphrase(*passFile)
		if err != nil {
			return err
		}
		id, err := backup.PassphraseIdentity(pass)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	} else {
		f, err := os.Open(*identity)
		if err != nil {
			return fmt.Errorf("identity file: %w", err)
		}
		ids, err = backup.ParseIdentities(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	if pg != nil {
		m, err := restoreToPostgres(ctx, *in, pg, ids...)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "restored into PostgreSQL (backup made %s): %d people, %d accounts, all records checked\n",
			m.Created.Format(time.RFC3339), m.People, m.Accounts)
		if _, ok := m.Files[backup.MatrixCryptoDB]; ok && matrixCopySupported {
			fmt.Fprintln(stdout, "the Matrix crypto state was restored into PostgreSQL too: the Matrix bot stays the same device")
		}
		return nil
	}
	m, moved, err := backup.Restore(ctx, *in, filepath.Clean(*dataDir), *force, ids...)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s (made %s): %d people, %d accounts, all records checked\n",
		*dataDir, m.Created.Format(time.RFC3339), m.People, m.Accounts)
	if _, ok := m.Files[backup.MatrixCryptoDB]; ok {
		fmt.Fprintln(stdout, "the Matrix crypto state was restored too: the Matrix bot stays the same device")
	}
	if moved != "" {
		fmt.Fprintf(stdout, "the previous data dir was moved to %s; delete it once you are sure\n", moved)
	}
	if getenv(keyfile.EnvVar) != "" {
		fmt.Fprintf(stdout, "note: %s is set; unset it, or set it to the key in %s, or the restored data will not open\n",
			keyfile.EnvVar, datadir.At(*dataDir).Key())
	}
	return nil
}

// restoreToPostgres unpacks and checks the backup in a temporary dir, then
// copies its records into the configured PostgreSQL database, which must
// be empty (a restore never merges into or overwrites live data), and
// checks the copy. The backup's master key goes to data_dir/master.key
// unless a key is there already, which must then be the same key. The
// Matrix crypto state in the backup (a SQLite file, whichever store wrote
// it) is copied into the same database, where serve keeps it on
// PostgreSQL; that database must not hold an olm account yet either.
func restoreToPostgres(ctx context.Context, in string, cfg *config.Config, ids ...age.Identity) (backup.Manifest, error) {
	var m backup.Manifest
	stage, err := os.MkdirTemp("", "authbot-restore-")
	if err != nil {
		return m, fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(stage)
	m, key, err := backup.Unpack(in, stage, ids...)
	if err != nil {
		return m, err
	}
	defer seal.Zero(&key)
	rep, err := backup.Verify(ctx, datadir.At(stage).DB(), &key)
	if err != nil {
		return m, fmt.Errorf("the backup does not check out, nothing was changed: %w", err)
	}
	m.People, m.Accounts = rep.People, rep.Accounts
	if _, err := os.Stat(datadir.At(cfg.DataDir).Key()); err == nil {
		// Load only once the file is known to exist: Load creates a key
		// when there is none.
		existing, _, err := keyfile.Load(cfg.DataDir, "")
		if err != nil {
			return m, fmt.Errorf("master key: %w", err)
		}
		same := existing == key
		seal.Zero(&existing)
		if !same {
			return m, fmt.Errorf("%s holds another master key than the backup: move it away to restore, nothing was changed", datadir.At(cfg.DataDir).Key())
		}
	}
	src, err := bolt.Open(ctx, datadir.At(stage).DB(), bolt.Options{ReadOnly: true})
	if err != nil {
		return m, err
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, cfg.Storage.DSN)
	if err != nil {
		return m, err
	}
	defer dst.Close()
	empty, err := dst.Empty(ctx)
	if err != nil {
		return m, err
	}
	if !empty {
		return m, fmt.Errorf("the PostgreSQL database already holds authbot records: %w; restore into a new, empty database", errNotEmpty)
	}
	_, withMatrix := m.Files[backup.MatrixCryptoDB]
	withMatrix = withMatrix && matrixCopySupported
	if withMatrix {
		// Checked before any record is copied: a refusal changes nothing.
		has, err := pgHasMatrixAccount(ctx, cfg.Storage.DSN)
		if err != nil {
			return m, err
		}
		if has {
			return m, fmt.Errorf("the PostgreSQL database already holds a Matrix crypto account: %w; restore into a new, empty database", errNotEmpty)
		}
	}
	if _, err := copyRecords(ctx, dst, src); err != nil {
		return m, err
	}
	if err := sameRecords(ctx, src, dst); err != nil {
		return m, fmt.Errorf("the copy in PostgreSQL differs from the backup: %w", err)
	}
	if _, err := backup.VerifyStore(ctx, dst, &key); err != nil {
		return m, fmt.Errorf("the copy in PostgreSQL does not check out: %w", err)
	}
	if _, err := os.Stat(datadir.At(cfg.DataDir).Key()); errors.Is(err, fs.ErrNotExist) {
		if err := keyfile.Write(cfg.DataDir, key); err != nil {
			return m, err
		}
	}
	if withMatrix {
		if _, err := copyMatrixState(ctx, datadir.At(stage).MatrixCryptoDB(), "", "", cfg.Storage.DSN); err != nil {
			return m, fmt.Errorf("the records were restored, but the Matrix crypto state was not: %w", err)
		}
	} else if _, ok := m.Files[backup.MatrixCryptoDB]; ok {
		// This build cannot open it: kept in the data dir for one that can.
		if _, err := os.Stat(datadir.At(cfg.DataDir).Matrix()); errors.Is(err, fs.ErrNotExist) {
			if err := os.Rename(datadir.At(stage).Matrix(), datadir.At(cfg.DataDir).Matrix()); err != nil {
				return m, fmt.Errorf("restore the Matrix state: %w", err)
			}
		}
	}
	return m, nil
}
