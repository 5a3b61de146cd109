package core

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/seal"
)

// NewAccount is an account to add. Label may be empty: it is then made
// from the issuer and account name.
type NewAccount struct {
	Label string
	Key   otp.Key
}

// Code is a code for one account.
type Code struct {
	Account Summary
	// Code is empty for HOTP accounts in Codes (counters only move on request).
	Code string
	// ValidUntil is when a TOTP/Steam code stops being valid; zero for HOTP.
	ValidUntil time.Time
	// Period is how long each TOTP/Steam code lasts (the web page's
	// countdown ring); zero for HOTP.
	Period time.Duration
	// Next is the code that follows at ValidUntil (TOTP and Steam), so a
	// person with seconds left can type that one instead: set when less
	// than NextCodeWithin is left; "" otherwise and for HOTP.
	Next string
}

// Add stores one account for person. A label "team/aws" stores it in the
// shared vault team, for its admins and managers. Errors: ErrBadLabel,
// *NameTakenError, *DuplicateError, *NoVaultError, *RoleError, ErrLocked,
// an otp validation error, or a storage error.
func (s *Service) Add(ctx context.Context, person string, na NewAccount) (Summary, error) {
	var out Summary
	err := s.update(ctx, person, true, func(sp *spaces) error {
		v, label, err := sp.target(na.Label)
		if err != nil {
			return err
		}
		if err := v.needManage(); err != nil {
			return err
		}
		na.Label = label
		if out, err = s.add(v, na, false, nil); err != nil {
			return err
		}
		if v.shared() {
			return s.auditTx(ctx, sp.tx, Event{Type: EventAccountAdded, Person: person, Vault: v.name, Account: out.Label})
		}
		return nil
	})
	return out, err
}

// ImportReport says what AddMany did.
type ImportReport struct {
	Added      []Summary
	Duplicates []Duplicate
}

// Duplicate is an incoming account whose secret is already stored.
type Duplicate struct {
	Incoming string // issuer/account of the incoming entry, for the person
	Existing string // label of the stored account
}

// MaxImport is the most accounts one AddMany takes (transfer caps files
// at the same number): the import runs in one write transaction, which
// must stay short because it blocks everyone's writes.
const MaxImport = 2000

// AddMany stores many accounts in one transaction: either all new ones land
// or none. Secrets already stored (or repeated in keys) are reported as
// duplicates, not doubled; labels are made unique.
//
// Errors: ErrTooManyAccounts; an otp parameter error (*otp.ParamsError)
// wrapped with the entry's Describe text; ErrBadLabel.
func (s *Service) AddMany(ctx context.Context, person string, keys []NewAccount) (ImportReport, error) {
	if len(keys) > MaxImport {
		return ImportReport{}, ErrTooManyAccounts
	}
	// What can be checked without the vault is checked before the write
	// transaction, which blocks every other write while it runs.
	for _, na := range keys {
		if err := na.Key.Params.Validate(); err != nil {
			return ImportReport{}, fmt.Errorf("%s: %w", Describe(na.Key), err)
		}
	}
	var rep ImportReport
	err := s.update(ctx, person, true, func(sp *spaces) error {
		// Imports go to the person's own vault only: the duplicate check
		// then never compares against a shared vault's secrets.
		v := sp.own
		rep = ImportReport{}
		li := newLabelIndex(v, "")
		for _, na := range keys {
			sum, err := s.add(v, na, true, li)
			var dup *DuplicateError
			switch {
			case errors.As(err, &dup):
				rep.Duplicates = append(rep.Duplicates, Duplicate{Incoming: Describe(na.Key), Existing: dup.Label})
			case err != nil:
				return fmt.Errorf("%s: %w", Describe(na.Key), err)
			default:
				rep.Added = append(rep.Added, sum)
			}
		}
		return nil
	})
	return rep, err
}

// Describe names an account for a person without its secret: "Issuer
// (account)", or whichever of the two it has.
func Describe(k otp.Key) string {
	switch {
	case k.Issuer != "" && k.Account != "":
		return k.Issuer + " (" + k.Account + ")"
	case k.Issuer != "":
		return k.Issuer
	case k.Account != "":
		return k.Account
	}
	return "an unnamed account"
}

