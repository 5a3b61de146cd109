package core

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/authbot/authbot/core/seal"
)

// Shared vaults.
//
// A shared vault is stored like a person's own accounts: an index and
// account records sealed under the vault's own random key. That key is
// wrapped once per member under the member's personal data key (kind
// "vaultkey", owner = the member's opaque id, id = the vault id), so only
// members can open it, and the master key alone opens it only through a
// member's data key — a locked member's copy needs their passphrase. The
// vault's name, members, roles and settings are one record sealed under
// the vault key. A person's memberships are their "vaultkey" records.
//
// Removing a member rotates the key: a new key, every record re-sealed
// under it, re-wrapped for the remaining members, the removed member's
// wrapped key deleted, all in one transaction. Whoever kept the old key
// (and an old copy of the database) can read what was there before, never
// what is written after.

// Role is what a member may do in a shared vault.
type Role string

// Roles. CodesOnly is the default for new members.
const (
	RoleAdmin     Role = "admin"   // everything, and changes membership
	RoleManager   Role = "manager" // adds, renames, deletes and exports accounts
	RoleCodesOnly Role = "codes"   // gets codes, never the secret
)

// ParseRole reads a role as a person types it. Errors: ErrBadRole.
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "admin":
		return RoleAdmin, nil
	case "manager":
		return RoleManager, nil
	case "codes", "codes-only", "member", "":
		return RoleCodesOnly, nil
	}
	return "", ErrBadRole
}

// mayManage is true for roles that may see and change secrets. The
// person's own vault has no role: everything in it is theirs.
func (v *vault) mayManage() bool {
	return !v.shared() || v.role == RoleAdmin || v.role == RoleManager
}

// needManage returns a *RoleError unless the person may see or change the
// secrets in v.
func (v *vault) needManage() error {
	if v.mayManage() {
		return nil
	}
	return &RoleError{Vault: v.name, Role: v.role}
}

// Member is one person in a shared vault.
type Member struct {
	Person string `json:"person"`
	Role   Role   `json:"role"`
	// Owner is the member's storage id (owners.go): the name is a label,
	// so a later person of the same name is not this member. Empty in
	// vaults written before random owner ids (memberOwner).
	Owner string `json:"owner,omitempty"`
}

// vaultMeta is the sealed description of a shared vault.
type vaultMeta struct {
	Name    string    `json:"name"`
	Members []Member  `json:"members"`
	Gen     int       `json:"gen"` // key generation: +1 on every rotation
	Created time.Time `json:"created"`
	// Approval, when set, makes codes need an admin's approval (approval.go).
	Approval bool `json:"approval,omitempty"`
}

// member finds the entry of the person stored under owner.
func (s *Service) member(m *vaultMeta, owner string) (int, bool) {
	for i := range m.Members {
		if s.memberOwner(&m.Members[i]) == owner {
			return i, true
		}
	}
	return -1, false
}

// memberNamed finds an entry by name (any case): for an entry whose name
// now belongs to someone else (a config user removed, a new person of
// that name invited), which only its name can still reach.
func (m *vaultMeta) memberNamed(name string) (int, bool) {
	for i, x := range m.Members {
		if strings.EqualFold(x.Person, name) {
			return i, true
		}
	}
	return -1, false
}

func (m *vaultMeta) admins() int {
	n := 0
	for _, x := range m.Members {
		if x.Role == RoleAdmin {
			n++
		}
	}
	return n
}

// VaultInfo is what a member is shown about a vault.
type VaultInfo struct {
	Name     string
	Role     Role // the asking person's role
	Members  []Member
	Accounts int
	Gen      int
	Approval bool
}

// MaxVaultNameLen bounds vault names.
const MaxVaultNameLen = 32

// cleanVaultName checks a vault name: letters, digits, '-', '_' and '.'.
func cleanVaultName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > MaxVaultNameLen {
		return "", ErrBadVaultName
	}
	for _, r := range s {
		ok := r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !ok {
			return "", ErrBadVaultName
		}
	}
	return s, nil
}

