package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/storage/postgres"
)

// serveWithLease is serve on PostgreSQL: several processes may run it on
// one database; the one holding the lease serves, the others wait as
// standby (answering /healthz with "standby") and take over when it stops
// renewing. A process that loses the lease stops its adapters at once and
// goes back to waiting; its writes are fenced off by the store meanwhile.
func serveWithLease(ctx context.Context, cfg *config.Config, log *slog.Logger, getenv env, operator *ops, withObserver func(*commands.Options)) error {
	store, err := postgres.Open(ctx, cfg.Storage.DSN)
	if err != nil {
		return err
	}
	defer store.Close()
	var metricsWG sync.WaitGroup
	defer metricsWG.Wait()
	mctx, stopMetrics := context.WithCancel(ctx)
	defer stopMetrics()
	health := func(ctx context.Context) error { return store.View(ctx, func(core.Tx) error { return nil }) }
	if err := operator.startMetrics(mctx, cfg, log, health, &metricsWG); err != nil {
		return err
	}
	lease := store.NewLease(postgres.LeaseOptions{TTL: cfg.Storage.LeaseTTL.D(), Log: log, OnRole: operator.metrics.SetRole})
	log.Info("authbot standby: waiting for the lease", "holder", lease.Holder())
	for {
		active, done, err := lease.Hold(ctx)
		if err != nil {
			if ctx.Err() != nil {
				log.Info("authbot stopped")
				return nil
			}
			return err
		}
		err = func() error {
			a, err := openAppOn(active, cfg, log, getenv, pgStore{store}, withObserver)
			if err != nil {
				return err
			}
			defer a.Close()
			return serveApp(active, a, operator)
		}()
		done()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(context.Cause(active), postgres.ErrLeaseLost):
			log.Warn("lease lost: standby again", "holder", lease.Holder())
		case err != nil:
			return err
		default:
			return nil
		}
	}
}
