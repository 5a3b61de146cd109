// Package recovery is authbot's knowledge base for /recover: what a service
// calls its backup key and recovery codes, what else can sign a person in,
// and the service's official path when everything is gone.
//
// The facts live in services.yaml, embedded at build time, so reviewers read
// and extend plain data rather than code. Every fact there names the source
// it was checked against, and Parse refuses a fact whose source is not a
// page on one of the service's own domains (or its official docs
// repository), quoted: a wrong instruction during a lock-out does more harm
// than a vague one, so a fact that cannot be sourced is left out and the
// generic wording is used instead.
//
// Answers are written in the person's language (Guide's lang.Tag): the
// frame sentences and every fact authbot wrote itself are translated in
// lang/<tag>.yaml, each translation carrying the hash of the English it was
// made from, so an edited English fact shows its translations as stale (and
// shows the English) instead of silently keeping an old instruction. The
// service's own button and menu names stay quoted as its English help page
// spells them, unless services.yaml has the service's own localized label
// with its source (lang/README.md).
//
// The package does no I/O: Load parses the embedded files once, and Advice
// is a pure function of the service entry, the person's State and language.
package recovery

import (
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
)

//go:embed services.yaml
var servicesYAML []byte

// ErrInvalid is returned (wrapped) by Load and Parse when the data file is
// malformed or breaks a rule: a missing required field, a duplicate id, an
// alias claimed by two services, or a fact without an official source.
var ErrInvalid = errors.New("invalid recovery data")

// maxDataSize bounds what Parse accepts; the embedded file is far smaller.
const maxDataSize = 1 << 20

// Fact is one sentence or phrase shown to the person, with the ids of the
// sources (in the service's Sources, separated by spaces) it was checked
// against.
type Fact struct {
	Text string `yaml:"text"`
	Src  string `yaml:"src"`
}

// Source is a page a fact was checked against: its address, its title and
// the words of the page the facts rely on. Copy is set when the text was
// read in a stored copy of that page rather than at the address itself.
type Source struct {
	URL   string `yaml:"url"`
	Title string `yaml:"title"`
	Quote string `yaml:"quote"`
	Copy  string `yaml:"copy"`
}

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
	// Domains are the service's own hosts ("github.com" also admits
	// "docs.github.com"), or host/path for an official docs repository
	// ("github.com/pypi/support"). Every source must lie on one of them.
	Domains []string `yaml:"domains"`
	// NotTOTP is set, with the sentence saying how the service verifies
	// people instead, for services whose second factor is not a key an
	// authenticator app can hold (Apple): authbot cannot hold one for them.
	NotTOTP *Fact `yaml:"not_totp"`
	// KeyName is what the service calls the authenticator secret it shows
	// at setup ("setup key"); nil when not confirmed.
	KeyName *Fact `yaml:"key_name"`
	// RecoveryCodes describes the service's one-time sign-in codes; nil
	// when the service's pages mention none, and then no recovery-code
	// advice is shown.
	RecoveryCodes *RecoveryCodes `yaml:"recovery_codes"`
	// OtherFactors lists other ways to pass the second step.
	OtherFactors []Fact `yaml:"other_factors"`
	// NoBackup is the official path when neither key nor codes remain.
	NoBackup *NoBackup `yaml:"no_backup"`
	// Notes are short service-specific warnings shown with the advice.
	Notes []Fact `yaml:"notes"`
	// Labels are the service's button and menu names its facts quote in
	// English, with the service's own wording of them in other languages
	// where one of its pages shows it (each sourced like any fact). A
	// translated answer shows the local label when there is one, else the
	// English one with a line saying so.
	Labels []Label `yaml:"labels"`
	// Help is the id of the source whose page authbot links to: the
	// service's own page for a lost authenticator.
	Help string `yaml:"help"`
	// Sources are the pages the facts were checked against, by id.
	Sources map[string]Source `yaml:"sources"`
}

// Label is one button or menu name, as the facts quote it in English.
type Label struct {
	Text string `yaml:"text"`
	// Local maps a language tag ("pt-BR") to the service's own label in
	// that language and the source page that shows it.
	Local map[string]Fact `yaml:"local"`
}

// RecoveryCodes is what a service calls its single-use codes, how many it
// gives and what they look like.
type RecoveryCodes struct {
	// Name is the service's own word, in the number it gives: "backup
	// codes" for a set, "recovery code" for a single one.
	Name string `yaml:"name"`
	// Count is how many the service gives at a time; 0 when it does not say.
	Count int `yaml:"count"`
	// Shape is one sentence on what they look like or how they work.
	Shape string `yaml:"shape"`
	Src   string `yaml:"src"`
}

