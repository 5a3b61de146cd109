package recovery

import (
	"fmt"
	"strings"
)

// State is what authbot knows about the person's account when they ask
// /recover. It carries no secret.
type State struct {
	// Name is the person's own label for the account ("binance").
	Name string
	// HaveKey is true when authbot holds the backup key for the account.
	HaveKey bool
	// Steam is true when the stored key makes Steam Guard codes, which
	// only apps with Steam Guard support can make from an exported key.
	Steam bool
	// HasRecoveryCodes is true when the person stored the service's
	// recovery codes here; RecoveryCodesLeft counts those not yet used.
	HasRecoveryCodes  bool
	RecoveryCodesLeft int
	// Confirmed is true when a code from the stored key was accepted by the
	// person's own app (/check), so the key is known to be the right one.
	Confirmed bool
}

// Guide is the /recover answer for one account, built for someone who has
// just lost a phone: Now holds what to do this minute, Then the rest in a
// few short lines, Help the service's own page. Each line is one whole
// sentence template, so a translation can reorder its words freely.
type Guide struct {
	// Service is the matched entry, nil for a service not in the base.
	Service *Service
	// Title names the service (or the person's label) and says "do this now".
	Title string
	Now   []string
	Then  []string
	// Help is the address of the service's own help page, "" when unknown.
	Help string
}

// Guide looks the account up by name and issuer and returns its advice; an
// unknown service gets the generic advice, which names no service fact.
func (b *Base) Guide(name, issuer string, st State) Guide {
	s, _ := b.Lookup(name, issuer)
	return Advice(s, st)
}

// Advice returns the guidance for service s (nil for an unknown service) in
// the person's situation st.
func Advice(s *Service, st State) Guide {
	label := cleanLabel(st.Name)
	if label == "" && s != nil {
		label = s.ID
	}
	if label == "" {
		label = "NAME"
	}
	g := Guide{Service: s}
	switch {
	case s == nil:
		g.Title = label + ": do this now"
	default:
		g.Title = s.Name + ": do this now"
		g.Help = s.Sources[s.Help].URL
	}
	switch {
	case s != nil && s.NotTOTP != nil:
		notTOTP(&g, s, st, label)
	case st.HaveKey:
		withKey(&g, s, st, label)
	default:
		withoutKey(&g, s, label)
	}
	return g
}

// scamWarning closes every answer without a key: people locked out of
// money are the targets of fake "recovery services".
const scamWarning = "Beware of anyone offering to recover the account for you."

func withKey(g *Guide, s *Service, st State, label string) {
	g.Now = append(g.Now, fmt.Sprintf("Nothing is lost: /code %s still works; to move it to your new phone, /export %s.", label, label))
	if st.Steam {
		g.Now = append(g.Now, "Only apps that support Steam Guard (Aegis, 2FAS…) make its codes; Google Authenticator makes wrong ones.")
	}
	if !st.Confirmed {
		g.Then = append(g.Then, fmt.Sprintf("This key was never checked: sign in once with a code from /code %s to be sure it is the right one.", label))
	}
	if !st.Steam {
		if s != nil {
			g.Then = append(g.Then, fmt.Sprintf("The lost phone still makes valid codes: when you can, set up two-step login at %s again with a new key, add it here and /del the old one.", s.Name))
		} else {
			g.Then = append(g.Then, "The lost phone still makes valid codes: when you can, set up two-step login at the service again with a new key, add it here and /del the old one.")
		}
	}
	if s != nil && s.RecoveryCodes != nil {
		rc := s.RecoveryCodes
		switch {
		case st.HasRecoveryCodes && st.RecoveryCodesLeft > 0:
			g.Then = append(g.Then, fmt.Sprintf("%s stored here, unused: %d. After using one, send /recover %s used CODE.", upperFirst(rc.Name), st.RecoveryCodesLeft, label))
		case st.HasRecoveryCodes:
			g.Then = append(g.Then, fmt.Sprintf("%s stored here, unused: none. Make new ones at %s.", upperFirst(rc.Name), s.Name))
		case rc.Count == 1:
			g.Then = append(g.Then, fmt.Sprintf("Keep %s's %s too: on paper, or here with /recovery-codes %s CODE.", s.Name, rc.Name, label))
		case rc.Count > 1:
			g.Then = append(g.Then, fmt.Sprintf("Keep %s's %d %s too: on paper, or here with /recovery-codes %s CODE1 CODE2 …", s.Name, rc.Count, rc.Name, label))
		default:
			g.Then = append(g.Then, fmt.Sprintf("Keep %s's %s too: on paper, or here with /recovery-codes %s CODE1 CODE2 …", s.Name, rc.Name, label))
		}
	}
	g.Then = append(g.Then, "Codes rejected? Check that the new phone and the computer authbot runs on set date and time automatically.")
}

