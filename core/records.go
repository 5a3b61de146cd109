package core

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/authbot/authbot/core/seal"
)

// The records core keeps in the Store, in one place.
//
// Every value is sealed (seal.Seal, or seal.Wrap for a key) with
// associated data (AD) that names its kind and slot, so a record copied to
// another owner, id or kind fails to open: the rule is kind|id, or
// kind|owner|id for a record with an owner. The exceptions are marked (!):
// a shared vault's accounts and index use the AD of the personal kinds
// (they are sealed under the vault's own key, and a vault id is never a
// person's owner id), and the index leaves out its fixed id.
//
//	kind           owner     id                          AD                       sealed under             holds
//	meta           -         keycheck                    meta|keycheck            Derive(master,key-check) keyCheckText
//	meta           -         root                        meta|root                master (wrap)            derivation root (rotate.go)
//	meta           -         ids                         meta|ids                 root (wrap)              lookup key of the ids below
//	meta           -         prev-key:PURPOSE            meta|prev-key:PURPOSE    root (wrap)              an adapter's old key (rotate.go)
//	meta           -         audithead                   meta|audithead           root→audit               JSON auditHead
//	person         -         owner                       person|owner             master (wrap)            the person's data key
//	account        owner     account id                  account|owner|id         data key                 binary Account (codec.go)
//	index          owner     "accounts"                  index|owner (!)          data key                 binary index (index.go)
//	keypair        -         owner                       keypair|owner            root→keypairs            public key ‖ Seal(data key, private key, keypair-private|owner)
//	lock           -         owner                       lock|owner               root→lock                JSON lockRecord; the data key wrapped (person|owner) under the passphrase key
//	lockfail       -         owner                       lockfail|owner           root→lock                JSON lockFailures
//	settings       -         owner                       settings|owner           root→lock                JSON Settings (settings.go)
//	people         -         ids("people:"+lower name)   people|id                root→people              JSON Person
//	identity       -         ids("identity:"+plat+":"+id) identity|id             root→people              JSON person name
//	invite         -         ids("invite:"+token)        invite|id                root→people              JSON invite
//	retired        -         owner                       retired|owner            root→people              JSON Person (a name given to someone new)
//	vaultmeta      -         vault id                    vaultmeta|id             vault key                JSON vaultMeta
//	vaultkey       member    vault id                    vaultkey|member|id       member's data key (wrap), or boxed to their public key
//	vault-account  vault id  account id                  account|vault id|id (!)  vault key                binary Account
//	vault-index    vault id  "accounts"                  index|vault id (!)       vault key                binary index
//	audit          -         block number, %016x         audit|id                 root→audit               auditBlock (auditcodec.go)
//	progress       -         ids("progress:"+name)       progress|id              root→progress            JSON [][2]int64
//	outbox         platform  job sequence                outbox|platform|id       root→outbox              bots/outbox's jobs
//
// "root→P" is DeriveKey(P): a sub-key of the derivation root, which a
// master key rotation replaces (rotate.go re-seals every such record).
// "ids(x)" is seal.OpaqueID under the lookup key: a keyed hash, so the
// file holds no names and no record can be found without the key. A vault
// id is ids("vault:"+lower name); an owner id is new (newOwnerID), or
// ids("person:"+name) in databases from before random ids (legacyOwner).
// A secret's fingerprint in an index is OpaqueID(data or vault key,
// "secret:"+secret).

// Record kinds in the Store.
const (
	kindMeta     = "meta"
	kindPerson   = "person"
	kindAccount  = "account"
	kindIndex    = "index"
	kindKeyPair  = "keypair"
	kindLock     = "lock"
	kindLockFail = "lockfail"
	kindPeople   = "people"
	kindIdentity = "identity"
	kindInvite   = "invite"
	kindRetired  = "retired" // id owner: the record of a name given to someone new (retire)
	kindAudit    = "audit"
	kindProgress = "progress"
	kindSettings = "settings"

	// Shared vaults use their own account and index kinds so tools that
	// walk personal records (Verify, RotateMasterKey) keep working on
	// personal owners only.
	kindVaultMeta    = "vaultmeta"     // owner "", id vault id: sealed under the vault key
	kindVaultKey     = "vaultkey"      // owner member, id vault id: vault key wrapped under the member's data key
	kindVaultAccount = "vault-account" // owner vault id
	kindVaultIndex   = "vault-index"   // owner vault id

	// KindOutbox is the kind of bots/outbox's records (scheduled edits and
	// deletions of chat messages); the owner is the platform ("telegram",
	// "matrix"), the id the job's sequence number. It is named here so a
	// master key rotation can seal them again under the new root;
	// bots/outbox uses the same names.
	KindOutbox = "outbox"
)

