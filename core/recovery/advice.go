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
	// HasRecoveryCodes is true when the person told authbot they saved the
	// service's recovery codes; RecoveryCodesLeft counts those not yet used
	// (0 with HasRecoveryCodes true means "saved, count not tracked").
	HasRecoveryCodes  bool
	RecoveryCodesLeft int
	// Confirmed is true when a code from the stored key was accepted by the
	// service, so the key is known to be the right one.
	Confirmed bool
}

// Section is one block of advice: a short title and plain-text lines. The
// text holds no Markdown; adapters decide how to render it.
type Section struct {
	Title string
	Lines []string
}

// Guide is the full /recover answer for one account: the matched service
// (nil when the service is not in the knowledge base) and its sections.
type Guide struct {
	Service  *Service
	Title    string
	Sections []Section
}

// Guide looks the account up by name and issuer and returns its advice; an
// unknown service gets the generic advice, which names no service fact.
func (b *Base) Guide(name, issuer string, st State) Guide {
	s, _ := b.Lookup(name, issuer)
	title := "Recovery guide"
	if s != nil {
		title = "Recovery guide for " + s.Name
	} else if l := cleanLabel(st.Name); l != "" {
		title = "Recovery guide for " + l
	}
	return Guide{Service: s, Title: title, Sections: b.Advice(s, st)}
}

// Advice returns the guidance for service s (nil for an unknown service) in
// the person's situation st, in this order: the backup key, a lost phone
// with the key still here, recovery codes, everything lost, and codes that
// are rejected though nothing is lost.
func (b *Base) Advice(s *Service, st State) []Section {
	label := cleanLabel(st.Name)
	if label == "" && s != nil {
		label = s.ID
	}
	if label == "" {
		label = "NAME"
	}
	svc := "the service"
	if s != nil {
		svc = s.Name
	}
	if s != nil && s.NotTOTP {
		return notTOTPAdvice(s, st, label)
	}
	out := []Section{
		keySection(s, st, svc, label),
		lostPhoneSection(st, svc, label),
		codesSection(s, st, svc),
		noBackupSection(s, svc),
		clockSection(st, label),
	}
	return out
}

func keySection(s *Service, st State, svc, label string) Section {
	var lines []string
	if s != nil && s.KeyName != "" {
		lines = append(lines, fmt.Sprintf("At %s the backup key is called the %q: the text behind the QR code shown when you turned on the authenticator app.", svc, s.KeyName))
	} else {
		lines = append(lines, "The backup key is the text behind the QR code shown when you turned on the authenticator app. Services call it the secret key, setup key or backup key.")
	}
	lines = append(lines,
		"Whoever holds it can make valid codes: it restores 2FA on a new device.",
		"It does not replace your password.")
	switch {
	case st.HaveKey && st.Confirmed:
		lines = append(lines, fmt.Sprintf("authbot holds this key for %s, and %s has accepted a code made from it.", label, svc))
	case st.HaveKey:
		lines = append(lines, fmt.Sprintf("authbot holds this key for %s. Sign in once with a code from /code %s to be sure it is the right key.", label, label))
	default:
		lines = append(lines, fmt.Sprintf("authbot does not hold a key for %s.", label))
	}
	return Section{Title: "Your backup key", Lines: lines}
}

func lostPhoneSection(st State, svc, label string) Section {
	if !st.HaveKey {
		return Section{Title: "Lost your phone?", Lines: []string{
			"authbot has no key for this account, so it cannot make codes for it.",
			"If another device still has the authenticator entry, use it now and move the key to authbot.",
			"Otherwise use your recovery codes or another sign-in method (below).",
		}}
	}
	return Section{Title: "Lost your phone?", Lines: []string{
		fmt.Sprintf("Nothing is lost: /code %s still works now.", label),
		fmt.Sprintf("To use a new phone, send /export %s and scan the QR code with the new authenticator app.", label),
		fmt.Sprintf("Then consider setting up 2FA again at %s with a new key: the old phone may be in someone else's hands, and it still makes valid codes.", svc),
		"If you do, add the new key to authbot and delete the old entry.",
	}}
}

