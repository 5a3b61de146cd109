package lang

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Term is one fixed word of the glossary: the English term and its one
// translation per language, so that "backup key" is the same words in
// every Spanish reply, in the recovery guidance and in the README.
type Term struct {
	// English is the term as the English messages write it.
	English string `yaml:"en"`
	// Note says what the term means here, for translators.
	Note string `yaml:"note"`
	// Words is the term per language (English included).
	Words map[Tag]string `yaml:"words"`
	// Forms, for languages that inflect the term ("резервного ключа"), is a
	// regular expression that matches every form a message may use; the
	// glossary test looks for it in each translation of a message whose
	// English uses the term. Without one, the word itself must appear.
	Forms map[Tag]string `yaml:"forms"`
	// Loose: the term is too common a word in English ("code", "lock") for
	// every use to be the glossary sense, so the test does not demand it in
	// each translation; Words still fixes the translation.
	Loose bool `yaml:"loose"`
	// Exempt lists message ids whose English uses the word in another
	// sense, or inside a service's own (quoted, untranslated) label.
	Exempt []string `yaml:"exempt"`
}

// Glossary is every term, in the file's order.
type Glossary []Term

// Word is the term's translation in t, its English when t has none.
func (g Glossary) Word(english string, t Tag) string {
	for _, term := range g {
		if strings.EqualFold(term.English, english) {
			if w := term.Words[t]; w != "" {
				return w
			}
			return term.English
		}
	}
	return english
}

// Pattern is the regular expression that finds term's forms in language t
// (case-insensitive).
func (term Term) Pattern(t Tag) (*regexp.Regexp, error) {
	expr := term.Forms[t]
	if expr == "" {
		expr = regexp.QuoteMeta(term.Words[t])
	}
	// \w in Go's regexp is ASCII only, so it could never match the Cyrillic
	// endings the ru and uk forms are written with.
	expr = strings.ReplaceAll(expr, `\w`, `[\pL\pN_]`)
	return regexp.Compile("(?i)" + expr)
}

func parseGlossary(fsys fs.FS) (Glossary, error) {
	buf, err := fs.ReadFile(fsys, "glossary.yaml")
	if err != nil {
		return nil, fmt.Errorf("read glossary.yaml: %w", err)
	}
	var doc struct {
		Style map[Tag]string `yaml:"style"`
		Terms Glossary       `yaml:"terms"`
	}
	if err := yaml.Unmarshal(buf, &doc); err != nil {
		return nil, fmt.Errorf("parse glossary.yaml: %w", err)
	}
	for i, term := range doc.Terms {
		if term.English == "" {
			return nil, fmt.Errorf("glossary.yaml: term %d has no en", i+1)
		}
		for t, expr := range term.Forms {
			if _, err := regexp.Compile(expr); err != nil {
				return nil, fmt.Errorf("glossary.yaml: %q forms.%s: %w", term.English, t, err)
			}
		}
	}
	return doc.Terms, nil
}
