package recovery

import (
	"crypto/sha1"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
)

// The answers' translations live in lang/<tag>.yaml, one file per language,
// in go-i18n's message format. English is the source and has no file: the
// frame sentences are written in messages.go, the facts in services.yaml.
//
// Each translation carries the hash of the English text it was made from
// (go-i18n's own "hash" field, computed as goi18n merge does). A fact or
// frame sentence edited in English no longer matches its translations'
// hashes: they are then not shown (the English text is, as for a missing
// translation) and TestTranslationsComplete lists them as stale, so an old
// translation never silently stands in for a changed instruction.
//
//go:embed lang/*.yaml
var langFiles embed.FS

// sourceLang is the source language of every answer.
var sourceLang = language.English

// Gap is a translation that is not shown: missing, made from an older
// English text (stale), without a hash, or for a message that no longer
// exists (orphan).
type Gap struct {
	Lang language.Tag
	ID   string
	// Kind is "missing", "stale", "unhashed" or "orphan".
	Kind string
	// English is the current source text ("" for an orphan); Hash is the
	// hash a translation of it must carry.
	English, Hash string
}

func (g Gap) String() string {
	if g.Kind == "orphan" {
		return fmt.Sprintf("%s %s: translation of a message that no longer exists; delete it", g.Lang, g.ID)
	}
	return fmt.Sprintf("%s %s (%s): translate %q, hash %s", g.Lang, g.ID, g.Kind, g.English, g.Hash)
}

// catalog holds the translations whose hash matches the current English.
type catalog struct {
	bundle  *i18n.Bundle
	matcher language.Matcher
	tags    []language.Tag
	gaps    []Gap
	// shown holds, per language, the translations that are shown, by id.
	shown map[language.Tag]map[string]*i18n.Message
	// parsed holds every translation as its file has it, shown or not.
	parsed     map[language.Tag][]*i18n.Message
	localizers map[language.Tag]*i18n.Localizer
}

// sourceMessage is one English text a translation may be made from.
type sourceMessage struct {
	id   string
	text string // what is hashed: go-i18n's Other form
}

// hashOf is goi18n merge's hash of a source message: sha1 over its
// description (none here) and its "other" form.
func hashOf(english string) string {
	return fmt.Sprintf("sha1-%x", sha1.Sum([]byte(english)))
}

// sources lists every English text that is translated: the frame
// sentences, then each service's own facts.
func (b *Base) sources() []sourceMessage {
	var out []sourceMessage
	for _, m := range frameMessages {
		out = append(out, sourceMessage{m.ID, m.Other})
	}
	for _, s := range b.services {
		for _, f := range translatableFacts(s) {
			out = append(out, sourceMessage(f))
		}
	}
	return out
}

// factRef is a sentence of services.yaml that authbot wrote itself (a step,
// a warning), with its message id. The service's own words (key_name,
// recovery_codes.name) are not among them: they stay as the service spells
// them.
type factRef struct{ id, text string }

func translatableFacts(s *Service) []factRef {
	var out []factRef
	add := func(field, text string) {
		if strings.TrimSpace(text) != "" {
			out = append(out, factRef{"fact." + s.ID + "." + field, text})
		}
	}
	if s.NotTOTP != nil {
		add("not_totp", s.NotTOTP.Text)
	}
	if rc := s.RecoveryCodes; rc != nil {
		add("recovery_codes.shape", rc.Shape)
	}
	for i, f := range s.OtherFactors {
		add(fmt.Sprintf("other_factors.%d", i), f.Text)
	}
	if nb := s.NoBackup; nb != nil {
		add("no_backup.path", nb.Path.Text)
		for i, f := range nb.AsksFor {
			add(fmt.Sprintf("no_backup.asks_for.%d", i), f.Text)
		}
		if nb.Wait != nil {
			add("no_backup.wait", nb.Wait.Text)
		}
	}
	for i, f := range s.Notes {
		add(fmt.Sprintf("notes.%d", i), f.Text)
	}
	return out
}

