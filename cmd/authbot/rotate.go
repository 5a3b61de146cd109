package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"github.com/authbot/authbot/backup"
	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/bolt"
	"github.com/authbot/authbot/storage/datadir"
)

// Key rotation and why an interruption at any point leaves a working pair:
//
//  1. the new key is written to master.key.new and fsynced (with its dir);
//  2. one bbolt transaction re-keys everything under the new key and a new
//     derivation root (core.RotateMasterKey): all or nothing; it keeps the
//     old Matrix pickle key, sealed under the new root;
//  3. master.key.new is renamed over master.key and the dir fsynced;
//  4. the Matrix store (matrix/crypto.db) is re-pickled to the new pickle
//     key in one SQLite transaction, then the old pickle key is dropped.
//
// Killed during 4: the old pickle key is still recorded, and the next
// rotate-key or start of the Matrix adapter re-pickles (idempotently:
// values already under the new key are skipped).
//
// Killed before 2 commits: the database still opens with master.key, and
// start-up (settleRotation) removes the stale master.key.new. Killed after
// 2 but before 3: master.key no longer opens the database, master.key.new
// does, and start-up renames it into place. So every start-up with a
// master.key.new tries both keys against the key check and keeps the one
// that opens.

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
		if oldKey, err = settleRotation(ctx, dir, store, oldKey, nil); err != nil {
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
	} else if err := writeNewKey(dir, &newKey); err != nil {
		return err
	}
	rep, err := core.RotateMasterKey(ctx, store, &oldKey, &newKey)
	if err != nil {
		if fromEnv {
			fmt.Fprintf(stdout, "Rotation failed: nothing changed, KEEP THE OLD KEY and discard the one above.\n")
		} else {
			_ = os.Remove(datadir.At(dir).NewKey())
		}
		return fmt.Errorf("rotate key: %w", err)
	}
	if !fromEnv {
		if err := os.Rename(datadir.At(dir).NewKey(), datadir.At(dir).Key()); err != nil {
			return fmt.Errorf("rotate key: the database uses the new key in %s but it could not be moved into place (the next start does it): %w", datadir.NewKeyName, err)
		}
		if err := backup.SyncDir(dir); err != nil {
			return err
		}
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

// rotationStoreIsBolt refuses a rotation that would re-key the wrong
// database: with storage.driver postgres the records are not in the data
// dir, and rotating the (absent or stale) bbolt file there would replace
// master.key while PostgreSQL's records stay sealed under the old one. A
// data dir without authbot.db is refused for the same reason: there is
// nothing to rotate, and a new key would orphan a database kept elsewhere.
func rotationStoreIsBolt(cfgPath, dir string, getenv env) error {
	if cfgPath != "" {
		cfg, err := config.Load(cfgPath, config.Env(getenv))
		if err != nil {
			return err
		}
		if cfg.Storage.Driver == config.DriverPostgres {
			return errors.New("rotate-key works on the bbolt store only and cannot re-key a PostgreSQL store yet; nothing was changed")
		}
	}
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

// writeNewKey writes master.key.new (0600) and fsyncs it and its dir.
func writeNewKey(dir string, k *seal.Key) error {
	path := datadir.At(dir).NewKey()
	text := []byte(seal.Encode(k) + "\n")
	defer clear(text)
	err := backup.WriteFileAtomic(context.Background(), path, func(_ context.Context, f *os.File) error {
		_, err := f.Write(text)
		return err
	})
	if err != nil {
		return fmt.Errorf("write new key: %w", err)
	}
	return nil
}

// settleRotation finishes or undoes an interrupted rotation (see the top of
// this file). key came from master.key; the key that opens the database is
// returned. Without a master.key.new it returns key unchanged.
func settleRotation(ctx context.Context, dir string, store core.Store, key seal.Key, log *slog.Logger) (seal.Key, error) {
	newPath := datadir.At(dir).NewKey()
	b, err := os.ReadFile(newPath)
	if errors.Is(err, fs.ErrNotExist) {
		return key, nil
	}
	if err != nil {
		return key, fmt.Errorf("interrupted key rotation: %w", err)
	}
	nk, perr := seal.ParseKey(string(b))
	clear(b)
	if perr == nil && core.CheckMasterKey(ctx, store, &nk) == nil {
		// The rotation committed; finish step 3.
		if err := os.Rename(newPath, datadir.At(dir).Key()); err != nil {
			return key, fmt.Errorf("finish interrupted key rotation: %w", err)
		}
		if err := backup.SyncDir(dir); err != nil {
			return key, err
		}
		if log != nil {
			log.Warn("finished an interrupted master key rotation: master.key now holds the new key")
		}
		seal.Zero(&key)
		return nk, nil
	}
	seal.Zero(&nk)
	if err := core.CheckMasterKey(ctx, store, &key); err == nil || errors.Is(err, core.ErrNotFound) {
		// The rotation never committed: the new key is worthless.
		if err := os.Remove(newPath); err != nil {
			return key, fmt.Errorf("undo interrupted key rotation: %w", err)
		}
		if log != nil {
			log.Warn("removed master.key.new left by an interrupted key rotation; the old key is still in use")
		}
		return key, nil
	}
	// Neither opens: leave both files for a person to look at.
	return key, nil
}
