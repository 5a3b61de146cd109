package transfer

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"strings"
	"testing"

	"github.com/authbot/authbot/core/qr"
)

func qrPicture(t *testing.T, text string) []byte {
	t.Helper()
	png, err := qr.Encode(text, 512)
	if err != nil {
		t.Fatal(err)
	}
	return png
}

func TestReadAny(t *testing.T) {
	ctx := context.Background()
	migration, err := os.ReadFile("testdata/google_part1.txt")
	if err != nil {
		t.Fatal(err)
	}
	aegis, err := os.ReadFile("testdata/aegis_plain.json")
	if err != nil {
		t.Fatal(err)
	}
	encrypted, err := os.ReadFile("testdata/aegis_encrypted.json")
	if err != nil {
		t.Fatal(err)
	}
	link := "otpauth://totp/Deno:Mason?secret=4SJHB4GSD43FZBAI7C2HLRJGPQ&issuer=Deno"

	tests := []struct {
		name    string
		file    []byte
		want    string // one letter per Found: R result, L link, E error
		wantErr error
	}{
		{"export file", aegis, "R", nil},
		{"encrypted export asks for the password", encrypted, "", ErrPasswordRequired},
		{"picture of a single link", qrPicture(t, link), "L", nil},
		{"picture of a transfer link", qrPicture(t, strings.TrimSpace(string(migration))), "R", nil},
		{"picture of a web address", qrPicture(t, "https://example.org/setup"), "E", nil},
		{"picture of a broken transfer link", qrPicture(t, "otpauth-migration://offline?data=AAAA"), "E", nil},
		{"picture with no QR code", blankPNG(t), "", qr.ErrNoQR},
		{"text that is no export", []byte("hello"), "", ErrUnknownFormat},
	}
	im := NewImporter()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found, err := im.ReadAny(ctx, qr.NewDecoder(), [][]byte{tt.file}, "")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			var got strings.Builder
			for _, f := range found {
				switch {
				case f.Err != nil:
					got.WriteString("E")
				case f.Link != "":
					got.WriteString("L")
					if f.Link != link {
						t.Errorf("link = %q", f.Link)
					}
				case f.Result != nil && len(f.Result.Keys) > 0:
					got.WriteString("R")
				default:
					got.WriteString("?")
				}
			}
			if got.String() != tt.want {
				t.Errorf("found %q, want %q", got.String(), tt.want)
			}
		})
	}
}

func TestReadAnyQRNotOTPHasAReason(t *testing.T) {
	found, err := NewImporter().ReadPicture(context.Background(), qr.NewDecoder(), qrPicture(t, "WIFI:S:home;P:secret;;"))
	if err != nil || len(found) != 1 || !errors.Is(found[0].Err, ErrQRNotOTP) {
		t.Fatalf("found %+v, err %v", found, err)
	}
	if r := Reason(found[0].Err); !strings.Contains(r, "2FA link") {
		t.Errorf("Reason = %q", r)
	}
}

// blankPNG is a white picture with no QR code in it.
func blankPNG(t *testing.T) []byte {
	t.Helper()
	m := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range m.Pix {
		m.Pix[i] = 0xff
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
