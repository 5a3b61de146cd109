package core

import (
	"context"
	"errors"

	"github.com/authbot/authbot/core/seal"
)

// People's key pairs.
//
// Every person with a data key has an X25519 key pair (seal.NewKeyPair).
// The private key is sealed under the data key, so it is exactly as
// reachable as the person's accounts (the master key opens it unless they
// locked); the public key is not secret. One record per person, kind
// "keypair", id the owner, holds both, sealed under a sub-key of the
// derivation root so a writer without the master key cannot swap in a
// public key of their own.
//
// A shared vault's key is normally wrapped under each member's data key
// (fast to open on every /code). When a member is locked, their data key
// is out of reach, so the vault key is sealed to their public key instead
// (seal.WrapTo): removing someone re-keys the vault for everyone, locked
// or not. The locked member opens that copy with their private key after
// /unlock, and their next write turns it back into a data-key copy.

// keyPair returns owner's public key and sealed private key; ok is false
// for a person without a key pair (made before key pairs, and locked since).
func (s *Service) keyPair(tx Tx, owner string) (pub, sealedPriv []byte, ok bool, err error) {
	sealed, err := tx.Get(keyPairRef(owner))
	if errors.Is(err, ErrNotFound) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	k := s.keyPairKey()
	defer seal.Zero(&k)
	plain, err := seal.Open(&k, sealed, keyPairAD(owner))
	if err != nil || len(plain) < seal.PublicKeySize {
		return nil, nil, false, &CorruptRecordError{What: "key pair", Err: seal.ErrAuth}
	}
	return plain[:seal.PublicKeySize], plain[seal.PublicKeySize:], true, nil
}

// putKeyPair gives owner a new key pair, its private key sealed under
// dataKey, replacing any old one.
func (s *Service) putKeyPair(tx Tx, owner string, dataKey *seal.Key) error {
	priv, pub, err := seal.NewKeyPair()
	if err != nil {
		return err
	}
	defer seal.Zero(&priv)
	sp, err := seal.Seal(dataKey, priv[:], privateKeyAD(owner))
	if err != nil {
		return err
	}
	k := s.keyPairKey()
	defer seal.Zero(&k)
	sealed, err := seal.Seal(&k, append(pub, sp...), keyPairAD(owner))
	if err != nil {
		return err
	}
	return tx.Put(keyPairRef(owner), sealed)
}

// ensureKeyPair makes owner's key pair if there is none yet.
func (s *Service) ensureKeyPair(tx Tx, owner string, dataKey *seal.Key) error {
	_, _, ok, err := s.keyPair(tx, owner)
	if err != nil || ok {
		return err
	}
	return s.putKeyPair(tx, owner, dataKey)
}

// privateKey opens owner's private key with their data key.
func (s *Service) privateKey(tx Tx, owner string, dataKey *seal.Key) (seal.Key, error) {
	_, sp, ok, err := s.keyPair(tx, owner)
	if err != nil {
		return seal.Key{}, err
	}
	if !ok {
		return seal.Key{}, &CorruptRecordError{What: "key pair", Err: ErrNotFound}
	}
	p, err := seal.Open(dataKey, sp, privateKeyAD(owner))
	if err != nil || len(p) != seal.KeySize {
		return seal.Key{}, &CorruptRecordError{What: "private key", Err: seal.ErrAuth}
	}
	var priv seal.Key
	copy(priv[:], p)
	clear(p)
	return priv, nil
}

// openVaultKey opens owner's copy of vault id's key with their data key:
// a data-key wrap, or a box sealed to their public key (boxed is then
// true). Errors: a *CorruptRecordError, a Store error.
func (s *Service) openVaultKey(tx Tx, dataKey *seal.Key, owner, id string) (vk seal.Key, boxed bool, err error) {
	w, err := tx.Get(vaultKeyRef(owner, id))
	if err != nil {
		return vk, false, err
	}
	if seal.IsBox(w) {
		priv, err := s.privateKey(tx, owner, dataKey)
		if err != nil {
			return vk, true, err
		}
		defer seal.Zero(&priv)
		vk, err = seal.UnwrapFrom(&priv, w, vaultKeyAD(owner, id))
		if err != nil {
			return vk, true, &CorruptRecordError{What: "vault key", Err: err}
		}
		return vk, true, nil
	}
	vk, err = seal.Unwrap(dataKey, w, vaultKeyAD(owner, id))
	if err != nil {
		return vk, false, &CorruptRecordError{What: "vault key", Err: err}
	}
	return vk, false, nil
}

// putVaultKey writes owner's copy of the key of the vault id, wrapped
// under their data key.
func putVaultKey(tx Tx, dataKey *seal.Key, owner, id string, vk *seal.Key) error {
	w, err := seal.Wrap(dataKey, vk, vaultKeyAD(owner, id))
	if err != nil {
		return err
	}
	return tx.Put(vaultKeyRef(owner, id), w)
}

// migrateKeyPairs gives a key pair to everyone whose data key the master
// key opens and who has none (databases from before key pairs). Locked
// people get theirs at their next /unlock.
func (s *Service) migrateKeyPairs(ctx context.Context) error {
	var todo []string
	err := s.store.View(ctx, func(tx Tx) error {
		owners, err := tx.List(kindPerson, "")
		if err != nil {
			return err
		}
		for _, o := range owners {
			if _, err := tx.Get(keyPairRef(o)); errors.Is(err, ErrNotFound) {
				todo = append(todo, o)
			} else if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || len(todo) == 0 {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		for _, o := range todo {
			k, _, err := s.personKey(tx, o, false)
			if err != nil {
				return err
			}
			err = s.ensureKeyPair(tx, o, &k)
			seal.Zero(&k)
			if err != nil {
				return err
			}
		}
		return nil
	})
}