// Key derivation purposes (seal.Derive). Each sub-key seals one family of
// records, so a key given to one part (an adapter's file key) opens no
// other.
const (
	// purposeKeyCheck is derived from the master key itself, not the
	// root: the check tells whether this master key opens the database.
	purposeKeyCheck = "key-check"
	// purposeOwnerIDs gives the lookup key before the first rotation,
	// which stores it (meta/ids) so it never changes.
	purposeOwnerIDs = "owner-ids"
	purposePeople   = "people"   // people, identity, invite, retired
	purposeLock     = "lock"     // lock, lockfail, settings
	purposeAudit    = "audit"    // audit, meta/audithead
	purposeKeyPairs = "keypairs" // keypair
	purposeProgress = "progress" // progress

	// PurposeOutbox is the DeriveKey purpose of the key bots/outbox's
	// jobs are sealed under.
	PurposeOutbox = "outbox"
	// PurposeMatrixPickle seals the Matrix crypto store's pickles (a file
	// outside the Store, see adapterPurposes).
	PurposeMatrixPickle = "matrix-pickle"
	// PurposeMatrixCrossSigning seals the Matrix bot's cross-signing keys.
	PurposeMatrixCrossSigning = "matrix-cross-signing"
)

// keyCheckText is sealed under a key derived from the master key when a
// database is created, so a wrong master key is told apart from a corrupt
// record at start-up instead of at the first /code.
const keyCheckText = "authbot key check v1"

// Fixed records.
var (
	keyCheckRef  = Ref{Kind: kindMeta, ID: "keycheck"}
	keyCheckAD   = []byte("meta|keycheck")
	rootRef      = Ref{Kind: kindMeta, ID: "root"}
	rootAD       = []byte("meta|root")
	idsRef       = Ref{Kind: kindMeta, ID: "ids"}
	idsAD        = []byte("meta|ids")
	auditHeadRef = Ref{Kind: kindMeta, ID: "audithead"}
	auditHeadAD  = []byte("meta|audithead")
)

// Refs and associated data of the records above. Associated data binds
// every sealed value to its owner and id, so a record copied to another
// person or another slot fails to open.

// indexID is the id of the one index record of a person or a vault.
const indexID = "accounts"

func personRef(owner string) Ref        { return Ref{Kind: kindPerson, ID: owner} }
func personAD(owner string) []byte      { return []byte("person|" + owner) }
func indexAD(owner string) []byte       { return []byte("index|" + owner) }
func accountAD(owner, id string) []byte { return []byte("account|" + owner + "|" + id) }
func accountRef(owner, id string) Ref   { return Ref{Kind: kindAccount, Owner: owner, ID: id} }
func (v *vault) indexRef() Ref          { return Ref{Kind: v.kIndex, Owner: v.owner, ID: indexID} }
func (v *vault) accountRef(id string) Ref {
	return Ref{Kind: v.kAccount, Owner: v.owner, ID: id}
}

func keyPairRef(owner string) Ref      { return Ref{Kind: kindKeyPair, ID: owner} }
func keyPairAD(owner string) []byte    { return []byte("keypair|" + owner) }
func privateKeyAD(owner string) []byte { return []byte("keypair-private|" + owner) }

func lockRef(owner string) Ref   { return Ref{Kind: kindLock, ID: owner} }
func lockAD(owner string) []byte { return []byte("lock|" + owner) }
func failRef(owner string) Ref   { return Ref{Kind: kindLockFail, ID: owner} }
func failAD(owner string) []byte { return []byte("lockfail|" + owner) }

func settingsRef(owner string) Ref   { return Ref{Kind: kindSettings, ID: owner} }
func settingsAD(owner string) []byte { return []byte("settings|" + owner) }

func vaultKeyAD(member, id string) []byte { return []byte("vaultkey|" + member + "|" + id) }
func vaultMetaAD(id string) []byte        { return []byte("vaultmeta|" + id) }
func vaultKeyRef(member, id string) Ref   { return Ref{Kind: kindVaultKey, Owner: member, ID: id} }
func vaultMetaRef(id string) Ref          { return Ref{Kind: kindVaultMeta, ID: id} }

func auditAD(id string) []byte { return []byte("audit|" + id) }
func auditRef(id string) Ref   { return Ref{Kind: kindAudit, ID: id} }

func prevKeyRef(purpose string) Ref   { return Ref{Kind: kindMeta, ID: "prev-key:" + purpose} }
func prevKeyAD(purpose string) []byte { return []byte("meta|prev-key:" + purpose) }

// peopleAD is the associated data of the people-family records (people,
// identity, invite, retired) and progress: kind|id.
func peopleAD(ref Ref) []byte   { return []byte(ref.Kind + "|" + ref.ID) }
func progressAD(ref Ref) []byte { return []byte(ref.Kind + "|" + ref.ID) }

// OutboxAD is the associated data of an outbox record: it binds the job to
// its platform and id, so a record cannot be moved to another slot.
func OutboxAD(platform, id string) []byte { return []byte("outbox|" + platform + "|" + id) }

// Record ids looked up by name, under the lookup key.

func (s *Service) peopleRef(name string) Ref {
	return Ref{Kind: kindPeople, ID: seal.OpaqueID(&s.ids, "people:"+strings.ToLower(name))}
}

