package core

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// Work in progress.
//
// A chat adapter that redelivers work after a crash (Telegram keeps every
// unconfirmed update) records which items it is handling, so that one item
// that crashes the process cannot crash it at every start: each start
// counts the items it finds still marked in progress, and the adapter
// skips an item once that count shows it was in progress at two crashes.
// The record holds adapter-chosen ids (Telegram update ids) and counts
// only — nothing a person sent. It is one small record per adapter, sealed
// like everything else, kept in the Store so it works on any backend.

// maxProgress bounds one record: an adapter has at most a few hundred
// items in flight (Telegram: 100 per poll).
const maxProgress = 1000

// LoadProgress returns the items recorded as in progress under name (an
// adapter's fixed word, e.g. "telegram") with their counts; an empty map
// when there is no record. A record that cannot be opened (written under
// a key since rotated away) reads as empty: the record only guards against
// crash loops, and losing it loses no data. Errors: a Store error
// (wrapped).
func (s *Service) LoadProgress(ctx context.Context, name string) (map[int64]int, error) {
	out := map[int64]int{}
	ref := s.progressRef(name)
	err := s.store.View(ctx, func(tx Tx) error {
		var pairs [][2]int64
		_, err := getSealed(tx, s.progressKey(), ref, progressAD(ref), "progress", &pairs)
		var corrupt *CorruptRecordError
		if errors.As(err, &corrupt) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, p := range pairs {
			out[p[0]] = int(p[1])
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load progress: %w", err)
	}
	return out, nil
}

// SaveProgress replaces name's record with items (id → count) in one
// durable write; an empty map deletes it. At most maxProgress items are
// kept (the highest ids, the most recent). Errors: a Store error
// (wrapped).
func (s *Service) SaveProgress(ctx context.Context, name string, items map[int64]int) error {
	ref := s.progressRef(name)
	pairs := make([][2]int64, 0, len(items))
	for id, n := range items {
		pairs = append(pairs, [2]int64{id, int64(n)})
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i][0] > pairs[j][0] })
	if len(pairs) > maxProgress {
		pairs = pairs[:maxProgress]
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		if len(pairs) == 0 {
			err := tx.Delete(ref)
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			return err
		}
		return putSealed(tx, s.progressKey(), ref, progressAD(ref), pairs)
	})
	if err != nil {
		return fmt.Errorf("save progress: %w", err)
	}
	return nil
}
