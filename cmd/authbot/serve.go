package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/authbot/authbot/config"
)

// runner is a chat adapter: Run blocks until ctx ends and returns once
// in-flight commands have finished.
type runner interface {
	Run(ctx context.Context) error
}

// auditFlushEvery is how often serve writes buffered audit entries.
const auditFlushEvery = 10 * time.Second

func runServe(ctx context.Context, args []string, stderr io.Writer, getenv env) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "config.yaml", "configuration file")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	cfg, err := config.Load(*path, config.Env(getenv))
	if err != nil {
		return err
	}
	// Checked before anything is created: a failed start leaves no data
	// dir or master key behind.
	if b := cfg.Backup; b.Enabled() && b.PassphraseFile != "" {
		if _, err := readPassphrase(b.PassphraseFile); err != nil {
			return fmt.Errorf("backup.passphrase_file: %w", err)
		}
	}
	log := newLogger(stderr, cfg.Log)
	defer applyMemoryLimit(cfg, getenv, log)()
	operator, withObserver := newOps(cfg) // ops.go: metrics, backup socket and schedule
	operator.stderr = stderr              // the claim code (claim.go)
	if cfg.Storage.Driver == config.DriverPostgres {
		return serveWithLease(ctx, cfg, log, getenv, operator, withObserver) // lease.go
	}
	a, err := openAppWith(ctx, cfg, log, getenv, openServeStore, withObserver)
	if err != nil {
		return err
	}
	defer a.Close()
	return serveApp(ctx, a, operator)
}

// serveApp runs the chat adapters and the operator's side services until
// ctx ends or an adapter fails.
func serveApp(ctx context.Context, a *app, operator *ops) (err error) {
	cfg, log := a.cfg, a.log
	checking, _ := a.store.(*checkedStore)
	if checking != nil {
		defer func() { err = checking.verdict(err) }()
	}
	a.metrics = operator.metrics // outbox jobs are counted too
	// Invites handed out by someone no longer in the config (or removed)
	// stop working. It writes: on a bbolt file still being checked it runs
	// once the check has passed (below), before anyone is answered.
	prune := func(ctx context.Context) {
		if n, err := pruneInvites(ctx, a); err != nil {
			log.Warn("could not prune invites", "err", err)
		} else if n > 0 {
			log.Info("invites of people no longer here removed", "count", n)
		}
	}
	if checking == nil {
		prune(ctx)
	}
	if err := openClaim(ctx, a, operator.stderr); err != nil {
		return err
	}
	var runners []runner
	if cfg.Telegram.Enabled() {
		r, err := newTelegram(ctx, a)
		if err != nil {
			return fmt.Errorf("telegram: %w", err)
		}
		runners = append(runners, r)
	}
	if cfg.Matrix.Enabled() {
		r, err := newMatrix(ctx, a, operator.metrics)
		if err != nil {
			return fmt.Errorf("matrix: %w", err)
		}
		runners = append(runners, r)
	}
	watchClock(a) // skew.go: admins hear of a wrong clock
	if len(runners) == 0 {
		return errors.New("no chat adapter is configured: fill in the telegram or matrix section (or use authbot chat)")
	}
	if cfg.Web.Enabled() {
		// The page is one more runner: when it cannot listen, serve stops.
		w, err := newWeb(a, a.web, runners)
		if err != nil {
			return err
		}
		runners = append(runners, w)
	}
	log.Info("authbot serving", "version", version, "adapters", len(runners), "people", len(cfg.Users))

	// One adapter failing stops the others: a half-running bot is harder to
	// notice than one that exits.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if checking != nil {
		checking.hold() // from here on the store answers only once checked
	}
	if err := operator.Start(ctx, a); err != nil {
		return err
	}
	defer operator.Wait() // after cancel (deferred later, runs first)
	defer cancel()
	errs := make(chan error, len(runners)+1)
	var wg sync.WaitGroup
	// Once start-up is over, what only it needed is given back
	// (memlimit.go); with a background check, only after it passed.
	checked := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		settle(ctx, a, checked)
	}()
	if checking == nil {
		close(checked)
	} else {
		// The database's full check (storage/bolt CheckInBackground):
		// damage found stops serve with bolt's core.ErrCorrupt error, the
		// one Open gives before serving; until then nothing was written
		// and nobody answered (checkedStore).
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := checking.Checked(ctx); err != nil {
				if ctx.Err() == nil {
					errs <- err
					cancel()
				}
				return
			}
			prune(ctx)
			close(checked)
		}()
	}
	// Personal /code audit entries are buffered in memory; write them out
	// now and then so a crash loses at most a few seconds of them.
	// app.Close (deferred first, so run last) writes the rest.
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		flushAuditEvery(ctx, a, auditFlushEvery)
	}()
	defer func() { cancel(); <-flushed }()
	for _, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := r.Run(ctx)
			if err != nil && ctx.Err() == nil {
				errs <- err
				cancel()
			}
		}()
	}
	wg.Wait()
	close(errs)
	err = <-errs
	if err == nil {
		log.Info("authbot stopped")
	}
	return err
}
