package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/bolt"
	"github.com/authbot/authbot/storage/datadir"
	"github.com/authbot/authbot/storage/keyfile"
)

// rotate-key: the crash-safe protocol is keyfile.Rotate (steps 1-3) and
// keyfile.Settle at every start; step 4, the Matrix store's re-pickling,
// is repickleMatrix (matrix.go).

func runRotateKey(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs := flag.NewFlagSet("rotate-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", "", "data directory (default: data_dir of --config, else the chat data dir)")
	cfgPath := fs.String("config", "", "configuration file whose data_dir to use")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	dir, err := resolveDataDir(*dataDir, *cfgPath, getenv)
	if err != nil {
		return err
	}
	if pg, err := postgresConfig(*cfgPath, getenv); err != nil {
		return err
	} else if pg != nil {
		return rotatePostgres(ctx, pg, dir, stdout, getenv) // rotate_postgres.go
	}
	if err := rotationStoreIsBolt(*cfgPath, dir, getenv); err != nil {
		return err
	}
	oldKey, err := existingKey(dir, getenv)
	if err != nil {
		return err
	}
	defer seal.Zero(&oldKey)
	store, err := bolt.Open(ctx, datadir.At(dir).DB(), bolt.Options{})
	if errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("%w; stop authbot first, rotation needs the database to itself", err)
	}
	if err != nil {
		return err
	}
	defer store.Close()
	fromEnv := getenv(config.EnvMasterKey) != ""
	if !fromEnv {
		if oldKey, err = keyfile.Settle(ctx, dir, store, oldKey, nil); err != nil {
			return err
		}
	}
	newKey, err := seal.NewKey()
	if err != nil {
		return err
	}
	defer seal.Zero(&newKey)
	if fromEnv {
		// Nothing on disk to update: print the key before the transaction,
		// so that whatever happens next the person holds the key the
		// database may end up under.
		fmt.Fprintf(stdout, "New master key (shown once; store it where %s comes from):\n%s\n", config.EnvMasterKey, seal.Encode(&newKey))
	}
	rep, err := keyfile.Rotate(ctx, dir, store, &oldKey, &newKey, !fromEnv)
	if err != nil {
		if fromEnv {
			fmt.Fprintf(stdout, "Rotation failed: nothing changed, KEEP THE OLD KEY and discard the one above.\n")
		}
		return err
	}
	// Step 4: the Matrix store to the new pickle key. Interrupted, the
	// next start of the Matrix adapter finishes it.
	svc, err := core.NewService(ctx, store, newKey, core.SystemClock{})
	if err != nil {
		return fmt.Errorf("rotate key: reopen with the new key: %w", err)
	}
	if err := repickleMatrix(ctx, svc, datadir.At(dir).Matrix(), nil); err != nil {
		fmt.Fprintf(stdout, "The Matrix store is not re-keyed yet (%v); the next start does it.\n", err)
	}
	fmt.Fprint(stdout, rotateSummary(rep))
	if fromEnv {
		fmt.Fprintf(stdout, "Update %s to the new key now; the old one no longer opens the database.\n", config.EnvMasterKey)
		return nil
	}
	fmt.Fprintf(stdout, "Make a new backup: old backups still hold the old key (and open only what was there before).\n")
	return nil
}

// rotationStoreIsBolt refuses a bbolt rotation of a data dir without
// authbot.db: there is nothing to rotate, and a new key would orphan a
// database kept elsewhere. (A config with storage.driver postgres goes to
// rotatePostgres before this.)
func rotationStoreIsBolt(cfgPath, dir string, getenv env) error {
	if _, err := os.Stat(datadir.At(dir).DB()); err != nil {
		return fmt.Errorf("no database to rotate in %s: %w", dir, err)
	}
	return nil
}

// rotateSummary says what a rotation re-keyed, and what it could not.
func rotateSummary(rep core.RotateReport) string {
	s := fmt.Sprintf("Rotated the master key: %d people and %d shared vaults re-keyed.\n", rep.People, rep.Vaults)
	if rep.Locked > 0 {
		s += fmt.Sprintf("%d locked people keep their data keys: only their passphrases open them, the master key never did.\n", rep.Locked)
	}
	if rep.Unreachable > 0 {
		s += fmt.Sprintf("%d shared vaults whose members are all locked keep their keys until a member unlocks and someone is removed.\n", rep.Unreachable)
	}
	return s
}