// add stores na in v. li indexes v's labels and fingerprints; AddMany
// passes one for the whole import (and add keeps it current), a single
// add passes nil.
func (s *Service) add(v *vault, na NewAccount, uniquify bool, li *labelIndex) (Summary, error) {
	if err := na.Key.Params.Validate(); err != nil {
		return Summary{}, err
	}
	if li == nil {
		li = newLabelIndex(v, "")
	}
	fp := v.fingerprint(na.Key.Params.Secret)
	if label, ok := li.fps[fp]; ok {
		return Summary{}, &DuplicateError{Label: label}
	}
	label := CleanLabel(na.Label)
	if strings.Contains(label, "/") {
		// "/" separates a vault's name from a label: never inside one.
		if !uniquify {
			return Summary{}, ErrBadLabel
		}
		label = strings.ReplaceAll(label, "/", "-")
	}
	switch {
	case na.Label != "" && label == "":
		return Summary{}, ErrBadLabel
	case label == "":
		label = li.unique(defaultLabel(na.Key))
	default:
		if err := li.check(label); err != nil {
			if !uniquify {
				return Summary{}, err
			}
			label = li.unique(label)
		}
	}
	a := &Account{
		ID:     newID(),
		Label:  label,
		Issuer: strings.TrimSpace(na.Key.Issuer),
		User:   strings.TrimSpace(na.Key.Account),
		OTP:    na.Key.Params,
		Added:  s.now().UTC(),
	}
	if err := v.putNewAccount(a, fp); err != nil {
		return Summary{}, err
	}
	li.fps[fp] = label
	li.put(label)
	out := a.summary()
	out.Vault = v.name
	return out, nil
}

// putNewAccount is putAccount for an account with a fresh id: no search of
// the index for an entry to replace (imports add thousands).
func (v *vault) putNewAccount(a *Account, fp string) error {
	sealed, err := seal.Seal(&v.key, encodeAccount(a), accountAD(v.owner, a.ID))
	if err != nil {
		return err
	}
	if err := v.tx.Put(v.accountRef(a.ID), sealed); err != nil {
		return err
	}
	v.dirty = true
	v.mutableIndex()
	e := indexEntry{Summary: a.summary(), Fingerprint: fp}
	e.Vault = ""
	v.index = append(v.index, e)
	return nil
}

func defaultLabel(k otp.Key) string {
	if l := CleanLabel(strings.ToLower(k.Issuer)); l != "" {
		return strings.ReplaceAll(l, "/", "-")
	}
	if l := CleanLabel(strings.ToLower(k.Account)); l != "" {
		return strings.ReplaceAll(l, "/", "-")
	}
	return "account"
}

// List returns person's accounts, their own first and then each shared
// vault's, sorted by label, without secrets. A person with nothing stored
// gets an empty list.
//
// Errors: only the common ones (see Service).
func (s *Service) List(ctx context.Context, person string) ([]Summary, error) {
	var out []Summary
	err := s.view(ctx, person, func(sp *spaces) error {
		for _, v := range sp.all() {
			for i := range v.index {
				out = append(out, v.sum(&v.index[i]))
			}
		}
		return nil
	})
	if errors.Is(err, ErrNoAccounts) {
		return nil, nil
	}
	return out, err
}

// Resolve finds the one account query names. Errors: ErrNoAccounts,
// *NotFoundError, *AmbiguousError.
func (s *Service) Resolve(ctx context.Context, person, query string) (Summary, error) {
	var out Summary
	err := s.view(ctx, person, func(sp *spaces) error {
		v, e, err := sp.find(query)
		if err == nil {
			out = v.sum(e)
		}
		return err
	})
	return out, err
}

