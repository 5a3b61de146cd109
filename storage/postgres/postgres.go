// Package postgres implements core.Store over PostgreSQL with pgx, for
// operators who want authbot to survive the loss of a machine: the data
// lives in a database they already replicate, and several authbot
// processes share it, one of them active at a time (lease.go).
//
// Like storage/bolt it only ever sees sealed bytes and opaque ids: one table
// of records keyed by (kind, owner, id), all three bytea so that ORDER BY
// is plain byte order, the same order bbolt's cursors give.
//
// Transactions: Update is a SERIALIZABLE transaction, and write
// transactions also queue behind one session-level advisory lock taken
// before BEGIN. The lock gives bbolt's one-writer-at-a-time behaviour across
// every process on the database, so a writer's snapshot always includes
// the writer before it and concurrent writers do not abort each other;
// SERIALIZABLE still guards against anything that bypasses the lock (and
// the lease table below), and Update retries fn on a serialization failure
// or deadlock. View is a REPEATABLE READ READ ONLY transaction: one
// consistent snapshot that never blocks writers and is never aborted.
//
// Fencing: once SetFence is called (by the lease), every write transaction
// first checks, with a row lock held until commit, that this process still
// holds the lease with the same token. A process that lost the lease cannot
// commit anything after another one took it over.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authbot/authbot/core"
)

// SchemaVersion is the newest schema this package creates and reads.
const SchemaVersion = 1

// Advisory lock keys (pg_advisory_lock's bigint space is shared by every
// application on the database; these are "authbot" and "authbot-schema"
// squeezed into 63 bits so they are unlikely to meet anyone else's).
const (
	writerLockKey = 0x6175_7468_626f_7401 // serialises write transactions
	schemaLockKey = 0x6175_7468_626f_7402 // serialises schema creation
)

// maxNameLen bounds kinds, owners and ids, as in storage/bolt.
const maxNameLen = 1024

// maxRetries bounds how often Update re-runs fn after a serialization
// failure. With the writer lock they should not happen at all; a few
// retries cover an outside writer or a statement cancelled by the server.
const maxRetries = 8

// ErrFenced means this process no longer holds the lease: another authbot
// may be active, so nothing was written.
var ErrFenced = errors.New("this authbot is no longer the active instance (lease lost); nothing was written")

// fenceState is sqlstate raised by authbot_fence when the lease is lost.
const fenceState = "AB001"

// Store is a core.Store over one PostgreSQL database. It is safe for
// concurrent use.
type Store struct {
	pool *pgxpool.Pool
	// leasePool is the lease's own connection: renewals must never queue
	// behind busy transactions, or a loaded active instance would step
	// down.
	leasePool *pgxpool.Pool
	// writer admits one write transaction of this process at a time
	// before it takes a connection: they queue for the advisory lock
	// anyway, and queueing here leaves the pool's connections to readers.
	writer chan struct{}
	fence  atomic.Pointer[fence]
}

type fence struct {
	holder string
	token  int64
}

var _ core.Store = (*Store)(nil)

// Open connects to the database named by dsn (a libpq connection string
// or postgres:// URL), creates the schema on first use and checks its
// version. The dsn is a secret: it never appears in an error.
//
// Errors: ctx.Err(); a connection error without the DSN; an error naming
// the schema version when the database was written by a newer authbot.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors can quote the DSN, password included.
		return nil, errors.New("postgres: the connection string (DSN) is not valid; expected postgres://user:password@host:5432/dbname or key=value pairs")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	// A connection that held a session lock must never be reused with it:
	// every path that may leave one held closes the connection (see
	// release), and a pool health check drops dead ones after a restart.
	cfg.HealthCheckPeriod = 5 * time.Second
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	leaseCfg := cfg.Copy()
	leaseCfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", scrub(err))
	}
	leasePool, err := pgxpool.NewWithConfig(ctx, leaseCfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", scrub(err))
	}
	s := &Store{pool: pool, leasePool: leasePool, writer: make(chan struct{}, 1)}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// scrub keeps a connection error's reason but not the connection string
// (pgconn's ConnectError prints host and user, never the password; the
// config is dropped all the same).
func scrub(err error) error {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return errors.New(strings.TrimSpace(ce.Error()))
	}
	return err
}

