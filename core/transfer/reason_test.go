package transfer

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

// TestReason: the person text of every kind of error, without what a
// caller wrapped around it, and none for errors from elsewhere.
func TestReason(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"sentinel", ErrTooLarge, "The file is too large to import (at most 5 MiB and 2,000 accounts or 100 transfer QR codes at a time; split it and send the parts one by one)"},
		{"detail", corrupt("entry %d is cut off", 3), "The file is damaged or incomplete: entry 3 is cut off"},
		{"wrapped by a caller", fmt.Errorf("import x.json: %w", unsupported("it is a backup of settings")), "I recognise this file but cannot import it: it is a backup of settings"},
		{"two sentinels", errSlowPassword, "This file is encrypted: I need its password (opening it takes a few seconds)"},
		{"need file", &NeedFileError{Format: "Steam manifest.json", Want: "send the maFiles too"}, "This is the Steam manifest.json: send the maFiles too"},
		{"weak password", fmt.Errorf("export: %w", CheckExportPassword("short")), "The password is too short: use at least 8 characters"},
		{"foreign", io.ErrUnexpectedEOF, ""},
		{"nil", nil, ""},
	} {
		if got := Reason(tt.err); got != tt.want {
			t.Errorf("%s: Reason = %q, want %q", tt.name, got, tt.want)
		}
	}
	// The detail errors still match their sentinels and read as before.
	if err := corrupt("x"); !errors.Is(err, ErrCorruptFile) || err.Error() != "the file is damaged or incomplete: x" {
		t.Errorf("corrupt: %v", err)
	}
	if !errors.Is(errSlowPassword, ErrPasswordRequired) || !errors.Is(errSlowPassword, ErrSlowKDF) {
		t.Error("errSlowPassword lost a sentinel")
	}
}
