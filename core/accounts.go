package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/authbot/authbot/core/otp"
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
}

// Add stores one account for person. Errors: ErrBadLabel, *NameTakenError,
// *DuplicateError, an otp validation error, or a storage error.
func (s *Service) Add(ctx context.Context, person string, na NewAccount) (Summary, error) {
	var out Summary
	err := s.update(ctx, person, true, func(v *vault) error {
		sum, err := s.add(v, na, false)
		out = sum
		return err
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

// AddMany stores many accounts in one transaction: either all new ones land
// or none. Secrets already stored (or repeated in keys) are reported as
// duplicates, not doubled; labels are made unique.
func (s *Service) AddMany(ctx context.Context, person string, keys []NewAccount) (ImportReport, error) {
	var rep ImportReport
	err := s.update(ctx, person, true, func(v *vault) error {
		rep = ImportReport{}
		for _, na := range keys {
			sum, err := s.add(v, na, true)
			var dup *DuplicateError
			switch {
			case errors.As(err, &dup):
				rep.Duplicates = append(rep.Duplicates, Duplicate{Incoming: describe(na.Key), Existing: dup.Label})
			case err != nil:
				return fmt.Errorf("%s: %w", describe(na.Key), err)
			default:
				rep.Added = append(rep.Added, sum)
			}
		}
		return nil
	})
	return rep, err
}

func describe(k otp.Key) string {
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

func (s *Service) add(v *vault, na NewAccount, uniquify bool) (Summary, error) {
	if err := na.Key.Params.Validate(); err != nil {
		return Summary{}, err
	}
	fp := v.fingerprint(na.Key.Params.Secret)
	for _, e := range v.index {
		if e.Fingerprint == fp {
			return Summary{}, &DuplicateError{Label: e.Label}
		}
	}
	label := CleanLabel(na.Label)
	switch {
	case na.Label != "" && label == "":
		return Summary{}, ErrBadLabel
	case label == "":
		label = v.uniqueLabel(defaultLabel(na.Key))
	case v.labelTaken(label, ""):
		if !uniquify {
			return Summary{}, &NameTakenError{Label: label}
		}
		label = v.uniqueLabel(label)
	}
	a := &Account{
		ID:     newID(),
		Label:  label,
		Issuer: strings.TrimSpace(na.Key.Issuer),
		User:   strings.TrimSpace(na.Key.Account),
		OTP:    na.Key.Params,
		Added:  s.now().UTC(),
	}
	if err := v.putAccount(a); err != nil {
		return Summary{}, err
	}
	return a.summary(), nil
}

func defaultLabel(k otp.Key) string {
	if l := CleanLabel(strings.ToLower(k.Issuer)); l != "" {
		return l
	}
	if l := CleanLabel(strings.ToLower(k.Account)); l != "" {
		return l
	}
	return "account"
}

func (v *vault) uniqueLabel(base string) string {
	if !v.labelTaken(base, "") {
		return base
	}
	for i := 2; ; i++ {
		l := fmt.Sprintf("%s-%d", base, i)
		if !v.labelTaken(l, "") {
			return l
		}
	}
}

// List returns person's accounts sorted by label, without secrets.
// A person with nothing stored gets an empty list.
func (s *Service) List(ctx context.Context, person string) ([]Summary, error) {
	var out []Summary
	err := s.view(ctx, person, func(v *vault) error {
		out = make([]Summary, len(v.index))
		for i, e := range v.index {
			out[i] = e.Summary
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
	err := s.view(ctx, person, func(v *vault) error {
		e, err := v.find(query)
		if err == nil {
			out = e.Summary
		}
		return err
	})
	return out, err
}

// Code returns the current code of the account query names. For HOTP the
// counter advances and is stored in the same transaction that computes the
// code, so no code is ever handed out twice.
func (s *Service) Code(ctx context.Context, person, query string) (Code, error) {
	var out Code
	var hotp bool
	err := s.view(ctx, person, func(v *vault) error {
		e, err := v.find(query)
		if err != nil {
			return err
		}
		if e.Kind == otp.HOTP {
			hotp, out.Account = true, e.Summary
			return nil
		}
		a, err := v.account(e.ID)
		if err != nil {
			return err
		}
		out, err = s.code(a)
		return err
	})
	if err != nil || !hotp {
		return out, err
	}
	id := out.Account.ID
	err = s.update(ctx, person, false, func(v *vault) error {
		a, err := v.account(id)
		if err != nil {
			return err
		}
		if out, err = s.code(a); err != nil {
			return err
		}
		a.OTP.Counter++
		return v.putAccount(a)
	})
	return out, err
}

func (s *Service) code(a *Account) (Code, error) {
	c, until, err := otp.Code(a.OTP, s.now())
	if err != nil {
		return Code{}, fmt.Errorf("code for account %s: %w", a.ID, err)
	}
	return Code{Account: a.summary(), Code: c, ValidUntil: until}, nil
}

// Codes returns the current codes of all time-based accounts, and the HOTP
// accounts with an empty Code (their counter only moves on request).
func (s *Service) Codes(ctx context.Context, person string) ([]Code, error) {
	var out []Code
	err := s.view(ctx, person, func(v *vault) error {
		if len(v.index) == 0 {
			return ErrNoAccounts
		}
		for _, e := range v.index {
			if e.Kind == otp.HOTP {
				out = append(out, Code{Account: e.Summary})
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
		}
		return nil
	})
	return out, err
}

// Rename gives the account query names a new label.
func (s *Service) Rename(ctx context.Context, person, query, newLabel string) (Summary, error) {
	var out Summary
	err := s.update(ctx, person, false, func(v *vault) error {
		e, err := v.find(query)
		if err != nil {
			return err
		}
		label := CleanLabel(newLabel)
		if label == "" {
			return ErrBadLabel
		}
		if v.labelTaken(label, e.ID) {
			return &NameTakenError{Label: label}
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
// a confirmation deletes exactly what the person confirmed).
func (s *Service) Delete(ctx context.Context, person, id string) (Summary, error) {
	var out Summary
	err := s.update(ctx, person, false, func(v *vault) error {
		for i, e := range v.index {
			if e.ID == id {
				out = e.Summary
				v.index = append(v.index[:i], v.index[i+1:]...)
				return v.tx.Delete(accountRef(v.owner, id))
			}
		}
		return &NotFoundError{Query: id}
	})
	return out, err
}

// Export returns the account with its secret, for /export. Callers must
// only send it to its owner in a private chat.
func (s *Service) Export(ctx context.Context, person, query string) (Account, error) {
	var out Account
	err := s.view(ctx, person, func(v *vault) error {
		e, err := v.find(query)
		if err != nil {
			return err
		}
		a, err := v.account(e.ID)
		if err == nil {
			out = *a
		}
		return err
	})
	return out, err
}

// ExportAll returns every account of person with its secret.
func (s *Service) ExportAll(ctx context.Context, person string) ([]Account, error) {
	var out []Account
	err := s.view(ctx, person, func(v *vault) error {
		if len(v.index) == 0 {
			return ErrNoAccounts
		}
		for _, e := range v.index {
			a, err := v.account(e.ID)
			if err != nil {
				return err
			}
			out = append(out, *a)
		}
		return nil
	})
	return out, err
}

// Check compares a code from the person's own app with the stored secret,
// one step either way, and remembers a match: the backup key was typed or
// scanned right.
func (s *Service) Check(ctx context.Context, person, query, code string) (Summary, bool, error) {
	var out Summary
	var ok bool
	err := s.update(ctx, person, false, func(v *vault) error {
		e, err := v.find(query)
		if err != nil {
			return err
		}
		a, err := v.account(e.ID)
		if err != nil {
			return err
		}
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

// SetRecoveryCodes replaces the stored recovery codes of an account.
func (s *Service) SetRecoveryCodes(ctx context.Context, person, query string, codes []string) (Summary, error) {
	var out Summary
	err := s.update(ctx, person, false, func(v *vault) error {
		e, err := v.find(query)
		if err != nil {
			return err
		}
		a, err := v.account(e.ID)
		if err != nil {
			return err
		}
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
// ignoring case, spaces and dashes. Errors: ErrNotRecoveryCode.
func (s *Service) UseRecoveryCode(ctx context.Context, person, query, code string) (Summary, error) {
	norm := func(c string) string {
		return strings.ToLower(strings.NewReplacer(" ", "", "-", "").Replace(c))
	}
	var out Summary
	err := s.update(ctx, person, false, func(v *vault) error {
		e, err := v.find(query)
		if err != nil {
			return err
		}
		a, err := v.account(e.ID)
		if err != nil {
			return err
		}
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