func withoutKey(g *Guide, s *Service, label string) {
	cloud := fmt.Sprintf("First: if your old authenticator app had cloud backup or sync, sign in to it on the new phone; if you wrote down the key from setup, /add %s KEY.", label)
	if s != nil && s.KeyName != nil {
		cloud = fmt.Sprintf("First: if your old authenticator app had cloud backup or sync, sign in to it on the new phone; if you wrote down %s's %q, /add %s KEY.", s.Name, s.KeyName.Text, label)
	}
	if s == nil {
		g.Now = append(g.Now,
			fmt.Sprintf("authbot holds no key for %s. Sign in as usual and, when asked for the code, look for the service's own link for a lost phone or for recovery codes.", label))
		g.Then = append(g.Then,
			cloud,
			"Saved recovery codes, another method you set up (text message, passkey, security key) or a device where you are still signed in may get you in.",
			"Some services cannot reset two-step login at all: do not delete the account or the old app before you have read the service's own help pages.",
			scamWarning)
		return
	}
	rc := s.RecoveryCodes
	codesFirst := false
	switch {
	case s.NoBackup != nil:
		g.Now = append(g.Now, s.NoBackup.Path.Text)
	case rc != nil:
		codesFirst = true
		g.Now = append(g.Now, codesLine(s))
	default:
		g.Now = append(g.Now, fmt.Sprintf("Follow the official %s help page for a lost authenticator, linked below.", s.Name))
	}
	g.Then = append(g.Then, cloud)
	if rc != nil && !codesFirst {
		// A path that already says where the codes go needs only what
		// they look like.
		if strings.Contains(strings.ToLower(s.NoBackup.Path.Text), strings.TrimSuffix(strings.ToLower(rc.Name), "s")) {
			if rc.Shape != "" {
				g.Then = append(g.Then, upperFirst(rc.Name)+": "+rc.Shape)
			}
		} else {
			g.Then = append(g.Then, codesLine(s))
		}
	}
	if len(s.OtherFactors) > 0 {
		g.Then = append(g.Then, fmt.Sprintf("Other ways in, if you set them up: %s.", joinFacts(s.OtherFactors)))
	}
	if nb := s.NoBackup; nb != nil {
		if len(nb.AsksFor) > 0 {
			g.Then = append(g.Then, fmt.Sprintf("%s may ask for %s.", s.Name, joinFacts(nb.AsksFor)))
		}
		if nb.Wait != nil {
			g.Then = append(g.Then, nb.Wait.Text)
		}
	}
	for _, n := range s.Notes {
		g.Then = append(g.Then, n.Text)
	}
	g.Then = append(g.Then, scamWarning)
}

// codesLine tells how to sign in with the service's recovery codes, in the
// number the service gives them.
func codesLine(s *Service) string {
	rc := s.RecoveryCodes
	var l string
	if rc.Count == 1 {
		l = fmt.Sprintf("Saved %s's %s? Enter it instead of the app code.", s.Name, rc.Name)
	} else {
		l = fmt.Sprintf("Saved %s's %s? Enter one instead of the app code.", s.Name, rc.Name)
	}
	if rc.Shape != "" {
		l += " " + upperFirst(rc.Shape)
	}
	return l
}

// notTOTP covers services such as Apple whose second factor is not a key an
// authenticator app holds: there is nothing to keep or export.
func notTOTP(g *Guide, s *Service, st State, label string) {
	if s.NoBackup != nil {
		g.Now = append(g.Now, s.NoBackup.Path.Text)
	} else {
		g.Now = append(g.Now, fmt.Sprintf("Follow the official %s help page, linked below.", s.Name))
	}
	if st.HaveKey {
		g.Then = append(g.Then, s.NotTOTP.Text+fmt.Sprintf(" So the key stored as %s is not for %s's sign-in.", label, s.Name))
	} else {
		g.Then = append(g.Then, s.NotTOTP.Text+fmt.Sprintf(" authbot cannot hold a key for %s.", s.Name))
	}
	if len(s.OtherFactors) > 0 {
		for _, f := range s.OtherFactors {
			g.Then = append(g.Then, f.Text)
		}
	}
	if rc := s.RecoveryCodes; rc != nil && rc.Shape != "" {
		g.Then = append(g.Then, upperFirst(rc.Shape))
	}
	if nb := s.NoBackup; nb != nil {
		if len(nb.AsksFor) > 0 {
			g.Then = append(g.Then, fmt.Sprintf("%s may ask for %s.", s.Name, joinFacts(nb.AsksFor)))
		}
		if nb.Wait != nil {
			g.Then = append(g.Then, nb.Wait.Text)
		}
	}
	for _, n := range s.Notes {
		g.Then = append(g.Then, n.Text)
	}
	g.Then = append(g.Then, scamWarning)
}

func joinFacts(fs []Fact) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Text
	}
	return strings.Join(parts, "; ")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Text renders the guide as the plain text authbot sends: the title, the
// "do this now" lines, then the rest as bullets and the help link. It holds
// no Markdown; every line is a whole sentence.
func (g Guide) Text() string {
	var b strings.Builder
	b.WriteString(g.Title)
	for _, l := range g.Now {
		b.WriteString("\n" + l)
	}
	if len(g.Then) > 0 || g.Help != "" {
		b.WriteString("\n")
	}
	for _, l := range g.Then {
		b.WriteString("\n• " + l)
	}
	if g.Help != "" {
		b.WriteString("\n• Official help: " + g.Help)
	}
	return b.String()
}