// NoBackup is a service's official way back in when every factor is lost.
type NoBackup struct {
	// Path says where to start and what happens, in one or two sentences.
	Path Fact `yaml:"path"`
	// AsksFor lists what the service will ask the person to provide.
	AsksFor []Fact `yaml:"asks_for"`
	// Wait is the waiting period the service states, if any.
	Wait *Fact `yaml:"wait"`
}

// Base is the parsed, validated knowledge base. It is read-only after Load
// and safe for concurrent use.
type Base struct {
	services []*Service
	index    map[string]*Service // normalized alias → service
	// catalog holds the answers' translations; English alone for a base
	// from Parse.
	catalog *catalog
}

type file struct {
	Services []*Service `yaml:"services"`
}

// Load parses and validates the embedded services.yaml. An error means the
// data file shipped with the binary is broken, which a test catches first.
func Load() (*Base, error) {
	b, err := Parse(servicesYAML)
	if err != nil {
		return nil, err
	}
	if err := b.loadCatalog(langFiles); err != nil {
		return nil, err
	}
	return b, nil
}

// Parse parses and validates a knowledge base in the services.yaml format.
// Errors wrap ErrInvalid.
func Parse(data []byte) (*Base, error) {
	if len(data) > maxDataSize {
		return nil, fmt.Errorf("%w: data is %d bytes, limit %d", ErrInvalid, len(data), maxDataSize)
	}
	var f file
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	// A misspelt field would silently drop a fact (or its source): refuse it.
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: parse: %v", ErrInvalid, err)
	}
	if len(f.Services) == 0 {
		return nil, fmt.Errorf("%w: no services", ErrInvalid)
	}
	b := &Base{index: make(map[string]*Service), catalog: englishOnly()}
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
	for _, a := range s.Aliases {
		if a != strings.ToLower(a) {
			return fmt.Errorf("alias %q must be lower-case", a)
		}
		if normalize(a) == "" {
			return fmt.Errorf("alias %q has no letters or digits", a)
		}
	}
	if s.NotTOTP != nil && s.KeyName != nil {
		return errors.New("key_name makes no sense for a service that is not_totp")
	}
	if s.RecoveryCodes != nil {
		rc := s.RecoveryCodes
		if strings.TrimSpace(rc.Name) == "" {
			return errors.New("recovery_codes.name is required when recovery_codes is present")
		}
		if rc.Count < 0 || rc.Count > 100 {
			return fmt.Errorf("recovery_codes.count %d is out of range", rc.Count)
		}
		// The name is used as a noun phrase in sentences that depend on
		// its number ("one of your backup codes", "your recovery code").
		if rc.Count == 1 && strings.HasSuffix(rc.Name, "s") {
			return fmt.Errorf("recovery_codes.name %q is plural but count is 1", rc.Name)
		}
		if rc.Count != 1 && !strings.HasSuffix(rc.Name, "s") {
			return fmt.Errorf("recovery_codes.name %q is singular but count is %d", rc.Name, rc.Count)
		}
	}
	if s.NoBackup != nil && strings.TrimSpace(s.NoBackup.Path.Text) == "" {
		return errors.New("no_backup.path is required when no_backup is present")
	}
	return validateSources(s)
}

