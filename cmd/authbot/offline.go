package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/authbot/authbot/backup"
	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/bolt"
	"github.com/authbot/authbot/storage/datadir"
	"github.com/authbot/authbot/storage/keyfile"
	"github.com/authbot/authbot/storage/postgres"
)

// offline is a data dir opened by an offline subcommand (backup, audit,
// rotate-key): which dir (--data, else --config's data_dir, else the chat
// default), whether its records are in PostgreSQL, its master key (never
// created: a missing key is a mistake to report) and, when asked for, the
// store. Only what the subcommand uses is needed: no chat secrets.
type offline struct {
	dir    string
	layout datadir.Layout
	// pg is the config when storage.driver is postgres, else nil.
	pg  *config.Config
	key seal.Key
	// store is nil for offlineKeyOnly.
	store interface {
		core.Store
		Close() error
	}
	// postgres is store when it is PostgreSQL (rotate-key takes its lease).
	postgres *postgres.Store
	// cleanup, if set, removes a snapshot file after the store closed.
	cleanup func()
}

// offlineMode says which store openOffline opens.
type offlineMode int

const (
	// offlineKeyOnly: no store; the caller opens what it needs (backup
	// asks serve's socket first).
	offlineKeyOnly offlineMode = iota
	// offlineRead: read-only, for audit: beside a running serve on
	// PostgreSQL; bbolt waits a little for a writer that holds the file,
	// then says why.
	offlineRead
	// offlineRotate: for rotate-key, bbolt read-write and to itself, or
	// PostgreSQL (whose lease rotate-key takes). A data dir without
	// authbot.db, or a PostgreSQL database without records, is refused:
	// there is nothing to rotate, and a new key would orphan a database
	// kept elsewhere.
	offlineRotate
)

// openOffline opens the data dir of --data or --config for an offline
// subcommand. The caller closes it, which zeroes the key.
func openOffline(ctx context.Context, dataDir, cfgPath string, getenv env, mode offlineMode) (*offline, error) {
	dir, err := resolveDataDir(dataDir, cfgPath, getenv)
	if err != nil {
		return nil, err
	}
	pg, err := postgresConfig(cfgPath, getenv)
	if err != nil {
		return nil, err
	}
	o := &offline{dir: dir, layout: datadir.At(dir), pg: pg}
	if mode == offlineRotate && pg == nil {
		if _, err := os.Stat(o.layout.DB()); err != nil {
			return nil, fmt.Errorf("no database to rotate in %s: %w", dir, err)
		}
	}
	if pg != nil {
		o.key, err = existingKeyAnyStore(dir, getenv)
	} else {
		o.key, err = existingKey(dir, getenv)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case mode != offlineKeyOnly && pg != nil:
		// PostgreSQL serves readers beside a running serve: read there.
		s, err := postgres.Open(ctx, pg.Storage.DSN)
		if err != nil {
			o.Close()
			return nil, err
		}
		o.store, o.postgres = s, s
		if empty, err := s.Empty(ctx); err != nil || empty {
			o.Close()
			if err == nil && mode == offlineRotate {
				err = errors.New("the PostgreSQL database holds no authbot records: nothing to rotate (is storage.dsn the right database?)")
			} else if err == nil {
				err = errors.New("the PostgreSQL database holds no authbot records: is storage.dsn the right database?")
			}
			return nil, err
		}
	case mode == offlineRead:
		// While serve runs, read the snapshot it sends (openBoltSnapshot).
		s, done, err := openBoltSnapshot(ctx, dir)
		if err != nil {
			o.Close()
			return nil, err
		}
		o.store, o.cleanup = s, done
	case mode == offlineRotate:
		s, err := bolt.Open(ctx, o.layout.DB(), bolt.Options{})
		if errors.Is(err, bolt.ErrLocked) {
			o.Close()
			return nil, fmt.Errorf("%w; stop authbot first, rotation needs the database to itself", err)
		}
		if err != nil {
			o.Close()
			return nil, err
		}
		o.store = s
	}
	return o, nil
}

// service is the core service over the opened store, with key.
func (o *offline) service(ctx context.Context, key seal.Key) (*core.Service, error) {
	return core.NewService(ctx, o.store, key, core.SystemClock{})
}

// Close closes the store, if open, and zeroes the key.
func (o *offline) Close() error {
	seal.Zero(&o.key)
	if o.store == nil {
		return nil
	}
	err := o.store.Close()
	if o.cleanup != nil {
		o.cleanup()
	}
	return err
}

// openBoltSnapshot opens the bbolt database of dir read-only. While serve
// runs, bbolt's lock keeps every other process off the file, so it asks
// serve for a consistent snapshot through the backup socket (the one
// authbot backup uses), writes it to a temporary file in the data dir
// (0600, in the 0700 dir) and opens that; done removes it (after the
// store is closed).
func openBoltSnapshot(ctx context.Context, dir string) (*bolt.Store, func(), error) {
	l := datadir.At(dir)
	tmp, err := os.CreateTemp(dir, ".snapshot-*.db")
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot file: %w", err)
	}
	path := tmp.Name()
	remove := func() { _ = os.Remove(path) }
	_, ferr := backup.Fetch(ctx, l.Socket(), tmp)
	cerr := tmp.Close()
	if ferr == nil && cerr == nil {
		store, err := bolt.Open(ctx, path, bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
		if err != nil {
			remove()
			return nil, nil, fmt.Errorf("open the snapshot serve sent: %w", err)
		}
		return store, remove, nil
	}
	remove()
	if ferr != nil && !errors.Is(ferr, backup.ErrNoServer) {
		return nil, nil, ferr
	}
	store, err := bolt.Open(ctx, l.DB(), bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	return store, nil, nil
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
