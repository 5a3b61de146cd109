//go:build goolm

package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for the crypto store on PostgreSQL
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/matrix"
	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/datadir"
)

// newMatrix builds the Matrix adapter from the matrix section and the users
// list. It does no network I/O: Run logs in (and retries while the
// homeserver cannot be reached).
func newMatrix(ctx context.Context, a *app, metrics matrix.DecryptObserver) (runner, error) {
	mc := a.cfg.Matrix
	// Matrix lets a room's moderators redact at any age: no MaxAge.
	box, err := a.openOutbox(ctx, matrix.Platform, 0)
	if err != nil {
		return nil, err
	}
	// The olm/megolm pickles in crypto.db are encrypted with a key derived
	// from the master key's derivation root: the file alone opens nothing.
	// rotate-key changes the root, and so this key; a store still under
	// the old one is re-pickled first (repickleMatrix).
	stateDir := datadir.At(a.cfg.DataDir).Matrix()
	var pickleDSN string
	if a.cfg.Storage.Driver == config.DriverPostgres {
		pickleDSN = a.cfg.Storage.DSN
	}
	if err := repickleMatrixIn(ctx, a.svc, stateDir, pickleDSN, a.log); err != nil {
		return nil, err
	}
	var cryptoDB func() (*dbutil.Database, error)
	if a.cfg.Storage.Driver == config.DriverPostgres {
		// The crypto store lives in the same PostgreSQL database (mautrix's
		// own crypto_* and mx_* tables, over pgx's database/sql driver), so
		// whichever instance holds the lease is the same device. The
		// pickle key is derived the same way on every instance.
		dsn := a.cfg.Storage.DSN
		cryptoDB = func() (*dbutil.Database, error) { return dbutil.NewWithDialect(dsn, "pgx") }
	}
	pickle := a.svc.DeriveKey(core.PurposeMatrixPickle)
	pickleKey := append([]byte(nil), pickle[:]...)
	seal.Zero(&pickle)
	// The bot's cross-signing private keys are sealed in its state dir (and
	// its account data) under a key of their own, derived the same way.
	// After a rotation the previous key is kept sealed by core until the
	// adapter has sealed them again under the new one.
	xs := a.svc.DeriveKey(core.PurposeMatrixCrossSigning)
	crossSigningKey := append([]byte(nil), xs[:]...)
	seal.Zero(&xs)
	var prevCrossSigningKey []byte
	if old, ok, err := a.svc.PendingDerivedKey(ctx, core.PurposeMatrixCrossSigning); err != nil {
		return nil, err
	} else if ok {
		prevCrossSigningKey = append([]byte(nil), old[:]...)
		seal.Zero(&old)
	}
	b, err := matrix.New(matrix.Config{
		Homeserver:  mc.Homeserver,
		UserID:      id.UserID(mc.UserID),
		Password:    mc.Password,
		AccessToken: mc.AccessToken,
		DeviceID:    id.DeviceID(mc.DeviceID),
		StateDir:    stateDir,
		CryptoDB:    cryptoDB,
		PickleKey:   pickleKey,
		// Cross-signing: see bots/matrix/crosssign.go.
		CrossSigningKey:     crossSigningKey,
		PrevCrossSigningKey: prevCrossSigningKey,
		CrossSigningRekeyed: func(ctx context.Context) error {
			return a.svc.DerivedKeyRekeyed(ctx, core.PurposeMatrixCrossSigning)
		},
		// Who a sender is, and where a person is reached, the handler
		// says (core's people directory, commands.Directory).
		Handler:   a.handler,
		Outbox:    box,
		Elsewhere: a.reach.from(matrix.Platform),
		Log:       a.log.With("adapter", "matrix"),
		Clock:     a.clock,
		Metrics:   metrics,
		Health:    matrixHealth(a),
		Skew:      matrixSkew(a),
	})
	if err != nil {
		return nil, err
	}
	a.reach.add(matrix.Platform, b.Reach)
	return b, nil
}

// repickleMatrix moves the Matrix store to the current pickle key after a
// master key rotation (core.Service.PendingPickleKey), then lets core
// forget the old key. Safe to repeat: matrix.Repickle skips what is done.
func repickleMatrix(ctx context.Context, svc *core.Service, stateDir string, log *slog.Logger) error {
	return repickleMatrixIn(ctx, svc, stateDir, "", log)
}

// repickleMatrixIn is repickleMatrix for the store in stateDir, or, with
// dsn (storage.driver postgres), for the one in that database.
func repickleMatrixIn(ctx context.Context, svc *core.Service, stateDir, dsn string, log *slog.Logger) error {
	old, ok, err := svc.PendingPickleKey(ctx)
	if err != nil || !ok {
		return err
	}
	defer seal.Zero(&old)
	cur := svc.DeriveKey(core.PurposeMatrixPickle)
	defer seal.Zero(&cur)
	var n int
	if dsn != "" {
		db, oerr := sql.Open("pgx", dsn)
		if oerr != nil {
			return fmt.Errorf("re-pickle the Matrix store after a master key rotation: %w", oerr)
		}
		n, err = matrix.RepickleDB(ctx, db, old[:], cur[:])
		db.Close()
	} else {
		n, err = matrix.Repickle(ctx, stateDir, old[:], cur[:])
	}
	if err != nil {
		return fmt.Errorf("re-pickle the Matrix store after a master key rotation: %w", err)
	}
	if err := svc.PickleRekeyed(ctx); err != nil {
		return err
	}
	if log != nil {
		log.Info("re-pickled the Matrix store under the rotated key", "pickles", n)
	}
	return nil
}

// matrixHealth is where the adapter reports for /healthz (none outside
// serve).
func matrixHealth(a *app) matrix.HealthReporter {
	if a.metrics == nil {
		return nil
	}
	return a.metrics.Adapter(matrix.Platform)
}

// matrixSkew is where the adapter hands message timestamps (skew.go).
func matrixSkew(a *app) matrix.ClockSampler {
	if a.metrics == nil {
		return nil
	}
	return a.metrics.ClockSkew()
}
