package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/authbot/authbot/core/seal"
)

// The audit log.
//
// Every code given out, every secret shown or exported and every
// membership change is appended to the log. The events one transaction
// appends form one block: a record of kind "audit", id the block number (16
// hex digits, so byte order is numeric order). Writing a block rather than
// a record per event keeps a code's share of the log small (one seal and
// one Put per batch of up to 256 buffered codes). Each block is sealed
// under a key derived from the derivation root (not the master key itself,
// so a master key rotation leaves the log readable), with associated data
// binding its number, and carries the hash of the block before it: a block
// swapped, removed from the middle or edited is found when the log is read.
// A head record ("meta/audithead") holds the last event and block numbers
// and hash, so a truncated tail is found too. The log holds who, what, when
// and where — never a code or secret.
//
// Codes from a person's own accounts are buffered in memory and written
// with the next write transaction (or FlushAudit), so /code stays a read
// transaction without an fsync; a crash can lose the entries of the last
// moments for personal accounts only. Everything about shared vaults is
// written in the transaction that does it, before any code is released.

// EventType names what happened.
type EventType string

// Event types.
const (
	EventCode          EventType = "code"           // a code was given out
	EventExport        EventType = "export"         // a secret was shown or exported
	EventVaultCreated  EventType = "vault-created"  //
	EventMemberAdded   EventType = "member-added"   // Subject joined with role Detail
	EventRoleChanged   EventType = "role-changed"   // Subject's role became Detail
	EventMemberRemoved EventType = "member-removed" // Subject left; the key was rotated
	EventAccountAdded  EventType = "account-added"  // into a shared vault
	EventAccountDel    EventType = "account-deleted"
	EventApproval      EventType = "approval" // Detail: requested, approved, denied
	EventLock          EventType = "lock"     // Detail: locked, unlocked, wrong passphrase
	EventPeople        EventType = "people"   // Detail: invited, joined, linked, removed
)

// Event is one audit entry.
type Event struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Type     EventType `json:"type"`
	Person   string    `json:"person"`             // who acted
	Platform string    `json:"platform,omitempty"` // telegram, matrix, console
	Vault    string    `json:"vault,omitempty"`    // shared vault name, "" for the person's own
	Account  string    `json:"account,omitempty"`  // account label
	Subject  string    `json:"subject,omitempty"`  // the other person of a membership change or approval
	Detail   string    `json:"detail,omitempty"`
}

// auditBlock is one record of the log: the events of one transaction.
type auditBlock struct {
	Prev   string  `json:"prev"` // hash of the previous block
	Events []Event `json:"events"`
}

type auditHead struct {
	Seq    uint64 `json:"seq"`    // events so far
	Blocks uint64 `json:"blocks"` // blocks so far
	Hash   string `json:"hash"`   // of the last block
}

func auditID(seq uint64) string  { return fmt.Sprintf("%016x", seq) }
func hashRecord(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:16]) }

// auditBuffer holds events not yet written (see above).
type auditBuffer struct {
	mu     sync.Mutex
	events []Event
}

// maxAuditBuffer is how many buffered events force a write.
const maxAuditBuffer = 256

func (b *auditBuffer) add(e Event) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, e)
	return len(b.events)
}

func (b *auditBuffer) empty() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.events) == 0
}

func (b *auditBuffer) take() []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.events
	b.events = nil
	return out
}

// recycle hands back the slice of events a transaction wrote, for the
// buffer to fill again: growing a fresh one from nothing to 256 events
// copied about twice their size on every flush, the largest allocation a
// /code had. It is taken only while nothing new is buffered.
func (b *auditBuffer) recycle(es []Event) {
	if cap(es) == 0 || cap(es) > 2*maxAuditBuffer {
		return
	}
	clear(es) // drop what the written events pointed to
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.events) == 0 {
		b.events = es[:0]
	}
}

// giveBack returns events a failed transaction did not write.
func (b *auditBuffer) giveBack(es []Event) {
	if len(es) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(es, b.events...)
}

type platformKey struct{}

// WithPlatform returns ctx carrying the platform a request came from, for
// the audit log. bots/commands sets it once per message, so service
// methods need no extra parameter.
func WithPlatform(ctx context.Context, platform string) context.Context {
	return context.WithValue(ctx, platformKey{}, platform)
}

func platformOf(ctx context.Context) string {
	p, _ := ctx.Value(platformKey{}).(string)
	return p
}

// stamp fills in the time and platform of e.
func (s *Service) stamp(ctx context.Context, e Event) Event {
	if e.Time.IsZero() {
		e.Time = s.now().UTC()
	}
	if e.Platform == "" {
		e.Platform = platformOf(ctx)
	}
	return e
}

// bufferAudit keeps e for the next write; a full buffer is written now.
func (s *Service) bufferAudit(ctx context.Context, e Event) error {
	if s.audit.add(s.stamp(ctx, e)) < maxAuditBuffer {
		return nil
	}
	return s.FlushAudit(ctx)
}

// FlushAudit writes buffered audit events. Call it on a timer and before
// shutting down. Errors: a Store error (the events stay buffered).
func (s *Service) FlushAudit(ctx context.Context) error {
	if s.audit.empty() {
		return nil // also keeps read-only stores (authbot audit) working
	}
	return s.writeTx(ctx, func(Tx) error { return nil })
}

