package backup

import (
	"context"
	"errors"
	"fmt"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/bolt"
)

// Verify opens the bbolt file at path read-only (bbolt's own checks),
// checks key against it and opens every record (VerifyStore). A backup is
// only written, and only restored, when its database passes.
func Verify(ctx context.Context, path string, key *seal.Key) (core.Report, error) {
	store, err := bolt.Open(ctx, path, bolt.Options{ReadOnly: true})
	if err != nil {
		return core.Report{}, err
	}
	defer store.Close()
	return VerifyStore(ctx, store, key)
}

// VerifyStore checks key against store and opens every record, personal
// and in shared vaults. Errors: a store never opened by authbot (no key
// check record), core.ErrWrongMasterKey, or what core's Verify returns.
func VerifyStore(ctx context.Context, store core.Store, key *seal.Key) (core.Report, error) {
	if err := core.CheckMasterKey(ctx, store, key); err != nil {
		if errors.Is(err, core.ErrNotFound) {
			return core.Report{}, errors.New("the database has no key check record (never opened by authbot)")
		}
		return core.Report{}, err
	}
	svc, err := core.NewService(ctx, store, *key, core.SystemClock{})
	if err != nil {
		return core.Report{}, err
	}
	rep, err := svc.Verify(ctx)
	if err != nil {
		return rep, err
	}
	// Shared vaults are sealed under their own keys, which Verify does not
	// open: a backup whose vaults cannot be read is no backup.
	vrep, err := svc.VerifyVaults(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify shared vaults: %w", err)
	}
	rep.Accounts += vrep.Accounts
	for _, p := range vrep.Problems {
		rep.Problems = append(rep.Problems, "shared vault: "+p)
	}
	return rep, nil
}
