// Package bolt implements core.Store over a bbolt file.
//
// It only ever sees sealed bytes and opaque ids. Layout (layout.go): one
// top-level bucket per Ref.Kind, keyed by the owner's number (from an
// owner dictionary kept in the same file) and Ref.ID. Files in the older
// nested layout (a bucket per owner inside each kind's) are read as they
// are by a read-only Open and converted, in one transaction, by a
// read-write one once they have passed the check.
//
// The file is the one copy of everyone's 2FA backup keys, so this package
// never turns a damaged or locked file into an empty database: a file that
// fails its checks on Open is refused with core.ErrCorrupt and left
// byte-for-byte as it was, a file in use by another process is refused with
// ErrLocked, and bbolt's panics on damaged pages become core.ErrCorrupt
// instead of crashing the bot.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/authbot/authbot/core"
)

// DefaultTimeout is how long Open waits for another process to release the
// file lock before it returns ErrLocked.
const DefaultTimeout = 2 * time.Second

// ErrLocked means another process (or another Store in this process) has
// the database open. The error returned names the file.
var ErrLocked = errors.New("the database is in use by another authbot process")

type lockedError struct{ path string }

func (e *lockedError) Error() string {
	return "the database " + e.path + " is in use by another authbot process"
}
func (e *lockedError) Is(target error) bool { return target == ErrLocked }

// maxNameLen bounds kinds, owners and ids. Real ones are short words and
// 22-character opaque ids; bbolt's own key limit is 32 KiB.
const maxNameLen = 1024

// maxNesting bounds the recursion of the open-time check so a hostile file
// with absurdly nested buckets cannot exhaust the stack. Our layout nests 1
// (the old nested one 2).
const maxNesting = 16

// pageSize is the page size of files Open creates (existing files keep the
// one they were made with; bbolt reads it from the file). Half the usual 4
// KiB: most owner buckets hold a few KiB (a person's 50 accounts, or one
// index record), and bbolt gives every bucket whole pages, so smaller
// pages waste less. Measured with BenchmarkDBSize (core): 1,000 people ×
// 50 accounts 348 -> 305 bytes per account, one person's 1,000 accounts
// 287 -> 260, and no change in BenchmarkCode's allocations. The flat
// layout has no owner buckets; measured again with it, 2 KiB pages give
// 267 and 244 bytes per account, 4 KiB ones 255 and 258 (a page per
// index record either way; the few fixed pages cost twice as much). With
// flat-2 (one bucket): 2 KiB 277 and 250, 4 KiB 278 and 258.
const pageSize = 2048

// Options tune Open. The zero value is the normal read-write open.
type Options struct {
	// Timeout bounds the wait for the file lock; 0 means DefaultTimeout.
	Timeout time.Duration
	// ReadOnly opens the file without write access and with a shared lock,
	// for backups and inspection alongside other read-only openers.
	ReadOnly bool
	// CheckInBackground makes Open check synchronously only what bbolt
	// reads to open the file (both header pages, the freelist, the file
	// size against the pages they claim) and run the full check (every
	// page, tx.Check) in a goroutine, so a long-running process can start
	// while it runs. Until the check has passed, Update and Backup wait
	// for it: nothing is written over, or copied from, a file not yet
	// proven sound. When it fails, every later View, Update and Backup
	// returns its core.ErrCorrupt error (the same one Open would have
	// returned) and Checked reports it; the file is left as it was.
	// View before the end of the check runs at once (bbolt's panics and
	// faults on damaged pages are still turned into core.ErrCorrupt).
	CheckInBackground bool

	// beforeCheck, when set, runs in the check's goroutine before the
	// check starts (tests hold the check back with it).
	beforeCheck func()
	// onMigratePut: see Store.
	onMigratePut func(n int) error
}

// Store is a core.Store over one bbolt file. It is safe for concurrent use:
// bbolt runs any number of View transactions beside one Update.
type Store struct {
	db       *bbolt.DB
	path     string
	readOnly bool
	check    *backgroundCheck // nil: the file was checked in Open
	onWait   func()           // tests: called when a write starts waiting for the check
	// flat is set once the file is known to be in the flat-2 layout (it
	// never goes back); until then each transaction looks at its snapshot.
	flat atomic.Bool
	// onMigratePut (tests) runs before each record's put in the layout
	// conversion; its error aborts it.
	onMigratePut func(n int) error

	dict    *dictCache // see dictCache
	writeMu sync.Mutex // held by a write until dict has caught up with it
}