// writeTx is Store.Update that also writes buffered audit events.
func (s *Service) writeTx(ctx context.Context, fn func(tx Tx) error) error {
	var taken []Event
	err := s.store.Update(ctx, func(tx Tx) error {
		// A store may run fn again after a conflict: what an earlier
		// attempt took goes back first, or it would be lost.
		s.audit.giveBack(taken)
		taken = nil
		if err := fn(tx); err != nil {
			return err
		}
		taken = s.audit.take()
		return appendAudit(tx, s.auditKey(), taken)
	})
	if err != nil {
		s.audit.giveBack(taken)
		return err
	}
	s.audit.recycle(taken)
	return nil
}

// auditTx appends e in tx, after anything buffered (older) is written by
// writeTx.
func (s *Service) auditTx(ctx context.Context, tx Tx, e Event) error {
	return appendAudit(tx, s.auditKey(), []Event{s.stamp(ctx, e)})
}

func appendAudit(tx Tx, key seal.Key, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	defer seal.Zero(&key)
	head, err := readHead(tx, &key)
	if err != nil {
		return err
	}
	// events are the caller's to give (taken from the buffer, or made for
	// this call): numbered and cleaned where they are, not copied. Should
	// the transaction fail, writeTx gives them back, and the next append
	// numbers them again.
	for i := range events {
		head.Seq++
		events[i].Seq = head.Seq
		events[i] = events[i].clean()
	}
	block := auditBlock{Prev: head.Hash, Events: events}
	head.Blocks++
	id := auditID(head.Blocks)
	sealed, err := sealAuditBlock(&key, auditAD(id), &block)
	if err != nil {
		return err
	}
	if err := tx.Put(auditRef(id), sealed); err != nil {
		return err
	}
	head.Hash = hashRecord(sealed)
	return putSealed(tx, key, auditHeadRef, auditHeadAD, head)
}

func readHead(tx Tx, key *seal.Key) (auditHead, error) {
	var h auditHead
	_, err := getSealed(tx, *key, auditHeadRef, auditHeadAD, "audit head", &h)
	return h, err
}

// AuditFilter selects entries. Zero values select everything.
type AuditFilter struct {
	Vault  string // only this shared vault's entries
	Person string // only what this person did in their own vault
	Limit  int    // only the newest Limit entries (0: all)
}

func (f *AuditFilter) selects(e *Event) bool {
	switch {
	case f.Vault != "" && !equalFold(e.Vault, f.Vault):
		return false
	case f.Person != "" && (e.Person != f.Person || e.Vault != ""):
		return false
	}
	return true
}

// readAudit reads the whole log, checks the chain, and returns the
// entries f selects, oldest first. Errors: *CorruptRecordError when a
// record fails to open or the chain is broken (records removed, swapped
// or edited).
func (s *Service) readAudit(tx Tx, f AuditFilter) ([]Event, error) {
	key := s.auditKey()
	defer seal.Zero(&key)
	head, err := readHead(tx, &key)
	if err != nil {
		return nil, err
	}
	ids, err := tx.List(kindAudit, "")
	if err != nil {
		return nil, err
	}
	broken := func(why string) error {
		return &CorruptRecordError{What: "audit log", Err: errors.New(why)}
	}
	if uint64(len(ids)) != head.Blocks {
		return nil, broken(fmt.Sprintf("%d blocks, head says %d", len(ids), head.Blocks))
	}
	var out []Event
	prev := ""
	seq := uint64(0)
	for i, id := range ids {
		if n, err := strconv.ParseUint(id, 16, 64); err != nil || n != uint64(i+1) {
			return nil, broken("block sequence gap")
		}
		sealed, err := tx.Get(auditRef(id))
		if err != nil {
			return nil, err
		}
		var b auditBlock
		if err := openAuditBlock(&key, sealed, auditAD(id), "audit record", &b); err != nil {
			return nil, err
		}
		if b.Prev != prev || len(b.Events) == 0 {
			return nil, broken("chain broken")
		}
		for j := range b.Events {
			e := &b.Events[j]
			if seq++; e.Seq != seq {
				return nil, broken("event sequence gap")
			}
			if f.selects(e) {
				out = append(out, *e)
			}
		}
		prev = hashRecord(sealed)
	}
	if prev != head.Hash || seq != head.Seq {
		return nil, broken("head does not match the last block")
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	return out, nil
}

// AuditLog returns the log for the operator (authbot audit), after writing
// anything buffered. Errors: *CorruptRecordError, a Store error.
func (s *Service) AuditLog(ctx context.Context, f AuditFilter) ([]Event, error) {
	if err := s.FlushAudit(ctx); err != nil {
		return nil, err
	}
	var out []Event
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = s.readAudit(tx, f)
		return err
	})
	return out, err
}

// VaultAudit returns the newest limit entries about the shared vault name,
// for one of its admins. Errors: *NoVaultError, *RoleError,
// *CorruptRecordError.
func (s *Service) VaultAudit(ctx context.Context, person, vaultName string, limit int) ([]Event, error) {
	if err := s.FlushAudit(ctx); err != nil {
		return nil, err
	}
	var out []Event
	err := s.view(ctx, person, func(sp *spaces) error {
		v, err := sp.adminVault(vaultName)
		if err != nil {
			return err
		}
		out, err = s.readAudit(sp.tx, AuditFilter{Vault: v.name, Limit: limit})
		return err
	})
	return out, noVault(err, vaultName)
}

// MyAudit returns the newest limit entries of what person did with their
// own accounts (their vaults' entries are for the vaults' admins).
// Errors: *CorruptRecordError, a Store error.
func (s *Service) MyAudit(ctx context.Context, person string, limit int) ([]Event, error) {
	return s.AuditLog(ctx, AuditFilter{Person: person, Limit: limit})
}