// validateSources enforces the data file's rule: every fact shown names a
// source, every source is a quoted https page on one of the service's own
// domains, and no source is left unused.
func validateSources(s *Service) error {
	if len(s.Domains) == 0 {
		return errors.New("domains are required: the service's own hosts its sources must be on")
	}
	for _, d := range s.Domains {
		if d != strings.ToLower(d) || strings.Contains(d, "://") || strings.TrimSpace(d) != d || d == "" {
			return fmt.Errorf("domain %q must be a lower-case host or host/path", d)
		}
	}
	if len(s.Sources) == 0 {
		return errors.New("sources are required: every fact needs a checked source")
	}
	ids := make([]string, 0, len(s.Sources))
	for id := range s.Sources {
		ids = append(ids, id)
	}
	sort.Strings(ids) // errors in a stable order
	for _, id := range ids {
		src := s.Sources[id]
		if strings.TrimSpace(src.Title) == "" || strings.TrimSpace(src.Quote) == "" {
			return fmt.Errorf("source %q needs a title and a quote of the page", id)
		}
		if err := onDomains(src.URL, s.Domains); err != nil {
			return fmt.Errorf("source %q: %v", id, err)
		}
	}
	used := map[string]bool{}
	check := func(field, text, src string) error {
		if strings.TrimSpace(text) == "" {
			return fmt.Errorf("%s is empty", field)
		}
		ids := strings.Fields(src)
		if len(ids) == 0 {
			return fmt.Errorf("%s (%q) names no source", field, text)
		}
		for _, id := range ids {
			if _, ok := s.Sources[id]; !ok {
				return fmt.Errorf("%s names source %q, which is not listed", field, id)
			}
			used[id] = true
		}
		return nil
	}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if s.NotTOTP != nil {
		add(check("not_totp", s.NotTOTP.Text, s.NotTOTP.Src))
	}
	if s.KeyName != nil {
		add(check("key_name", s.KeyName.Text, s.KeyName.Src))
	}
	if rc := s.RecoveryCodes; rc != nil {
		add(check("recovery_codes", rc.Name, rc.Src))
	}
	for i, f := range s.OtherFactors {
		add(check(fmt.Sprintf("other_factors[%d]", i), f.Text, f.Src))
	}
	if nb := s.NoBackup; nb != nil {
		add(check("no_backup.path", nb.Path.Text, nb.Path.Src))
		for i, f := range nb.AsksFor {
			add(check(fmt.Sprintf("no_backup.asks_for[%d]", i), f.Text, f.Src))
		}
		if nb.Wait != nil {
			add(check("no_backup.wait", nb.Wait.Text, nb.Wait.Src))
		}
	}
	for i, f := range s.Notes {
		add(check(fmt.Sprintf("notes[%d]", i), f.Text, f.Src))
	}
	for i, l := range s.Labels {
		add(checkLabel(s, i, l, check))
	}
	add(check("help", "help page", s.Help))
	if len(strings.Fields(s.Help)) > 1 {
		add(errors.New("help names one source, the page authbot links to"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, id := range ids {
		if !used[id] {
			return fmt.Errorf("source %q backs no fact", id)
		}
	}
	return nil
}

// checkLabel holds a localized label to the rule of every fact, and more:
// the English label must be one the facts quote, and the source page must
// show the local label word for word, since the person looks for exactly it.
func checkLabel(s *Service, i int, l Label, check func(field, text, src string) error) error {
	field := fmt.Sprintf("labels[%d]", i)
	if strings.TrimSpace(l.Text) == "" {
		return fmt.Errorf("%s.text is empty", field)
	}
	found := false
	for _, f := range translatableFacts(s) {
		if strings.Contains(f.text, `"`+l.Text+`"`) {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("%s: no fact quotes %q", field, l.Text)
	}
	if len(l.Local) == 0 {
		return fmt.Errorf("%s (%q) has no local label", field, l.Text)
	}
	tags := make([]string, 0, len(l.Local))
	for k := range l.Local {
		tags = append(tags, k)
	}
	sort.Strings(tags)
	for _, k := range tags {
		loc := l.Local[k]
		if t, err := language.Parse(k); err != nil || t.String() != k {
			return fmt.Errorf("%s.local: %q is not a canonical language tag", field, k)
		}
		if err := check(field+".local."+k, loc.Text, loc.Src); err != nil {
			return err
		}
		for _, id := range strings.Fields(loc.Src) {
			if !strings.Contains(s.Sources[id].Quote, loc.Text) {
				return fmt.Errorf("%s.local.%s: source %q does not quote %q", field, k, id, loc.Text)
			}
		}
	}
	return nil
}

// onDomains reports whether raw is an https address on one of domains: the
// host itself or a subdomain of it, and for a host/path entry, under that
// path.
func onDomains(raw string, domains []string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return fmt.Errorf("url %q is not an https address", raw)
	}
	host := strings.ToLower(u.Hostname())
	for _, d := range domains {
		dh, dp, _ := strings.Cut(d, "/")
		if host != dh && !strings.HasSuffix(host, "."+dh) {
			continue
		}
		if dp == "" {
			return nil
		}
		// A docs repository: only that repository, not the whole host.
		if host == dh && (u.Path == "/"+dp || strings.HasPrefix(u.Path, "/"+dp+"/")) {
			return nil
		}
	}
	return fmt.Errorf("url %q is not on the service's own domains %v", raw, domains)
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