// backgroundCheck is the state of Options.CheckInBackground's check.
type backgroundCheck struct {
	done   chan struct{} // closed when err is set
	err    error
	cancel context.CancelFunc // stops the check early (Close)
}

var _ core.Store = (*Store)(nil)

// Open opens the database at path, creating it (mode 0600, parent directory
// 0700) when absent unless opts.ReadOnly is set.
//
// An existing file is first opened read-only and checked: its size against
// the pages its metadata claims, a read of every bucket, key and value, and
// bbolt's consistency check (tx.Check). Measured on a 2-core machine
// (BenchmarkOpenCheck vs BenchmarkOpenNoCheck) this takes Open of a
// 1000-record file from 0.1 ms to 0.7 ms, small next to
// process start, and it catches a damaged file before any write could make
// things worse. A file that fails is reported as core.ErrCorrupt and is not
// modified. With opts.CheckInBackground the same check runs after Open
// returns, on the serving file, with writes held back until it passes
// (see there); `authbot serve` uses it so that its start does not wait for
// a whole-file read.
//
// Errors: ctx.Err() if ctx is done; ErrLocked if another process holds the
// file; core.ErrCorrupt (wrapped, with the path and bbolt's reason) for a
// file that is not a sound bbolt database; otherwise the I/O error with the
// path.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if path == "" {
		return nil, errors.New("open database: empty path")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if !opts.ReadOnly {
		// 0700: the file is sealed, but its size and record counts are
		// still nobody else's business.
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	fi, err := os.Stat(path)
	var checkLater int64 // the size of an existing file whose check runs in the background
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return nil, fmt.Errorf("open database %s: not a regular file", path)
	case err == nil && fi.Size() > 0:
		if err := verify(path, fi.Size(), opts.Timeout, !opts.CheckInBackground); err != nil {
			return nil, err
		}
		if opts.CheckInBackground {
			checkLater = fi.Size()
		}
	case err != nil && (opts.ReadOnly || !errors.Is(err, fs.ErrNotExist)):
		return nil, fmt.Errorf("open database: %w", err)
	}
	db, err := openBolt(path, &bbolt.Options{Timeout: opts.Timeout, ReadOnly: opts.ReadOnly, PageSize: pageSize})
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, path: path, readOnly: opts.ReadOnly, onMigratePut: opts.onMigratePut, dict: newDictCache()}
	if checkLater > 0 {
		// The layout is converted once the check has passed (a damaged
		// file is never rewritten); until then views read the nested
		// layout and writes wait.
		s.startCheck(opts.beforeCheck)
		return s, nil
	}
	if err := s.setLayout(!opts.ReadOnly); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// startCheck runs Options.CheckInBackground's check in a goroutine of
// its own (guard's fault handling is per goroutine).
func (s *Store) startCheck(before func()) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &backgroundCheck{done: make(chan struct{}), cancel: cancel}
	s.check = c
	go func() {
		defer close(c.done)
		if before != nil {
			before()
		}
		c.err = guard(s.path, func() error {
			return s.db.View(func(tx *bbolt.Tx) error {
				if err := checkTx(ctx, tx, s.path); err != nil {
					return err
				}
				// The check read every page through the serving mapping;
				// drop them from this process's resident set (they stay
				// in the page cache) so the bot's memory at rest is what
				// serving touches, not the whole file.
				dropResident(s.db, tx.Size())
				return nil
			})
		})
		if c.err == nil {
			c.err = s.setLayout(!s.readOnly)
		}
	}()
}

// DropResident drops the database's pages from this process's resident
// set (they stay in the page cache; the next read maps them again): serve
// calls it once its start-up reads (people, ids, outbox) are over, so the
// memory at rest is what serving touches. Linux only; elsewhere it does
// nothing.
func (s *Store) DropResident(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(tx *bbolt.Tx) error {
		dropResident(s.db, tx.Size())
		return nil
	})
}

