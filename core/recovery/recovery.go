// Package recovery is authbot's knowledge base for /recover: what a service
// calls its backup key and recovery codes, what else can sign a person in,
// and the service's official path when everything is gone.
//
// The facts live in services.yaml, embedded at build time, so reviewers read
// and extend plain data rather than code. Every fact there was checked
// against the service's own help pages; where a fact could not be checked
// the field is left out and the generic wording is used instead, because a
// wrong instruction during a lock-out does more harm than a vague one.
//
// The package does no I/O: Load parses the embedded file once, and Advice is
// a pure function of the service entry and the person's State.
package recovery

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

//go:embed services.yaml
var servicesYAML []byte

// ErrInvalid is returned (wrapped) by Load and Parse when the data file is
// malformed or breaks a rule: a missing required field, a duplicate id or an
// alias claimed by two services.
var ErrInvalid = errors.New("invalid recovery data")

// maxDataSize bounds what Parse accepts; the embedded file is far smaller.
const maxDataSize = 1 << 20

// Service is one entry of the knowledge base. Optional fields are empty when
// the fact could not be confirmed from the service's own pages.
type Service struct {
	// ID is a short stable identifier, lower-case ("github").
	ID string `yaml:"id"`
	// Name is the name people know the service by ("GitHub").
	Name string `yaml:"name"`
	// Aliases are lower-case names and issuer strings that mean this
	// service ("github.com"). The id and name match without being listed.
	Aliases []string `yaml:"aliases"`
	// NotTOTP is set for services whose second factor is not an
	// authenticator-app code (Apple): authbot cannot hold a key for them.
	NotTOTP bool `yaml:"not_totp"`
	// KeyName is what the service calls the authenticator secret it shows
	// at setup ("setup key"); empty when not confirmed.
	KeyName string `yaml:"key_name"`
	// RecoveryCodes describes the service's one-time sign-in codes.
	RecoveryCodes *RecoveryCodes `yaml:"recovery_codes"`
	// OtherFactors lists other ways to pass the second step.
	OtherFactors []string `yaml:"other_factors"`
	// NoBackup is the official path when neither key nor codes remain.
	NoBackup *NoBackup `yaml:"no_backup"`
	// Help holds titles of the service's own help pages.
	Help []string `yaml:"help"`
	// Notes are short service-specific warnings shown with the advice.
	Notes []string `yaml:"notes"`
	// Sources records where each fact was checked; not shown in chat.
	Sources []string `yaml:"sources"`
}

// RecoveryCodes is what a service calls its single-use codes and what they
// look like.
type RecoveryCodes struct {
	Name  string `yaml:"name"`
	Shape string `yaml:"shape"`
}

// NoBackup is a service's official way back in when every factor is lost.
type NoBackup struct {
	// Path says where to start and what happens, in one or two sentences.
	Path string `yaml:"path"`
	// AsksFor lists what the service will ask the person to provide.
	AsksFor []string `yaml:"asks_for"`
	// Wait is the waiting period the service states, if any.
	Wait string `yaml:"wait"`
}

// Base is the parsed, validated knowledge base. It is read-only after Load
// and safe for concurrent use.
type Base struct {
	services []*Service
	index    map[string]*Service // normalized alias → service
}

type file struct {
	Services []*Service `yaml:"services"`
}

// Load parses and validates the embedded services.yaml. An error means the
// data file shipped with the binary is broken, which a test catches first.
func Load() (*Base, error) {
	return Parse(servicesYAML)
}

// Parse parses and validates a knowledge base in the services.yaml format.
// Errors wrap ErrInvalid.
func Parse(data []byte) (*Base, error) {
	if len(data) > maxDataSize {
		return nil, fmt.Errorf("%w: data is %d bytes, limit %d", ErrInvalid, len(data), maxDataSize)
	}
	var f file
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: parse: %v", ErrInvalid, err)
	}
	if len(f.Services) == 0 {
		return nil, fmt.Errorf("%w: no services", ErrInvalid)
	}
	b := &Base{index: make(map[string]*Service)}
	ids := make(map[string]bool)
	for i, s := range f.Services {
		if s == nil {
			return nil, fmt.Errorf("%w: services[%d] is empty", ErrInvalid, i)
		}
		if err := validate(s); err != nil {
			return nil, fmt.Errorf("%w: services[%d] (%q): %v", ErrInvalid, i, s.ID, err)
		}
		if ids[s.ID] {
			return nil, fmt.Errorf("%w: duplicate id %q", ErrInvalid, s.ID)
		}
		ids[s.ID] = true
		// Each name may point at one service only; the id and display name
		// count as aliases so "GitHub" finds github without listing it.
		keys := map[string]bool{}
		for _, a := range append([]string{s.ID, s.Name}, s.Aliases...) {
			for _, k := range keysFor(a) {
				keys[k] = true
			}
		}
		for k := range keys {
			if other, ok := b.index[k]; ok {
				return nil, fmt.Errorf("%w: alias %q of %q already names %q", ErrInvalid, k, s.ID, other.ID)
			}
			b.index[k] = s
		}
		b.services = append(b.services, s)
	}
	return b, nil
}