// Code returns the current code of the account query names. For HOTP the
// counter advances and is stored in the same transaction that computes the
// code, so no code is ever handed out twice. A code from a shared vault is
// audited in the transaction that releases it; the person's own codes are
// audited with the next write (audit.go).
//
// Errors: ErrNoAccounts, *NotFoundError, *AmbiguousError,
// *ApprovalNeededError (a vault that needs an admin's approval),
// ErrCounterExhausted (HOTP).
func (s *Service) Code(ctx context.Context, person, query string) (Code, error) {
	// The read transaction's state is pooled (codeOp): a closure escapes
	// through the Store interface, and so did what it captured, the spaces
	// opened and the account decoded.
	op := codeOps.Get().(*codeOp)
	op.s, op.person, op.query = s, person, query
	err := s.store.View(ctx, op.fn)
	out, write, logged := op.out, op.write, op.logged
	op.release()
	if err != nil {
		return out, err
	}
	if !write {
		return out, s.bufferAudit(ctx, Event{Type: EventCode, Person: person, Account: logged})
	}
	return s.codeWritten(ctx, person, out.Account.ID)
}

// codeWritten is Code for HOTP and shared-vault accounts: the code is made
// in a write transaction (the counter moves, the audit entry is written)
// before it is shown.
func (s *Service) codeWritten(ctx context.Context, person, id string) (Code, error) {
	var st struct{ out Code }
	err := s.update(ctx, person, false, func(sp *spaces) error {
		v, e, err := sp.find("#" + id)
		if err != nil {
			return err
		}
		if err := s.checkApproval(sp, v, e); err != nil {
			return err
		}
		a, err := v.account(e.ID)
		if err != nil {
			return err
		}
		if a.OTP.Kind == otp.HOTP && a.OTP.Counter == math.MaxUint64 {
			// The next counter would wrap to 0 and repeat every code
			// ever given: refuse rather than reuse.
			return ErrCounterExhausted
		}
		if st.out, err = s.code(a); err != nil {
			return err
		}
		if a.OTP.Kind == otp.HOTP {
			a.OTP.Counter++
			if err := v.putAccount(a); err != nil {
				return err
			}
		}
		return s.auditTx(ctx, sp.tx, Event{Type: EventCode, Person: person, Vault: v.name, Account: v.auditName(a.Label)})
	})
	return st.out, err
}

// codeOp is what Code's read transaction works in: the spaces it opens
// (the person's data key among them), the account record's plaintext and
// the parameters decoded from it live here instead of in allocations of
// their own. It goes back to codeOps cleared, the key bytes with it, and
// the plaintext buffer zeroed: no secret is then reachable from the pool.
type codeOp struct {
	s             *Service
	person, query string

	out    Code
	write  bool   // HOTP or shared: the code is made in a write transaction
	logged string // the account name for the audit log

	sp spaces
	// The account being read (peekAccount's arguments and results).
	v   *vault
	id  string
	a   Account // only ID and OTP: the secret is inside buf
	buf []byte  // scratch for the record's plaintext, zeroed on release

	fn     func(tx Tx) error         // op.view, bound once
	peekFn func(sealed []byte) error // op.openAccount, bound once
}

// maxCodeBuf bounds the plaintext buffer a codeOp keeps between uses: an
// account with many recovery codes gets a buffer of its own.
const maxCodeBuf = 1 << 10

var codeOps = sync.Pool{New: func() any {
	op := new(codeOp)
	op.fn, op.peekFn = op.view, op.openAccount
	return op
}}

func (op *codeOp) view(tx Tx) error {
	sp := &op.sp
	if err := op.s.openSpacesInto(sp, tx, op.person, false); err != nil {
		return err
	}
	v, e, err := sp.find(op.query)
	if err != nil {
		return err
	}
	if e.Kind == otp.HOTP || v.shared() {
		op.write, op.out.Account = true, v.sum(e)
		return nil
	}
	if err := op.readAccount(tx, v, e.ID); err != nil {
		return err
	}
	// The index entry holds the names and counts the account record does
	// (both are written in the same transaction): the reply takes them
	// from there, so the record's names are never copied.
	op.out, err = op.s.codeOf(&op.a.OTP, v.sum(e))
	op.logged = v.auditName(e.Label)
	return err
}

