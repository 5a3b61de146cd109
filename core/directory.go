package core

import (
	"context"
	"strings"
	"time"
)

// The people directory: who the bot serves, in one place.
//
// A person is named by their person name (see the glossary in doc.go): a
// config user's name, an invitee's name, or LocalPerson. Config users come
// from the operator's config file, handed to core at start-up
// (ServiceOptions.Users); runtime people from the sealed people records
// (people.go). Every adapter asks the same questions through
// bots/commands, which asks core: who is this identity (PersonOf), is that
// person an admin (IsAdmin), which identities does a person have on a
// platform (IdentitiesOf), is there such a person (IsPerson). Names are
// compared ignoring case, as the people records are looked up.

// ConfigUser is a person named in the config file.
type ConfigUser struct {
	Name string
	// Identities are the chat accounts the config gives them (a Telegram
	// user id, a Matrix user id); /link may add more at runtime.
	Identities []Identity
	// Admin: may /invite and /remove people. Config users are admins
	// by this, and the one who claimed the bot (claim.go); an invite never
	// makes one.
	Admin bool
}

// directory is the config half of the directory, built once by
// NewServiceWith and never changed (no lock needed).
type directory struct {
	users   map[string]*ConfigUser // by lower-case name
	byID    map[Identity]string    // identity -> config name
	ordered []*ConfigUser          // in config order
}

func newDirectory(users []ConfigUser) directory {
	d := directory{users: map[string]*ConfigUser{}, byID: map[Identity]string{}}
	for i := range users {
		u := users[i]
		u.Identities = append([]Identity(nil), u.Identities...)
		d.ordered = append(d.ordered, &u)
		d.users[strings.ToLower(u.Name)] = &u
		for _, id := range u.Identities {
			if _, taken := d.byID[id]; !taken {
				d.byID[id] = u.Name
			}
		}
	}
	return d
}

// IsConfigUser reports whether name is a config user.
func (s *Service) IsConfigUser(name string) bool {
	_, ok := s.dir.users[strings.ToLower(name)]
	return ok
}

// IsAdmin reports whether person is one of the bot's admins: a config user
// with admin set, or the runtime person who claimed the bot with its claim
// code (claim.go). The second asks the store under a short deadline of its
// own (callers ask from command policy, which has no context); an error
// counts as no.
func (s *Service) IsAdmin(person string) bool {
	u, ok := s.dir.users[strings.ToLower(person)]
	if ok {
		return u.Admin
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	admin, err := s.IsRuntimeAdmin(ctx, person)
	return admin && err == nil
}

// IsPerson reports whether name is one of the bot's people: a config user,
// or a person added at runtime (or a former config user who linked an
// identity, whose people record holds it). Errors: *CorruptRecordError, a
// Store error.
func (s *Service) IsPerson(ctx context.Context, name string) (bool, error) {
	if s.IsConfigUser(name) {
		return true, nil
	}
	people, err := s.People(ctx)
	if err != nil {
		return false, err
	}
	for _, p := range people {
		if strings.EqualFold(p.Name, name) {
			return true, nil
		}
	}
	return false, nil
}

// PersonOf returns the person an identity belongs to: a config user
// first, then a person added at runtime; "" for a stranger. Errors:
// *CorruptRecordError, a Store error.
func (s *Service) PersonOf(ctx context.Context, id Identity) (string, error) {
	if name, ok := s.dir.byID[id]; ok {
		return name, nil
	}
	return s.PersonFor(ctx, id)
}

// IdentitiesOf returns the ids person has on platform, the config's first,
// then those linked at runtime (/invite, /link): where a reply addressed
// to them (Reply.To) is delivered. Errors: *CorruptRecordError, a Store
// error (with the config's ids, which are still right).
func (s *Service) IdentitiesOf(ctx context.Context, person, platform string) ([]string, error) {
	var out []string
	for _, u := range s.dir.ordered {
		if !strings.EqualFold(u.Name, person) {
			continue
		}
		for _, id := range u.Identities {
			if id.Platform == platform {
				out = append(out, id.ID)
			}
		}
	}
	people, err := s.People(ctx)
	if err != nil {
		return out, err
	}
	for _, p := range people {
		if !strings.EqualFold(p.Name, person) {
			continue
		}
		for _, id := range p.Identities {
			if id.Platform == platform {
				out = append(out, id.ID)
			}
		}
	}
	return out, nil
}
