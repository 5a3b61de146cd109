package core

import (
	"context"
	"errors"
	"strings"
)

// spaces is everything one person can reach inside a transaction: their own
// vault and every shared vault they are a member of. Queries resolve across
// all of them, so "aws" finds team/aws when the name is unique.
type spaces struct {
	tx     Tx
	person string
	own    *vault
	shared []*vault // sorted by name

	ownVault vault     // own points here: one allocation less per /code
	ownOnly  [1]*vault // all()'s slice when there is no shared vault
}

// all returns the person's own vault first, then the shared ones. The
// slice is for reading only.
func (sp *spaces) all() []*vault {
	if len(sp.shared) == 0 {
		// Most people have no shared vault: no allocation per lookup.
		sp.ownOnly[0] = sp.own
		return sp.ownOnly[:]
	}
	out := make([]*vault, 0, 1+len(sp.shared))
	out = append(out, sp.own)
	return append(out, sp.shared...)
}

// vaultNamed returns the shared vault the person is a member of with that
// name (any case), or nil.
func (sp *spaces) vaultNamed(name string) *vault {
	for _, v := range sp.shared {
		if equalFold(v.name, name) {
			return v
		}
	}
	return nil
}

// openSpaces opens person's own vault (creating a data key with create) and
// every shared vault they belong to. Errors: ErrNoAccounts for a person
// with nothing stored (without create), ErrLocked, a *CorruptRecordError,
// or a Store error.
func (s *Service) openSpaces(tx Tx, person string, create bool) (*spaces, error) {
	sp := new(spaces)
	if err := s.openSpacesInto(sp, tx, person, create); err != nil {
		return nil, err
	}
	return sp, nil
}

// openSpacesInto is openSpaces into *sp (Code's pooled state), which it
// overwrites.
func (s *Service) openSpacesInto(sp *spaces, tx Tx, person string, create bool) error {
	owner, err := s.ownerOf(tx, person, create)
	if err != nil {
		return err
	}
	if owner == "" {
		return ErrNoAccounts
	}
	*sp = spaces{tx: tx, person: person}
	sp.own = &sp.ownVault
	if err := s.openVaultInto(sp.own, tx, owner, create); err != nil {
		return err
	}
	own := sp.own
	ids, err := tx.List(kindVaultKey, owner)
	if err != nil {
		return err
	}
	for _, id := range ids {
		v, err := s.openShared(tx, &own.key, person, owner, id)
		if errors.Is(err, errNotMember) {
			continue // a key left from before a removal: opens nothing current
		}
		if err != nil {
			return err
		}
		sp.shared = append(sp.shared, v)
	}
	sortVaults(sp.shared)
	return nil
}

func (s *Service) view(ctx context.Context, person string, fn func(sp *spaces) error) error {
	return s.store.View(ctx, func(tx Tx) error {
		sp, err := s.openSpaces(tx, person, false)
		if err != nil {
			return err
		}
		return fn(sp)
	})
}

// update runs fn over person's spaces in one write transaction and saves
// every index fn may have changed, and any audit entries buffered so far.
func (s *Service) update(ctx context.Context, person string, create bool, fn func(sp *spaces) error) error {
	return s.writeTx(ctx, func(tx Tx) error {
		sp, err := s.openSpaces(tx, person, create)
		if err != nil {
			return err
		}
		if err := fn(sp); err != nil {
			return err
		}
		for _, v := range sp.all() {
			if v.dirty {
				if err := v.saveIndex(); err != nil {
					return err
				}
			}
			if v.boxed {
				// Sealed to the public key while the person was locked:
				// back to a data-key copy, which opens without an X25519
				// exchange on every /code.
				if err := putVaultKey(sp.tx, &sp.own.key, sp.own.owner, v.owner, &v.key); err != nil {
					return err
				}
				v.boxed = false
			}
		}
		return nil
	})
}

