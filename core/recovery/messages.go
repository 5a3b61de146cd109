package recovery

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/nicksnyder/go-i18n/v2/i18n/template"
	"golang.org/x/text/language"

	"github.com/authbot/authbot/lang"
)

// The frame of every answer: each message is one whole sentence (or the
// title, or the help line) with named slots, so a translation may order
// its words as its language needs. Slots:
//
//	.Service   the service's name ("Binance")
//	.Label     the person's label for the account ("binance")
//	.Codes     the service's own word for its recovery codes ("backup codes")
//	.CodesCap  the same with a capital first letter
//	.KeyName   the service's own word for the backup key ("setup key")
//	.Count     a number; messages with plural forms choose by it
//	.List      facts joined by "; "
//	.Shape     a translated fact on what the codes look like
//	.URL       the service's help page
var (
	msgTitle = &i18n.Message{ID: "recover.title",
		Other: "{{.Service}}: do this now"}
	msgKeyNow = &i18n.Message{ID: "recover.key.now",
		Other: "Nothing is lost: /code {{.Label}} still works; to move it to your new phone, /export {{.Label}}."}
	msgKeySteam = &i18n.Message{ID: "recover.key.steam",
		Other: "Only apps that support Steam Guard (Aegis, 2FAS…) make its codes; Google Authenticator makes wrong ones."}
	msgKeyUnchecked = &i18n.Message{ID: "recover.key.unchecked",
		Other: "This key was never checked: sign in once with a code from /code {{.Label}} to be sure it is the right one."}
	msgRekey = &i18n.Message{ID: "recover.key.rekey",
		Other: "The lost phone still makes valid codes: when you can, set up two-step login at {{.Service}} again with a new key, add it here and /del the old one."}
	msgRekeyGeneric = &i18n.Message{ID: "recover.key.rekey_generic",
		Other: "The lost phone still makes valid codes: when you can, set up two-step login at the service again with a new key, add it here and /del the old one."}
	msgCodesLeft = &i18n.Message{ID: "recover.codes.left",
		Other: "{{.CodesCap}} stored here, unused: {{.Count}}. After using one, send /recover {{.Label}} used CODE."}
	msgCodesNone = &i18n.Message{ID: "recover.codes.none",
		Other: "{{.CodesCap}} stored here, unused: none. Make new ones at {{.Service}}."}
	msgKeepOne = &i18n.Message{ID: "recover.codes.keep_one",
		Other: "Keep {{.Service}}'s {{.Codes}} too: on paper, or here with /recovery-codes {{.Label}} CODE."}
	msgKeepCount = &i18n.Message{ID: "recover.codes.keep_count",
		One:   "Keep {{.Service}}'s {{.Count}} {{.Codes}} too: on paper, or here with /recovery-codes {{.Label}} CODE1 CODE2 …",
		Other: "Keep {{.Service}}'s {{.Count}} {{.Codes}} too: on paper, or here with /recovery-codes {{.Label}} CODE1 CODE2 …"}
	msgKeepSome = &i18n.Message{ID: "recover.codes.keep_some",
		Other: "Keep {{.Service}}'s {{.Codes}} too: on paper, or here with /recovery-codes {{.Label}} CODE1 CODE2 …"}
	msgClock = &i18n.Message{ID: "recover.clock",
		Other: "Codes rejected? Check that the new phone and the computer authbot runs on set date and time automatically."}
	msgCloud = &i18n.Message{ID: "recover.cloud",
		Other: "First: if your old authenticator app had cloud backup or sync, sign in to it on the new phone; if you wrote down the key from setup, /add {{.Label}} KEY."}
	msgCloudNamed = &i18n.Message{ID: "recover.cloud_named",
		Other: "First: if your old authenticator app had cloud backup or sync, sign in to it on the new phone; if you wrote down {{.Service}}'s \"{{.KeyName}}\", /add {{.Label}} KEY."}
	msgUnknownNow = &i18n.Message{ID: "recover.unknown.now",
		Other: "authbot holds no key for {{.Label}}. Sign in as usual and, when asked for the code, look for the service's own link for a lost phone or for recovery codes."}
	msgUnknownWays = &i18n.Message{ID: "recover.unknown.ways",
		Other: "Saved recovery codes, another method you set up (text message, passkey, security key) or a device where you are still signed in may get you in."}
	msgUnknownNoReset = &i18n.Message{ID: "recover.unknown.no_reset",
		Other: "Some services cannot reset two-step login at all: do not delete the account or the old app before you have read the service's own help pages."}
	msgScam = &i18n.Message{ID: "recover.scam",
		Other: "Beware of anyone offering to recover the account for you."}
	msgFollowLost = &i18n.Message{ID: "recover.follow_lost",
		Other: "Follow the official {{.Service}} help page for a lost authenticator, linked below."}
	msgCodesShape = &i18n.Message{ID: "recover.codes.shape",
		Other: "{{.CodesCap}}: {{.Shape}}"}
	msgUseIt = &i18n.Message{ID: "recover.codes.use_it",
		Other: "Saved {{.Service}}'s {{.Codes}}? Enter it instead of the app code."}
	msgUseOne = &i18n.Message{ID: "recover.codes.use_one",
		Other: "Saved {{.Service}}'s {{.Codes}}? Enter one instead of the app code."}
	msgOtherWays = &i18n.Message{ID: "recover.other_ways",
		Other: "Other ways in, if you set them up: {{.List}}."}
	msgAsksFor = &i18n.Message{ID: "recover.asks_for",
		Other: "{{.Service}} may ask for {{.List}}."}
	msgFollow = &i18n.Message{ID: "recover.follow",
		Other: "Follow the official {{.Service}} help page, linked below."}
	msgNotTOTPKey = &i18n.Message{ID: "recover.not_totp.key",
		Other: "So the key stored as {{.Label}} is not for {{.Service}}'s sign-in."}
	msgNotTOTPNoKey = &i18n.Message{ID: "recover.not_totp.no_key",
		Other: "authbot cannot hold a key for {{.Service}}."}
	msgHelp = &i18n.Message{ID: "recover.help",
		Other: "Official help: {{.URL}}"}
	// msgQuotedEnglish is shown only in a translated answer that quotes a
	// service's word in English: the person must find that exact button,
	// and may see it in English or in their own language.
	msgQuotedEnglish = &i18n.Message{ID: "recover.quoted_english",
		Other: "Words in quotes are {{.Service}}'s buttons and terms as its English help pages spell them."}
	msgListSep = &i18n.Message{ID: "recover.list_sep",
		Other: "; "}
)

