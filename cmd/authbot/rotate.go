package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
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
	o, err := openOffline(ctx, *dataDir, *cfgPath, getenv, offlineRotate)
	if err != nil {
		return err
	}
	defer o.Close()
	if o.pg != nil {
		return rotatePostgres(ctx, o, stdout, getenv) // rotate_postgres.go
	}
	fromEnv := getenv(config.EnvMasterKey) != ""
	if !fromEnv {
		if o.key, err = keyfile.Settle(ctx, o.dir, o.store, o.key, nil); err != nil {
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
	rep, err := keyfile.Rotate(ctx, o.dir, o.store, &o.key, &newKey, !fromEnv)
	if err != nil {
		if fromEnv {
			fmt.Fprintf(stdout, "Rotation failed: nothing changed, KEEP THE OLD KEY and discard the one above.\n")
		}
		return err
	}
	// Step 4: the Matrix store to the new pickle key. Interrupted, the
	// next start of the Matrix adapter finishes it.
	svc, err := o.service(ctx, newKey)
	if err != nil {
		return fmt.Errorf("rotate key: reopen with the new key: %w", err)
	}
	if err := repickleMatrix(ctx, svc, o.layout.Matrix(), nil); err != nil {
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
