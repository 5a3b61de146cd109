package commands

import (
	"fmt"
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
