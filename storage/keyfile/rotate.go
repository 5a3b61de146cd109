package keyfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/datadir"
)

// Key rotation and why an interruption at any point leaves a working pair:
//
//  1. the new key is written to master.key.new and fsynced (with its dir);
//  2. one transaction re-keys everything under the new key and a new
//     derivation root (core.RotateMasterKey): all or nothing; it keeps the
//     old Matrix pickle key, sealed under the new root;
//  3. master.key.new is renamed over master.key and the dir fsynced;
//  4. the Matrix store (matrix/crypto.db) is re-pickled to the new pickle
//     key in one SQLite transaction, then the old pickle key is dropped.
//
// Rotate does steps 1-3; step 4 belongs to the Matrix adapter's wiring
// (cmd/authbot repickleMatrix), which runs it after Rotate and at every
// start of the adapter. Killed during 4: the old pickle key is still
// recorded, and the next rotate-key or start of the Matrix adapter
// re-pickles (idempotently: values already under the new key are skipped).
//
// Killed before 2 commits: the database still opens with master.key, and
// start-up (Settle) removes the stale master.key.new. Killed after 2 but
// before 3: master.key no longer opens the database, master.key.new does,
// and start-up renames it into place. So every start-up with a
// master.key.new tries both keys against the key check and keeps the one
// that opens.

// Rotate re-keys store from oldKey to newKey, steps 1-3 above, for the key
// file in dir. With inFile false the key comes from the environment: there
// is no file to write or rename, only the transaction runs, and the caller
// must have shown newKey to the person before (whatever happens next, they
// must hold the key the database may end up under).
//
// Errors: writing master.key.new (nothing changed); the re-keying
// transaction (nothing changed, master.key.new removed); the rename into
// place (the database is under the new key, which is in master.key.new:
// the next Settle finishes it); the fsync of dir.
func Rotate(ctx context.Context, dir string, store core.Store, oldKey, newKey *seal.Key, inFile bool) (core.RotateReport, error) {
	l := datadir.At(dir)
	if inFile {
		if err := writeNew(dir, newKey); err != nil {
			return core.RotateReport{}, err
		}
	}
	rep, err := core.RotateMasterKey(ctx, store, oldKey, newKey)
	if err != nil {
		if inFile {
			_ = os.Remove(l.NewKey())
		}
		return rep, fmt.Errorf("rotate key: %w", err)
	}
	if !inFile {
		return rep, nil
	}
	if err := os.Rename(l.NewKey(), l.Key()); err != nil {
		return rep, fmt.Errorf("rotate key: the database uses the new key in %s but it could not be moved into place (the next start does it): %w", datadir.NewKeyName, err)
	}
	if err := syncDir(dir); err != nil {
		return rep, err
	}
	return rep, nil
}

// writeNew writes master.key.new (0600) and fsyncs it and its dir.
func writeNew(dir string, k *seal.Key) error {
	tmp, err := writeTemp(dir, k)
	if err != nil {
		return fmt.Errorf("write new key: %w", err)
	}
	if err := os.Rename(tmp, datadir.At(dir).NewKey()); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write new key: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write new key: %w", err)
	}
	return nil
}

// Settle finishes or undoes an interrupted rotation (see Rotate). key came
// from master.key in dir; the key that opens store is returned. Without a
// master.key.new it returns key unchanged. When neither key opens the
// database both files are left for a person to look at, and key is
// returned (opening the database then says the key is wrong). log may be
// nil; it is told when Settle changed a file.
func Settle(ctx context.Context, dir string, store core.Store, key seal.Key, log *slog.Logger) (seal.Key, error) {
	l := datadir.At(dir)
	b, err := os.ReadFile(l.NewKey())
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
		if err := os.Rename(l.NewKey(), l.Key()); err != nil {
			return key, fmt.Errorf("finish interrupted key rotation: %w", err)
		}
		if err := syncDir(dir); err != nil {
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
		if err := os.Remove(l.NewKey()); err != nil {
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
