package backup

import (
	"context"
	"errors"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/storage/bolt"
)

// Verify opens the bbolt file at path read-only (bbolt's own checks),
// checks key against it and opens every record (VerifyStore). A backup is
// only written, and only restored, when its database passes.
func Verify(ctx context.Context, path string, key *seal.Key) (core.VerifyReport, error) {
	store, err := bolt.Open(ctx, path, bolt.Options{ReadOnly: true})
	if err != nil {
		return core.VerifyReport{}, err
	}
	defer store.Close()
	return VerifyStore(ctx, store, key)
}

// VerifyStore checks key against store and opens every record, personal
// and in shared vaults (core.Service.Verify). Errors: a store never opened
// by authbot (no key check record), core.ErrWrongMasterKey, or what
// core's Verify returns.
func VerifyStore(ctx context.Context, store core.Store, key *seal.Key) (core.VerifyReport, error) {
	if err := core.CheckMasterKey(ctx, store, key); err != nil {
		if errors.Is(err, core.ErrNotFound) {
			return core.VerifyReport{}, errors.New("the database has no key check record (never opened by authbot)")
		}
		return core.VerifyReport{}, err
	}
	svc, err := core.NewService(ctx, store, *key, core.SystemClock{})
	if err != nil {
		return core.VerifyReport{}, err
	}
	// Verify opens shared vaults too: a backup whose vaults cannot be
	// read is no backup.
	return svc.Verify(ctx)
}