func (s *Service) identityRef(id Identity) Ref {
	return Ref{Kind: kindIdentity, ID: seal.OpaqueID(&s.ids, "identity:"+id.Platform+":"+id.ID)}
}

func (s *Service) inviteRef(token string) Ref {
	return Ref{Kind: kindInvite, ID: seal.OpaqueID(&s.ids, "invite:"+token)}
}

func (s *Service) progressRef(name string) Ref {
	return Ref{Kind: kindProgress, ID: seal.OpaqueID(&s.ids, "progress:"+name)}
}

// vaultID is the opaque id of the vault with that name: names are unique
// (any case), and a keyed hash lets /vault new find a clash without a
// plaintext name list in the database.
func (s *Service) vaultID(name string) string {
	return seal.OpaqueID(&s.ids, "vault:"+strings.ToLower(name))
}

// legacyOwner is the owner id older versions derived from the name.
func (s *Service) legacyOwner(person string) string {
	return seal.OpaqueID(&s.ids, "person:"+person)
}

// fingerprint is a keyed hash of secret under v's key, to report duplicates
// without opening every account.
func (v *vault) fingerprint(secret []byte) string {
	return seal.OpaqueID(&v.key, "secret:"+string(secret))
}

// Sub-keys of the derivation root, one per family of records.

func (s *Service) peopleKey() seal.Key   { return s.DeriveKey(purposePeople) }
func (s *Service) lockKey() seal.Key     { return s.DeriveKey(purposeLock) }
func (s *Service) auditKey() seal.Key    { return s.DeriveKey(purposeAudit) }
func (s *Service) keyPairKey() seal.Key  { return s.DeriveKey(purposeKeyPairs) }
func (s *Service) progressKey() seal.Key { return s.DeriveKey(purposeProgress) }

// The key check.

// sealKeyCheck returns the key check record for master.
func sealKeyCheck(master *seal.Key) ([]byte, error) {
	k := seal.Derive(master, purposeKeyCheck)
	defer seal.Zero(&k)
	return seal.Seal(&k, []byte(keyCheckText), keyCheckAD)
}

// checkKey opens the key check record with master inside tx.
// Errors: ErrWrongMasterKey, ErrNotFound when there is no check record yet,
// or a Store error.
func checkKey(tx Tx, master *seal.Key) error {
	sealed, err := tx.Get(keyCheckRef)
	if err != nil {
		return err
	}
	k := seal.Derive(master, purposeKeyCheck)
	defer seal.Zero(&k)
	plain, err := seal.Open(&k, sealed, keyCheckAD)
	if err != nil || string(plain) != keyCheckText {
		return ErrWrongMasterKey
	}
	return nil
}

// Sealed JSON: the one way a JSON record is sealed and opened.

// sealJSON returns v as JSON sealed under key with ad.
func sealJSON(key *seal.Key, ad []byte, v any) ([]byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	return seal.Seal(key, plain, ad)
}

// openJSON opens sealed under key with ad into v. Errors: a
// *CorruptRecordError naming what when it does not open or decode.
func openJSON[T any](key *seal.Key, sealed, ad []byte, what string, v *T) error {
	plain, err := seal.Open(key, sealed, ad)
	if err != nil {
		return &CorruptRecordError{What: what, Err: err}
	}
	defer clear(plain)
	if err := json.Unmarshal(plain, v); err != nil {
		return &CorruptRecordError{What: what, Err: err}
	}
	return nil
}

// getSealed reads the JSON record at ref, sealed under key with ad, into
// v; ok is false (and v untouched) when there is none. key is the
// caller's copy (a DeriveKey result, usually) and is zeroed on return.
// Errors: a *CorruptRecordError naming what, a Store error.
func getSealed[T any](tx Tx, key seal.Key, ref Ref, ad []byte, what string, v *T) (ok bool, err error) {
	defer seal.Zero(&key)
	sealed, err := tx.Get(ref)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := openJSON(&key, sealed, ad, what, v); err != nil {
		return false, err
	}
	return true, nil
}

// putSealed writes v as JSON at ref, sealed under key with ad. key is the
// caller's copy and is zeroed on return.
func putSealed(tx Tx, key seal.Key, ref Ref, ad []byte, v any) error {
	defer seal.Zero(&key)
	sealed, err := sealJSON(&key, ad, v)
	if err != nil {
		return err
	}
	return tx.Put(ref, sealed)
}

// getPeople and putPeople read and write the people-family records
// (people, identity, invite, retired): AD kind|id under the "people" key.
func getPeople[T any](s *Service, tx Tx, ref Ref, v *T) (bool, error) {
	return getSealed(tx, s.peopleKey(), ref, peopleAD(ref), ref.Kind, v)
}

func putPeople(s *Service, tx Tx, ref Ref, v any) error {
	return putSealed(tx, s.peopleKey(), ref, peopleAD(ref), v)
}