// schema is version 1. Records: kind, owner, id are bytea so their order
// is byte order (text would sort by collation). The lease table and the
// fence function are lease.go's.
var schema = []string{
	`CREATE TABLE authbot_records (
		kind  bytea NOT NULL,
		owner bytea NOT NULL,
		id    bytea NOT NULL,
		value bytea NOT NULL,
		PRIMARY KEY (kind, owner, id)
	)`,
	`CREATE TABLE authbot_lease (
		name    text PRIMARY KEY,
		holder  text NOT NULL,
		token   bigint NOT NULL,
		expires timestamptz NOT NULL
	)`,
	// authbot_fence raises AB001 unless h/t hold the active lease, and
	// keeps the lease row share-locked until the calling transaction ends,
	// so a takeover (an UPDATE of that row) waits for it, and a write
	// transaction that starts after a takeover fails.
	`CREATE FUNCTION authbot_fence(h text, t bigint) RETURNS void LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM 1 FROM authbot_lease
			WHERE name = 'active' AND holder = h AND token = t AND expires > clock_timestamp()
			FOR SHARE;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'authbot lease lost' USING ERRCODE = 'AB001';
		END IF;
	END $$`,
}

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %w", scrub(err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// Two processes starting at once: one creates, the other waits and
	// then sees the version.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(schemaLockKey)); err != nil {
		return fmt.Errorf("postgres: schema: %w", err)
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS authbot_schema (version integer NOT NULL)"); err != nil {
		return fmt.Errorf("postgres: schema: %w", err)
	}
	var version int
	err = tx.QueryRow(ctx, "SELECT version FROM authbot_schema").Scan(&version)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		version = 0
	case err != nil:
		return fmt.Errorf("postgres: schema version: %w", err)
	}
	if version > SchemaVersion {
		return fmt.Errorf("postgres: the database has authbot schema version %d, newer than this authbot knows (%d): upgrade authbot", version, SchemaVersion)
	}
	if version == SchemaVersion {
		return tx.Commit(ctx)
	}
	for _, stmt := range schema {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("postgres: create schema: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, "DELETE FROM authbot_schema"); err != nil {
		return fmt.Errorf("postgres: schema: %w", err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO authbot_schema (version) VALUES ($1)", SchemaVersion); err != nil {
		return fmt.Errorf("postgres: schema: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: create schema: %w", err)
	}
	return nil
}

// Close closes every connection.
func (s *Store) Close() error {
	s.pool.Close()
	s.leasePool.Close()
	return nil
}

// SetFence makes every later write transaction check that holder still
// holds the lease with token (ErrFenced otherwise). A token of 0 removes
// the check. The lease calls it; nothing else needs to.
func (s *Store) SetFence(holder string, token int64) {
	if token == 0 {
		s.fence.Store(nil)
		return
	}
	s.fence.Store(&fence{holder: holder, token: token})
}

// View runs fn in a read-only snapshot. See core.Store.
func (s *Store) View(ctx context.Context, fn func(core.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if fn == nil {
		return errors.New("store: nil transaction function")
	}
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("view: %w", scrub(err))
	}
	defer c.Release()
	ptx, err := c.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("view: %w", err)
	}
	t := &tx{ctx: ctx, q: ptx}
	ok := false
	defer func() {
		t.done = true
		if !ok {
			_ = ptx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	ferr := fn(t)
	if t.err != nil {
		return t.err
	}
	if ferr != nil {
		return ferr
	}
	ok = true
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("view: %w", err)
	}
	return nil
}

// Update runs fn in a serializable write transaction that commits only if
// fn returns nil, re-running fn (a fresh transaction) after a
// serialization failure. See core.Store.
func (s *Store) Update(ctx context.Context, fn func(core.Tx) error) error {
	if fn == nil {
		return errors.New("store: nil transaction function")
	}
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err, fnErr := s.update(ctx, fn)
		if err == nil || fnErr || !retryable(err) || attempt == maxRetries {
			return err
		}
		// Jittered back-off so two retrying writers do not meet again.
		d := time.Duration(1+rand.IntN(5<<attempt)) * time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
}

// retryable reports a serialization failure or deadlock.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// update runs one attempt. fnErr is true when err is fn's own error,
// which Update returns untouched and never retries.
func (s *Store) update(ctx context.Context, fn func(core.Tx) error) (err error, fnErr bool) {
	select {
	case s.writer <- struct{}{}:
		defer func() { <-s.writer }()
	case <-ctx.Done():
		return ctx.Err(), false
	}
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("update: %w", scrub(err)), false
	}
	// Begin: the writer lock, then BEGIN (so the snapshot is taken after
	// the previous writer committed) and the fence in one round trip. The
	// lock cannot share that round trip: a multi-statement query is one
	// implicit transaction, and BEGIN's isolation level must come first.
	lock := fmt.Sprintf("SELECT pg_advisory_lock(%d)", int64(writerLockKey))
	begin := "BEGIN ISOLATION LEVEL SERIALIZABLE"
	if f := s.fence.Load(); f != nil {
		// holder is our own hex id and token an integer: no quoting issue.
		begin += fmt.Sprintf("; SELECT authbot_fence('%s', %d)", f.holder, f.token)
	}
	clean := false
	defer func() {
		if !clean {
			// The session may still hold the writer lock or an open
			// transaction; a fresh connection is cheaper than doubt.
			_ = c.Conn().Close(context.WithoutCancel(ctx))
		}
		c.Release()
	}()
	if _, err := c.Exec(ctx, lock); err != nil {
		return wrapOp("update", err), false
	}
	if _, err := c.Exec(ctx, begin); err != nil {
		return wrapOp("update", err), false
	}
	t := &tx{ctx: ctx, q: c.Conn()}
	ferr := func() error {
		defer func() { t.done = true }()
		return fn(t)
	}()
	if t.err == nil && ferr == nil {
		tag, err := c.Exec(ctx, "COMMIT")
		if err != nil {
			return wrapOp("update", err), false
		}
		if tag.String() != "COMMIT" {
			return errors.New("update: the transaction was rolled back by the database"), false
		}
	} else if _, err := c.Exec(ctx, "ROLLBACK"); err != nil {
		if t.err != nil {
			return t.err, false
		}
		return ferr, true
	}
	if _, err := c.Exec(ctx, fmt.Sprintf("SELECT pg_advisory_unlock(%d)", int64(writerLockKey))); err == nil {
		clean = true
	}
	if t.err != nil {
		// A failed statement aborts the whole transaction, even if fn
		// ignored its error: nothing was committed.
		return t.err, false
	}
	if ferr != nil {
		return ferr, true
	}
	return nil, false
}

