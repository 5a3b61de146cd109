package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/observe"
	"github.com/authbot/authbot/storage/datadir"
	"github.com/authbot/authbot/storage/keyfile"
)

// app is everything the subcommands share: the open database, the
// service over it, and the command language on top.
type app struct {
	cfg       *config.Config
	log       *slog.Logger
	clock     core.Clock
	masterKey seal.Key
	store     dataStore
	svc       *core.Service
	handler   *commands.Handler
	// names holds what adapters learn once they run (people.go).
	names *botNames
	// web is the page /app and /web open, once serve starts it (web.go).
	web *webLinks
	// getenv is the environment run was given.
	getenv env
	// reach lets one adapter deliver a reply on another (reach.go).
	reach reachers
	// metrics, under serve, counts outbox jobs too (outbox.go).
	metrics *observe.Metrics
}

// openApp opens (creating on first run) the data dir, the master key and
// the database, and checks that the key opens the database.
// extra adjusts the command handler's options (serve adds the metrics
// Observer, see ops.go).
func openApp(ctx context.Context, cfg *config.Config, log *slog.Logger, getenv env, extra ...func(*commands.Options)) (*app, error) {
	return openAppWith(ctx, cfg, log, getenv, openStore, extra...)
}

// openAppOn is openApp on an already open store (nil: open the configured
// one), which the app then does not close.
func openAppOn(ctx context.Context, cfg *config.Config, log *slog.Logger, getenv env, store dataStore, extra ...func(*commands.Options)) (*app, error) {
	if store == nil {
		return openApp(ctx, cfg, log, getenv, extra...)
	}
	return openAppWith(ctx, cfg, log, getenv, func(context.Context, *config.Config) (dataStore, error) { return noClose{store}, nil }, extra...)
}

// openAppWith is openApp with the store opened by open (serve's bbolt
// store checks itself in the background: openServeStore), once the
// master key is known to be in place.
func openAppWith(ctx context.Context, cfg *config.Config, log *slog.Logger, getenv env, open func(context.Context, *config.Config) (dataStore, error), extra ...func(*commands.Options)) (*app, error) {
	// A database without its master key cannot be opened by a new key:
	// making one would only hide the loss (and a later backup would hold
	// a key that opens nothing). Refuse, and say where the key must go.
	if getenv(config.EnvMasterKey) == "" {
		_, kerr := os.Stat(datadir.At(cfg.DataDir).Key())
		if _, derr := os.Stat(datadir.At(cfg.DataDir).DB()); derr == nil && errors.Is(kerr, fs.ErrNotExist) {
			return nil, fmt.Errorf("master key: %s exists but %s is missing; put the key back (from your backup) or set %s — a new key could not open this database",
				datadir.At(cfg.DataDir).DB(), keyfile.FileName, config.EnvMasterKey)
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	key, source, err := keyfile.Load(cfg.DataDir, getenv(config.EnvMasterKey))
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if source == keyfile.Created {
		log.Info("created a new master key; back it up, without it the database cannot be opened",
			"file", datadir.At(cfg.DataDir).Key())
	}
	store, err := open(ctx, cfg)
	if err != nil {
		return nil, err // bolt's errors name the file and the problem
	}
	if source == keyfile.FromFile {
		// Finish or undo a key rotation that was interrupted (keyfile.Rotate).
		if key, err = keyfile.Settle(ctx, cfg.DataDir, store, key, log); err != nil {
			store.Close()
			return nil, err
		}
	}
	clock := core.SystemClock{}
	svc, err := core.NewServiceWith(ctx, store, key, clock, core.ServiceOptions{UnlockFor: cfg.Lock.UnlockFor.D(), Users: configUsers(cfg)})
	if cs, ok := store.(*checkedStore); ok && errors.Is(err, core.ErrCorrupt) {
		store.Close()
		return nil, cs.verdict(err) // as bolt.Open's refusal reads
	}
	if err != nil {
		store.Close()
		if errors.Is(err, core.ErrWrongMasterKey) {
			return nil, fmt.Errorf("%w: check %s or the master.key file in %s", err, config.EnvMasterKey, cfg.DataDir)
		}
		return nil, fmt.Errorf("open database: %w", err)
	}
	hopts := commands.Options{
		Clock:             clock,
		Log:               log,
		CodeDeleteAfter:   cfg.Codes.DeleteAfter.D(),
		ExportDeleteAfter: cfg.Codes.ExportDeleteAfter.D(),
	}
	names := &botNames{}
	peopleOptions(cfg, names)(&hopts)
	links := &webLinks{}
	withWeb(cfg, links)(&hopts) // serve starts the page (web.go)
	for _, f := range extra {
		f(&hopts)
	}
	h := commands.New(svc, hopts)
	return &app{cfg: cfg, log: log, clock: clock, masterKey: key, store: store, svc: svc, handler: h, names: names, web: links, getenv: getenv}, nil
}

func (a *app) Close() error {
	// Personal /code audit entries are buffered (core/audit.go): write them
	// before the database closes.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ferr := a.svc.FlushAudit(ctx)
	seal.Zero(&a.masterKey)
	return errors.Join(ferr, a.store.Close())
}

// noClose is a store the app borrows: its Close does nothing.
type noClose struct{ dataStore }

func (noClose) Close() error { return nil }

// newLogger builds the structured logger. Logs carry no secrets, codes or
// account names: only command words, ids that are already opaque, errors.
func newLogger(w io.Writer, cfg config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(cfg.Level)))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