// errNotMember: the person holds a wrapped key but is not in the members
// list (should not happen: removal deletes it; treated as no membership).
var errNotMember = errors.New("not a member")

// openShared opens the shared vault id for person with their data key.
func (s *Service) openShared(tx Tx, pkey *seal.Key, person, owner, id string) (*vault, error) {
	vk, boxed, err := s.openVaultKey(tx, pkey, owner, id)
	if err != nil {
		return nil, err
	}
	v := &vault{tx: tx, owner: id, key: vk, kAccount: kindVaultAccount, kIndex: kindVaultIndex, cache: s.indexes, boxed: boxed}
	if err := v.loadMeta(); err != nil {
		return nil, err
	}
	i, ok := s.member(v.meta, owner)
	if !ok {
		return nil, errNotMember
	}
	v.name, v.role = v.meta.Name, v.meta.Members[i].Role
	return v, v.loadIndex()
}

func (v *vault) loadMeta() error {
	sealed, err := v.tx.Get(vaultMetaRef(v.owner))
	if errors.Is(err, ErrNotFound) {
		return &CorruptRecordError{What: "vault", Err: err}
	}
	if err != nil {
		return err
	}
	v.meta = &vaultMeta{}
	return openJSON(&v.key, sealed, vaultMetaAD(v.owner), "vault", v.meta)
}

func (v *vault) saveMeta() error {
	return putSealed(v.tx, v.key, vaultMetaRef(v.owner), vaultMetaAD(v.owner), v.meta)
}

func sortVaults(vs []*vault) {
	sort.Slice(vs, func(i, j int) bool { return strings.ToLower(vs[i].name) < strings.ToLower(vs[j].name) })
}

// memberKey returns the data key of another person (a member being added,
// or staying after a removal), creating one for a person with nothing
// stored yet. Errors: *MemberLockedError.
func (s *Service) memberKey(tx Tx, m *Member) (seal.Key, error) {
	k, _, err := s.personKey(tx, s.memberOwner(m), true)
	if errors.Is(err, ErrLocked) {
		return k, &MemberLockedError{Person: m.Person}
	}
	return k, err
}

// wrapFor writes m's copy of v's key: under their data key, or, when they
// are locked, sealed to their public key (keypair.go).
func (s *Service) wrapFor(tx Tx, v *vault, m *Member) error {
	owner := s.memberOwner(m)
	pk, err := s.memberKey(tx, m)
	var ml *MemberLockedError
	if errors.As(err, &ml) {
		pub, _, ok, perr := s.keyPair(tx, owner)
		if perr != nil {
			return perr
		}
		if !ok {
			return err // locked since before key pairs: nothing to seal to
		}
		w, err := seal.WrapTo(pub, &v.key, vaultKeyAD(owner, v.owner))
		if err != nil {
			return err
		}
		return tx.Put(vaultKeyRef(owner, v.owner), w)
	}
	if err != nil {
		return err
	}
	defer seal.Zero(&pk)
	return putVaultKey(tx, &pk, owner, v.owner, &v.key)
}

