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
// safe for concurrent use. English is parsed at load; another language's
// file the first time a printer for it is asked for, so a process that
// only ever speaks English (a script on the console) does not pay for
// seven files it never reads.
type Catalog struct {
	fsys fs.FS
	en   []*i18n.Message
	mu   sync.Mutex
	// langs are built on first use: one go-i18n bundle per language,
	// holding that language only; English's own bundle answers for what
	// a language lacks (Printer.localize), so English's templates exist
	// once, not once per language (~1.1 MB of heap over the eight). A
	// bundle is never changed after it is built, which is what go-i18n
	// asks of bundles that localizers read.
	langs map[Tag]*langBundle

	glossaryOnce sync.Once
	glossary     Glossary
	glossaryErr  error
}

type langBundle struct {
	bundle   *i18n.Bundle
	messages map[string]*i18n.Message // as parsed, for tests
	err      error                    // the file did not parse: English only
}

// load parses the embedded English file once: the files are compiled into
// the binary and never change, so every Load shares one read-only result
// instead of each handler (and each test) parsing them again.
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
	c := &Catalog{fsys: fsys, langs: map[Tag]*langBundle{}}
	en, err := readMessages(fsys, English)
	if err != nil {
		return nil, err
	}
	if len(en) == 0 {
		return nil, errors.New("messages/en.yaml: no messages")
	}
	c.en = en
	return c, nil
}

// readMessages parses messages/<t>.yaml; none (and no error) when the
// file does not exist, a language being added.
func readMessages(fsys fs.FS, t Tag) ([]*i18n.Message, error) {
	name := path.Join("messages", string(t)+".yaml")
	buf, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	mf, err := i18n.ParseMessageFileBytes(buf, name, map[string]i18n.UnmarshalFunc{"yaml": yaml.Unmarshal})
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	if got := Tag(mf.Tag.String()); got != t {
		return nil, fmt.Errorf("parse %s: file names language %q", name, got)
	}
	return mf.Messages, nil
}

// bundleFor builds (once) the bundle of language t.
func (c *Catalog) bundleFor(t Tag) *langBundle {
	c.mu.Lock()
	defer c.mu.Unlock()
	if lb := c.langs[t]; lb != nil {
		return lb
	}
	tag := language.MustParse(string(t))
	lb := &langBundle{bundle: i18n.NewBundle(tag), messages: map[string]*i18n.Message{}}
	add := func(msgs []*i18n.Message) {
		if err := lb.bundle.AddMessages(tag, msgs...); err != nil && lb.err == nil {
			lb.err = err
		}
	}
	if t == English {
		add(c.en)
		for _, m := range c.en {
			lb.messages[m.ID] = m
		}
	} else if msgs, err := readMessages(c.fsys, t); err != nil {
		lb.err = err // English answers; TestEveryKeyInEveryLanguage names the file
	} else {
		add(msgs)
		for _, m := range msgs {
			lb.messages[m.ID] = m
		}
	}
	c.langs[t] = lb
	return lb
}

// Release forgets the bundles of every language but English, so the
// memory they hold (a few hundred KB each, English's messages included)
// can be reclaimed: serve builds all eight for Telegram's command menus
// at start, and most processes then speak one or two of them. The next
// printer for a released language builds its bundle again (a few ms, as
// at the first use). Printers made before keep the bundle they have.
func (c *Catalog) Release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for t := range c.langs {
		if t != English {
			delete(c.langs, t)
		}
	}
}

// Err reports whether language t's file failed to parse (then English
// answers for all of it).
func (c *Catalog) Err(t Tag) error { return c.bundleFor(t).err }

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
	return &Printer{cat: c, tag: t, loc: i18n.NewLocalizer(c.bundleFor(t).bundle, string(t))}
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
	out, err := p.loc.Localize(cfg)
	if err == nil {
		return out
	}
	// A message the translation lacks, or one that does not execute (a
	// placeholder it names that the call does not give): the English
	// text rather than a broken sentence.
	if p.tag != English {
		if s, err := p.cat.Printer(English).loc.Localize(cfg); err == nil {
			return s
		}
	}
	// Not even English has it: a test prevents this. Say something a
	// person can act on rather than a key id.
	return "Something went wrong on my side. Please try again later."
}

// Keys lists the English message ids, sorted: the set every language must
// have (the catalogue test reports what a translation lacks).
func (c *Catalog) Keys() []string { return c.KeysOf(English) }

// KeysOf lists the ids language t's file defines, sorted.
func (c *Catalog) KeysOf(t Tag) []string {
	var ks []string
	for k := range c.bundleFor(t).messages {
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
	m := c.bundleFor(t).messages[id]
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

// Glossary is the fixed words of every language (glossary.yaml), parsed
// on first use; nil when the file is malformed (GlossaryErr says why).
func (c *Catalog) Glossary() Glossary {
	c.glossaryOnce.Do(func() { c.glossary, c.glossaryErr = parseGlossary(c.fsys) })
	return c.glossary
}

// GlossaryErr is why Glossary is nil.
func (c *Catalog) GlossaryErr() error { c.Glossary(); return c.glossaryErr }

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
