package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/authbot/authbot/config"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/storage/bolt"
	"github.com/authbot/authbot/storage/datadir"
	"github.com/authbot/authbot/storage/postgres"
)

// dataStore is the database a command works on: bbolt in the data dir, or
// PostgreSQL (storage.driver). core sees only core.Store.
type dataStore interface {
	core.Store
	Close() error
	// Backup writes a consistent bbolt copy of every record to w (the
	// authbot.db a backup file carries, whatever the store).
	Backup(ctx context.Context, w io.Writer) (int64, error)
	// ForEach calls fn with every record from one snapshot.
	ForEach(ctx context.Context, fn func(ref core.Ref, sealed []byte) error) error
}

// openStore opens the configured store (creating a bbolt file on first
// run, or the PostgreSQL schema).
func openStore(ctx context.Context, cfg *config.Config) (dataStore, error) {
	if cfg.Storage.Driver == config.DriverPostgres {
		s, err := postgres.Open(ctx, cfg.Storage.DSN)
		if err != nil {
			return nil, err // never names the DSN
		}
		return pgStore{s}, nil
	}
	return bolt.Open(ctx, datadir.At(cfg.DataDir).DB(), bolt.Options{})
}

// openServeStore is openStore for serve: a bbolt file's full check runs in
// the background (bolt.Options.CheckInBackground) beside the rest of
// start-up, instead of before it; serveApp stops when it fails.
func openServeStore(ctx context.Context, cfg *config.Config) (dataStore, error) {
	if cfg.Storage.Driver == config.DriverPostgres {
		return openStore(ctx, cfg)
	}
	s, err := bolt.Open(ctx, datadir.At(cfg.DataDir).DB(), bolt.Options{CheckInBackground: true})
	if err != nil {
		return nil, err
	}
	return &checkedStore{Store: s}, nil
}

// checkedStore is serve's bbolt store while its check may still be running.
// bolt already holds writes (and Backup) back until the check has passed;
// once serve is up (hold), reads wait too, so nobody is answered from a
// file the check then finds damaged. Start-up's own reads (people, ids,
// outbox) go ahead: they answer nobody, and bolt turns a damaged page they
// touch into core.ErrCorrupt.
type checkedStore struct {
	*bolt.Store
	held atomic.Bool
}

// hold makes every later transaction wait for the check.
func (s *checkedStore) hold() { s.held.Store(true) }

func (s *checkedStore) wait(ctx context.Context) error {
	if !s.held.Load() {
		return nil
	}
	return s.Checked(ctx)
}

// verdict is err, or the check's own error when err is the damage it
// found met first by another part of serve: the operator then reads the
// same refusal, naming the file and what is wrong, whichever part that was.
const verdictWait = 10 * time.Second

func (s *checkedStore) verdict(err error) error {
	if !errors.Is(err, core.ErrCorrupt) {
		return err
	}
	// The check is reading the same file and ends soon; the bound is only
	// for a file so large that its check outlasts the operator's patience.
	ctx, cancel := context.WithTimeout(context.Background(), verdictWait)
	defer cancel()
	if cerr := s.Checked(ctx); errors.Is(cerr, core.ErrCorrupt) {
		return cerr
	}
	return err
}

func (s *checkedStore) View(ctx context.Context, fn func(core.Tx) error) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	return s.Store.View(ctx, fn)
}

func (s *checkedStore) Update(ctx context.Context, fn func(core.Tx) error) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	return s.Store.Update(ctx, fn)
}

func (s *checkedStore) ForEach(ctx context.Context, fn func(ref core.Ref, sealed []byte) error) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	return s.Store.ForEach(ctx, fn)
}

// pgStore is a PostgreSQL store with Backup: the records are copied, in
// one snapshot, into a temporary bbolt file that is then streamed, so a
// backup of either store is the same file format and restores into either.
type pgStore struct{ *postgres.Store }

func (p pgStore) Backup(ctx context.Context, w io.Writer) (int64, error) {
	dir, err := os.MkdirTemp("", "authbot-pg-snapshot-")
	if err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	defer os.RemoveAll(dir)
	path := datadir.At(dir).DB()
	dst, err := bolt.Open(ctx, path, bolt.Options{})
	if err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	if _, err := copyRecords(ctx, dst, p.Store); err != nil {
		dst.Close()
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	if err := dst.Close(); err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	defer f.Close()
	return io.Copy(w, f)
}

// recordSource is a store that can list every record (both stores can;
// core.Tx cannot, it has no list of kinds).
type recordSource interface {
	ForEach(ctx context.Context, fn func(ref core.Ref, sealed []byte) error) error
}

// copyBatch is how many records one write transaction of copyRecords
// carries: big enough to be quick, small enough for any store.
const copyBatch = 500

// copyRecords copies every record of src into dst, byte for byte, and
// returns how many. src is read from one snapshot; dst is written in
// batches (callers copy into an empty target, which nothing else uses).
func copyRecords(ctx context.Context, dst core.Store, src recordSource) (int, error) {
	type rec struct {
		ref core.Ref
		v   []byte
	}
	var batch []rec
	n := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := dst.Update(ctx, func(tx core.Tx) error {
			for _, r := range batch {
				if err := tx.Put(r.ref, r.v); err != nil {
					return err
				}
			}
			return nil
		})
		n += len(batch)
		batch = batch[:0]
		return err
	}
	err := src.ForEach(ctx, func(ref core.Ref, sealed []byte) error {
		batch = append(batch, rec{ref, append([]byte(nil), sealed...)})
		if len(batch) == copyBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return n, fmt.Errorf("copy records: %w", err)
	}
	return n, nil
}

// errNotEmpty: migrate never writes into a store that has data.
var errNotEmpty = errors.New("the target store is not empty")