func validate(s *Service) error {
	if s.ID == "" || s.ID != strings.ToLower(s.ID) || normalize(s.ID) == "" {
		return errors.New("id must be present and lower-case")
	}
	if strings.TrimSpace(s.Name) == "" {
		return errors.New("name is required")
	}
	if len(s.Sources) == 0 {
		return errors.New("sources are required: every fact needs a checked source")
	}
	for _, a := range s.Aliases {
		if a != strings.ToLower(a) {
			return fmt.Errorf("alias %q must be lower-case", a)
		}
		if normalize(a) == "" {
			return fmt.Errorf("alias %q has no letters or digits", a)
		}
	}
	if s.NotTOTP && s.KeyName != "" {
		return errors.New("key_name makes no sense for a service that is not_totp")
	}
	if s.RecoveryCodes != nil && strings.TrimSpace(s.RecoveryCodes.Name) == "" {
		return errors.New("recovery_codes.name is required when recovery_codes is present")
	}
	if s.NoBackup != nil && strings.TrimSpace(s.NoBackup.Path) == "" {
		return errors.New("no_backup.path is required when no_backup is present")
	}
	return nil
}

// Services returns every entry in file order. The slice is a copy; the
// entries are shared and must not be modified.
func (b *Base) Services() []*Service {
	return append([]*Service(nil), b.services...)
}

// Lookup finds the service an account belongs to, first by its issuer (what
// the otpauth link or the person said the service is), then by its name.
// Matching ignores case, spaces and punctuation, a leading "www." and common
// suffixes such as ".com"; an e-mail address matches by its domain, so an
// account named "alice@gmail.com" finds Google.
func (b *Base) Lookup(name, issuer string) (*Service, bool) {
	for _, q := range []string{issuer, name} {
		if s, ok := b.lookup(q); ok {
			return s, true
		}
	}
	return nil, false
}

// maxQuery bounds the work done on hostile input; no service name is longer.
const maxQuery = 256

func (b *Base) lookup(q string) (*Service, bool) {
	if len(q) > maxQuery {
		q = q[:maxQuery]
	}
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, false
	}
	cands := keysFor(q)
	// "alice@gmail.com" or "Google:alice@gmail.com": the part before ":" is
	// an issuer prefix, the domain after "@" names the provider.
	if i := strings.IndexByte(q, ':'); i > 0 {
		cands = append(cands, keysFor(q[:i])...)
	}
	if i := strings.LastIndexByte(q, '@'); i >= 0 && i+1 < len(q) {
		cands = append(cands, keysFor(q[i+1:])...)
	}
	for _, k := range cands {
		if s, ok := b.index[k]; ok {
			return s, true
		}
	}
	return nil, false
}

// strippedSuffixes are generic endings that do not change which service is
// meant. Country endings such as ".us" are deliberately absent: Binance.US
// is a different company from Binance.
var strippedSuffixes = []string{".com", ".org", ".net", ".io", ".app", ".dev", ".me", ".tv", ".gg", ".co"}

// keysFor returns the normalized lookup keys for one string: the whole
// string, then the string without a leading "www." and a generic suffix.
func keysFor(s string) []string {
	s = strings.ToLower(strings.TrimSpace(s))
	var out []string
	add := func(v string) {
		if k := normalize(v); k != "" {
			for _, o := range out {
				if o == k {
					return
				}
			}
			out = append(out, k)
		}
	}
	add(s)
	t := strings.TrimPrefix(s, "www.")
	for _, suf := range strippedSuffixes {
		if strings.HasSuffix(t, suf) && len(t) > len(suf) {
			t = strings.TrimSuffix(t, suf)
			break
		}
	}
	add(t)
	return out
}

// normalize keeps only letters and digits, lower-cased, so "X (Twitter)",
// "x-twitter" and "X Twitter" compare equal.
func normalize(s string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// cleanLabel makes the person's own label safe to repeat in a reply: no
// control characters or line breaks, bounded length.
func cleanLabel(s string) string {
	const max = 64
	var sb strings.Builder
	n := 0
	for _, r := range s {
		if unicode.IsSpace(r) {
			// Line breaks and tabs become one space so a label cannot
			// start a line of its own in the reply.
			if sb.Len() == 0 || strings.HasSuffix(sb.String(), " ") {
				continue
			}
			r = ' '
		} else if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if n == max {
			sb.WriteString("…")
			break
		}
		sb.WriteRune(r)
		n++
	}
	return strings.TrimSpace(sb.String())
}