func wrapOp(op string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == fenceState {
		return fmt.Errorf("%s: %w", op, ErrFenced)
	}
	return fmt.Errorf("%s: %w", op, scrub(err))
}

// querier is what a tx needs: a pgx.Tx for View, the raw connection
// inside BEGIN for Update.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// tx implements core.Tx over one database transaction.
type tx struct {
	ctx  context.Context
	q    querier
	err  error // sticky: the database aborted the transaction
	done bool
}

func (t *tx) check() error {
	if t.done {
		return errors.New("store: transaction used after it ended")
	}
	return t.err
}

// fail records a database error: PostgreSQL aborts the transaction on any
// failed statement, so every later call fails the same way.
func (t *tx) fail(op string, err error) error {
	t.err = wrapOp(op, err)
	return t.err
}

func checkRef(ref core.Ref) error {
	switch {
	case ref.Kind == "" || ref.ID == "":
		return errors.New("store: ref needs a kind and an id")
	case len(ref.Kind) > maxNameLen || len(ref.Owner) > maxNameLen || len(ref.ID) > maxNameLen:
		return fmt.Errorf("store: ref part longer than %d bytes", maxNameLen)
	}
	return nil
}

// Get returns the record, or core.ErrNotFound.
func (t *tx) Get(ref core.Ref) ([]byte, error) {
	if err := checkRef(ref); err != nil {
		return nil, err
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	var v []byte
	err := t.q.QueryRow(t.ctx, "SELECT value FROM authbot_records WHERE kind = $1 AND owner = $2 AND id = $3",
		[]byte(ref.Kind), []byte(ref.Owner), []byte(ref.ID)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.ErrNotFound
	}
	if err != nil {
		return nil, t.fail("get", err)
	}
	return v, nil
}

// Put stores sealed under ref, replacing any previous value.
func (t *tx) Put(ref core.Ref, sealed []byte) error {
	if err := checkRef(ref); err != nil {
		return err
	}
	if len(sealed) == 0 {
		return errors.New("store: empty record")
	}
	if err := t.check(); err != nil {
		return err
	}
	// pgx encodes the argument before Exec returns: the caller may reuse
	// its buffer afterwards.
	_, err := t.q.Exec(t.ctx, `INSERT INTO authbot_records (kind, owner, id, value) VALUES ($1, $2, $3, $4)
		ON CONFLICT (kind, owner, id) DO UPDATE SET value = excluded.value`,
		[]byte(ref.Kind), []byte(ref.Owner), []byte(ref.ID), sealed)
	if err != nil {
		return t.fail("put", err)
	}
	return nil
}

// Delete removes the record, or returns core.ErrNotFound.
func (t *tx) Delete(ref core.Ref) error {
	if err := checkRef(ref); err != nil {
		return err
	}
	if err := t.check(); err != nil {
		return err
	}
	tag, err := t.q.Exec(t.ctx, "DELETE FROM authbot_records WHERE kind = $1 AND owner = $2 AND id = $3",
		[]byte(ref.Kind), []byte(ref.Owner), []byte(ref.ID))
	if err != nil {
		return t.fail("delete", err)
	}
	if tag.RowsAffected() == 0 {
		return core.ErrNotFound
	}
	return nil
}

// List returns the ids under kind and owner in byte order.
func (t *tx) List(kind, owner string) ([]string, error) {
	if err := checkRef(core.Ref{Kind: kind, Owner: owner, ID: "-"}); err != nil {
		return nil, err
	}
	return t.strings("list", "SELECT id FROM authbot_records WHERE kind = $1 AND owner = $2 ORDER BY id", []byte(kind), []byte(owner))
}

// Owners returns the non-empty owners with a record under kind, in byte
// order.
func (t *tx) Owners(kind string) ([]string, error) {
	if err := checkRef(core.Ref{Kind: kind, ID: "-"}); err != nil {
		return nil, err
	}
	return t.strings("owners", "SELECT DISTINCT owner FROM authbot_records WHERE kind = $1 AND owner <> ''::bytea ORDER BY owner", []byte(kind))
}

func (t *tx) strings(op, sql string, args ...any) ([]string, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rows, err := t.q.Query(t.ctx, sql, args...)
	if err != nil {
		return nil, t.fail(op, err)
	}
	var out []string
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return nil, t.fail(op, err)
		}
		out = append(out, string(b))
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(op, err)
	}
	return out, nil
}

