package core

import (
	"errors"
	"fmt"
	"time"
)

// Every exported error of core, by the part that returns it. bots/commands
// (explain.go) turns each into a short sentence for the person; anything
// else is "something went wrong" in chat and the full error in the log.

// The service, accounts and codes (service.go, accounts.go, names.go).
var (
	ErrNoAccounts      = errors.New("no accounts stored")
	ErrBadLabel        = errors.New("account name is empty or invalid")
	ErrWrongMasterKey  = errors.New("the master key does not open this database")
	ErrLocked          = errors.New("the person's vault is locked")
	ErrNotRecoveryCode = errors.New("no such recovery code")
)

// ErrCounterExhausted: an HOTP account's counter is at its largest value;
// another code would wrap it around and repeat old codes.
var ErrCounterExhausted = errors.New("the HOTP counter is exhausted")

// ErrTooManyAccounts: an import of more than MaxImport accounts.
var ErrTooManyAccounts = errors.New("too many accounts in one import")

// ConfusableError says a label looks like another of the same vault.
type ConfusableError struct {
	Label string // the one asked for
	Other string // the one it looks like
}

func (e *ConfusableError) Error() string {
	return fmt.Sprintf("label %q looks like %q", e.Label, e.Other)
}

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

// Store errors (store.go): ErrNotFound for a missing record, ErrCorrupt
// (wrapped) for a damaged file or database.
var (
	ErrNotFound = errors.New("record not found")
	ErrCorrupt  = errors.New("database is corrupt")
)

// The personal lock (lock.go).
var (
	ErrWeakPassphrase = errors.New("passphrase too short")
	ErrNotLocked      = errors.New("no passphrase is set")
)

// WrongPassphraseError says the passphrase did not open the key. Until,
// when not zero, is when the next attempt is allowed.
type WrongPassphraseError struct {
	Failures int
	Until    time.Time
}

func (e *WrongPassphraseError) Error() string { return "wrong passphrase" }

// LockoutError says an attempt came during the wait after failures.
type LockoutError struct{ Until time.Time }

func (e *LockoutError) Error() string { return "too many wrong passphrases; wait" }

// People (people.go, owners.go).
var (
	ErrInviteInvalid = errors.New("invite unknown, used or expired")
	ErrLinkInvalid   = errors.New("link code unknown, used or expired")
	ErrIdentityTaken = errors.New("that chat identity already belongs to someone")
	ErrPersonExists  = errors.New("a person with that name exists")
	ErrNoPerson      = errors.New("no such person")
	ErrBadPersonName = errors.New("person name is empty or invalid")
	ErrInVaults      = errors.New("the person is still a member of shared vaults")
)

// ErrReservedName says the name belongs to authbot itself ("local", the
// person of `authbot chat` and `authbot import`).
var ErrReservedName = errors.New("that name is reserved")

// Shared vaults (vault.go).
var (
	ErrBadVaultName = errors.New("vault name is empty or invalid")
	ErrBadRole      = errors.New("unknown role")
	ErrLastAdmin    = errors.New("a vault needs at least one admin")
	ErrSelf         = errors.New("people cannot remove or demote themselves this way")
)

// NoVaultError says the person is not a member of a vault by that name.
// It reads the same whether or not such a vault exists, so non-members
// learn nothing.
type NoVaultError struct{ Name string }

func (e *NoVaultError) Error() string { return "not a member of such a vault" }

// VaultExistsError says the name is taken.
type VaultExistsError struct{ Name string }

func (e *VaultExistsError) Error() string { return "a vault with that name exists" }

// RoleError says the person's role in a vault does not allow the action.
type RoleError struct {
	Vault string
	Role  Role
	Admin bool // the action needs an admin (membership changes)
}

func (e *RoleError) Error() string { return "the person's role in the vault does not allow this" }

// MemberLockedError says a member's data key is locked by their
// passphrase, so the vault key cannot be wrapped for them right now.
type MemberLockedError struct{ Person string }

func (e *MemberLockedError) Error() string { return "a member's vault is locked" }

// MemberError says the person is already / not a member.
type MemberError struct {
	Person string
	Member bool // true: already a member
}

func (e *MemberError) Error() string { return "membership does not allow this" }

// Approvals (approval.go).
//
// ApprovalNeededError says the account's vault needs an admin's approval.
type ApprovalNeededError struct {
	Vault   string
	Account Summary
}

func (e *ApprovalNeededError) Error() string { return "the vault needs approval for codes" }

// ErrNoRequest says an approval request is unknown, decided or expired.
var ErrNoRequest = errors.New("no such approval request")

// ErrTooManyRequests is returned by RequestCode when the person (or
// everyone together) has too many requests open.
var ErrTooManyRequests = errors.New("too many open approval requests")

// ErrNoApprovalNeeded says the account gives codes without approval.
var ErrNoApprovalNeeded = errors.New("no approval needed")

// Master key rotation (rotate.go).
//
// ErrAlreadyRotated means the database already opens with the new key: a
// rotation committed but its key file was not yet renamed into place.
var ErrAlreadyRotated = errors.New("the database already uses the new master key")