// loadCatalog reads the embedded translation files of b's facts.
func (b *Base) loadCatalog(files fs.FS) error {
	c := englishOnly()
	src := map[string]string{}
	ids := []string{}
	for _, m := range b.sources() {
		if _, dup := src[m.id]; dup {
			return fmt.Errorf("%w: message id %q is used twice", ErrInvalid, m.id)
		}
		src[m.id] = m.text
		ids = append(ids, m.id)
	}
	names, err := fs.Glob(files, "lang/*.yaml")
	if err != nil {
		return fmt.Errorf("%w: list translations: %v", ErrInvalid, err)
	}
	sort.Strings(names)
	for _, name := range names {
		data, err := fs.ReadFile(files, name)
		if err != nil {
			return fmt.Errorf("%w: read %s: %v", ErrInvalid, name, err)
		}
		tag, err := language.Parse(strings.TrimSuffix(path.Base(name), ".yaml"))
		if err != nil || tag == sourceLang {
			return fmt.Errorf("%w: %s: the file name must be a language tag other than English", ErrInvalid, name)
		}
		mf, err := i18n.ParseMessageFileBytes(data, name, map[string]i18n.UnmarshalFunc{"yaml": yaml.Unmarshal})
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrInvalid, name, err)
		}
		seen := map[string]bool{}
		var ok []*i18n.Message
		for _, m := range mf.Messages {
			seen[m.ID] = true
			en, known := src[m.ID]
			switch {
			case !known:
				c.gaps = append(c.gaps, Gap{Lang: tag, ID: m.ID, Kind: "orphan"})
			case m.Hash == "":
				c.gaps = append(c.gaps, Gap{Lang: tag, ID: m.ID, Kind: "unhashed", English: en, Hash: hashOf(en)})
			case m.Hash != hashOf(en):
				c.gaps = append(c.gaps, Gap{Lang: tag, ID: m.ID, Kind: "stale", English: en, Hash: hashOf(en)})
			default:
				ok = append(ok, m)
			}
		}
		for _, id := range ids {
			if !seen[id] {
				c.gaps = append(c.gaps, Gap{Lang: tag, ID: id, Kind: "missing", English: src[id], Hash: hashOf(src[id])})
			}
		}
		if err := c.bundle.AddMessages(tag, ok...); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrInvalid, name, err)
		}
		c.parsed[tag] = mf.Messages
		c.shown[tag] = map[string]*i18n.Message{}
		for _, m := range ok {
			c.shown[tag][m.ID] = m
		}
		c.tags = append(c.tags, tag)
	}
	c.ready()
	b.catalog = c
	return nil
}

// Gaps lists every translation that is not shown, by language and id. An
// empty list means every answer reads wholly in every language.
func (b *Base) Gaps() []Gap {
	return append([]Gap(nil), b.catalog.gaps...)
}

// match returns the language answers are given in for tag: the closest
// language there is a translation file for ("pt" finds pt-BR), else English.
func (b *Base) match(tag language.Tag) language.Tag {
	if tag == language.Und || b.catalog == nil {
		return sourceLang
	}
	_, i, conf := b.catalog.matcher.Match(tag)
	if conf == language.No {
		return sourceLang
	}
	return b.catalog.tags[i]
}

// localizer returns the localizer for lang, one of c.tags. Localizers only
// read the bundle, so one per language serves every answer.
func (c *catalog) localizer(lang language.Tag) *i18n.Localizer {
	if l, ok := c.localizers[lang]; ok {
		return l
	}
	return i18n.NewLocalizer(c.bundle, lang.String())
}

// ready makes the localizers once the bundle is complete.
func (c *catalog) ready() {
	c.matcher = language.NewMatcher(c.tags)
	c.localizers = map[language.Tag]*i18n.Localizer{}
	for _, t := range c.tags {
		c.localizers[t] = i18n.NewLocalizer(c.bundle, t.String())
	}
}

// englishOnly is the catalogue of a base without translations (Parse).
func englishOnly() *catalog {
	c := &catalog{bundle: i18n.NewBundle(sourceLang), tags: []language.Tag{sourceLang},
		shown: map[language.Tag]map[string]*i18n.Message{}, parsed: map[language.Tag][]*i18n.Message{}}
	// The English frame in the bundle too: go-i18n then parses each
	// template once, not on every answer as it does a default message.
	if err := c.bundle.AddMessages(sourceLang, frameMessages...); err != nil {
		panic(err) // the messages are constants; a test runs this
	}
	c.ready()
	return c
}
