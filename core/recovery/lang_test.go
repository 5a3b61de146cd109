package recovery

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/authbot/authbot/lang"
)

var updateLang = flag.Bool("update-lang", false,
	"rewrite lang/*.yaml in source order with each entry's English as a comment, and hash entries that have no hash yet")

// TestTranslationsComplete: every frame sentence and every fact authbot
// wrote itself has a translation in every language, made from the English
// text as it is now. The failure lists each gap with the English to
// translate and the hash the entry must carry.
func TestTranslationsComplete(t *testing.T) {
	b := loadBase(t)
	have := map[string]bool{}
	for _, tag := range b.catalog.tags {
		have[tag.String()] = true
	}
	for _, tag := range lang.All()[1:] {
		if !have[tag.String()] {
			t.Errorf("no translation file lang/%s.yaml", tag)
		}
	}
	gaps := b.Gaps()
	if len(gaps) == 0 {
		return
	}
	byKind := map[string]int{}
	for _, g := range gaps {
		byKind[g.Kind]++
	}
	const show = 40
	var sb strings.Builder
	for i, g := range gaps {
		if i == show {
			fmt.Fprintf(&sb, "… and %d more\n", len(gaps)-show)
			break
		}
		sb.WriteString(g.String() + "\n")
	}
	t.Errorf("%d translations not shown %v (translate, then go test ./core/recovery -update-lang to hash new entries):\n%s", len(gaps), byKind, sb.String())
}

var (
	slotRE    = regexp.MustCompile(`\{\{\s*\.?(\w+)\s*\}\}`)
	commandRE = regexp.MustCompile(`(^|\s)(/[a-z][a-z-]*)`)
	// keptRE finds what a translation must carry over unchanged: web and
	// mail addresses, numbers, words in capitals the person types (CODE,
	// KEY), and product names with digits (2FAS).
	keptRE = regexp.MustCompile(`https?://\S+[^\s.,;)]|[\w.+-]+@[\w-]+(\.[\w-]+)+|\b[A-Z][A-Z0-9]*[0-9]+[A-Z0-9]*\b|\b[0-9]+\b|\bCODE[0-9]?\b|\bKEY\b`)
)

