package lang

import "testing"

// The ru and uk forms end in \w*, which must reach over Cyrillic letters.
func TestGlossaryPatternsMatchInflectedForms(t *testing.T) {
	g := MustLoad().Glossary()
	tests := []struct {
		english string
		tag     Tag
		text    string
	}{
		{"recovery codes", Russian, "Сохраните коды восстановления."},
		{"recovery codes", Ukrainian, "Збережіть коди відновлення."},
		{"backup key", Russian, "Пришлите резервный ключ."},
		{"backup key", German, "Schicken Sie den Backup-Schlüssel."},
	}
	for _, tt := range tests {
		var found bool
		for _, term := range g {
			if term.English != tt.english {
				continue
			}
			found = true
			re, err := term.Pattern(tt.tag)
			if err != nil {
				t.Fatal(err)
			}
			if !re.MatchString(tt.text) {
				t.Errorf("%s pattern for %q (%s) does not match %q", tt.tag, tt.english, re, tt.text)
			}
		}
		if !found {
			t.Errorf("glossary has no term %q", tt.english)
		}
	}
}
