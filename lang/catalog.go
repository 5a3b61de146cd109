package lang

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/nicksnyder/go-i18n/v2/i18n/template"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
)

//go:embed messages/*.yaml glossary.yaml
var files embed.FS

// Catalog holds every language's messages. It is read-only once loaded and
// safe for concurrent use.
type Catalog struct {
	bundle   *i18n.Bundle
	messages map[Tag]map[string]*i18n.Message // as parsed, for tests and the fallback check
	glossary Glossary
}

// load parses the embedded files once: they are compiled into the binary
// and never change, so every Load shares one read-only result instead of
// each handler (and each test) parsing eight files again.
var load = sync.OnceValues(func() (*Catalog, error) { return parse(files) })

// Load returns the catalogue compiled into the binary. An error means an
// embedded file is malformed, which the package's tests rule out.
func Load() (*Catalog, error) { return load() }

// MustLoad is Load for callers that cannot go on without words (tests,
// constructors whose inputs the tests already cover).
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

func parse(fsys fs.FS) (*Catalog, error) {
	c := &Catalog{bundle: i18n.NewBundle(language.English), messages: map[Tag]map[string]*i18n.Message{}}
	c.bundle.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	for _, t := range all {
		name := path.Join("messages", string(t)+".yaml")
		buf, err := fs.ReadFile(fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a language being added: English answers for it
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		mf, err := c.bundle.ParseMessageFileBytes(buf, name)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		if got := Tag(mf.Tag.String()); got != t {
			return nil, fmt.Errorf("parse %s: file names language %q", name, got)
		}
		m := map[string]*i18n.Message{}
		for _, msg := range mf.Messages {
			m[msg.ID] = msg
		}
		c.messages[t] = m
	}
	if len(c.messages[English]) == 0 {
		return nil, errors.New("messages/en.yaml: no messages")
	}
	g, err := parseGlossary(fsys)
	if err != nil {
		return nil, err
	}
	c.glossary = g
	return c, nil
}

// Printer writes messages in one language. The zero value is not usable;
// get one from Catalog.Printer.
type Printer struct {
	cat *Catalog
	tag Tag
	loc *i18n.Localizer
}

// strict makes a placeholder the call does not supply an error (then the
// English text is tried) instead of a silent "<no value>" in a chat.
var strict = &template.TextParser{Option: "missingkey=error"}

// Printer returns a printer for t; an unknown t prints English.
func (c *Catalog) Printer(t Tag) *Printer {
	if _, ok := endonyms[t]; !ok {
		t = English
	}
	return &Printer{cat: c, tag: t, loc: i18n.NewLocalizer(c.bundle, string(t))}
}

// Tag is the printer's language.
func (p *Printer) Tag() Tag { return p.tag }

// T returns message id with its placeholders filled from args, given as
// name, value pairs: p.T("add.stored", "Name", name). Values are printed
// as they are: names, codes and secrets never change with the language.
func (p *Printer) T(id string, args ...any) string { return p.localize(id, nil, args) }

// N is T for a message whose wording depends on a count (seconds left,
// accounts stored): the language's plural rules pick the form, and the
// count is the placeholder {{.Count}}.
func (p *Printer) N(id string, count int, args ...any) string {
	return p.localize(id, count, append(args, "Count", count))
}

func (p *Printer) localize(id string, count any, args []any) string {
	data := make(map[string]any, len(args)/2)
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok {
			data[k] = args[i+1]
		}
	}
	cfg := &i18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count, TemplateParser: strict}
	out, tag, err := p.loc.LocalizeWithTag(cfg)
	if err == nil || (out != "" && Tag(tag.String()) == English && p.tag != English && isNotFound(err)) {
		return out // found, or the English fallback for a missing translation
	}
	// A translation that does not execute (a placeholder it names that the
	// call does not give): the English text rather than a broken sentence.
	if p.tag != English {
		if s, err := p.cat.Printer(English).loc.Localize(cfg); err == nil {
			return s
		}
	}
	// Not even English has it: a test prevents this. Say something a
	// person can act on rather than a key id.
	return "Something went wrong on my side. Please try again later."
}

func isNotFound(err error) bool {
	var nf *i18n.MessageNotFoundErr
	return errors.As(err, &nf)
}

// Keys lists the English message ids, sorted: the set every language must
// have (the catalogue test reports what a translation lacks).
func (c *Catalog) Keys() []string { return c.KeysOf(English) }

// KeysOf lists the ids language t's file defines, sorted.
func (c *Catalog) KeysOf(t Tag) []string {
	var ks []string
	for k := range c.messages[t] {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Forms returns the raw texts of message id in language t by plural form
// ("one", "few", "many", "other"; "other" alone for a message without
// plurals), with placeholders unfilled; nil when t's file lacks id. For
// tests: placeholder and glossary checks.
func (c *Catalog) Forms(t Tag, id string) map[string]string {
	m := c.messages[t][id]
	if m == nil {
		return nil
	}
	out := map[string]string{}
	for form, s := range map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other} {
		if s != "" {
			out[form] = s
		}
	}
	return out
}

// Glossary is the fixed words of every language (glossary.yaml).
func (c *Catalog) Glossary() Glossary { return c.glossary }

// Placeholders lists the {{.Name}} placeholders of s, sorted and unique.
func Placeholders(s string) []string {
	seen := map[string]bool{}
	var out []string
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			break
		}
		f := strings.TrimSpace(s[i+2 : i+j])
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
		s = s[i+j+2:]
	}
	sort.Strings(out)
	return out
}