// CreateVault makes a shared vault with person as its only member and
// admin. Errors: ErrBadVaultName, *VaultExistsError, ErrLocked, a Store error.
func (s *Service) CreateVault(ctx context.Context, person, name string) (VaultInfo, error) {
	name, err := cleanVaultName(name)
	if err != nil {
		return VaultInfo{}, err
	}
	var out VaultInfo
	err = s.update(ctx, person, true, func(sp *spaces) error {
		id := s.vaultID(name)
		if _, err := sp.tx.Get(vaultMetaRef(id)); err == nil {
			return &VaultExistsError{Name: name}
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		key, err := seal.NewKey()
		if err != nil {
			return err
		}
		v := &vault{tx: sp.tx, owner: id, key: key, kAccount: kindVaultAccount, kIndex: kindVaultIndex,
			name: name, role: RoleAdmin,
			meta: &vaultMeta{Name: name, Members: []Member{{Person: person, Role: RoleAdmin, Owner: sp.own.owner}}, Gen: 1, Created: s.now().UTC()}}
		if err := v.saveMeta(); err != nil {
			return err
		}
		if err := s.wrapFor(sp.tx, v, &v.meta.Members[0]); err != nil {
			return err
		}
		out = v.info()
		return s.auditTx(ctx, sp.tx, Event{Type: EventVaultCreated, Person: person, Vault: name})
	})
	return out, err
}

func (v *vault) info() VaultInfo {
	return VaultInfo{Name: v.name, Role: v.role, Members: append([]Member(nil), v.meta.Members...),
		Accounts: len(v.index), Gen: v.meta.Gen, Approval: v.meta.Approval}
}

// Vaults lists the shared vaults person is a member of (none for a person
// with nothing stored). Errors: only the common ones (see Service).
func (s *Service) Vaults(ctx context.Context, person string) ([]VaultInfo, error) {
	var out []VaultInfo
	err := s.view(ctx, person, func(sp *spaces) error {
		for _, v := range sp.shared {
			out = append(out, v.info())
		}
		return nil
	})
	if errors.Is(err, ErrNoAccounts) {
		return nil, nil
	}
	return out, err
}

// adminVault opens the vault name for a membership change by person.
// Errors: *NoVaultError (also for vaults the person is not in),
// *RoleError{Admin: true}.
func (sp *spaces) adminVault(name string) (*vault, error) {
	v := sp.vaultNamed(strings.TrimSpace(name))
	if v == nil {
		return nil, &NoVaultError{Name: name}
	}
	if v.role != RoleAdmin {
		return nil, &RoleError{Vault: v.name, Role: v.role, Admin: true}
	}
	return v, nil
}

// AddMember adds member to the vault with role, or changes the role of a
// member already in it. Only the vault's admins may. Errors: *NoVaultError,
// *RoleError, *MemberLockedError, ErrLastAdmin, ErrSelf.
func (s *Service) AddMember(ctx context.Context, person, vaultName, member string, role Role) (VaultInfo, error) {
	var out VaultInfo
	err := s.update(ctx, person, false, func(sp *spaces) error {
		v, err := sp.adminVault(vaultName)
		if err != nil {
			return err
		}
		ev := Event{Type: EventMemberAdded, Person: person, Vault: v.name, Subject: member, Detail: string(role)}
		mo, err := s.ownerOf(sp.tx, member, true)
		if err != nil {
			return err
		}
		if i, ok := s.member(v.meta, mo); ok {
			if v.meta.Members[i].Role == role {
				return &MemberError{Person: member, Member: true}
			}
			if mo == sp.own.owner {
				return ErrSelf
			}
			v.meta.Members[i].Role = role
			ev.Type = EventRoleChanged
		} else {
			// An entry of the same name is someone who no longer holds it
			// (owners.go): it goes, and the key is rotated so they keep
			// nothing, before the new person is let in.
			ghost := false
			for {
				i, ok := v.meta.memberNamed(member)
				if !ok {
					break
				}
				if err := sp.tx.Delete(vaultKeyRef(s.memberOwner(&v.meta.Members[i]), v.owner)); err != nil && !errors.Is(err, ErrNotFound) {
					return err
				}
				v.meta.Members = append(v.meta.Members[:i], v.meta.Members[i+1:]...)
				ghost = true
			}
			v.meta.Members = append(v.meta.Members, Member{Person: member, Role: role, Owner: mo})
			if ghost {
				if err := s.rekey(sp.tx, v); err != nil {
					return err
				}
			} else if err := s.wrapFor(sp.tx, v, &v.meta.Members[len(v.meta.Members)-1]); err != nil {
				return err
			}
		}
		if err := v.saveMeta(); err != nil {
			return err
		}
		out = v.info()
		return s.auditTx(ctx, sp.tx, ev)
	})
	return out, noVault(err, vaultName)
}

// noVault turns "this person has nothing stored" into "not in that vault".
func noVault(err error, name string) error {
	if errors.Is(err, ErrNoAccounts) {
		return &NoVaultError{Name: name}
	}
	return err
}

// RemoveMember takes member out of the vault and rotates its key (see the
// comment at the top of this file). Only admins may; the last admin cannot
// be removed. Errors: *NoVaultError, *RoleError, *MemberError,
// ErrLastAdmin, *MemberLockedError (a remaining member is locked: their
// copy of the new key cannot be made until they unlock).
func (s *Service) RemoveMember(ctx context.Context, person, vaultName, member string) (VaultInfo, error) {
	var out VaultInfo
	err := s.update(ctx, person, false, func(sp *spaces) error {
		v, err := sp.adminVault(vaultName)
		if err != nil {
			return err
		}
		mo, err := s.ownerOf(sp.tx, member, false)
		if err != nil {
			return err
		}
		i, ok := s.member(v.meta, mo)
		if !ok {
			// Someone whose name now belongs to another person (or nobody).
			i, ok = v.meta.memberNamed(member)
		}
		if !ok {
			return &MemberError{Person: member}
		}
		if v.meta.Members[i].Role == RoleAdmin && v.meta.admins() == 1 {
			return ErrLastAdmin
		}
		gone := s.memberOwner(&v.meta.Members[i])
		v.meta.Members = append(v.meta.Members[:i], v.meta.Members[i+1:]...)
		if err := sp.tx.Delete(vaultKeyRef(gone, v.owner)); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := s.rekey(sp.tx, v); err != nil {
			return err
		}
		out = v.info()
		return s.auditTx(ctx, sp.tx, Event{Type: EventMemberRemoved, Person: person, Vault: v.name, Subject: member})
	})
	return out, noVault(err, vaultName)
}

// rekey gives v a new key: every account, the index and the metadata are
// re-sealed under it and it is wrapped for every member in v.meta. The
// index is marked dirty so update saves it under the new key.
func (s *Service) rekey(tx Tx, v *vault) error {
	key, err := seal.NewKey()
	if err != nil {
		return err
	}
	if err := v.resealUnder(key); err != nil {
		return err
	}
	v.meta.Gen++
	if err := v.saveMeta(); err != nil {
		return err
	}
	for i := range v.meta.Members {
		if err := s.wrapFor(tx, v, &v.meta.Members[i]); err != nil {
			return err
		}
	}
	return nil
}

// resealUnder moves v's accounts to key: each is re-sealed, and the index
// is rebuilt (fingerprints are keyed by the vault key too) and marked
// dirty; the caller saves it (or update does). The old key is zeroed.
func (v *vault) resealUnder(key seal.Key) error {
	accounts := make([]*Account, 0, len(v.index))
	for _, e := range v.index {
		a, err := v.account(e.ID)
		if err != nil {
			return err
		}
		accounts = append(accounts, a)
	}
	ids, err := v.tx.List(v.kAccount, v.owner)
	if err != nil {
		return err
	}
	if len(ids) != len(accounts) {
		return fmt.Errorf("vault has %d account records but its index names %d: %w", len(ids), len(accounts), ErrCorrupt)
	}
	old := v.key
	defer seal.Zero(&old)
	v.key = key
	v.index, v.indexShared, v.labelsSorted = nil, false, false
	for _, a := range accounts {
		// putAccount re-seals under the new key and recomputes the
		// fingerprint.
		if err := v.putAccount(a); err != nil {
			return err
		}
	}
	v.dirty = true
	return nil
}

// Exportable resolves query like Export and checks the person may see its
// secret, without reading or auditing the secret: for the question asked
// before an export. Errors as Export.
func (s *Service) Exportable(ctx context.Context, person, query string) (Summary, error) {
	var out Summary
	err := s.view(ctx, person, func(sp *spaces) error {
		v, e, err := sp.find(query)
		if err != nil {
			return err
		}
		out = v.sum(e)
		return v.needManage()
	})
	return out, err
}