// find resolves what a person typed across their spaces:
//   - "#id" (from buttons) names an account by id;
//   - "team/aws" looks only in the shared vault team, when the person is a
//     member of a vault with that name;
//   - otherwise an exact label (any case) wins, the person's own first;
//     then a label prefix unique across all spaces; then an issuer prefix.
//
// Errors: ErrNoAccounts, *NotFoundError, *AmbiguousError (matches carry
// their vault names). A vault the person is not in is never looked at, so
// its account names cannot leak through an error.
func (sp *spaces) find(query string) (*vault, *indexEntry, error) {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return nil, nil, &NotFoundError{Query: query}
	}
	vaults := sp.all()
	if strings.HasPrefix(q, "#") {
		for _, v := range vaults {
			for i := range v.index {
				if strings.EqualFold(v.index[i].ID, q[1:]) {
					return v, &v.index[i], nil
				}
			}
		}
		return nil, nil, &NotFoundError{Query: query}
	}
	if name, rest, ok := strings.Cut(q, "/"); ok {
		if v := sp.vaultNamed(name); v != nil {
			return findIn([]*vault{v}, rest, query)
		}
	}
	return findIn(vaults, q, query)
}

type match struct {
	v *vault
	e *indexEntry
}

// findIn looks for q (lower case) in vaults; the first vault's exact
// match wins over the others'.
func findIn(vaults []*vault, q, query string) (*vault, *indexEntry, error) {
	if q == "" {
		return nil, nil, &NotFoundError{Query: query}
	}
	total := 0
	for _, v := range vaults {
		total += len(v.index)
	}
	if total == 0 {
		if len(vaults) == 1 && vaults[0].shared() {
			return nil, nil, &NotFoundError{Query: query}
		}
		return nil, nil, ErrNoAccounts
	}
	// The common case, an exact label in the first vault, needs no list,
	// and in an index as saveIndex writes it no scan either.
	if first := vaults[0]; first.labelsSorted && isASCII(q) {
		if i, ok := first.findLabel(q); ok {
			return first, &first.index[i], nil
		}
	} else {
		for i := range first.index {
			if strings.EqualFold(first.index[i].Label, q) {
				return first, &first.index[i], nil
			}
		}
	}
	collect := func(ok func(e *indexEntry) bool) []match {
		var out []match
		for _, v := range vaults {
			for i := range v.index {
				if ok(&v.index[i]) {
					out = append(out, match{v, &v.index[i]})
				}
			}
		}
		return out
	}
	exact := collect(func(e *indexEntry) bool { return strings.EqualFold(e.Label, q) })
	if len(exact) > 0 && exact[0].v == vaults[0] {
		return exact[0].v, exact[0].e, nil
	}
	for _, ms := range [][]match{
		exact,
		collect(func(e *indexEntry) bool { return hasPrefixFold(e.Label, q) }),
		collect(func(e *indexEntry) bool { return hasPrefixFold(e.Issuer, q) }),
	} {
		if len(ms) == 1 {
			return ms[0].v, ms[0].e, nil
		}
		if len(ms) > 1 {
			sums := make([]Summary, len(ms))
			for i, m := range ms {
				sums[i] = m.v.sum(m.e)
			}
			return nil, nil, &AmbiguousError{Matches: sums}
		}
	}
	return nil, nil, &NotFoundError{Query: query}
}

// target picks the vault a new or renamed label goes to: "team/aws" goes
// to the shared vault team (which the person must be in), anything else to
// the person's own vault. Errors: *NoVaultError.
func (sp *spaces) target(label string) (*vault, string, error) {
	name, rest, ok := strings.Cut(strings.TrimSpace(label), "/")
	if !ok || name == "" {
		return sp.own, label, nil
	}
	if v := sp.vaultNamed(name); v != nil {
		return v, rest, nil
	}
	return nil, "", &NoVaultError{Name: name}
}

// hasPrefixFold is strings.HasPrefix ignoring case, without allocating:
// prefix is already lower case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	if strings.EqualFold(s[:len(prefix)], prefix) {
		return true
	}
	// A multi-byte case mapping can change lengths; fall back then.
	return !isASCII(s) && strings.HasPrefix(strings.ToLower(s), prefix)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
