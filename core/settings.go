package core

import (
	"context"
	"errors"
	"fmt"
)

// Per-person settings.
//
// A person's choices about how the bot talks to them (today: the language
// they picked with /language) live in one small record per person, kind
// "settings", id the owner id, sealed under the master-derived "lock"
// sub-key with AD "settings|owner" like the lock-failure counter. Not under
// the person's data key: a locked person must still be answered in their
// language ("your accounts are locked"). Master key rotation re-seals it
// with the other lock-key records (rotatedLockAD); removing the person
// deletes it.

// Settings are one person's choices. The zero value is "nothing chosen".
type Settings struct {
	// Language is the language tag the person chose with /language ("de",
	// "pt-BR"), "" to follow what their chat app says.
	Language string `json:"lang,omitempty"`
}

// SettingsOf returns person's settings; the zero Settings for a person
// who never chose anything or was never seen. Errors: a Store error or a
// *CorruptRecordError.
func (s *Service) SettingsOf(ctx context.Context, person string) (Settings, error) {
	var out Settings
	err := s.store.View(ctx, func(tx Tx) error {
		owner, err := s.ownerOf(tx, person, false)
		if err != nil || owner == "" {
			return err
		}
		_, err = getSealed(tx, s.lockKey(), settingsRef(owner), settingsAD(owner), "settings", &out)
		return err
	})
	if err != nil {
		return Settings{}, fmt.Errorf("read settings: %w", err)
	}
	return out, nil
}

// SetLanguage stores person's language choice ("" clears it). The caller
// checks that the tag is one it speaks; core keeps what it is given.
// Errors: a Store error or a *CorruptRecordError.
func (s *Service) SetLanguage(ctx context.Context, person, tag string) error {
	err := s.store.Update(ctx, func(tx Tx) error {
		owner, err := s.ownerOf(tx, person, true)
		if err != nil {
			return err
		}
		var cur Settings
		if _, err := getSealed(tx, s.lockKey(), settingsRef(owner), settingsAD(owner), "settings", &cur); err != nil {
			return err
		}
		cur.Language = tag
		if cur == (Settings{}) {
			if err := tx.Delete(settingsRef(owner)); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			return nil
		}
		return putSealed(tx, s.lockKey(), settingsRef(owner), settingsAD(owner), cur)
	})
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return nil
}
