package core

import (
	"context"
	"time"
)

// Store keeps sealed records. It never sees a plaintext secret, name or
// person id: core seals every value and derives every owner and id before
// they reach it. storage/bolt implements it over bbolt, storage/postgres
// over PostgreSQL; storage/storetest is the suite both pass.
//
// Errors: ErrNotFound for a missing record; ErrCorrupt (wrapped) when the
// underlying file is damaged; other errors are I/O failures.
type Store interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction: all of fn's writes land
	// together or not at all, and are durable when Update returns nil.
	// A store shared by several processes may run fn more than once
	// (again after a serialization conflict), so fn's effects outside tx
	// must be safe to repeat.
	Update(ctx context.Context, fn func(Tx) error) error
}

// Tx is one transaction of a Store. It is valid only inside the function
// given to View or Update. Returned byte slices are copies the caller owns.
type Tx interface {
	Get(ref Ref) ([]byte, error)
	Put(ref Ref, sealed []byte) error
	Delete(ref Ref) error
	// List returns the ids stored under kind and owner, in byte order.
	List(kind, owner string) ([]string, error)
	// Owners returns the non-empty owners that have at least one record
	// under kind, in byte order. Global records (empty owner) are not
	// listed: List(kind, "") reaches them.
	Owners(kind string) ([]string, error)
}

// Peeker is an optional Tx extension: Peek calls fn with a record's bytes
// without copying them, valid only during fn, never to be changed. core
// uses it on the /code path to match a cached index against the store.
type Peeker interface {
	Peek(ref Ref, fn func(sealed []byte) error) error
}

// Ref names one record: a kind (a fixed word such as "vault" or "person"),
// an opaque owner and an opaque id. Owner may be empty for global records.
type Ref struct {
	Kind  string
	Owner string
	ID    string
}

// Clock tells the time. Tests pass a fake one; nothing in core calls time.Now.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }
