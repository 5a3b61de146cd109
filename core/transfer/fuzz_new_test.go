package transfer

import (
	"context"
	"errors"
	"testing"

	"github.com/authbot/authbot/core/otp"
)

// checkFuzzResult holds every importer to the same contract: a result or
// an error, never both, and only valid keys.
func checkFuzzResult(t *testing.T, res *Result, err error) {
	t.Helper()
	if (err == nil) == (res == nil) {
		t.Fatalf("result %v with error %v", res, err)
	}
	if res == nil {
		return
	}
	for _, k := range res.Keys {
		if err := k.Params.Validate(); err != nil {
			t.Fatalf("imported an invalid key: %v", err)
		}
	}
}

// FuzzImportSteamSet: a manifest.json and a maFile, in both orders.
func FuzzImportSteamSet(f *testing.F) {
	for _, fx := range setFixtures() {
		files := readSet(f, fx.files)
		f.Add(files[0], files[1], fx.password == "password")
	}
	f.Add([]byte(`{"encrypted":true,"entries":[{"encryption_iv":"AAAAAAAAAAAAAAAAAAAAAA==","encryption_salt":"AAAAAAAAAAA=","filename":"x","steamid":1}]}`),
		[]byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), true)
	im := NewImporter()
	f.Fuzz(func(t *testing.T, manifest, mafile []byte, withPassword bool) {
		password := ""
		if withPassword {
			password = "password"
		}
		res, err := im.ImportFiles(context.Background(), [][]byte{manifest, mafile}, password)
		checkFuzzResult(t, res, err)
		res, err = im.ImportFiles(context.Background(), [][]byte{mafile, manifest}, password)
		checkFuzzResult(t, res, err)
	})
}

// FuzzImportZip: archives, encrypted or not, within the limits.
func FuzzImportZip(f *testing.F) {
	for _, name := range []string{"winauth_protected.zip", "sda_folder.zip", "raivo_export.zip"} {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Import(context.Background(), data, fixturePassword)
		checkFuzzResult(t, res, err)
	})
}

// FuzzWinAuthSteamLine: WinAuth's Steam lines with their data= JSON.
func FuzzWinAuthSteamLine(f *testing.F) {
	f.Add("otpauth://totp/Steam:x?secret=ASDF&digits=5&deviceid=android%3a1&data=%7b%22shared_secret%22%3a%22THIl8%2bJl6ugxr8x0X6eRMg%3d%3d%22%7d")
	f.Add("otpauth://totp/Steam:x?secret=JRZCL47CMXVOQMNPZR2F7J4RGI&deviceid=1")
	f.Fuzz(func(t *testing.T, line string) {
		k, reason, ok := winAuthSteam(line)
		if ok && reason == "" {
			if k.Params.Kind != otp.Steam {
				t.Fatalf("kind %s", k.Params.Kind)
			}
		}
	})
}

// FuzzBitwardenCipherString: parsing and the MAC check before decryption.
func FuzzBitwardenCipherString(f *testing.F) {
	f.Add("2.AAAAAAAAAAAAAAAAAAAAAA==|AAAAAAAAAAAAAAAAAAAAAA==|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	f.Add("2.x|y|z")
	encKey, macKey := bitwardenStretch(make([]byte, 32))
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := parseCipherString(s)
		if err != nil {
			if !errors.Is(err, ErrCorruptFile) {
				t.Fatalf("error %v is not ErrCorruptFile", err)
			}
			return
		}
		cs.open(encKey, macKey) // must not panic; the MAC fails for random input
	})
}
