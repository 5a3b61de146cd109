// Package lang is authbot's message catalogue: every sentence the bot says
// to a person, in English (the source) and the languages it was translated
// to, one embedded file per language in messages/, with the fixed words of
// each language (backup key, code, vault, …) in glossary.yaml beside them.
//
// A caller picks a language with Match (platform codes such as Telegram's
// language_code, POSIX locales, a person's stored choice) and gets a Printer
// for it from a Catalog. A message missing from a translation falls back to
// its English text, never to its key. Plurals follow CLDR's rules for the
// language (one/few/many/other for Russian and Ukrainian, none for
// Indonesian) through github.com/nicksnyder/go-i18n/v2, chosen over
// golang.org/x/text/message because its catalogues are plain data files
// (one per language, no generated Go code) that translators can edit and
// tests can read, and its plural rules come from CLDR.
package lang

import (
	"strings"

	"golang.org/x/text/language"
)

// Tag is one of the languages the catalogue speaks, spelled as BCP 47 tags
// are ("pt-BR"). Only the constants below are valid tags; Match and Parse
// never return anything else.
type Tag string

// The languages authbot speaks. English is the source every other file
// translates, and the fallback for everything.
const (
	English    Tag = "en"
	Spanish    Tag = "es"
	Portuguese Tag = "pt-BR"
	Russian    Tag = "ru"
	Ukrainian  Tag = "uk"
	Turkish    Tag = "tr"
	Indonesian Tag = "id"
	German     Tag = "de"
)

// all is in the order /language lists them.
var all = []Tag{English, Spanish, Portuguese, Russian, Ukrainian, Turkish, Indonesian, German}

// endonyms are each language's name for itself, what /language shows.
var endonyms = map[Tag]string{
	English:    "English",
	Spanish:    "Español",
	Portuguese: "Português (Brasil)",
	Russian:    "Русский",
	Ukrainian:  "Українська",
	Turkish:    "Türkçe",
	Indonesian: "Bahasa Indonesia",
	German:     "Deutsch",
}

// All returns every supported language, English first.
func All() []Tag { return append([]Tag(nil), all...) }

// Name is the language's name for itself ("Deutsch").
func (t Tag) Name() string {
	if n, ok := endonyms[t]; ok {
		return n
	}
	return endonyms[English]
}

// String is the tag as BCP 47 spells it.
func (t Tag) String() string { return string(t) }

// Parse reads one language code as a person or a platform writes it:
// "de", "pt-br", "pt_BR.UTF-8", "PT", "Deutsch". ok is false when it names
// no supported language (then t is English). A supported base language
// with another region still counts ("pt-PT" gives pt-BR, "de-AT" gives de):
// a Portuguese reader is better served by Brazilian Portuguese than by
// English. Languages are never swapped for a neighbour (Belarusian does
// not become Russian): that is the person's choice to make with /language.
func Parse(code string) (t Tag, ok bool) {
	code = strings.TrimSpace(code)
	for _, t := range all {
		if strings.EqualFold(code, t.Name()) || strings.EqualFold(code, string(t)) {
			return t, true
		}
	}
	code = posixToBCP47(code)
	if code == "" {
		return English, false
	}
	parsed, err := language.Parse(code)
	if err != nil {
		return English, false
	}
	base, _ := parsed.Base()
	for _, t := range all {
		tb, _ := language.MustParse(string(t)).Base()
		if tb == base {
			return t, true
		}
	}
	return English, false
}

// posixToBCP47 turns a POSIX locale name ("pt_BR.UTF-8", "de_DE@euro")
// into a BCP 47 tag; "C" and "POSIX" name no language and give "".
func posixToBCP47(s string) string {
	if i := strings.IndexAny(s, ".@"); i >= 0 {
		s = s[:i]
	}
	if s == "C" || s == "POSIX" {
		return ""
	}
	return strings.ReplaceAll(s, "_", "-")
}

// Match returns the first of prefs that names a supported language, in
// order of preference (a person's stored /language choice before the
// platform's language_code); empty and unknown codes are skipped. English
// when none does.
func Match(prefs ...string) Tag {
	for _, p := range prefs {
		if t, ok := Parse(p); ok {
			return t
		}
	}
	return English
}

// FromEnv is the language of a terminal program by POSIX rules: the first
// of LC_ALL, LC_MESSAGES and LANG that is set decides, even when it names a
// language authbot does not speak (then English) or "C". getenv is
// os.Getenv in main; tests pass their own.
func FromEnv(getenv func(string) string) Tag {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(k); v != "" {
			return Match(v)
		}
	}
	return English
}