func codesSection(s *Service, st State, svc string) Section {
	var lines []string
	if s != nil && s.RecoveryCodes != nil {
		l := fmt.Sprintf("%s calls its one-time codes %q.", svc, s.RecoveryCodes.Name)
		if s.RecoveryCodes.Shape != "" {
			l += " " + s.RecoveryCodes.Shape
		}
		lines = append(lines, l)
	} else if s == nil {
		lines = append(lines, "Many services give single-use recovery codes (also called backup codes) when 2FA is turned on.")
	}
	switch {
	case st.HasRecoveryCodes && st.RecoveryCodesLeft > 0:
		lines = append(lines, fmt.Sprintf("You have %d unused recovery %s left.", st.RecoveryCodesLeft, plural(st.RecoveryCodesLeft, "code", "codes")))
	case st.HasRecoveryCodes:
		lines = append(lines, "You told authbot you saved recovery codes.")
	}
	lines = append(lines, "Keep recovery codes apart from the backup key: if both sit in one place, one theft opens both factors.")
	if s != nil && len(s.OtherFactors) > 0 {
		lines = append(lines, fmt.Sprintf("Other ways %s accepts: %s.", svc, strings.Join(s.OtherFactors, "; ")))
	}
	return Section{Title: "Recovery codes and other sign-in methods", Lines: lines}
}

func noBackupSection(s *Service, svc string) Section {
	title := "Phone and key both gone?"
	if s == nil || s.NoBackup == nil {
		lines := []string{
			"Try, in this order: saved recovery codes; another method you set up (text message, passkey, security key, a second app); a device where you are still signed in.",
			"If none is left, look on the sign-in page for an account recovery or lost-2FA link and follow the service's own help pages.",
			"Expect identity checks and a waiting period. Be wary of anyone offering to recover the account for you.",
		}
		if s != nil && len(s.Help) > 0 {
			lines = append(lines, "Help pages to search for: "+quoteJoin(s.Help)+".")
		}
		lines = append(lines, "Once back in: set up 2FA again with a new key, save new recovery codes apart from it, and sign out other sessions.")
		return Section{Title: title, Lines: lines}
	}
	nb := s.NoBackup
	lines := []string{nb.Path}
	if len(nb.AsksFor) > 0 {
		lines = append(lines, fmt.Sprintf("%s may ask for: %s.", svc, strings.Join(nb.AsksFor, "; ")))
	}
	if nb.Wait != "" {
		lines = append(lines, nb.Wait)
	}
	if len(s.Help) > 0 {
		lines = append(lines, fmt.Sprintf("%s help pages: %s.", svc, quoteJoin(s.Help)))
	}
	lines = append(lines, s.Notes...)
	lines = append(lines, "Once back in: set up 2FA again with a new key, save new recovery codes apart from it, and sign out other sessions.")
	return Section{Title: title, Lines: lines}
}

func clockSection(st State, label string) Section {
	lines := []string{
		"Codes depend on the clock: check that the phone's date, time and time zone are set automatically.",
		"Check that you use the entry for the right account.",
	}
	if st.HaveKey {
		lines = append(lines, fmt.Sprintf("Compare with /code %s: authbot keeps its own clock.", label))
	}
	return Section{Title: "Codes rejected but nothing lost?", Lines: lines}
}

// notTOTPAdvice covers services such as Apple whose second factor is not an
// authenticator-app code: there is no key to hold or export.
func notTOTPAdvice(s *Service, st State, label string) []Section {
	first := []string{
		fmt.Sprintf("%s does not use authenticator-app codes, so there is no backup key for authbot to keep.", s.Name),
	}
	first = append(first, s.OtherFactors...)
	if st.HaveKey {
		first = append(first, fmt.Sprintf("The key stored as %s is not used by %s's own sign-in; check what it belongs to.", label, s.Name))
	}
	out := []Section{{Title: "How " + s.Name + " verifies you", Lines: first}}
	if s.RecoveryCodes != nil {
		var lines []string
		if s.RecoveryCodes.Shape != "" {
			lines = append(lines, s.RecoveryCodes.Shape)
		}
		lines = append(lines, "Keep it apart from your password and your devices.")
		out = append(out, Section{Title: upperFirst(s.RecoveryCodes.Name), Lines: lines})
	}
	nb := noBackupSection(s, s.Name)
	nb.Title = "Locked out?"
	// The closing line about new keys and codes does not fit a service
	// without authenticator codes; say what to check there instead.
	nb.Lines[len(nb.Lines)-1] = "Once back in: check your trusted devices and phone numbers, and sign out devices you do not recognise."
	out = append(out, nb)
	return out
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func quoteJoin(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "\"" + s + "\""
	}
	return strings.Join(q, ", ")
}

// Text renders sections as plain text, a title line followed by its lines,
// sections separated by a blank line. Adapters may render them otherwise.
func Text(sections []Section) string {
	var sb strings.Builder
	for i, s := range sections {
		if i > 0 {
			sb.WriteString("\n")
		}
		sb.WriteString(s.Title)
		sb.WriteString("\n")
		for _, l := range s.Lines {
			sb.WriteString("- ")
			sb.WriteString(l)
			sb.WriteString("\n")
		}
	}
	return sb.String()
}
