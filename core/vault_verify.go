package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/authbot/authbot/core/seal"
)

// VaultReport counts what VerifyVaults opened.
type VaultReport struct {
	Vaults   int // shared vaults opened through a member's key
	Accounts int // their account records opened
	// Unreachable counts vaults whose every member is locked with a
	// passphrase: their records cannot be opened now and are not checked.
	Unreachable int
	// Problems names failures by position only, never by name.
	Problems []string
}

// VerifyVaults opens every shared vault through the first member whose
// data key the master key opens: the wrapped vault key, the metadata, the
// index and every account, and looks for account records no index names
// and vault records no member can reach. It writes nothing. Verify checks
// people's own vaults; this is its counterpart for shared ones.
//
// Errors: a Store error, or a wrapped ErrCorrupt when any record failed.
func (s *Service) VerifyVaults(ctx context.Context) (VaultReport, error) {
	var r VaultReport
	n := 0
	problem := func(format string, args ...any) {
		n++
		if len(r.Problems) < maxProblems {
			r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
		}
	}
	err := s.store.View(ctx, func(tx Tx) error {
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
			pk, _, err := s.personKey(tx, owner, false)
			if errors.Is(err, ErrLocked) {
				continue
			}
			if err != nil {
				var ce *CorruptRecordError
				if errors.As(err, &ce) || errors.Is(err, ErrNoAccounts) {
					problem("a vault member's data key cannot be opened")
					continue
				}
				return err
			}
			for _, id := range ids {
				if opened[id] {
					continue
				}
				v, err := s.openSharedAny(tx, &pk, owner, id)
				if err != nil {
					var ce *CorruptRecordError
					if !errors.As(err, &ce) {
						return err
					}
					problem("vault %d: %s record cannot be opened", len(opened)+1, ce.What)
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
						problem("vault %d: an account cannot be opened", r.Vaults)
						continue
					}
					r.Accounts++
				}
				recs, err := tx.List(kindVaultAccount, id)
				if err != nil {
					return err
				}
				for _, a := range recs {
					if !listed[a] {
						problem("vault %d: an account record is missing from the index", r.Vaults)
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
				problem("a vault no member can open")
			}
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	if n > 0 {
		return r, fmt.Errorf("%d shared vault records cannot be opened: %w", n, ErrCorrupt)
	}
	return r, nil
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