// readAccount opens the account id of v into op.a and op.buf: read in
// place where the store allows it (no copy of the record), else copied.
func (op *codeOp) readAccount(tx Tx, v *vault, id string) error {
	op.v, op.id = v, id
	var err error
	if p, ok := tx.(Peeker); ok {
		err = p.Peek(v.accountRef(id), op.peekFn)
	} else {
		var sealed []byte
		if sealed, err = tx.Get(v.accountRef(id)); err == nil {
			err = op.openAccount(sealed)
		}
	}
	if errors.Is(err, ErrNotFound) {
		// The index names an account that is not there: damage, not absence.
		return &CorruptRecordError{What: "account", Err: err}
	}
	return err
}

// openAccount opens and decodes the sealed account record op.v, op.id
// into op.a, the plaintext in op.buf. sealed may be the store's own
// memory: it is only read.
func (op *codeOp) openAccount(sealed []byte) error {
	v := op.v
	// The parts of accountAD, joined by seal: no string per /code.
	plain, buf, err := seal.OpenPartsIn(op.buf[:0], &v.key, sealed, "account|", v.owner, "|", op.id)
	op.buf = buf
	if err != nil {
		return &CorruptRecordError{What: "account", Err: err}
	}
	op.a = Account{}
	if err := decodeAccountOTP(plain, op.id, &op.a); err != nil {
		return &CorruptRecordError{What: "account", Err: err}
	}
	return nil
}

func (op *codeOp) release() {
	fn, peekFn, buf := op.fn, op.peekFn, op.buf
	clear(buf[:cap(buf)]) // the account's plaintext, its secret with it
	if cap(buf) > maxCodeBuf {
		buf = nil
	}
	*op = codeOp{fn: fn, peekFn: peekFn, buf: buf[:0]}
	codeOps.Put(op)
}

func (s *Service) code(a *Account) (Code, error) {
	return s.codeOf(&a.OTP, a.summary())
}

// codeOf is the current code of the account p belongs to, shown as sum.
func (s *Service) codeOf(p *otp.Params, sum Summary) (Code, error) {
	now := s.now()
	c, until, err := otp.Code(*p, now)
	if err != nil {
		return Code{}, fmt.Errorf("code for account %s: %w", sum.ID, err)
	}
	out := Code{Account: sum, Code: c, ValidUntil: until}
	if p.Kind != otp.HOTP {
		out.Period = time.Duration(p.Period) * time.Second
		// The next code only when it is wanted: it was a second HMAC,
		// a third of BenchmarkCode's floor, for every code.
		if until.Sub(now) < NextCodeWithin {
			if next, _, err := otp.Code(*p, until); err == nil {
				out.Next = next // none past the end of time
			}
		}
	}
	return out, nil
}

// NextCodeWithin is how little time a code must have left for Code to come
// with the next one (Code.Next): a person with a few seconds left types
// that one instead. bots/commands offers it under 5 s; the second more
// covers the moments between making the code and the reply.
const NextCodeWithin = 6 * time.Second