func slots(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range slotRE.FindAllStringSubmatch(s, -1) {
		// The service's word for its codes, capitalized or not, is one
		// slot: where it starts a sentence depends on the language.
		v := strings.TrimSuffix(m[1], "Cap")
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

func forms(m *i18n.Message) map[string]string {
	out := map[string]string{}
	for k, v := range map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// TestTranslationsKeepWhatMustNotChange: slots, commands, the service's
// quoted labels, addresses and numbers read the same in every translation
// as in its English source.
func TestTranslationsKeepWhatMustNotChange(t *testing.T) {
	b := loadBase(t)
	src := map[string]string{}
	for _, m := range b.sources() {
		src[m.id] = m.text
	}
	for _, tag := range b.catalog.tags[1:] {
		for id, m := range b.catalog.shown[tag] {
			en := src[id]
			for form, tr := range forms(m) {
				name := fmt.Sprintf("%s %s (%s)", tag, id, form)
				if got, want := strings.Join(slots(tr), ","), strings.Join(slots(en), ","); got != want && !(form != "other" && strings.ReplaceAll(got, "Count,", "") == strings.ReplaceAll(want, "Count,", "")) {
					t.Errorf("%s: slots %q, English has %q", name, got, want)
				}
				for _, c := range commandRE.FindAllStringSubmatch(en, -1) {
					if !strings.Contains(tr, c[2]) {
						t.Errorf("%s: command %s is missing: %q", name, c[2], tr)
					}
				}
				for _, q := range quoted(en) {
					if !strings.Contains(tr, q) {
						t.Errorf("%s: the service's label %q must stay as the service spells it: %q", name, q, tr)
					}
				}
				for _, k := range keptRE.FindAllString(en, -1) {
					if !strings.Contains(tr, k) {
						t.Errorf("%s: %q is missing: %q", name, k, tr)
					}
				}
				if strings.Contains(tr, "\n") {
					t.Errorf("%s: a line break would start a line of its own: %q", name, tr)
				}
			}
		}
	}
}

// maxCharsTranslated: translations run longer than English (German and
// Russian by about a quarter); the line budget stays the same.
const maxCharsTranslated = 1400

// TestTranslatedAnswers renders every answer in every language and checks
// what TestAnswersFitOnePhoneScreen checks in lang.English, plus that no line
// of the English answer is left in a translated one.
func TestTranslatedAnswers(t *testing.T) {
	b := loadBase(t)
	complete := len(b.Gaps()) == 0
	for _, s := range everyService(b) {
		for _, c := range states {
			en := b.Advice(lang.English, s, c.st)
			for _, tag := range lang.All()[1:] {
				g := b.Advice(tag, s, c.st)
				text := g.Text()
				name := fmt.Sprintf("%s/%s/%s", tag, idOf(s), c.name)
				if g.Lang != tag {
					t.Errorf("%s: answer in %s", name, g.Lang)
				}
				lines := strings.Split(text, "\n")
				if len(lines) > maxLines {
					t.Errorf("%s: %d lines, want at most %d:\n%s", name, len(lines), maxLines, text)
				}
				if n := utf8.RuneCountInString(text); n > maxCharsTranslated {
					t.Errorf("%s: %d characters, want at most %d:\n%s", name, n, maxCharsTranslated, text)
				}
				for _, bad := range []string{"<no value>", "%!", "{{", "}}", "\"\"", "  "} {
					if strings.Contains(text, bad) {
						t.Errorf("%s: %q in the answer:\n%s", name, bad, text)
					}
				}
				for _, l := range append(append([]string{en.Title}, en.Now...), en.Then...) {
					if strings.Contains(text, l) && complete {
						t.Errorf("%s: English line left in the answer: %q", name, l)
					}
				}
				// The note on quoted English words comes exactly when one
				// is shown, and every one the English answer quotes is.
				var q []string
				for _, l := range append(en.Now, en.Then...) {
					q = append(q, quoted(l)...)
				}
				if len(q) > 0 && !g.QuotedEnglish {
					t.Errorf("%s: quotes %q, but the note on English words is %v:\n%s", name, q, g.QuotedEnglish, text)
				}
				for _, w := range q {
					if !strings.Contains(text, w) {
						t.Errorf("%s: the service's word %q is not shown:\n%s", name, w, text)
					}
				}
			}
		}
	}
}

// TestMatch: each of authbot's languages answers in itself; a tag with no
// file answers in English, never in a key id.
func TestMatch(t *testing.T) {
	b := loadBase(t)
	for _, tag := range lang.All() {
		if got := b.Advice(tag, nil, State{Name: "x"}).Lang; got != tag {
			t.Errorf("Advice(%s) is in %s", tag, got)
		}
	}
	for _, tag := range []lang.Tag{"fr", "", "pt", "xx-invalid"} {
		want := lang.English
		if tag == "pt" {
			want = lang.Portuguese
		}
		if got := b.Advice(tag, nil, State{Name: "x"}).Lang; got != want {
			t.Errorf("Advice(%q) is in %s, want %s", tag, got, want)
		}
	}
}

// testLabels is a knowledge base with a quoted label that has a localized
// form in Brazilian Portuguese, and a translation file for it.
const testLabels = `
services:
  - id: shop
    name: Shop
    domains: [shop.example]
    no_backup:
      path: {text: "At sign-in choose \"Lost your phone?\" and follow the steps.", src: en}
    labels:
      - text: "Lost your phone?"
        local:
          pt-BR: {text: "Perdeu o celular?", src: pt}
    help: en
    sources:
      en: {url: "https://help.shop.example/en/lost", title: "Lost phone", quote: "choose Lost your phone?"}
      pt: {url: "https://help.shop.example/pt-br/lost", title: "Celular perdido", quote: "escolha Perdeu o celular? e siga"}
`

func testCatalog(t *testing.T, data string, files fstest.MapFS) *Base {
	t.Helper()
	b, err := Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.loadCatalog(files); err != nil {
		t.Fatal(err)
	}
	return b
}

func langFile(entries map[string]string) *fstest.MapFile {
	var sb strings.Builder
	for id, text := range entries {
		fmt.Fprintf(&sb, "%s:\n  hash: %s\n  other: %s\n", id, hashOfEnglish(id), strconv.Quote(text))
	}
	return &fstest.MapFile{Data: []byte(sb.String())}
}

// hashOfEnglish finds the English source of a frame id, or takes the id
// as "fact:<English text>" for a fact of the test base.
func hashOfEnglish(id string) string {
	for _, m := range frameMessages {
		if m.ID == id {
			return hashOf(m.Other)
		}
	}
	if id == "fact.shop.no_backup.path" {
		return hashOf("At sign-in choose \"Lost your phone?\" and follow the steps.")
	}
	return "sha1-unknown"
}

func TestLocalizedLabel(t *testing.T) {
	b := testCatalog(t, testLabels, fstest.MapFS{
		"lang/pt-BR.yaml": langFile(map[string]string{
			"fact.shop.no_backup.path": "Ao entrar, escolha \"Lost your phone?\" e siga os passos.",
		}),
		"lang/es.yaml": langFile(map[string]string{
			"fact.shop.no_backup.path": "Al iniciar sesión, elige \"Lost your phone?\" y sigue los pasos.",
			msgQuotedEnglish.ID:        "Las palabras entre comillas son los botones, menús y términos de {{.Service}}, tal como los escriben sus páginas de ayuda en inglés.",
		}),
	})
	s, _ := b.Lookup("shop", "")
	pt := b.Advice(lang.Portuguese, s, State{Name: "shop"}).Text()
	if !strings.Contains(pt, `"Perdeu o celular?"`) || strings.Contains(pt, "Lost your phone?") {
		t.Errorf("pt-BR answer does not show Shop's own Portuguese label:\n%s", pt)
	}
	if strings.Contains(pt, "quotes") || strings.Contains(pt, "aspas") {
		t.Errorf("pt-BR answer says labels are in lang.English, but none is:\n%s", pt)
	}
	es := b.Advice(lang.Spanish, s, State{Name: "shop"}).Text()
	if !strings.Contains(es, `"Lost your phone?"`) || !strings.Contains(es, "páginas de ayuda en inglés") {
		t.Errorf("es answer must quote the English label and say so:\n%s", es)
	}
	en := b.Advice(lang.English, s, State{Name: "shop"}).Text()
	if strings.Contains(en, "Words in quotes") {
		t.Errorf("the English answer needs no note on English labels:\n%s", en)
	}
}

func TestLabelRules(t *testing.T) {
	for name, tc := range map[string]struct{ from, to string }{
		"local label not on its source page": {"escolha Perdeu o celular? e siga", "escolha outra coisa"},
		"label no fact quotes":               {`- text: "Lost your phone?"`, `- text: "Lost your keys?"`},
		"tag not canonical":                  {"pt-BR: {text", "pt_br: {text"},
		"local label without a source":       {`src: pt}`, `src: nowhere}`},
	} {
		t.Run(name, func(t *testing.T) {
			data := strings.Replace(testLabels, tc.from, tc.to, 1)
			if data == testLabels {
				t.Fatal("test data did not change")
			}
			if _, err := Parse([]byte(data)); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// TestStaleTranslationIsNotShown: a translation made from an older English
// text, or one without a hash, is not shown (the English is) and is listed.
func TestStaleTranslationIsNotShown(t *testing.T) {
	stale := &fstest.MapFile{Data: []byte(`
fact.shop.no_backup.path:
  hash: sha1-0000000000000000000000000000000000000000
  other: "Al iniciar sesión, elige \"Lost your phone?\"."
recover.scam:
  other: "Cuidado con quien ofrezca recuperar la cuenta por ti."
recover.gone:
  hash: sha1-0000000000000000000000000000000000000000
  other: "Ya no existe."
`)}
	b := testCatalog(t, testLabels, fstest.MapFS{"lang/es.yaml": stale})
	s, _ := b.Lookup("shop", "")
	text := b.Advice(lang.Spanish, s, State{Name: "shop"}).Text()
	for _, w := range []string{"At sign-in choose", "Beware of anyone"} {
		if !strings.Contains(text, w) {
			t.Errorf("answer lacks the English %q:\n%s", w, text)
		}
	}
	kinds := map[string]string{}
	for _, g := range b.Gaps() {
		kinds[g.ID] = g.Kind
	}
	for id, want := range map[string]string{
		"fact.shop.no_backup.path": "stale", "recover.scam": "unhashed", "recover.gone": "orphan", "recover.clock": "missing",
	} {
		if kinds[id] != want {
			t.Errorf("%s: gap %q, want %q", id, kinds[id], want)
		}
	}
}

// TestUpdateLang rewrites the translation files when -update-lang is given:
// entries in source order, each with its English as a comment; an entry
// without a hash gets the current one (the translator just made it from
// the English shown); a stale one keeps its old hash, so it stays listed.
func TestUpdateLang(t *testing.T) {
	if !*updateLang {
		t.Skip("only with -update-lang")
	}
	b := loadBase(t)
	order := b.sources()
	for _, tag := range b.catalog.tags[1:] {
		byID := map[string]*i18n.Message{}
		for _, m := range b.catalog.parsed[tag] {
			byID[m.ID] = m
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "# %s translations of authbot's /recover answers (see doc.go of core/recovery).\n", tag)
		sb.WriteString("# Each entry: the English it translates (comment), its hash, the text.\n")
		sb.WriteString("# Generated order; edit the texts, then go test ./core/recovery -update-lang.\n")
		for _, src := range order {
			m := byID[src.id]
			if m == nil {
				continue
			}
			delete(byID, src.id)
			writeEntry(&sb, m, src.text, hashOf(src.text))
		}
		var orphans []string
		for id := range byID {
			orphans = append(orphans, id)
		}
		sort.Strings(orphans)
		for _, id := range orphans {
			writeEntry(&sb, byID[id], "(no longer exists: delete this entry)", "")
		}
		path := filepath.Join("lang", tag.String()+".yaml")
		if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func writeEntry(sb *strings.Builder, m *i18n.Message, english, hash string) {
	fmt.Fprintf(sb, "\n%s:\n  # en: %s\n", m.ID, strings.ReplaceAll(english, "\n", " "))
	h := m.Hash
	if h == "" {
		h = hash
	}
	if h != "" {
		fmt.Fprintf(sb, "  hash: %s\n", h)
	}
	for _, f := range []struct{ k, v string }{{"zero", m.Zero}, {"one", m.One}, {"two", m.Two}, {"few", m.Few}, {"many", m.Many}, {"other", m.Other}} {
		if f.v != "" {
			fmt.Fprintf(sb, "  %s: %s\n", f.k, strconv.Quote(f.v))
		}
	}
}

// TestGoldenTranslations keeps every answer in every language, key stored
// and not, one file per language under testdata/golden-lang: a reviewer who
// reads the language reads the whole of it there, and any change to an
// answer shows in review. go test ./core/recovery -update rewrites them.
func TestGoldenTranslations(t *testing.T) {
	b := loadBase(t)
	dir := filepath.Join("testdata", "golden-lang")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tag := range lang.All()[1:] {
		var sb strings.Builder
		for _, s := range everyService(b) {
			label := idOf(s)
			if s == nil {
				label = "mybank"
			}
			for _, c := range []struct {
				note string
				st   State
			}{
				{"key stored here, never checked", State{Name: label, HaveKey: true}},
				{"no key stored here", State{Name: label}},
			} {
				fmt.Fprintf(&sb, "> /recover %s    (%s)\n%s\n\n", label, c.note, b.Guide(tag, label, "", c.st).Text())
			}
		}
		path := filepath.Join(dir, tag.String()+".txt")
		got := sb.String()
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v (run go test ./core/recovery -update to create it)", err)
			continue
		}
		if got != string(old) {
			t.Errorf("%s differs from the answers; run go test ./core/recovery -update and review the diff", path)
		}
	}
}

// TestTranslationsUseTheGlossary: where the English of an answer uses one of
// the glossary's fixed terms (backup key, recovery codes, password, …), each
// translation uses that language's word for it, as every other reply does.
func TestTranslationsUseTheGlossary(t *testing.T) {
	b := loadBase(t)
	cat, err := lang.Load()
	if err != nil {
		t.Fatal(err)
	}
	// Where the English word means something else than the glossary's
	// term, the translation says what the service means.
	otherSense := map[string]string{
		"fact.bitwarden.notes.0":           "Bitwarden's own vault, as its apps name it",
		"fact.amazon.no_backup.asks_for.0": "numbers on an ID document, not an account here",
	}
	addresses := regexp.MustCompile(`\S*[./]\S*[a-z]\S*`)
	type pair struct{ en, tr string }
	// Per language, each translated sentence beside its English with the
	// service's own words (quoted, in English or as the translation quotes
	// them) and addresses taken out: they are not authbot's use of a term.
	byTag := map[lang.Tag]map[string]pair{}
	for _, tag := range lang.All()[1:] {
		byTag[tag] = map[string]pair{}
		shown := b.catalog.shown[language.Make(tag.String())]
		for _, m := range b.sources() {
			tm := shown[m.id]
			if tm == nil || otherSense[m.id] != "" {
				continue // TestTranslationsComplete lists a missing one
			}
			en := addresses.ReplaceAllString(quotedRE.ReplaceAllString(m.text, ""), "")
			for _, q := range quoted(tm.Other) {
				en = strings.ReplaceAll(en, q, "")
			}
			byTag[tag][m.id] = pair{en, quotedRE.ReplaceAllString(tm.Other, "")}
		}
	}
	for _, term := range cat.Glossary() {
		if term.Loose {
			continue
		}
		used := regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(term.English) + `s?\b`)
		for _, tag := range lang.All()[1:] {
			pat, err := glossaryPattern(term, tag)
			if err != nil {
				t.Fatal(err)
			}
			for id, p := range byTag[tag] {
				if used.MatchString(p.en) && !pat.MatchString(p.tr) {
					t.Errorf("%s %s: English says %q, the translation lacks the glossary's %q: %q", tag, id, term.English, term.Words[tag], p.tr)
				}
			}
		}
	}
}

// glossaryPattern is term.Pattern with \w reading letters of every script:
// Go's \w is ASCII only, so "код\w*" would not find "коды".
func glossaryPattern(term lang.Term, tag lang.Tag) (*regexp.Regexp, error) {
	expr := term.Forms[tag]
	if expr == "" {
		expr = regexp.QuoteMeta(term.Words[tag])
	}
	return regexp.Compile("(?i)" + strings.ReplaceAll(expr, `\w`, `[\pL\pN_]`))
}

func BenchmarkGuideTextTranslated(b *testing.B) {
	base := loadBase(b)
	st := State{Name: "github", HaveKey: true, HasRecoveryCodes: true, RecoveryCodesLeft: 3}
	for b.Loop() {
		_ = base.Guide(lang.Russian, "github", "GitHub", st).Text()
	}
}
