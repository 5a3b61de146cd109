package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/authbot/authbot/backup"
	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/bolt"
	"github.com/authbot/authbot/storage/datadir"
	"github.com/authbot/authbot/storage/postgres"
)

// `authbot migrate --from bolt --to postgres` (and back) copies every
// record byte for byte (they stay sealed: no key is needed to copy), then
// checks the copy: the same records with the same bytes, and every one
// opens with the master key. It never writes into a store that already
// holds records, so a mistyped command cannot merge two databases or
// overwrite one. The source is left as it was.

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "store to copy from: bolt or postgres")
	to := fs.String("to", "", "store to copy into (must be empty): bolt or postgres")
	cfgPath := fs.String("config", "", "configuration file: data_dir (the bbolt file, master.key) and storage.dsn_file")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	valid := func(s string) bool { return s == config.DriverBolt || s == config.DriverPostgres }
	if *cfgPath == "" || fs.NArg() > 0 || !valid(*from) || !valid(*to) || *from == *to {
		fmt.Fprintln(stderr, "usage: authbot migrate --config FILE --from bolt --to postgres   (or --from postgres --to bolt)")
		return errUsage
	}
	cfg, err := config.LoadOffline(*cfgPath, config.Env(getenv))
	if err != nil {
		return err
	}
	if cfg.Storage.DSN == "" {
		return fmt.Errorf("migrate needs the PostgreSQL connection string: set storage.dsn_file in %s, or %s", *cfgPath, config.EnvPostgresDSN)
	}
	key, err := migrateKey(cfg.DataDir, getenv)
	if err != nil {
		return err
	}
	defer seal.Zero(&key)
	n, err := migrate(ctx, cfg, *from, *to, &key)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "copied %d records from %s to %s, every one checked: same bytes, and it opens with the master key\n", n, *from, *to)
	if *to != cfg.Storage.Driver {
		fmt.Fprintf(stdout, "now set storage.driver: %s in %s and restart authbot\n", *to, *cfgPath)
	}
	rows, err := migrateMatrix(ctx, cfg, *from, *to)
	switch {
	case err != nil:
		return fmt.Errorf("the records were copied, but the Matrix crypto state was not: %w", err)
	case rows > 0:
		fmt.Fprintf(stdout, "copied the Matrix crypto state (%d rows): the Matrix bot stays the same device\n", rows)
	}
	return nil
}

// migrateMatrix moves the Matrix crypto store along (SQLite in
// data_dir/matrix <-> the same PostgreSQL database), when there is one.
func migrateMatrix(ctx context.Context, cfg *config.Config, from, to string) (int, error) {
	sqlitePath := datadir.At(cfg.DataDir).MatrixCryptoDB()
	if from == config.DriverBolt {
		if !backup.HasMatrixState(cfg.DataDir) {
			return 0, nil
		}
		if !matrixCopySupported {
			return 0, errors.New("this build has no Matrix support")
		}
		return copyMatrixState(ctx, sqlitePath, "", "", cfg.Storage.DSN)
	}
	if !matrixCopySupported || !cfg.Matrix.Enabled() {
		return 0, nil
	}
	if backup.HasMatrixState(cfg.DataDir) {
		return 0, fmt.Errorf("%s exists: %w (move it away first)", sqlitePath, errNotEmpty)
	}
	return copyMatrixState(ctx, "", cfg.Storage.DSN, sqlitePath, "")
}

// migrateKey loads the existing master key (never creates one).
func migrateKey(dir string, getenv env) (seal.Key, error) {
	return existingKeyAnyStore(dir, getenv)
}

// migrateStore is what migrate reads and writes.
type migrateStore interface {
	core.Store
	recordSource
	Close() error
}

func migrate(ctx context.Context, cfg *config.Config, from, to string, key *seal.Key) (int, error) {
	boltPath := datadir.At(cfg.DataDir).DB()
	open := func(driver string, source bool) (migrateStore, error) {
		if driver == config.DriverPostgres {
			s, err := postgres.Open(ctx, cfg.Storage.DSN)
			if err != nil {
				return nil, err
			}
			return s, nil
		}
		if source {
			if _, err := os.Stat(boltPath); err != nil {
				return nil, fmt.Errorf("no database to copy: %w", err)
			}
		} else if fi, err := os.Stat(boltPath); err == nil && fi.Size() > 0 {
			return nil, fmt.Errorf("%s already exists: %w (move it away first)", boltPath, errNotEmpty)
		}
		s, err := bolt.Open(ctx, boltPath, bolt.Options{ReadOnly: source, Timeout: time.Second})
		if errors.Is(err, bolt.ErrLocked) {
			return nil, fmt.Errorf("%w: stop authbot before migrating", err)
		}
		return s, err
	}
	src, err := open(from, true)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	dst, err := open(to, false)
	if err != nil {
		return 0, err
	}
	defer dst.Close()
	if pg, ok := dst.(*postgres.Store); ok {
		empty, err := pg.Empty(ctx)
		if err != nil {
			return 0, err
		}
		if !empty {
			return 0, fmt.Errorf("the PostgreSQL database already holds authbot records: %w (migrate into a new, empty database)", errNotEmpty)
		}
	}
	// Check the key against the source first: copying a store the key
	// cannot open would only move the problem.
	if err := core.CheckMasterKey(ctx, src, key); err != nil {
		return 0, fmt.Errorf("the master key does not open the source store: %w", err)
	}
	n, err := copyRecords(ctx, dst, src)
	if err != nil {
		return n, err
	}
	if err := sameRecords(ctx, src, dst); err != nil {
		return n, fmt.Errorf("the copy differs from the source: %w", err)
	}
	if _, err := backup.VerifyStore(ctx, dst, key); err != nil {
		return n, fmt.Errorf("the copy does not check out: %w", err)
	}
	return n, nil
}

// sameRecords compares two stores record by record (both list in the same
// byte order).
func sameRecords(ctx context.Context, a, b recordSource) error {
	type rec struct {
		ref core.Ref
		v   []byte
	}
	var want []rec
	if err := a.ForEach(ctx, func(ref core.Ref, v []byte) error {
		want = append(want, rec{ref, bytes.Clone(v)})
		return nil
	}); err != nil {
		return err
	}
	i := 0
	err := b.ForEach(ctx, func(ref core.Ref, v []byte) error {
		if i >= len(want) || want[i].ref != ref || !bytes.Equal(want[i].v, v) {
			return fmt.Errorf("record %d (kind %s) differs", i, ref.Kind)
		}
		i++
		return nil
	})
	if err == nil && i != len(want) {
		err = fmt.Errorf("%d records, want %d", i, len(want))
	}
	return err
}