// ForEach calls fn with every record in (kind, owner, id) byte order, from
// one snapshot; authbot migrate and backup use it to copy a whole store.
func (s *Store) ForEach(ctx context.Context, fn func(ref core.Ref, sealed []byte) error) error {
	return s.View(ctx, func(ctx2 core.Tx) error {
		t := ctx2.(*tx)
		rows, err := t.q.Query(t.ctx, "SELECT kind, owner, id, value FROM authbot_records ORDER BY kind, owner, id")
		if err != nil {
			return t.fail("read all", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k, o, id, v []byte
			if err := rows.Scan(&k, &o, &id, &v); err != nil {
				return t.fail("read all", err)
			}
			if err := fn(core.Ref{Kind: string(k), Owner: string(o), ID: string(id)}, v); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return t.fail("read all", err)
		}
		return nil
	})
}

// Empty reports whether the store holds no record at all (authbot migrate
// refuses to copy into a store that is not empty).
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var n int
	err := s.pool.QueryRow(ctx, "SELECT count(*) FROM (SELECT 1 FROM authbot_records LIMIT 1) x").Scan(&n)
	if err != nil {
		return false, fmt.Errorf("postgres: %w", scrub(err))
	}
	return n == 0, nil
}

// Peek implements core.Peeker (the record is fetched like Get; there is
// no memory map to point into), so core's index cache works here too.
func (t *tx) Peek(ref core.Ref, fn func(sealed []byte) error) error {
	v, err := t.Get(ref)
	if err != nil {
		return err
	}
	return fn(v)
}

var _ core.Peeker = (*tx)(nil)
