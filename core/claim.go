package core

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"strings"
	"sync"
	"time"
)

// The claim code: how a bot with a Telegram token and nobody configured
// gets its first admin without anyone looking up numeric user ids. serve
// opens a claim and prints its code; whoever sends /start CODE first
// becomes a runtime person with Admin set, written to the database like
// an invitee. The code lives in memory only: it is single use, valid for
// ClaimTTL, and a restart (while still nobody claimed) prints a new one.
//
// A code is five groups of four letters, "ABCD-EFGH-IJKL-MNOP-QRST": the
// first group names the code in logs once it is used (ClaimID), the other
// four are its secret, 80 random bits. Codes are compared in constant time;
// after maxClaimGuesses wrong codes the claim is closed, so guessing stays
// hopeless even across many identities (the chat side limits each one too).

// ClaimTTL is how long a claim code stays usable.
const ClaimTTL = 30 * time.Minute

// ClaimAdminName is the person name the claimer gets.
const ClaimAdminName = "admin"

// maxClaimGuesses closes a claim after this many wrong codes.
const maxClaimGuesses = 20

// Claim errors.
var (
	// ErrClaimInvalid: no claim is open, or the code is wrong or expired.
	ErrClaimInvalid = errors.New("claim code unknown, used or expired")
	// ErrClaimClosed: too many wrong codes were tried; serve must be
	// restarted for a new one.
	ErrClaimClosed = errors.New("claim closed after too many wrong codes")
	// ErrHasAdmin: the bot has an admin already, so nobody may claim it.
	ErrHasAdmin = errors.New("the bot has an admin already")
)

// claimState is the open claim, if any (zero: none).
type claimState struct {
	mu      sync.Mutex
	code    string // upper case, with dashes
	expires time.Time
	wrong   int
	closed  bool
}

var claimEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// OpenClaim makes a new claim code, replacing any open one. Callers open
// one only when no config user exists; it fails with ErrHasAdmin when a
// runtime admin exists already.
func (s *Service) OpenClaim(ctx context.Context) (code string, expires time.Time, err error) {
	has, err := s.HasRuntimeAdmin(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	if has {
		return "", time.Time{}, ErrHasAdmin
	}
	var b [12]byte // 96 bits: 20 for the id group, 76+ for the secret
	if _, err := rand.Read(b[:]); err != nil {
		return "", time.Time{}, err
	}
	raw := claimEncoding.EncodeToString(b[:])[:20]
	groups := make([]string, 0, 5)
	for i := 0; i < len(raw); i += 4 {
		groups = append(groups, raw[i:i+4])
	}
	code = strings.Join(groups, "-")
	expires = s.now().Add(ClaimTTL).UTC()
	s.claim.mu.Lock()
	s.claim.code, s.claim.expires, s.claim.wrong, s.claim.closed = code, expires, 0, false
	s.claim.mu.Unlock()
	return code, expires, nil
}

// ClaimOpen reports whether a claim code is waiting to be used.
func (s *Service) ClaimOpen() bool {
	s.claim.mu.Lock()
	defer s.claim.mu.Unlock()
	return s.claim.code != "" && !s.claim.closed && s.now().Before(s.claim.expires)
}

// ClaimID is the public first group of a claim code ("ABCD"): what logs
// may show of it.
func ClaimID(code string) string {
	id, _, _ := strings.Cut(normalClaim(code), "-")
	if len(id) > 4 {
		id = id[:4]
	}
	return id
}

// normalClaim reads a code the way a person may type it: any case, with
// spaces or dashes between the groups, or none.
func normalClaim(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		if (r >= 'A' && r <= 'Z') || (r >= '2' && r <= '7') {
			b.WriteRune(r)
		}
	}
	raw := b.String()
	var out []string
	for i := 0; i < len(raw); i += 4 {
		out = append(out, raw[i:min(i+4, len(raw))])
	}
	return strings.Join(out, "-")
}

// LooksLikeClaim reports whether text has the shape of a claim code (so a
// /start with an invite token is not counted as a wrong guess).
func LooksLikeClaim(text string) bool {
	t := strings.TrimSpace(text)
	if strings.Count(t, "-") != 4 && strings.Count(t, " ") != 4 {
		return false
	}
	return len(strings.ReplaceAll(normalClaim(t), "-", "")) == 20
}

// Claim makes id the bot's admin (person ClaimAdminName, Admin set) when
// code is the open claim's, and closes the claim. Errors: ErrClaimInvalid,
// ErrClaimClosed, ErrHasAdmin, ErrIdentityTaken.
func (s *Service) Claim(ctx context.Context, code string, id Identity) (string, error) {
	s.claim.mu.Lock()
	defer s.claim.mu.Unlock() // held across the write: one claimer wins
	c := &s.claim
	if c.closed {
		return "", ErrClaimClosed
	}
	got := normalClaim(code)
	want := c.code
	if want == "" || !s.now().Before(c.expires) {
		return "", ErrClaimInvalid
	}
	// Same length first (ConstantTimeCompare returns at once on a length
	// mismatch, which only tells the code's known length).
	if len(got) != len(want) || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		c.wrong++
		if c.wrong >= maxClaimGuesses {
			c.closed = true
			return "", ErrClaimClosed
		}
		return "", ErrClaimInvalid
	}
	name := ClaimAdminName
	err := s.writeTx(ctx, func(tx Tx) error {
		if err := s.retire(tx, name); err != nil {
			return err
		}
		if err := s.addIdentity(tx, name, "claim", id); err != nil {
			return err
		}
		var p Person
		if _, err := getPeople(s, tx, s.peopleRef(name), &p); err != nil {
			return err
		}
		p.Admin = true
		if err := putPeople(s, tx, s.peopleRef(name), p); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, Event{Type: EventPeople, Person: name, Detail: "claimed the bot as admin on " + id.Platform})
	})
	if err != nil {
		return "", err
	}
	s.indexes.dropOwners()
	c.code, c.expires = "", time.Time{}
	return name, nil
}

// HasRuntimeAdmin reports whether a person added at runtime is an admin
// (one who claimed the bot).
func (s *Service) HasRuntimeAdmin(ctx context.Context) (bool, error) {
	people, err := s.People(ctx)
	if err != nil {
		return false, err
	}
	for _, p := range people {
		if p.Admin {
			return true, nil
		}
	}
	return false, nil
}

// IsRuntimeAdmin reports whether name is a runtime person with Admin set.
func (s *Service) IsRuntimeAdmin(ctx context.Context, name string) (bool, error) {
	people, err := s.People(ctx)
	if err != nil {
		return false, err
	}
	for _, p := range people {
		if p.Admin && strings.EqualFold(p.Name, name) {
			return true, nil
		}
	}
	return false, nil
}