// frameMessages are all of the above, for the translation files' checks.
var frameMessages = []*i18n.Message{
	msgTitle, msgKeyNow, msgKeySteam, msgKeyUnchecked, msgRekey, msgRekeyGeneric,
	msgCodesLeft, msgCodesNone, msgKeepOne, msgKeepCount, msgKeepSome, msgClock,
	msgCloud, msgCloudNamed, msgUnknownNow, msgUnknownWays, msgUnknownNoReset, msgScam,
	msgFollowLost, msgCodesShape, msgUseIt, msgUseOne, msgOtherWays, msgAsksFor,
	msgFollow, msgNotTOTPKey, msgNotTOTPNoKey, msgHelp, msgQuotedEnglish, msgListSep,
}

// strict makes a slot a translation names but the sentence does not fill
// an error (then English is shown) instead of "<no value>" in a chat.
var strict = &template.TextParser{Option: "missingkey=error"}

// words renders one answer's sentences in one language.
type words struct {
	lang language.Tag
	loc  *i18n.Localizer
	// english0 renders the English source, the fallback of a broken
	// translation.
	english0 *i18n.Localizer
	svc      *Service
	// english is every service word left in English in what was rendered
	// (quoted labels, the service's names for its key and codes).
	english map[string]bool
}

func newWords(b *Base, t lang.Tag, s *Service) *words {
	w := &words{svc: s, english: map[string]bool{}}
	w.lang = b.match(language.Make(string(t)))
	w.loc = b.catalog.localizer(w.lang)
	w.english0 = b.catalog.localizer(sourceLang)
	return w
}

// msg renders a frame sentence. Slots hold the person's label and the
// service's names, never a template: go-i18n executes only the message.
func (w *words) msg(m *i18n.Message, data map[string]any) string {
	return w.plural(m, data, nil)
}

func (w *words) plural(m *i18n.Message, data map[string]any, count any) string {
	cfg := &i18n.LocalizeConfig{DefaultMessage: m, TemplateData: data, PluralCount: count, TemplateParser: strict}
	out, tag, err := w.loc.LocalizeWithTag(cfg)
	if err != nil && (out == "" || tag != sourceLang) {
		// A translation that does not execute (a slot it names that this
		// sentence has not) is a bug the tests catch; meanwhile the
		// English source reads, never a broken sentence.
		out, _ = w.english0.Localize(cfg)
	}
	if w.svc != nil {
		for _, k := range []string{"Codes", "CodesCap", "KeyName"} {
			if v, ok := data[k].(string); ok && v != "" && strings.Contains(out, v) {
				w.english[v] = true
			}
		}
	}
	return w.localLabels(out)
}

// fact renders one of the service's facts: its translation when there is
// one made from the current English text, else the English text.
func (w *words) fact(field, english string) string {
	out := english
	if w.lang != sourceLang && w.svc != nil {
		id := "fact." + w.svc.ID + "." + field
		// The English text has no template actions ("{{"), so go-i18n
		// returns it as it is when no translation matches.
		if t, err := w.loc.Localize(&i18n.LocalizeConfig{DefaultMessage: &i18n.Message{ID: id, Other: english}}); err == nil || t != "" {
			out = t
		}
	}
	if w.lang != sourceLang && w.svc != nil {
		// A word the translation quotes as the English has it is the
		// service's own, left in English.
		for _, q := range quoted(out) {
			if strings.Contains(english, q) {
				w.english[q] = true
			}
		}
	}
	return w.localLabels(out)
}

// localLabels puts the service's own localized button names, where
// services.yaml has them for this language, in place of the English ones.
func (w *words) localLabels(s string) string {
	if w.svc == nil || w.lang == sourceLang {
		return s
	}
	for _, l := range w.svc.Labels {
		loc, ok := l.Local[w.lang.String()]
		if !ok || !strings.Contains(s, l.Text) {
			continue
		}
		s = strings.ReplaceAll(s, l.Text, loc.Text)
		delete(w.english, l.Text)
	}
	return s
}

// quotedEnglish reports whether the answer, in a language other than
// English, still shows a service word in English.
func (w *words) quotedEnglish() bool {
	if w.lang == sourceLang || w.svc == nil {
		return false
	}
	for _, l := range w.svc.Labels {
		if _, ok := l.Local[w.lang.String()]; ok {
			delete(w.english, l.Text)
		}
	}
	return len(w.english) > 0
}

var quotedRE = regexp.MustCompile(`["«„“]([^"«»„“”]+)["»“”]`)

// quoted returns the texts a fact puts in double quotes: the service's
// own button and menu names.
func quoted(s string) []string {
	var out []string
	for _, m := range quotedRE.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// upperFirst capitalizes the first letter, in any script.
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