// Codes returns the current codes of all time-based accounts, and the HOTP
// accounts with an empty Code (their counter only moves on request).
// Accounts of vaults that need approval are left out.
//
// Errors: ErrNoAccounts.
func (s *Service) Codes(ctx context.Context, person string) ([]Code, error) {
	var out []Code
	var events []Event
	err := s.view(ctx, person, func(sp *spaces) error {
		n := 0
		for _, v := range sp.all() {
			n += len(v.index)
			if v.shared() && v.meta.Approval && v.role != RoleAdmin {
				continue
			}
			for i := range v.index {
				e := &v.index[i]
				if e.Kind == otp.HOTP {
					out = append(out, Code{Account: v.sum(e)})
					continue
				}
				a, err := v.account(e.ID)
				if err != nil {
					return err
				}
				c, err := s.code(a)
				if err != nil {
					return err
				}
				out = append(out, c)
				events = append(events, Event{Type: EventCode, Person: person, Vault: v.name, Account: v.auditName(a.Label)})
			}
		}
		if n == 0 {
			return ErrNoAccounts
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var shared []Event
	for _, e := range events {
		if e.Vault == "" {
			if err := s.bufferAudit(ctx, e); err != nil {
				return nil, err
			}
		} else {
			shared = append(shared, e)
		}
	}
	if len(shared) > 0 {
		// Shared codes are released only once their audit is durable.
		err = s.writeTx(ctx, func(tx Tx) error {
			for _, e := range shared {
				if err := s.auditTx(ctx, tx, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Rename gives the account query names a new label. In a shared vault it
// needs a manager or admin; "team/new" and "new" both name the new label
// there. Moving between vaults is not a rename: ErrBadLabel.
//
// Errors: ErrNoAccounts, *NotFoundError, *AmbiguousError, *RoleError,
// ErrBadLabel, *NameTakenError, *ConfusableError.
func (s *Service) Rename(ctx context.Context, person, query, newLabel string) (Summary, error) {
	var out Summary
	err := s.update(ctx, person, false, func(sp *spaces) error {
		v, e, err := sp.find(query)
		if err != nil {
			return err
		}
		if err := v.needManage(); err != nil {
			return err
		}
		if name, rest, ok := strings.Cut(newLabel, "/"); ok && v.shared() && equalFold(name, v.name) {
			newLabel = rest
		}
		label := CleanLabel(newLabel)
		if label == "" || strings.Contains(label, "/") {
			return ErrBadLabel
		}
		if err := newLabelIndex(v, e.ID).check(label); err != nil {
			var tk *NameTakenError
			if errors.As(err, &tk) {
				tk.Label = qualified(v.name, label)
			}
			return err
		}
		a, err := v.account(e.ID)
		if err != nil {
			return err
		}
		a.Label = label
		out = a.summary()
		return v.putAccount(a)
	})
	return out, err
}

// Delete removes the account with the given id (ids come from Resolve, so
// a confirmation deletes exactly what the person confirmed). In a shared
// vault it needs a manager or admin.
//
// Errors: ErrNoAccounts, *NotFoundError, *RoleError.
func (s *Service) Delete(ctx context.Context, person, id string) (Summary, error) {
	var out Summary
	err := s.update(ctx, person, false, func(sp *spaces) error {
		v, e, err := sp.find("#" + id)
		if err != nil {
			return &NotFoundError{Query: id}
		}
		if err := v.needManage(); err != nil {
			return err
		}
		out = v.sum(e)
		for i := range v.index {
			if v.index[i].ID == id {
				v.mutableIndex()
				v.index = append(v.index[:i], v.index[i+1:]...)
				break
			}
		}
		v.dirty = true
		if err := sp.tx.Delete(v.accountRef(id)); err != nil {
			return err
		}
		if v.shared() {
			return s.auditTx(ctx, sp.tx, Event{Type: EventAccountDel, Person: person, Vault: v.name, Account: out.Label})
		}
		return nil
	})
	return out, err
}

// Export returns the account with its secret, for /export. Callers must
// only send it to the person in a private chat. A codes-only member of a
// shared vault gets a *RoleError. The export is audited before it is
// returned.
//
// Errors: ErrNoAccounts, *NotFoundError, *AmbiguousError, *RoleError.
func (s *Service) Export(ctx context.Context, person, query string) (Account, error) {
	var out Account
	var logged string
	err := s.view(ctx, person, func(sp *spaces) error {
		v, e, err := sp.find(query)
		if err != nil {
			return err
		}
		if err := v.needManage(); err != nil {
			return err
		}
		a, err := v.account(e.ID)
		if err == nil {
			out, logged = *a, v.auditName(a.Label)
		}
		return err
	})
	if err != nil {
		return Account{}, err
	}
	err = s.writeTx(ctx, func(tx Tx) error {
		return s.auditTx(ctx, tx, Event{Type: EventExport, Person: person, Vault: out.Vault, Account: logged})
	})
	if err != nil {
		return Account{}, err
	}
	return out, nil
}

// ExportAll returns every account of person with its secret: their own and
// those of shared vaults where they are a manager or admin (codes-only
// vaults are skipped). Every account is audited before anything is returned.
//
// Errors: ErrNoAccounts (also when every account is in codes-only vaults).
func (s *Service) ExportAll(ctx context.Context, person string) ([]Account, error) {
	var out []Account
	var logged []string
	err := s.view(ctx, person, func(sp *spaces) error {
		for _, v := range sp.all() {
			if !v.mayManage() {
				continue
			}
			for _, e := range v.index {
				a, err := v.account(e.ID)
				if err != nil {
					return err
				}
				out = append(out, *a)
				logged = append(logged, v.auditName(a.Label))
			}
		}
		if len(out) == 0 {
			return ErrNoAccounts
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.writeTx(ctx, func(tx Tx) error {
		for i, a := range out {
			if err := s.auditTx(ctx, tx, Event{Type: EventExport, Person: person, Vault: a.Vault, Account: logged[i]}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// manageAccount runs fn on the account query names, in one write
// transaction; in a shared vault only a manager or admin may.
func (s *Service) manageAccount(ctx context.Context, person, query string, fn func(v *vault, a *Account) error) error {
	return s.update(ctx, person, false, func(sp *spaces) error {
		v, e, err := sp.find(query)
		if err != nil {
			return err
		}
		if err := v.needManage(); err != nil {
			return err
		}
		a, err := v.account(e.ID)
		if err != nil {
			return err
		}
		return fn(v, a)
	})
}

// Check compares a code from the person's own app with the stored secret,
// one step either way, and remembers a match: the backup key was typed or
// scanned right. In a shared vault it needs a manager or admin (it tests
// guesses against the secret).
//
// Errors: ErrNoAccounts, *NotFoundError, *AmbiguousError, *RoleError;
// otp.ErrCodeFormat for something that is not a code.
func (s *Service) Check(ctx context.Context, person, query, code string) (Summary, bool, error) {
	var out Summary
	var ok bool
	err := s.manageAccount(ctx, person, query, func(v *vault, a *Account) error {
		var err error
		if ok, err = otp.Verify(a.OTP, code, s.now(), 1); err != nil {
			return err
		}
		if ok {
			a.Confirmed = s.now().UTC()
			if err := v.putAccount(a); err != nil {
				return err
			}
		}
		out = a.summary()
		return nil
	})
	return out, ok, err
}

// SetRecoveryCodes replaces the stored recovery codes of an account
// (managers and admins only in a shared vault).
//
// Errors: ErrNoAccounts, *NotFoundError, *AmbiguousError, *RoleError.
func (s *Service) SetRecoveryCodes(ctx context.Context, person, query string, codes []string) (Summary, error) {
	var out Summary
	err := s.manageAccount(ctx, person, query, func(v *vault, a *Account) error {
		a.RecoveryCodes = a.RecoveryCodes[:0]
		for _, c := range codes {
			a.RecoveryCodes = append(a.RecoveryCodes, RecoveryCode{Code: c})
		}
		out = a.summary()
		return v.putAccount(a)
	})
	return out, err
}

// UseRecoveryCode marks one recovery code as used. code is matched
// ignoring case, spaces and dashes. Errors: ErrNotRecoveryCode; in a shared
// vault a *RoleError for codes-only members (a yes/no on a guessed code
// would reveal recovery codes).
func (s *Service) UseRecoveryCode(ctx context.Context, person, query, code string) (Summary, error) {
	norm := func(c string) string {
		return strings.ToLower(strings.NewReplacer(" ", "", "-", "").Replace(c))
	}
	var out Summary
	err := s.manageAccount(ctx, person, query, func(v *vault, a *Account) error {
		for i := range a.RecoveryCodes {
			rc := &a.RecoveryCodes[i]
			if rc.Used.IsZero() && norm(rc.Code) == norm(code) {
				rc.Used = s.now().UTC()
				out = a.summary()
				return v.putAccount(a)
			}
		}
		return ErrNotRecoveryCode
	})
	return out, err
}
