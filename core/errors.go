package core

import (
	"errors"
	"fmt"
	"strings"
)

// Errors a person must be told about. bots/commands turns each into a short
// sentence; anything else is "something went wrong" in chat and the full
// error in the log.
var (
	ErrNoAccounts      = errors.New("no accounts stored")
	ErrBadLabel        = errors.New("account name is empty or invalid")
	ErrWrongMasterKey  = errors.New("the master key does not open this database")
	ErrLocked          = errors.New("the person's vault is locked")
	ErrNotRecoveryCode = errors.New("no such recovery code")
)

// NotFoundError says no account matched what the person typed.
type NotFoundError struct{ Query string }

func (e *NotFoundError) Error() string { return "no account matches the query" }

// AmbiguousError says several accounts matched.
type AmbiguousError struct{ Matches []Summary }

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%d accounts match the query", len(e.Matches))
}

// NameTakenError says the label is already used by another account.
type NameTakenError struct{ Label string }

func (e *NameTakenError) Error() string { return "account name already in use" }

// DuplicateError says the same secret is already stored under Label.
type DuplicateError struct{ Label string }

func (e *DuplicateError) Error() string { return "secret already stored" }

// CorruptRecordError says a record failed authentication or did not decode:
// tampered with, damaged, or sealed with another key. Nothing is returned
// in its place.
type CorruptRecordError struct {
	What string // "account", "index", "person key"
	Err  error
}

func (e *CorruptRecordError) Error() string {
	return fmt.Sprintf("%s record cannot be opened: %v", e.What, e.Err)
}

func (e *CorruptRecordError) Unwrap() error { return e.Err }

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }
