//go:build goolm

package matrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/core/seal"
)

// Cross-signing: a verified bot.
//
// Element marks every message from a device its owner has not signed with a
// red shield. On its first start the bot makes its own cross-signing keys
// (master, self-signing, user-signing; mautrix's GenerateCrossSigningKeys),
// publishes them (the homeserver asks for the account password: user-
// interactive auth), and signs its device with the self-signing key.
//
// Where the private keys live: sealed by authbot itself, not in SSSS. They
// are sealed with core/seal (XChaCha20-Poly1305) under Config.CrossSigningKey,
// which authbot derives from the master key for the purpose
// "matrix-cross-signing" (core.Service.DeriveKey), and the sealed blob is
// kept twice: in StateDir/cross-signing.sealed, and in the bot's own account
// data on the homeserver (org.authbot.cross_signing), so a standby on
// another machine (storage.driver postgres) or a bot whose state dir was
// lost gets the same identity back instead of replacing it. The homeserver
// sees only the sealed blob. Master-key rotation makes a new derivation
// root, so the key changes: the next start opens the copies with the
// previous key (Config.PrevCrossSigningKey, kept sealed by core until then),
// seals them again under the new one, file first and account data second,
// and only then lets core forget the old key. SSSS would need a recovery
// key kept somewhere all the same.
//
// They are kept because the bot needs them after the first start: the
// user-signing key signs the people who verify the bot by emoji (SAS), and
// the self-signing key signs the bot's device again should the crypto
// store be lost and a new device made.

const crossSigningFile = "cross-signing.sealed"

// crossSigningAD binds the sealed seeds to the bot's user id: a file copied
// from another bot's state dir does not open.
func crossSigningAD(user id.UserID) []byte {
	return []byte("matrix cross-signing|" + user.String())
}

// ErrCrossSigningNeedsPassword is logged (not returned: the bot works
// without cross-signing, only with a red shield) when the homeserver wants
// the account password to publish the keys and the bot has none.
var ErrCrossSigningNeedsPassword = errors.New("the homeserver asks for the account password to publish the bot's cross-signing keys")

// setupCrossSigning loads or creates the bot's cross-signing keys, makes
// sure the homeserver publishes them, and signs the bot's device. Errors are
// for the log: a bot without cross-signing still serves.
func (b *Bot) setupCrossSigning(ctx context.Context) error {
	if len(b.cfg.CrossSigningKey) != seal.KeySize {
		return errors.New("no cross-signing seal key configured")
	}
	mach := b.helper.Machine()
	user := b.cli.UserID
	b.xsUnderPrev = false
	keys, err := b.loadCrossSigning(user)
	if err != nil {
		return err
	}
	if keys == nil {
		// Not here: another machine or an earlier state dir may have made
		// them (a network error here retries the whole start).
		if keys, err = b.fetchCrossSigning(ctx, user); err != nil {
			return err
		}
		if keys != nil {
			if err := b.saveCrossSigning(user, keys); err != nil {
				return err
			}
		}
	}
	if keys != nil && b.xsUnderPrev {
		// Still under the key from before a master key rotation: sealed
		// again under the current one, in both places, before the old
		// key is forgotten.
		if err := b.saveCrossSigning(user, keys); err != nil {
			return err
		}
		if err := b.storeCrossSigning(ctx, user); err != nil {
			return err
		}
		b.log.Info("matrix: the bot's cross-signing keys are sealed under the rotated master key")
	}
	if b.cfg.CrossSigningRekeyed != nil && len(b.cfg.PrevCrossSigningKey) > 0 {
		// Everything is under the current key now (or there was nothing
		// sealed under the old one).
		defer func() {
			if err := b.cfg.CrossSigningRekeyed(ctx); err != nil {
				b.log.Warn("matrix: could not forget the pre-rotation cross-signing key; the next start tries again", "err", err)
			}
		}()
	}
	fresh := keys == nil
	if fresh {
		if keys, err = mach.GenerateCrossSigningKeys(); err != nil {
			return fmt.Errorf("generate cross-signing keys: %w", err)
		}
		// Saved before publishing: a crash in between leaves keys that the
		// next start publishes, never published keys nobody holds.
		if err := b.saveCrossSigning(user, keys); err != nil {
			return err
		}
		if err := b.storeCrossSigning(ctx, user); err != nil {
			return err
		}
	} else if err := mach.ImportCrossSigningKeys(keys.Seeds()); err != nil {
		return fmt.Errorf("load cross-signing keys: %w", err)
	}

	server, err := b.cli.QueryKeys(ctx, &mautrix.ReqQueryKeys{DeviceKeys: mautrix.DeviceKeysRequest{user: mautrix.DeviceIDList{}}})
	if err != nil {
		return fmt.Errorf("query own keys: %w", err)
	}
	published := server.MasterKeys[user]
	if published.FirstKey() != keys.MasterKey.PublicKey() {
		if published.FirstKey() != "" {
			// Someone else published keys for the bot (another client, or
			// a lost state dir): ours replace them, as the bot's own.
			b.log.Warn("matrix: the homeserver has other cross-signing keys for the bot; replacing them with the bot's own")
		}
		if err := mach.PublishCrossSigningKeys(ctx, keys, b.uiaPassword); err != nil {
			var httpErr mautrix.HTTPError
			if errors.As(err, &httpErr) && httpErr.IsStatus(http.StatusUnauthorized) {
				return ErrCrossSigningNeedsPassword
			}
			return fmt.Errorf("publish cross-signing keys: %w", err)
		}
		b.log.Info("matrix: published the bot's cross-signing keys", "master_key", keys.MasterKey.PublicKey())
	}
	own := server.DeviceKeys[user][b.cli.DeviceID]
	ssk := id.NewKeyID(id.KeyAlgorithmEd25519, keys.SelfSigningKey.PublicKey().String())
	if published.FirstKey() == keys.MasterKey.PublicKey() && own.Signatures[user][ssk] != "" {
		return nil // device already signed by our self-signing key
	}
	if err := mach.SignOwnDevice(ctx, mach.OwnIdentity()); err != nil {
		return fmt.Errorf("sign own device: %w", err)
	}
	b.log.Info("matrix: signed the bot's device with its cross-signing key", "device", b.cli.DeviceID)
	return nil
}

// uiaPassword answers the homeserver's user-interactive auth with the
// account password, when the bot has one.
func (b *Bot) uiaPassword(resp *mautrix.RespUserInteractive) any {
	if b.cfg.Password == "" || !resp.HasSingleStageFlow(mautrix.AuthTypePassword) {
		return nil
	}
	return &mautrix.ReqUIAuthLogin{
		BaseAuthData: mautrix.BaseAuthData{Type: mautrix.AuthTypePassword, Session: resp.Session},
		User:         b.cli.UserID.String(),
		Password:     b.cfg.Password,
	}
}

// crossSigningAccountData is the account data type that holds the sealed
// seeds on the homeserver.
const crossSigningAccountData = "org.authbot.cross_signing"

type sealedAccountData struct {
	Sealed []byte `json:"sealed"` // base64 in JSON
}

// fetchCrossSigning opens the sealed seeds kept in the bot's account data;
// nil, nil when there are none.
func (b *Bot) fetchCrossSigning(ctx context.Context, user id.UserID) (*crypto.CrossSigningKeysCache, error) {
	var data sealedAccountData
	err := b.cli.GetAccountData(ctx, crossSigningAccountData, &data)
	if errors.Is(err, mautrix.MNotFound) || (err == nil && len(data.Sealed) == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s account data: %w", crossSigningAccountData, err)
	}
	return b.openCrossSigning(user, data.Sealed, "the "+crossSigningAccountData+" account data")
}

// storeCrossSigning copies the sealed file into the bot's account data.
func (b *Bot) storeCrossSigning(ctx context.Context, user id.UserID) error {
	sealed, err := os.ReadFile(filepath.Join(b.cfg.StateDir, crossSigningFile))
	if err != nil {
		return fmt.Errorf("read %s: %w", crossSigningFile, err)
	}
	if err := b.cli.SetAccountData(ctx, crossSigningAccountData, sealedAccountData{Sealed: sealed}); err != nil {
		return fmt.Errorf("store the sealed cross-signing keys in account data: %w", err)
	}
	return nil
}

// loadCrossSigning opens the sealed seeds; nil, nil when there are none.
func (b *Bot) loadCrossSigning(user id.UserID) (*crypto.CrossSigningKeysCache, error) {
	path := filepath.Join(b.cfg.StateDir, crossSigningFile)
	sealed, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", crossSigningFile, err)
	}
	return b.openCrossSigning(user, sealed, path)
}

// openCrossSigning opens sealed seeds read from where.
func (b *Bot) openCrossSigning(user id.UserID, sealed []byte, path string) (*crypto.CrossSigningKeysCache, error) {
	key := seal.Key(b.cfg.CrossSigningKey)
	defer seal.Zero(&key)
	plain, err := seal.Open(&key, sealed, crossSigningAD(user))
	if err != nil && len(b.cfg.PrevCrossSigningKey) == seal.KeySize {
		prev := seal.Key(b.cfg.PrevCrossSigningKey)
		var perr error
		if plain, perr = seal.Open(&prev, sealed, crossSigningAD(user)); perr == nil {
			err = nil
			b.xsUnderPrev = true
		}
		seal.Zero(&prev)
	}
	if err != nil {
		// Not replaced on our own: people who verified the bot trust
		// these keys. The operator decides (remove the file to start over).
		return nil, fmt.Errorf("%s does not open with this master key (%w); restore it, or remove it to make new cross-signing keys", path, err)
	}
	defer clear(plain)
	var seeds crypto.CrossSigningSeeds
	if err := json.Unmarshal(plain, &seeds); err != nil {
		return nil, fmt.Errorf("%s is damaged: %w", path, err)
	}
	keys, err := seeds.Decode()
	if err != nil {
		return nil, fmt.Errorf("%s is damaged: %w", path, err)
	}
	return &keys, nil
}

// saveCrossSigning seals the seeds into the state dir, atomically, 0600.
func (b *Bot) saveCrossSigning(user id.UserID, keys *crypto.CrossSigningKeysCache) error {
	plain, err := json.Marshal(keys.Seeds())
	if err != nil {
		return err
	}
	defer clear(plain)
	key := seal.Key(b.cfg.CrossSigningKey)
	defer seal.Zero(&key)
	sealed, err := seal.Seal(&key, plain, crossSigningAD(user))
	if err != nil {
		return fmt.Errorf("seal cross-signing keys: %w", err)
	}
	return writeFileAtomic(filepath.Join(b.cfg.StateDir, crossSigningFile), sealed)
}

// writeFileAtomic writes data to path through a temp file, fsync and
// rename, readable by the owner only.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
