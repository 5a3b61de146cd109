package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/authbot/authbot/core/seal"
)

// VerifyReport counts what Verify opened.
type VerifyReport struct {
	People  int // person data keys unwrapped with the master key
	Indexes int // account indexes opened (people's own)
	// Accounts counts the account records opened, people's own and
	// shared vaults' together; VaultAccounts is the shared vaults' share.
	Accounts      int
	VaultAccounts int
	Vaults        int // shared vaults opened through a member's key
	// Locked counts people whose data key is wrapped only under their
	// passphrase: their records cannot be opened without it and are
	// counted, not checked.
	Locked int
	// Unreachable counts shared vaults whose every member is locked with
	// a passphrase: their records cannot be opened now and are not checked.
	Unreachable int
	// Problems describes each record that failed, by kind and position
	// only (never a name or secret). Empty when the database is sound.
	Problems []string
}

// maxProblems bounds VerifyReport.Problems: a database with a thousand bad
// records needs the first few named, not all of them.
const maxProblems = 20

// verification is one Verify transaction.
type verification struct {
	s  *Service
	tx Tx
	r  *VerifyReport
	n  int // problems found, listed or not
}

func (vf *verification) problem(format string, args ...any) {
	vf.n++
	switch {
	case len(vf.r.Problems) < maxProblems:
		vf.r.Problems = append(vf.r.Problems, fmt.Sprintf(format, args...))
	case len(vf.r.Problems) == maxProblems:
		vf.r.Problems = append(vf.r.Problems, "more problems not listed")
	}
}

// Verify opens every record it can reach, in one read transaction: the
// key check; every person's data key, index and every account the index
// names; every shared vault through the first member whose data key the
// master key opens (the wrapped vault key, the metadata, the index and
// every account). It looks for account records no index names and vault
// records no member can reach. People locked with a passphrase, and
// vaults whose every member is locked, are counted, not opened. It writes
// nothing, so it is safe on a restored copy before it replaces anything,
// and beside a running bot.
//
// Errors: ErrWrongMasterKey, ErrNotFound (no key check record), a Store
// error, or a wrapped ErrCorrupt when any record failed to open (the
// report then says which kinds and how many).
func (s *Service) Verify(ctx context.Context) (VerifyReport, error) {
	var r VerifyReport
	vf := &verification{s: s, r: &r}
	err := s.store.View(ctx, func(tx Tx) error {
		r, vf.tx, vf.n = VerifyReport{}, tx, 0
		if err := checkKey(tx, &s.master); err != nil {
			return err
		}
		if err := vf.people(ctx); err != nil {
			return err
		}
		return vf.vaults(ctx)
	})
	if err != nil {
		return r, err
	}
	if vf.n > 0 {
		return r, fmt.Errorf("%d records cannot be opened: %w", vf.n, ErrCorrupt)
	}
	return r, nil
}

// people checks people's own vaults.
func (vf *verification) people(ctx context.Context) error {
	tx, r := vf.tx, vf.r
	owners, err := tx.List(kindPerson, "")
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(owners))
	for i, owner := range owners {
		if err := ctx.Err(); err != nil {
			return err
		}
		known[owner] = true
		v, err := vf.s.openVault(tx, owner, false)
		if err != nil {
			var ce *CorruptRecordError
			if errors.As(err, &ce) {
				vf.problem("person %d: %s record cannot be opened", i+1, ce.What)
				continue
			}
			return err
		}
		r.People++
		if _, err := tx.Get(v.indexRef()); err == nil {
			r.Indexes++
		}
		listed := make(map[string]bool, len(v.index))
		for j, e := range v.index {
			listed[e.ID] = true
			if _, err := v.account(e.ID); err != nil {
				var ce *CorruptRecordError
				if !errors.As(err, &ce) {
					return err
				}
				vf.problem("person %d, account %d: cannot be opened", i+1, j+1)
				continue
			}
			r.Accounts++
		}
		ids, err := tx.List(kindAccount, owner)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if !listed[id] {
				// Add and Delete change the index and the account in
				// one transaction, so an unlisted record is damage.
				vf.problem("person %d: an account record is missing from the index", i+1)
			}
		}
	}
	locked, err := tx.List(kindLock, "")
	if err != nil {
		return err
	}
	for _, o := range locked {
		if !known[o] {
			known[o] = true
			r.Locked++
		}
	}
	for _, kind := range []string{kindIndex, kindAccount} {
		others, err := tx.Owners(kind)
		if err != nil {
			return err
		}
		for _, o := range others {
			if !known[o] {
				vf.problem("%s records of an owner with no data key", kind)
			}
		}
	}
	return nil
}

// vaults checks shared vaults, each through the first member whose data
// key the master key opens.
func (vf *verification) vaults(ctx context.Context) error {
	tx, r := vf.tx, vf.r
	vaults, err := tx.List(kindVaultMeta, "")
	if err != nil {
		return err
	}
	members, err := tx.Owners(kindVaultKey)
	if err != nil {
		return err
	}
	opened := map[string]bool{}
	reachable := map[string]bool{}
	for _, owner := range members {
		if err := ctx.Err(); err != nil {
			return err
		}
		ids, err := tx.List(kindVaultKey, owner)
		if err != nil {
			return err
		}
		for _, id := range ids {
			reachable[id] = true
		}
		pk, _, err := vf.s.personKey(tx, owner, false)
		if errors.Is(err, ErrLocked) {
			continue
		}
		if err != nil {
			var ce *CorruptRecordError
			if errors.As(err, &ce) || errors.Is(err, ErrNoAccounts) {
				vf.problem("shared vault: a vault member's data key cannot be opened")
				continue
			}
			return err
		}
		for _, id := range ids {
			if opened[id] {
				continue
			}
			v, err := vf.s.openSharedAny(tx, &pk, owner, id)
			if err != nil {
				var ce *CorruptRecordError
				if !errors.As(err, &ce) {
					return err
				}
				vf.problem("shared vault: vault %d: %s record cannot be opened", len(opened)+1, ce.What)
				opened[id] = true
				continue
			}
			opened[id] = true
			r.Vaults++
			listed := map[string]bool{}
			for _, e := range v.index {
				listed[e.ID] = true
				if _, err := v.account(e.ID); err != nil {
					var ce *CorruptRecordError
					if !errors.As(err, &ce) {
						return err
					}
					vf.problem("shared vault: vault %d: an account cannot be opened", r.Vaults)
					continue
				}
				r.Accounts++
				r.VaultAccounts++
			}
			recs, err := tx.List(kindVaultAccount, id)
			if err != nil {
				return err
			}
			for _, a := range recs {
				if !listed[a] {
					vf.problem("shared vault: vault %d: an account record is missing from the index", r.Vaults)
				}
			}
		}
	}
	for _, id := range vaults {
		switch {
		case opened[id]:
		case reachable[id]:
			r.Unreachable++
		default:
			vf.problem("shared vault: a vault no member can open")
		}
	}
	return nil
}

// openSharedAny opens a shared vault with a member's key without asking
// which person the member is (Verify does not know names).
func (s *Service) openSharedAny(tx Tx, pkey *seal.Key, owner, id string) (*vault, error) {
	vk, _, err := s.openVaultKey(tx, pkey, owner, id)
	if err != nil {
		return nil, err
	}
	v := &vault{tx: tx, owner: id, key: vk, kAccount: kindVaultAccount, kIndex: kindVaultIndex}
	if err := v.loadMeta(); err != nil {
		return nil, err
	}
	v.name = v.meta.Name
	return v, v.loadIndex()
}
