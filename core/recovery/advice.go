package recovery

import (
	"strconv"
	"strings"

	"github.com/authbot/authbot/lang"
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
	// Lang is the language the answer is written in.
	Lang lang.Tag
	// Title names the service (or the person's label) and says "do this now".
	Title string
	Now   []string
	Then  []string
	// Help is the address of the service's own help page, "" when unknown.
	Help string
	// QuotedEnglish is set when an answer in another language than English
	// quotes service words in English, and says so in its last line.
	QuotedEnglish bool
	// helpLine is the last line, the help page in the answer's language.
	helpLine string
}

// Guide looks the account up by name and issuer and returns its advice in
// lang, or the closest language there are translations for (Match); an
// unknown service gets the generic advice, which names no service fact.
func (b *Base) Guide(t lang.Tag, name, issuer string, st State) Guide {
	s, _ := b.Lookup(name, issuer)
	return b.Advice(t, s, st)
}

// Advice returns the guidance for service s (nil for an unknown service) in
// the person's situation st, in lang (see Guide).
func (b *Base) Advice(t lang.Tag, s *Service, st State) Guide {
	return advice(newWords(b, t, s), s, st)
}

func advice(w *words, s *Service, st State) Guide {
	label := cleanLabel(st.Name)
	if label == "" && s != nil {
		label = s.ID
	}
	if label == "" {
		label = "NAME"
	}
	g := Guide{Service: s, Lang: lang.Tag(w.lang.String())}
	d := map[string]any{"Label": label}
	if s != nil {
		d["Service"] = s.Name
		if rc := s.RecoveryCodes; rc != nil {
			d["Codes"], d["CodesCap"] = rc.Name, upperFirst(rc.Name)
		}
		if s.KeyName != nil {
			d["KeyName"] = s.KeyName.Text
		}
	}
	switch {
	case s == nil:
		g.Title = w.msg(msgTitle, map[string]any{"Service": label})
	default:
		g.Title = w.msg(msgTitle, d)
		g.Help = s.Sources[s.Help].URL
	}
	switch {
	case s != nil && s.NotTOTP != nil:
		notTOTP(w, &g, s, st, d)
	case st.HaveKey:
		withKey(w, &g, s, st, d)
	default:
		withoutKey(w, &g, s, d)
	}
	if w.quotedEnglish() {
		g.QuotedEnglish = true
		g.Then = append(g.Then, w.msg(msgQuotedEnglish, d))
	}
	if g.Help != "" {
		g.helpLine = w.msg(msgHelp, map[string]any{"URL": g.Help})
	}
	return g
}

// with returns d with one more slot, leaving d as it was.
func with(d map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(d)+1)
	for dk, dv := range d {
		out[dk] = dv
	}
	out[k] = v
	return out
}

func withKey(w *words, g *Guide, s *Service, st State, d map[string]any) {
	g.Now = append(g.Now, w.msg(msgKeyNow, d))
	if st.Steam {
		g.Now = append(g.Now, w.msg(msgKeySteam, d))
	}
	if !st.Confirmed {
		g.Then = append(g.Then, w.msg(msgKeyUnchecked, d))
	}
	if !st.Steam {
		if s != nil {
			g.Then = append(g.Then, w.msg(msgRekey, d))
		} else {
			g.Then = append(g.Then, w.msg(msgRekeyGeneric, d))
		}
	}
	if s != nil && s.RecoveryCodes != nil {
		rc := s.RecoveryCodes
		switch {
		case st.HasRecoveryCodes && st.RecoveryCodesLeft > 0:
			g.Then = append(g.Then, w.msg(msgCodesLeft, with(d, "Count", st.RecoveryCodesLeft)))
		case st.HasRecoveryCodes:
			g.Then = append(g.Then, w.msg(msgCodesNone, d))
		case rc.Count == 1:
			g.Then = append(g.Then, w.msg(msgKeepOne, d))
		case rc.Count > 1:
			g.Then = append(g.Then, w.plural(msgKeepCount, with(d, "Count", rc.Count), rc.Count))
		default:
			g.Then = append(g.Then, w.msg(msgKeepSome, d))
		}
	}
	g.Then = append(g.Then, w.msg(msgClock, d))
}