// Checked waits for Options.CheckInBackground's check and returns its
// result: nil when the file is sound (or was checked in Open), the
// core.ErrCorrupt error when it is not, ctx.Err() when ctx ends first.
func (s *Store) Checked(ctx context.Context) error {
	if s.check == nil {
		return nil
	}
	select { // a result already there wins over a ctx also done
	case <-s.check.done:
		return s.check.err
	default:
	}
	select {
	case <-s.check.done:
		return s.check.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// checkGate is what a transaction owes the background check: one that
// writes (wait) waits for it; any fails once it has failed.
func (s *Store) checkGate(ctx context.Context, wait bool) error {
	c := s.check
	if c == nil {
		return nil
	}
	if wait {
		if s.onWait != nil {
			select {
			case <-c.done:
			default:
				s.onWait()
			}
		}
		return s.Checked(ctx)
	}
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// openBolt calls bbolt.Open with its faults and panics turned into errors.
// bbolt reads the meta and freelist pages during Open; on a damaged file
// that can fault or panic, and the deferred recover then closes the file it
// opened (releasing the lock). The mapping itself cannot be released
// without bbolt's help and is left to process exit; that only happens for
// files that are already reported corrupt.
func openBolt(path string, o *bbolt.Options) (db *bbolt.DB, err error) {
	var f *os.File
	o.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		ff, err := os.OpenFile(name, flag, perm)
		f = ff
		return ff, err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if f != nil {
				_ = f.Close()
			}
			db, err = nil, corruptErr(path, panicReason(r))
		}
	}()
	db, err = bbolt.Open(path, 0o600, o)
	if err != nil {
		return nil, openErr(path, err)
	}
	return db, nil
}

func openErr(path string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return &lockedError{path: path}
	case errors.Is(err, berrors.ErrInvalid):
		return corruptErr(path, fmt.Errorf("not a database file, or both its header pages are damaged: %w", err))
	case errors.Is(err, berrors.ErrChecksum):
		return corruptErr(path, fmt.Errorf("both header pages fail their checksum: %w", err))
	case errors.Is(err, berrors.ErrVersionMismatch):
		return corruptErr(path, fmt.Errorf("unknown file format version: %w", err))
	}
	return pathErr("open database", path, err)
}

