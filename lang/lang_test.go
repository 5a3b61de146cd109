package lang

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Tag
		ok   bool
	}{
		{"en", English, true},
		{"ru", Russian, true},
		{"pt-br", Portuguese, true}, // Telegram's spelling
		{"pt-BR", Portuguese, true},
		{"pt", Portuguese, true},
		{"pt-PT", Portuguese, true},
		{"PT", Portuguese, true},
		{"pt_BR.UTF-8", Portuguese, true}, // POSIX locale
		{"de_DE@euro", German, true},
		{"de-AT", German, true},
		{"uk", Ukrainian, true},
		{"uk-UA", Ukrainian, true},
		{"tr", Turkish, true},
		{"id", Indonesian, true},
		{"in", Indonesian, true}, // the old code some systems still send
		{"es-419", Spanish, true},
		{"Deutsch", German, true},
		{"русский", Russian, true},
		{"  es  ", Spanish, true},
		{"en-GB", English, true},
		{"be", English, false}, // Belarusian is not swapped for Russian
		{"fr", English, false},
		{"zz", English, false},
		{"", English, false},
		{"C", English, false},
		{"C.UTF-8", English, false},
		{"POSIX", English, false},
		{"not a tag at all", English, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := Parse(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Parse(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		name  string
		prefs []string
		want  Tag
	}{
		{"none", nil, English},
		{"empty", []string{"", ""}, English},
		{"stored choice wins", []string{"de", "ru"}, German},
		{"no choice: platform's", []string{"", "pt-br"}, Portuguese},
		{"unknown skipped", []string{"fr", "uk"}, Ukrainian},
		{"all unknown", []string{"fr", "ja"}, English},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Match(tc.prefs...); got != tc.want {
				t.Errorf("Match(%q) = %q, want %q", tc.prefs, got, tc.want)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Tag
	}{
		{"nothing set", nil, English},
		{"LANG", map[string]string{"LANG": "de_DE.UTF-8"}, German},
		{"LC_MESSAGES over LANG", map[string]string{"LANG": "de_DE.UTF-8", "LC_MESSAGES": "ru_RU.UTF-8"}, Russian},
		{"LC_ALL over all", map[string]string{"LANG": "de_DE.UTF-8", "LC_MESSAGES": "ru_RU.UTF-8", "LC_ALL": "tr_TR.UTF-8"}, Turkish},
		// POSIX: the first one set decides, even when it is C or a
		// language authbot does not speak; LANG is not consulted then.
		{"LC_ALL=C", map[string]string{"LC_ALL": "C", "LANG": "de_DE.UTF-8"}, English},
		{"unknown LC_MESSAGES", map[string]string{"LC_MESSAGES": "fr_FR.UTF-8", "LANG": "es_ES.UTF-8"}, English},
		{"empty LC_ALL is unset", map[string]string{"LC_ALL": "", "LANG": "pt_BR.UTF-8"}, Portuguese},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FromEnv(func(k string) string { return tc.env[k] }); got != tc.want {
				t.Errorf("FromEnv(%v) = %q, want %q", tc.env, got, tc.want)
			}
		})
	}
}

func TestNames(t *testing.T) {
	seen := map[string]Tag{}
	for _, tag := range All() {
		n := tag.Name()
		if n == "" || (tag != English && n == English.Name()) {
			t.Errorf("%s has no name of its own", tag)
		}
		if prev, dup := seen[n]; dup {
			t.Errorf("%s and %s share the name %q", prev, tag, n)
		}
		seen[n] = tag
		if got, ok := Parse(string(tag)); !ok || got != tag {
			t.Errorf("Parse(%q) = %q, %v", tag, got, ok)
		}
	}
	if All()[0] != English {
		t.Errorf("All() starts with %s, want English", All()[0])
	}
}
