package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/keyfile"
	"github.com/authbot/authbot/storage/postgres"
)

// rotate-key on PostgreSQL: the same steps as on bbolt (keyfile.Rotate,
// then the Matrix store re-pickled, here in the same database), with the
// lease standing in for bbolt's file lock. rotate-key takes the lease
// itself, so no serve is active while the records are re-keyed and none
// can become active meanwhile, and its writes are fenced like an active
// serve's. A serve holding the lease is refused: stop them all first. A
// standby left running takes over afterwards with the old key, which no
// longer opens the database, and stops saying so: every instance needs
// the new key before it starts again.

func rotatePostgres(ctx context.Context, o *offline, stdout io.Writer, getenv env) error {
	cfg, dir, store := o.pg, o.dir, o.postgres
	active, done, err := holdLeaseBriefly(ctx, store, cfg.Storage.LeaseTTL.D())
	if err != nil {
		return err
	}
	defer done()
	fromEnv := getenv(config.EnvMasterKey) != ""
	if !fromEnv {
		if o.key, err = keyfile.Settle(active, dir, store, o.key, nil); err != nil {
			return err
		}
	}
	newKey, err := seal.NewKey()
	if err != nil {
		return err
	}
	defer seal.Zero(&newKey)
	if fromEnv {
		fmt.Fprintf(stdout, "New master key (shown once; store it where %s comes from, on every machine):\n%s\n", config.EnvMasterKey, seal.Encode(&newKey))
	}
	rep, err := keyfile.Rotate(active, dir, store, &o.key, &newKey, !fromEnv)
	if err != nil {
		if fromEnv {
			fmt.Fprintf(stdout, "Rotation failed: nothing changed, KEEP THE OLD KEY and discard the one above.\n")
		}
		return err
	}
	svc, err := core.NewService(active, store, newKey, core.SystemClock{})
	if err != nil {
		return fmt.Errorf("rotate key: reopen with the new key: %w", err)
	}
	if err := repickleMatrixIn(active, svc, "", cfg.Storage.DSN, nil); err != nil {
		fmt.Fprintf(stdout, "The Matrix store is not re-keyed yet (%v); the next start of the Matrix adapter does it.\n", err)
	}
	fmt.Fprint(stdout, rotateSummary(rep))
	if fromEnv {
		fmt.Fprintf(stdout, "Update %s to the new key on every machine now; the old one no longer opens the database.\n", config.EnvMasterKey)
	} else {
		fmt.Fprintf(stdout, "Copy the new %s to the data dir of every other authbot machine before starting it: the old key no longer opens the database.\n", keyfile.FileName)
	}
	fmt.Fprintf(stdout, "Make a new backup: old backups still hold the old key (and open only what was there before).\n")
	return nil
}

// holdLeaseBriefly takes the lease for an offline command, waiting no
// longer than a live holder would keep it: when it is not free by then, a
// serve is active on the database.
func holdLeaseBriefly(ctx context.Context, store *postgres.Store, ttl time.Duration) (context.Context, func(), error) {
	lease := store.NewLease(postgres.LeaseOptions{TTL: ttl})
	if ttl <= 0 {
		ttl = 5 * time.Second // the lease's default
	}
	hctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(ttl+time.Second, cancel)
	active, done, err := lease.Hold(hctx)
	if !timer.Stop() || err != nil {
		if done != nil {
			done()
		}
		cancel()
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, errors.New("an authbot serve is active on this PostgreSQL database (it holds the lease): stop every authbot serve on it, the standbys too, then run rotate-key again; nothing was changed")
	}
	return active, func() { done(); cancel() }, nil
}