// verify checks an existing file read-only, as described on Open; with
// full false only what opening it reads (both header pages, the freelist)
// and its size, the rest being left to the background check.
//
// A read-only open of its own, even then: a fault or panic in bbolt.Open
// leaves its memory map (and so the file's lock) behind until the process
// exits, and a shared lock left by a failed check does not stop the next
// try, where the exclusive one of a read-write open would.
func verify(path string, size int64, timeout time.Duration, full bool) error {
	// PreLoadFreelist reads the freelist here, in this goroutine where
	// faults are caught, rather than later in tx.Check's own goroutine
	// where a fault would crash the process.
	db, err := openBolt(path, &bbolt.Options{Timeout: timeout, ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		return err
	}
	defer db.Close()
	return guard(path, func() error {
		if err := checkSize(db, path, size); err != nil || !full {
			return err
		}
		return db.View(func(tx *bbolt.Tx) error { return checkTx(context.Background(), tx, path) })
	})
}

// checkSize fails a file shorter than the pages its header claims.
func checkSize(db *bbolt.DB, path string, size int64) error {
	return db.View(func(tx *bbolt.Tx) error {
		if need := tx.Size(); need > size {
			return corruptErr(path, fmt.Errorf("file is %d bytes but its pages need %d: truncated", size, need))
		}
		return nil
	})
}

// checkTx reads every page of tx and runs bbolt's consistency check; call
// it under guard. It stops early, with ctx.Err(), when ctx ends.
func checkTx(ctx context.Context, tx *bbolt.Tx, path string) error {
	// Touch every page bbolt can reach, here where faults and panics are
	// caught, so tx.Check below (which runs in a goroutine of its own)
	// only reads pages already proven sound.
	if err := walk(ctx, tx); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return corruptErr(path, err)
	}
	var problems []string
	for err := range tx.Check() {
		if len(problems) < 3 {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return corruptErr(path, errors.New(strings.Join(problems, "; ")))
	}
	return nil
}

func walk(ctx context.Context, tx *bbolt.Tx) error {
	var sum uint32
	n := 0
	var visit func(b *bbolt.Bucket, depth int) error
	visit = func(b *bbolt.Bucket, depth int) error {
		if depth > maxNesting {
			return fmt.Errorf("buckets nested more than %d deep", maxNesting)
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if n++; n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			sum = crc32.Update(sum, crc32.IEEETable, k)
			if v != nil {
				sum = crc32.Update(sum, crc32.IEEETable, v)
			} else if child := b.Bucket(k); child != nil {
				if err := visit(child, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := tx.ForEach(func(name []byte, b *bbolt.Bucket) error { return visit(b, 1) })
	_ = sum // the checksum only exists to make every byte be read
	return err
}

// guard runs fn with memory faults turned into panics and any panic into
// core.ErrCorrupt. bbolt reads pages straight from a memory map: a damaged
// page can make it panic on an assertion or read outside the mapping.
func guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = corruptErr(path, panicReason(r))
		}
	}()
	return fn()
}

func panicReason(r any) error {
	if err, ok := r.(error); ok {
		return err
	}
	return fmt.Errorf("%v", r)
}

func corruptErr(path string, reason error) error {
	return fmt.Errorf("%s: %w: %w", path, core.ErrCorrupt, reason)
}

// pathErr wraps err with op and the file's path, without saying the path
// twice when err (an *fs.PathError from bbolt's writes) already names it:
// "update: write /data/authbot.db: no space left on device".
func pathErr(op, path string, err error) error {
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) && pe.Path == path {
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s %s: %w", op, path, err)
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close releases the file and its lock. Open transactions finish first; a
// background check still running is stopped.
func (s *Store) Close() error {
	if c := s.check; c != nil {
		c.cancel()
		<-c.done
	}
	if err := s.db.Close(); err != nil {
		return pathErr("close database", s.path, err)
	}
	return nil
}

// View runs fn in a read-only transaction. See core.Store.
func (s *Store) View(ctx context.Context, fn func(core.Tx) error) error {
	return s.run(ctx, false, fn)
}

// Update runs fn in a read-write transaction that is committed, and
// fsynced, only if fn returns nil. See core.Store.
func (s *Store) Update(ctx context.Context, fn func(core.Tx) error) error {
	if s.readOnly {
		return fmt.Errorf("update %s: %w", s.path, errReadOnly)
	}
	return s.run(ctx, true, fn)
}

var errReadOnly = errors.New("the database was opened read-only")

// ReadOnly reports whether the store was opened with Options.ReadOnly:
// core then leaves start-up migrations to the next read-write open.
func (s *Store) ReadOnly() bool { return s.readOnly }

func (s *Store) run(ctx context.Context, writable bool, fn func(core.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if fn == nil {
		return errors.New("store: nil transaction function")
	}
	if err := s.checkGate(ctx, writable); err != nil {
		return err
	}
	// inFn is true while fn runs: a panic then is the caller's own bug
	// and is passed on untouched rather than reported as corruption.
	var inFn, fnFailed bool
	// Read before the transaction starts: set, it was set after the
	// conversion's commit, so this snapshot is flat too.
	flat := s.flat.Load()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if inFn {
				panic(r)
			}
			err = corruptErr(s.path, panicReason(r))
		}
	}()
	// The dictionary cache's generation is read before the snapshot is
	// taken (dictCache says why).
	gen := s.dict.gen.Load()
	var forgot []string
	body := func(btx *bbolt.Tx) error {
		lay := layoutFlat2
		if !flat {
			lay = layoutOf(btx)
		}
		t := &tx{btx: btx, path: s.path, layout: lay}
		if !writable && lay == layoutFlat2 {
			t.dict, t.gen = s.dict, gen
		}
		defer func() { t.done, forgot = true, t.forgot }()
		inFn = true
		ferr := fn(t)
		inFn = false
		if t.err != nil {
			// Damage seen inside fn fails the transaction even if fn
			// ignored the error: nothing is committed on top of it.
			return t.err
		}
		fnFailed = ferr != nil
		return ferr
	}
	if writable {
		err = s.update(body, &forgot)
	} else {
		err = s.db.View(body)
	}
	if err == nil || fnFailed || errors.Is(err, core.ErrCorrupt) {
		return err
	}
	op := "view"
	if writable {
		op = "update"
	}
	return pathErr(op, s.path, err)
}

// update runs body in a write transaction and then takes the owners it
// forgot out of the dictionary cache, holding writeMu throughout: the next
// write could give them back new numbers. A panic in body is passed on
// with the lock released.
func (s *Store) update(body func(*bbolt.Tx) error, forgot *[]string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	defer func() { s.dict.forget(*forgot) }()
	return s.db.Update(body)
}

// Backup writes a consistent copy of the whole database to w while the
// store stays in use (a read transaction pins one snapshot), and returns
// the number of bytes written. The copy is itself a bbolt file.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := s.checkGate(ctx, true); err != nil {
		return 0, err
	}
	var n int64
	err := guard(s.path, func() error {
		return s.db.View(func(btx *bbolt.Tx) error {
			var err error
			n, err = btx.WriteTo(w)
			return err
		})
	})
	if err != nil && !errors.Is(err, core.ErrCorrupt) {
		err = fmt.Errorf("backup %s: %w", s.path, err)
	}
	return n, err
}