func withoutKey(w *words, g *Guide, s *Service, d map[string]any) {
	cloud := msgCloud
	if s != nil && s.KeyName != nil {
		cloud = msgCloudNamed
	}
	if s == nil {
		g.Now = append(g.Now, w.msg(msgUnknownNow, d))
		g.Then = append(g.Then,
			w.msg(cloud, d),
			w.msg(msgUnknownWays, d),
			w.msg(msgUnknownNoReset, d),
			w.msg(msgScam, d))
		return
	}
	rc := s.RecoveryCodes
	codesFirst := false
	switch {
	case s.NoBackup != nil:
		g.Now = append(g.Now, w.fact("no_backup.path", s.NoBackup.Path.Text))
	case rc != nil:
		codesFirst = true
		g.Now = append(g.Now, codesLine(w, s, d))
	default:
		g.Now = append(g.Now, w.msg(msgFollowLost, d))
	}
	g.Then = append(g.Then, w.msg(cloud, d))
	if rc != nil && !codesFirst {
		// A path that already says where the codes go needs only what
		// they look like.
		if strings.Contains(strings.ToLower(s.NoBackup.Path.Text), strings.TrimSuffix(strings.ToLower(rc.Name), "s")) {
			if rc.Shape != "" {
				g.Then = append(g.Then, w.msg(msgCodesShape, with(d, "Shape", w.fact("recovery_codes.shape", rc.Shape))))
			}
		} else {
			g.Then = append(g.Then, codesLine(w, s, d))
		}
	}
	if len(s.OtherFactors) > 0 {
		g.Then = append(g.Then, w.msg(msgOtherWays, with(d, "List", joinFacts(w, "other_factors", s.OtherFactors))))
	}
	noBackupLines(w, g, s, d)
	for i, n := range s.Notes {
		g.Then = append(g.Then, w.fact(field("notes", i), n.Text))
	}
	g.Then = append(g.Then, w.msg(msgScam, d))
}

// noBackupLines adds what the service asks for and how long it makes the
// person wait.
func noBackupLines(w *words, g *Guide, s *Service, d map[string]any) {
	nb := s.NoBackup
	if nb == nil {
		return
	}
	if len(nb.AsksFor) > 0 {
		g.Then = append(g.Then, w.msg(msgAsksFor, with(d, "List", joinFacts(w, "no_backup.asks_for", nb.AsksFor))))
	}
	if nb.Wait != nil {
		g.Then = append(g.Then, w.fact("no_backup.wait", nb.Wait.Text))
	}
}

// codesLine tells how to sign in with the service's recovery codes, in the
// number the service gives them.
func codesLine(w *words, s *Service, d map[string]any) string {
	rc := s.RecoveryCodes
	var l string
	if rc.Count == 1 {
		l = w.msg(msgUseIt, d)
	} else {
		l = w.msg(msgUseOne, d)
	}
	if rc.Shape != "" {
		l += " " + upperFirst(w.fact("recovery_codes.shape", rc.Shape))
	}
	return l
}

// notTOTP covers services such as Apple whose second factor is not a key an
// authenticator app holds: there is nothing to keep or export.
func notTOTP(w *words, g *Guide, s *Service, st State, d map[string]any) {
	if s.NoBackup != nil {
		g.Now = append(g.Now, w.fact("no_backup.path", s.NoBackup.Path.Text))
	} else {
		g.Now = append(g.Now, w.msg(msgFollow, d))
	}
	how := w.fact("not_totp", s.NotTOTP.Text)
	if st.HaveKey {
		g.Then = append(g.Then, how+" "+w.msg(msgNotTOTPKey, d))
	} else {
		g.Then = append(g.Then, how+" "+w.msg(msgNotTOTPNoKey, d))
	}
	for i, f := range s.OtherFactors {
		g.Then = append(g.Then, w.fact(field("other_factors", i), f.Text))
	}
	if rc := s.RecoveryCodes; rc != nil && rc.Shape != "" {
		g.Then = append(g.Then, upperFirst(w.fact("recovery_codes.shape", rc.Shape)))
	}
	noBackupLines(w, g, s, d)
	for i, n := range s.Notes {
		g.Then = append(g.Then, w.fact(field("notes", i), n.Text))
	}
	g.Then = append(g.Then, w.msg(msgScam, d))
}

func field(list string, i int) string { return list + "." + strconv.Itoa(i) }

func joinFacts(w *words, list string, fs []Fact) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = w.fact(field(list, i), f.Text)
	}
	return strings.Join(parts, w.msg(msgListSep, nil))
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
	if g.helpLine != "" {
		b.WriteString("\n• " + g.helpLine)
	} else if g.Help != "" {
		b.WriteString("\n• Official help: " + g.Help)
	}
	return b.String()
}
