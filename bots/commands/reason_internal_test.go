package commands

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/authbot/authbot/core/qr"
	"github.com/authbot/authbot/core/transfer"
	"github.com/authbot/authbot/lang"
)

// TestImportReasonInEveryLanguage: each sentinel of core/transfer and
// core/qr reads as the package's own text in English (detail included)
// and as the catalogue's sentence in every other language, never as the
// English one.
func TestImportReasonInEveryLanguage(t *testing.T) {
	cat := lang.MustLoad()
	for _, rk := range reasonKeys {
		err := fmt.Errorf("reading the upload: %w", rk.err)
		english := transfer.Reason(err)
		if english == "" {
			english = qr.Reason(err)
		}
		if got := importReason(cat.Printer(lang.English), err); got != english {
			t.Errorf("%s in English = %q, want the package's %q", rk.key, got, english)
		}
		if got := cat.Printer(lang.English).T(rk.key, "Min", transfer.MinExportPassword); got != english {
			t.Errorf("catalogue %s = %q differs from the package's %q", rk.key, got, english)
		}
		for _, tag := range lang.All()[1:] {
			got := importReason(cat.Printer(tag), err)
			if got == english || got == "" || strings.Contains(got, "{{") {
				t.Errorf("%s in %s = %q, want a translation", rk.key, tag, got)
			}
		}
	}
}

// TestTransferDetailsHaveWords: every Detail id core/transfer names has a
// sentence in the catalogue (transfer.detail.* for a file's reason,
// transfer.entry.* for an entry's), and the catalogue keeps none that no
// longer has a Detail: a new detail without its words would fall back to
// the sentinel's sentence without anyone noticing.
func TestTransferDetailsHaveWords(t *testing.T) {
	files, err := filepath.Glob("../../core/transfer/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("core/transfer sources: %v", err)
	}
	idRE := regexp.MustCompile(`\.with\("([a-z_]+)"|Detail\{ID: "([a-z_]+)"`)
	used := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range idRE.FindAllStringSubmatch(string(src), -1) {
			used[m[1]+m[2]] = true
		}
	}
	if len(used) < 10 {
		t.Fatalf("found only %d Detail ids in core/transfer: the pattern no longer matches how they are written", len(used))
	}
	cat := lang.MustLoad()
	for id := range used {
		if cat.Forms(lang.English, "transfer.detail."+id) == nil && cat.Forms(lang.English, "transfer.entry."+id) == nil {
			t.Errorf("core/transfer's Detail %q has no transfer.detail.%[1]s or transfer.entry.%[1]s in lang/messages/en.yaml", id)
		}
	}
	for _, k := range cat.Keys() {
		for _, prefix := range []string{"transfer.detail.", "transfer.entry."} {
			if id, ok := strings.CutPrefix(k, prefix); ok && id != "unreadable" && !used[id] {
				t.Errorf("%s is in the catalogue but core/transfer names no such Detail", k)
			}
		}
	}
}

// TestImportDetailsInEveryLanguage: real imports that fail with a detail
// (a truncated file) or skip an entry (an mOTP entry of an Aegis vault)
// say that detail in every language, not the sentinel alone and not the
// English of core/transfer; English keeps core/transfer's own words.
func TestImportDetailsInEveryLanguage(t *testing.T) {
	ctx := context.Background()
	_, truncated := transfer.Import(ctx, []byte(`{"version": 1, "db": {`), "")
	res, err := transfer.Import(ctx, []byte(`{"version":1,"header":{"slots":null,"params":null},"db":{"entries":[{"type":"motp","name":"ann","issuer":"Acme","info":{"secret":"JBSWY3DPEHPK3PXP"}}]}}`), "")
	if truncated == nil || err != nil || len(res.Bad) != 1 {
		t.Fatalf("fixtures: %v / %v %+v", truncated, err, res)
	}
	cat := lang.MustLoad()
	en := cat.Printer(lang.English)
	if got, want := importFailure(en, truncated), transfer.Reason(truncated)+". "; !strings.HasPrefix(got, want) {
		t.Errorf("English: %q, want it to start with %q", got, want)
	}
	if got, want := problemLine(en, res.Bad[0]), res.Bad[0].Entry+": "+res.Bad[0].Reason; got != want {
		t.Errorf("English entry: %q, want %q", got, want)
	}
	for _, tag := range lang.All()[1:] {
		p := cat.Printer(tag)
		if got, want := importFailure(p, truncated), p.T("transfer.detail.truncated"); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q in it", tag, got, want)
		}
		line := problemLine(p, res.Bad[0])
		want := p.T("import.entry", "N", 1, "Label", "Acme: ann") + ": " + p.T("transfer.entry.kind_unsupported", "Kind", "mOTP")
		if line != want {
			t.Errorf("%s entry: %q, want %q", tag, line, want)
		}
	}
}

// TestSupportedFormatsWords: the catalogue's English list of formats is
// core/transfer's, so translators translate what English says.
func TestSupportedFormatsWords(t *testing.T) {
	if got := lang.MustLoad().Printer(lang.English).T("transfer.supported"); got != transfer.Supported {
		t.Errorf("transfer.supported in en.yaml differs from transfer.Supported:\n%s\n%s", got, transfer.Supported)
	}
}

// TestFormatName: an import's format is said with the app's name as it is
// and core/transfer's variant words in the person's language.
func TestFormatName(t *testing.T) {
	cat := lang.MustLoad()
	for _, tc := range []struct {
		tag      lang.Tag
		in, want string
	}{
		{lang.English, "WinAuth in a zip (password-protected)", "WinAuth in a zip (password-protected)"},
		{lang.Russian, "WinAuth in a zip (password-protected)", "WinAuth в zip-архиве (защищён паролем)"},
		{lang.German, "andOTP (encrypted, old format)", "andOTP (verschlüsselt, altes Format)"},
		{lang.Spanish, "Aegis (encrypted)", "Aegis (cifrado)"},
		{lang.Turkish, "FreeOTP+", "FreeOTP+"},
	} {
		if got := formatName(cat.Printer(tc.tag), tc.in); got != tc.want {
			t.Errorf("%s %q = %q, want %q", tc.tag, tc.in, got, tc.want)
		}
	}
}
