package core

import (
	"context"
	"errors"
	"fmt"
)

// Report counts what Verify opened.
type Report struct {
	People   int // person data keys unwrapped with the master key
	Indexes  int // account indexes opened
	Accounts int // account records opened
	// Locked counts people whose data key is wrapped only under their
	// passphrase: their records cannot be opened without it and are
	// counted, not checked.
	Locked int
	// Problems describes each record that failed, by kind and position
	// only (never a name or secret). Empty when the database is sound.
	Problems []string
}

// maxProblems bounds Report.Problems: a database with a thousand bad
// records needs the first few named, not all of them.
const maxProblems = 20

// Verify opens every record of people's own vaults: the key check, every
// person's data key, every index and every account the index names, and
// looks for account records no index names. People locked with a
// passphrase are counted, not opened. Shared vaults are not checked yet. It writes nothing, so it is
// safe on a restored copy before it replaces anything, and beside a
// running bot.
//
// Errors: a Store error, or a wrapped ErrCorrupt when any record failed to
// open (the Report then says which kinds and how many).
func (s *Service) Verify(ctx context.Context) (Report, error) {
	var r Report
	problem := func(format string, args ...any) {
		if len(r.Problems) < maxProblems {
			r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
		} else if len(r.Problems) == maxProblems {
			r.Problems = append(r.Problems, "more problems not listed")
		}
	}
	nProblems := 0
	err := s.store.View(ctx, func(tx Tx) error {
		if err := checkKey(tx, &s.master); err != nil {
			return err
		}
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
			v, err := s.openVault(tx, owner, false)
			if err != nil {
				var ce *CorruptRecordError
				if errors.As(err, &ce) {
					nProblems++
					problem("person %d: %s record cannot be opened", i+1, ce.What)
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
					nProblems++
					problem("person %d, account %d: cannot be opened", i+1, j+1)
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
					nProblems++
					problem("person %d: an account record is missing from the index", i+1)
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
					nProblems++
					problem("%s records of an owner with no data key", kind)
				}
			}
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	if nProblems > 0 {
		return r, fmt.Errorf("%d records cannot be opened: %w", nProblems, ErrCorrupt)
	}
	return r, nil
}
