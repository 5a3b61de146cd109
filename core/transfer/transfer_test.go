package transfer

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/authbot/authbot/core/otp"
	gm "github.com/authbot/authbot/core/transfer/googlemigration"
)

// key builds an expected key; secret is base32.
func key(issuer, account string, kind otp.Kind, secret string, algo otp.Algorithm, digits, period int, counter uint64) otp.Key {
	s, err := decodeShortBase32(secret)
	if err != nil {
		panic(err)
	}
	return otp.Key{Issuer: issuer, Account: account, Params: otp.Params{
		Kind: kind, Secret: s, Algorithm: algo, Digits: digits, Period: period, Counter: counter,
	}}
}

// vectors are the seven test accounts every fixture describes (the same
// accounts the Aegis project tests its importers with).
func vectors() []otp.Key {
	return []otp.Key{
		key("Deno", "Mason", otp.TOTP, "4SJHB4GSD43FZBAI7C2HLRJGPQ", otp.SHA1, 6, 30, 0),
		key("SPDX", "James", otp.TOTP, "5OM4WOOGPLQEF6UGN3CPEOOLWU", otp.SHA256, 7, 20, 0),
		key("Airbnb", "Elijah", otp.TOTP, "7ELGJSGXNCCTV3O6LKJWYFV2RA", otp.SHA512, 8, 50, 0),
		key("Issuu", "James", otp.HOTP, "YOOMIXWS5GN6RTBPUFFWKTW5M4", otp.SHA1, 6, 0, 1),
		key("Air Canada", "Benjamin", otp.HOTP, "KUVJJOM753IHTNDSZVCNKL7GII", otp.SHA256, 7, 0, 50),
		key("WWE", "Mason", otp.HOTP, "5VAML3X35THCEBVRLV24CGBKOY", otp.SHA512, 8, 0, 10300),
		key("Boeing", "Sophia", otp.Steam, "JRZCL47CMXVOQMNPZR2F7J4RGI", otp.SHA1, 5, 30, 0),
	}
}

func pick(idx ...int) []otp.Key {
	v := vectors()
	var out []otp.Key
	for _, i := range idx {
		out = append(out, v[i])
	}
	return out
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type fixture struct {
	file     string
	password string
	format   string
	keys     []otp.Key
	bad      []string // substrings of Problem.Entry, in order
}

func fixtures() []fixture {
	v := vectors()
	// 2FAS schema 2 (the upstream file) only knew TOTP: the HOTP and Steam
	// accounts scanned into it became TOTP, 30 s, and SPDX, Air Canada and
	// Boeing were not in that export.
	twofasOld := []otp.Key{
		v[0], v[2],
		key("Issuu", "James", otp.TOTP, "YOOMIXWS5GN6RTBPUFFWKTW5M4", otp.SHA1, 6, 30, 0),
		key("WWE", "Mason", otp.TOTP, "5VAML3X35THCEBVRLV24CGBKOY", otp.SHA512, 8, 30, 0),
	}
	sorted := func(idx ...int) []otp.Key { return pick(idx...) }
	return []fixture{
		{file: "aegis_plain.json", format: "Aegis", keys: v},
		{file: "aegis_encrypted.json", password: "test", format: "Aegis (encrypted)", keys: v},
		{file: "upstream_aegis_encrypted.json", password: "test", format: "Aegis (encrypted)", keys: v},
		{file: "aegis_partial.json", format: "Aegis", keys: []otp.Key{v[0], v[4]},
			bad: []string{"entry 2 (BadKey: Broken)", "entry 3 (MD5Corp: Old)", "entry 4 (Yandex: ivan)", "entry 5 (Digits: Nine)", "entry 6 (deno: mason)", "entry 7"}},
		{file: "2fas_plain.2fas", format: "2FAS", keys: v},
		{file: "2fas_encrypted.2fas", password: "test", format: "2FAS (encrypted)", keys: v},
		{file: "upstream_2fas_encrypted.2fas", password: "test", format: "2FAS (encrypted)", keys: twofasOld},
		{file: "andotp_plain.json", format: "andOTP", keys: v},
		{file: "andotp_encrypted.bin", password: "test", format: "andOTP (encrypted)", keys: v},
		{file: "andotp_encrypted_old.bin", password: "test", format: "andOTP (encrypted, old format)", keys: v},
		{file: "bitwarden.json", format: "Bitwarden", keys: bitwardenKeys(), bad: []string{"entry 7 (Broken: x)"}},
		{file: "bitwarden.csv", format: "Bitwarden (CSV)", keys: []otp.Key{
			v[0],
			key("GitHub", "octocat", otp.TOTP, "JBSWY3DPEHPK3PXP", otp.SHA1, 6, 30, 0),
			key("Boeing", "Sophia", otp.Steam, "JRZCL47CMXVOQMNPZR2F7J4RGI", otp.SHA1, 5, 30, 0),
		}},
		{file: "freeotp_plus.json", format: "FreeOTP+", keys: append(sorted(5, 4, 3, 2, 1, 0),
			key("Steam", "Sophia", otp.Steam, "JRZCL47CMXVOQMNPZR2F7J4RGI", otp.SHA1, 5, 30, 0)),
			bad: []string{"entry 8 (Bad: bytes)"}},
		{file: "authpro.json", format: "Authenticator Pro", keys: v, bad: []string{"entry 8 (Old: motp)"}},
		{file: "authpro_encrypted.authpro", password: "test", format: "Authenticator Pro (encrypted)", keys: v, bad: []string{"entry 8 (Old: motp)"}},
		{file: "authpro_legacy.authpro", password: "test", format: "Authenticator Pro (encrypted, old format)", keys: v, bad: []string{"entry 8 (Old: motp)"}},
		{file: "ente_auth.txt", format: "Ente Auth (plain text)", keys: sorted(4, 2, 6, 0, 3, 1, 5)},
		{file: "links.txt", format: "otpauth:// links", keys: sorted(0, 1, 3, 6), bad: []string{"entry 4"}},
		{file: "google_part1.txt", format: "Google Authenticator transfer", keys: []otp.Key{
			v[0],
			key("Airbnb", "Elijah", otp.TOTP, "7ELGJSGXNCCTV3O6LKJWYFV2RA", otp.SHA512, 8, 30, 0),
			key("SPDX", "James", otp.TOTP, "5OM4WOOGPLQEF6UGN3CPEOOLWU", otp.SHA256, 6, 30, 0),
		}},
		{file: "google_part2.txt", format: "Google Authenticator transfer", keys: []otp.Key{v[3], v[5]},
			bad: []string{"entry 3 (MD5Corp: Old)", "entry 4 (NoSecret: Empty)"}},
		{file: "bitwarden_protected_pbkdf2.json", password: fixturePassword, format: "Bitwarden (password-protected)", keys: bitwardenKeys(), bad: []string{"entry 7 (Broken: x)"}},
		{file: "bitwarden_protected_argon2id.json", password: fixturePassword, format: "Bitwarden (password-protected)", keys: bitwardenKeys(), bad: []string{"entry 7 (Broken: x)"}},
		{file: "ente_encrypted.json", password: fixturePassword, format: "Ente Auth (encrypted)", keys: pick(4, 2, 6, 0, 3, 1, 5)},
		{file: "lastpass.json", format: "LastPass Authenticator", keys: pick(0, 1, 2), bad: []string{"entry 4 (LastPass: me@example.com)"}},
		{file: "raivo.json", format: "Raivo OTP", keys: pick(0, 2, 3, 5)},
		{file: "raivo_export.zip", password: fixturePassword, format: "Raivo OTP in a zip (password-protected)", keys: pick(0, 2, 3, 5)},
		{file: "authy_export.txt", format: "otpauth:// links", keys: []otp.Key{v[0],
			key("", "Twitch", otp.TOTP, "KUVJJOM753IHTNDSZVCNKL7GII", otp.SHA1, 7, 10, 0), v[2], v[1]}},
		{file: "proton_encrypted.json", password: fixturePassword, format: "Proton Authenticator (encrypted)", keys: pick(0, 1, 2)},
		{file: "upstream_proton_authenticator.json", format: "Proton Authenticator", keys: pick(0, 1, 2)},
		{file: "upstream_aegis_steam.json", format: "Steam Guard", keys: []otp.Key{steamKeyB64("Sophia", aegisSteam)}},
		{file: "upstream_aegis_steam_old.json", format: "Steam Guard (.maFile)", keys: []otp.Key{steamKeyB64("Sophia", aegisSteam)}},
		{file: "steam/steamv2.maFile", format: "Steam Guard (.maFile)", keys: []otp.Key{steamKeyB64("afarihm", steamV2Secret)}},
		{file: "upstream_winauth_steam.txt", format: "WinAuth", keys: []otp.Key{steamKeyB64("example", sgcliSecret), steamKeyB64("example2", sgcliSecret)}},
		{file: "winauth.txt", format: "WinAuth", keys: winAuthKeys()},
		{file: "winauth_protected.zip", password: fixturePassword, format: "WinAuth in a zip (password-protected)", keys: winAuthKeys()},
		{file: "sda_folder.zip", password: "password", format: "Steam Desktop Authenticator (encrypted) in a zip", keys: []otp.Key{steamKeyB64("example", sgcliSecret)}},
	}
}

// bitwardenKeys are the accounts of bitwarden.json.
func bitwardenKeys() []otp.Key {
	v := vectors()
	return []otp.Key{v[0], v[1],
		key("Boeing", "Sophia", otp.Steam, "JRZCL47CMXVOQMNPZR2F7J4RGI", otp.SHA1, 5, 30, 0),
		key("GitHub", "octocat", otp.TOTP, "JBSWY3DPEHPK3PXP", otp.SHA1, 6, 30, 0)}
}

// winAuthKeys are the accounts of winauth.txt.
func winAuthKeys() []otp.Key {
	v := vectors()
	return []otp.Key{v[0], v[1], v[2], v[3], steamKeyB64("Sophia", aegisSteam),
		key("Battle.net", "EU-1234-5678-9012", otp.TOTP, "KUVJJOM753IHTNDSZVCNKL7GII", otp.SHA1, 8, 30, 0)}
}

func TestImportFixtures(t *testing.T) {
	for _, fx := range fixtures() {
		t.Run(fx.file, func(t *testing.T) {
			t.Parallel()
			data := readFixture(t, fx.file)
			res, err := Import(context.Background(), data, fx.password)
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			if res.Format != fx.format {
				t.Errorf("Format = %q, want %q", res.Format, fx.format)
			}
			if !reflect.DeepEqual(res.Keys, fx.keys) {
				t.Errorf("got %d keys, want %d", len(res.Keys), len(fx.keys))
				for i := range max(len(res.Keys), len(fx.keys)) {
					var got, want otp.Key
					if i < len(res.Keys) {
						got = res.Keys[i]
					}
					if i < len(fx.keys) {
						want = fx.keys[i]
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("key %d:\n got %+v\nwant %+v", i, got, want)
					}
				}
			}
			if len(res.Bad) != len(fx.bad) {
				t.Errorf("Bad = %+v, want %d problems %q", res.Bad, len(fx.bad), fx.bad)
			} else {
				for i, p := range res.Bad {
					if !strings.HasPrefix(p.Entry, fx.bad[i]) || p.Reason == "" {
						t.Errorf("Bad[%d] = %+v, want entry %q with a reason", i, p, fx.bad[i])
					}
				}
			}
			assertNoSecretLeak(t, res, data)
		})
	}
}

// assertNoSecretLeak checks that no problem text repeats a secret of the
// file, in base32 or as the decoded key.
func assertNoSecretLeak(t *testing.T, res *Result, data []byte) {
	t.Helper()
	for _, p := range res.Bad {
		text := p.Entry + " " + p.Reason
		for _, v := range vectors() {
			b32 := otp.EncodeSecret(v.Params.Secret)
			if strings.Contains(strings.ToUpper(text), b32[:12]) || strings.Contains(text, string(v.Params.Secret)) {
				t.Errorf("problem %q reveals a secret", text)
			}
		}
		for _, s := range []string{"NOT-BASE32", "JBSWY3DP", "0000"} {
			if strings.Contains(text, s) {
				t.Errorf("problem %q reveals a secret", text)
			}
		}
	}
}

func TestImportGoogleBatch(t *testing.T) {
	for i, name := range []string{"google_part1.txt", "google_part2.txt"} {
		res, err := Import(context.Background(), readFixture(t, name), "")
		if err != nil {
			t.Fatal(err)
		}
		want := Batch{ID: 1357924680, Index: i, Size: 2}
		if res.Batch == nil || *res.Batch != want || res.Parts != nil {
			t.Errorf("%s: Batch = %+v, Parts = %v; want %+v", name, res.Batch, res.Parts, want)
		}
	}
	// Both parts pasted at once: all keys, both parts listed.
	both := append(readFixture(t, "google_part1.txt"), readFixture(t, "google_part2.txt")...)
	res, err := Import(context.Background(), both, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Keys) != 5 || len(res.Parts) != 2 || res.Parts[1].Index != 1 || res.Batch == nil || res.Batch.Index != 0 {
		t.Errorf("both parts: %d keys, Batch %+v, Parts %+v", len(res.Keys), res.Batch, res.Parts)
	}
}

func TestImportPasswords(t *testing.T) {
	for _, fx := range fixtures() {
		if fx.password == "" {
			continue
		}
		t.Run(fx.file, func(t *testing.T) {
			t.Parallel()
			data := readFixture(t, fx.file)
			if _, err := Import(context.Background(), data, ""); !errors.Is(err, ErrPasswordRequired) {
				t.Errorf("no password: err = %v, want ErrPasswordRequired", err)
			}
			if _, err := Import(context.Background(), data, "wrong password"); !errors.Is(err, ErrWrongPassword) {
				t.Errorf("wrong password: err = %v, want ErrWrongPassword", err)
			}
		})
	}
}

func TestImportTruncated(t *testing.T) {
	for _, fx := range fixtures() {
		if strings.HasSuffix(fx.file, ".txt") || strings.HasSuffix(fx.file, ".csv") {
			continue // text is read line by line: a cut only loses lines
		}
		t.Run(fx.file, func(t *testing.T) {
			t.Parallel()
			data := readFixture(t, fx.file)
			cuts := []int{len(data) * 2 / 3, len(data) - 20}
			if fx.password != "" {
				cuts = cuts[1:] // each try runs a key derivation
			}
			for _, cut := range cuts {
				res, err := Import(context.Background(), data[:cut], fx.password)
				if err == nil {
					t.Fatalf("cut at %d of %d: imported %d keys, want an error", cut, len(data), len(res.Keys))
				}
				if !errors.Is(err, ErrCorruptFile) && !errors.Is(err, ErrWrongPassword) {
					t.Errorf("cut at %d: err = %v, want ErrCorruptFile (or ErrWrongPassword for bare ciphertext)", cut, err)
				}
			}
		})
	}
}

func TestImportCorruptEncrypted(t *testing.T) {
	t.Parallel()
	// One flipped bit in the Aegis database (not the slot): the password is
	// right, so the file is damaged.
	data := readFixture(t, "aegis_encrypted.json")
	i := bytes.Index(data, []byte(`"db": "`)) + 10
	bad := append([]byte{}, data...)
	bad[i] ^= 0x01
	if bad[i] == '"' || bad[i] == '\\' {
		bad[i] = 'A'
	}
	_, err := Import(context.Background(), bad, "test")
	if !errors.Is(err, ErrCorruptFile) {
		t.Errorf("flipped db byte: err = %v, want ErrCorruptFile", err)
	}
}

func TestImportRejects(t *testing.T) {
	t.Parallel()
	nested := func(open, close string, n int) []byte {
		return []byte(strings.Repeat(open, n) + strings.Repeat(close, n))
	}
	manyAndOTP := "[" + strings.TrimSuffix(strings.Repeat(`{"secret":"JBSWY3DPEHPK3PXP"},`, MaxEntries+1), ",") + "]"
	manyLinks := strings.Repeat("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP\n", MaxEntries+1)
	aegisHuge := bytes.Replace(readFixture(t, "aegis_encrypted.json"), []byte(`"n": 32768`), []byte(`"n": 1073741824`), 1)
	aegisMem := bytes.Replace(readFixture(t, "aegis_encrypted.json"), []byte(`"r": 8`), []byte(`"r": 32`), 1)
	aegisMem = bytes.Replace(aegisMem, []byte(`"n": 32768`), []byte(`"n": 1048576`), 1)
	aegisNonce := bytes.Replace(readFixture(t, "upstream_aegis_encrypted.json"), []byte(`"e9705513ba4951fa7a0608d2"`), []byte(`"e970"`), 1)
	aegisBio := []byte(`{"version":1,"header":{"slots":[{"type":2,"uuid":"x","key":"00","key_params":{"nonce":"00","tag":"00"}}],"params":{"nonce":"000000000000000000000000","tag":"00000000000000000000000000000000"}},"db":"AAAA"}`)
	andOTPHugeIter := append([]byte{0x7f, 0xff, 0xff, 0xff}, make([]byte, 60)...)
	tests := []struct {
		name     string
		data     []byte
		password string
		want     error
	}{
		{"empty", nil, "", ErrUnknownFormat},
		{"spaces", []byte(" \n\t "), "", ErrUnknownFormat},
		{"broken zip", append([]byte("PK\x03\x04"), make([]byte, 100)...), "", ErrCorruptFile},
		{"zip of nothing known", zipOf(t, 1, func(int) (string, []byte) { return "notes.txt", []byte("hello") }), "", ErrUnknownFormat},
		{"png", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...), "", ErrImage},
		{"jpeg", append([]byte("\xff\xd8\xff\xe0"), make([]byte, 100)...), "", ErrImage},
		{"over 5 MiB", make([]byte, MaxInput+1), "", ErrTooLarge},
		{"over 2,000 entries", []byte(manyAndOTP), "", ErrTooLarge},
		{"over 2,000 links", []byte(manyLinks), "", ErrTooLarge},
		{"deep arrays", nested("[", "]", 100_000), "", ErrCorruptFile},
		{"deep objects", []byte(strings.Repeat(`{"a":`, 65) + "1" + strings.Repeat("}", 65)), "", ErrCorruptFile},
		{"deep inside aegis", []byte(`{"header":{},"db":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`), "", ErrCorruptFile},
		{"truncated json", []byte(`{"header": {"slots": null}, "db": {"entries": [`), "", ErrCorruptFile},
		{"invalid json", []byte(`{"header": nope}`), "", ErrCorruptFile},
		{"unknown json", []byte(`{"hello": "world"}`), "", ErrUnknownFormat},
		{"plain prose", []byte("Dear Sir, please find my accounts attached."), "", ErrUnknownFormat},
		{"short binary", []byte{0, 1, 2, 0xff}, "", ErrUnknownFormat},
		{"ente tiny memLimit", []byte(`{"version":1,"kdfParams":{"memLimit":1,"opsLimit":1,"salt":"x"},"encryptedData":"x","encryptionNonce":"x"}`), "pw", ErrCorruptFile},
		{"ente over 1 GiB", []byte(`{"version":1,"kdfParams":{"memLimit":2147483648,"opsLimit":2,"salt":"AAAAAAAAAAAAAAAAAAAAAA=="},"encryptedData":"AAAAAAAAAAAAAAAAAAAAAAAA","encryptionNonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`), "pw", ErrCorruptFile},
		{"ente too many passes", []byte(`{"version":1,"kdfParams":{"memLimit":1073741824,"opsLimit":8,"salt":"AAAAAAAAAAAAAAAAAAAAAA=="},"encryptedData":"AAAAAAAAAAAAAAAAAAAAAAAA","encryptionNonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`), "pw", ErrCorruptFile},
		{"bitwarden account-restricted", []byte(`{"encrypted":true,"encKeyValidation_DO_NOT_EDIT":"2.AAAA|AAAA|AAAA","folders":[],"items":[{"login":{"totp":"2.AAAA|AAAA|AAAA"}}]}`), "pw", ErrUnsupported},
		{"bitwarden protected, no data", []byte(`{"encrypted":true,"passwordProtected":true,"items":[]}`), "pw", ErrUnsupported},
		{"bitwarden argon2 too costly", []byte(`{"encrypted":true,"passwordProtected":true,"salt":"x","kdfType":1,"kdfIterations":3,"kdfMemory":2048,"kdfParallelism":4,"data":"2.AAAAAAAAAAAAAAAAAAAAAA==|AAAAAAAAAAAAAAAAAAAAAA==|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`), "pw", ErrCorruptFile},
		{"bitwarden pbkdf2 too costly", []byte(`{"encrypted":true,"passwordProtected":true,"salt":"x","kdfType":0,"kdfIterations":20000000,"data":"2.AAAAAAAAAAAAAAAAAAAAAA==|AAAAAAAAAAAAAAAAAAAAAA==|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`), "pw", ErrCorruptFile},
		{"aegis scrypt N=2^30", aegisHuge, "test", ErrCorruptFile},
		{"aegis scrypt 4 GiB", aegisMem, "test", ErrCorruptFile},
		{"aegis short nonce", aegisNonce, "test", ErrCorruptFile},
		{"aegis fingerprint only", aegisBio, "test", ErrUnsupported},
		{"aegis bad base64", []byte(`{"version":1,"header":{"slots":[],"params":{"nonce":"00","tag":"00"}},"db":"!!!"}`), "test", ErrCorruptFile},
		{"2fas bad parts", []byte(`{"schemaVersion":4,"servicesEncrypted":"AAAA:AAAA"}`), "test", ErrCorruptFile},
		{"2fas bad base64", []byte(`{"schemaVersion":4,"servicesEncrypted":"!!:AAAA:AAAA"}`), "test", ErrCorruptFile},
		{"andotp iterations over cap", andOTPHugeIter, "test", ErrWrongPassword},
		{"migration bad base64", []byte("otpauth-migration://offline?data=%%%"), "", ErrCorruptFile},
		{"migration not protobuf", []byte("otpauth-migration://offline?data=" + base64.StdEncoding.EncodeToString([]byte{0xff, 0xff, 0xff})), "", ErrCorruptFile},
		{"migration no data", []byte("otpauth-migration://offline?x=1"), "", ErrCorruptFile},
		{"authpro short", []byte("AUTHENTICATORPRO1234"), "test", ErrCorruptFile},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Import(context.Background(), tc.data, tc.password)
			if !errors.Is(err, tc.want) {
				keys := -1
				if res != nil {
					keys = len(res.Keys)
				}
				t.Errorf("err = %v (keys %d), want %v", err, keys, tc.want)
			}
			if err != nil && err.Error() == "" {
				t.Error("empty error text")
			}
		})
	}
}

func TestImportCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Import(ctx, readFixture(t, "aegis_encrypted.json"), "test"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestImportBOMAndWhitespace(t *testing.T) {
	data := append([]byte("\xef\xbb\xbf\n  "), readFixture(t, "andotp_plain.json")...)
	res, err := Import(context.Background(), data, "")
	if err != nil || len(res.Keys) != 7 {
		t.Fatalf("Import with BOM: %v", err)
	}
}

func TestExportAegisRoundTrip(t *testing.T) {
	t.Parallel()
	keys := append(vectors(),
		key("", "", otp.TOTP, "JBSWY3DPEHPK3PXP", otp.SHA1, 6, 60, 0),
		key("Ünïcödé “Bank”", "jörg@example.org", otp.HOTP, "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFOQ", otp.SHA1, 6, 0, 1<<40),
	)
	vault, err := ExportAegis(keys, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Import(context.Background(), vault, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if res.Format != "Aegis (encrypted)" || len(res.Bad) != 0 || !reflect.DeepEqual(res.Keys, keys) {
		t.Errorf("round trip: format %q, bad %v\n got %+v\nwant %+v", res.Format, res.Bad, res.Keys, keys)
	}
	if _, err := Import(context.Background(), vault, "Correct horse battery staple"); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}
	// The vault has what Aegis needs: scrypt N=2^15 r=8 p=1, db version 3.
	for _, want := range []string{`"n": 32768`, `"r": 8`, `"p": 1`, `"type": 1`, `"version": 1`, `"repaired": true`} {
		if !bytes.Contains(vault, []byte(want)) {
			t.Errorf("vault lacks %s", want)
		}
	}
}

func TestExportAegisErrors(t *testing.T) {
	t.Parallel()
	if _, err := ExportAegis(vectors(), ""); err == nil {
		t.Error("ExportAegis without a password succeeded")
	}
	bad := key("X", "y", otp.TOTP, "JBSWY3DPEHPK3PXP", otp.SHA1, 9, 30, 0)
	if _, err := ExportAegis([]otp.Key{bad}, "pw"); !errors.Is(err, otp.ErrInvalidParams) {
		t.Errorf("invalid key: err = %v", err)
	}
	vault, err := ExportAegis(nil, "pw")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Import(context.Background(), vault, "pw")
	if err != nil || len(res.Keys) != 0 {
		t.Errorf("empty vault: %v, %+v", err, res)
	}
}

func TestGoogleMigrationRoundTrip(t *testing.T) {
	t.Parallel()
	var keys []otp.Key
	for i := range 25 {
		kind, algo, digits := otp.TOTP, otp.SHA1, 6
		var counter uint64
		switch i % 4 {
		case 1:
			kind, counter = otp.HOTP, uint64(i*1000)
		case 2:
			algo, digits = otp.SHA256, 8
		case 3:
			algo = otp.SHA512
		}
		k := key(fmt.Sprintf("Issuer %d", i), fmt.Sprintf("user%d@example.com", i), kind, "JBSWY3DPEHPK3PXP", algo, digits, 30, counter)
		k.Params.Secret = append(k.Params.Secret, byte(i)) // distinct secrets
		if kind == otp.HOTP {
			k.Params.Period = 0
		}
		keys = append(keys, k)
	}
	keys[5].Issuer = "" // no issuer: the name alone
	steam := pick(6)[0]
	tenDigits := key("Odd", "period", otp.TOTP, "JBSWY3DPEHPK3PXP", otp.SHA1, 6, 60, 0)
	seven := key("Odd", "digits", otp.TOTP, "JBSWY3DPEHPK3PXP", otp.SHA1, 7, 30, 0)
	all := append(append([]otp.Key{}, keys[:3]...), steam, tenDigits)
	all = append(append(all, keys[3:]...), seven)

	uris, skipped, err := GoogleMigrationURIs(all)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(skipped, []otp.Key{steam, tenDigits, seven}) {
		t.Errorf("skipped = %+v", skipped)
	}
	if len(uris) != 3 {
		t.Fatalf("%d links, want 3 (25 accounts, 10 a code)", len(uris))
	}
	var got []otp.Key
	var id int32
	for i, u := range uris {
		res, err := Import(context.Background(), []byte(u), "")
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if len(res.Bad) != 0 || res.Batch == nil {
			t.Fatalf("part %d: bad %v, batch %v", i, res.Bad, res.Batch)
		}
		if i == 0 {
			id = res.Batch.ID
		}
		if *res.Batch != (Batch{ID: id, Index: i, Size: 3}) {
			t.Errorf("part %d: batch %+v", i, *res.Batch)
		}
		got = append(got, res.Keys...)
	}
	if !reflect.DeepEqual(got, keys) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, keys)
	}
	// Version 1, as Google writes.
	var p gm.MigrationPayload
	data, _ := url.ParseQuery(strings.SplitN(uris[0], "?", 2)[1])
	raw, _ := base64.StdEncoding.DecodeString(data.Get("data"))
	if err := proto.Unmarshal(raw, &p); err != nil || p.GetVersion() != 1 || len(p.GetOtpParameters()) != 10 {
		t.Errorf("payload: %v, version %d, %d accounts", err, p.GetVersion(), len(p.GetOtpParameters()))
	}

	if uris, skipped, err := GoogleMigrationURIs([]otp.Key{steam}); err != nil || uris != nil || len(skipped) != 1 {
		t.Errorf("only Steam: %v %v %v", uris, skipped, err)
	}
	if _, _, err := GoogleMigrationURIs([]otp.Key{{Params: otp.Params{Kind: otp.TOTP}}}); err == nil {
		t.Error("an invalid key was exported")
	}
}

func TestGoogleUnsupported(t *testing.T) {
	v := vectors()
	for i, want := range []bool{false, true, true, false, true, false, true} {
		if got := GoogleUnsupported(v[i].Params) != ""; got != want {
			t.Errorf("%s: unsupported = %v, want %v", v[i].Issuer, got, want)
		}
	}
}

func TestEntryNamesAreClean(t *testing.T) {
	data := []byte(`[{"secret":"x","issuer":"Evil\u0000\u202eCorp\n` + strings.Repeat("A", 500) + `","label":"bob"}]`)
	res, err := Import(context.Background(), data, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Bad) != 1 {
		t.Fatalf("Bad = %v", res.Bad)
	}
	e := res.Bad[0].Entry
	if strings.ContainsAny(e, "\x00\u202e\n") || len(e) > 120 || !strings.HasPrefix(e, "entry 1 (EvilCorp") {
		t.Errorf("entry name %q is not cleaned", e)
	}
}

func TestNum(t *testing.T) {
	tests := []struct {
		in   string
		want num
		ok   bool
	}{
		{`6`, 6, true}, {`"8"`, 8, true}, {`null`, 0, true}, {`""`, 0, true}, {`30.0`, 30, true},
		{`"six"`, 0, false}, {`6.5`, 0, false}, {`true`, 0, false}, {`1e300`, 0, false},
	}
	for _, tc := range tests {
		var n num
		err := n.UnmarshalJSON([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && n != tc.want) {
			t.Errorf("%s: %d, %v", tc.in, n, err)
		}
	}
	if got := num(1 << 40).int(); got != -1 {
		t.Errorf("huge num.int() = %d", got)
	}
}

func TestFixtureFilesAreCovered(t *testing.T) {
	names := map[string]bool{}
	for _, fx := range fixtures() {
		names[fx.file] = true
	}
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "README.md" || strings.HasPrefix(e.Name(), "fuzz") || strings.HasSuffix(e.Name(), ".c") {
			continue
		}
		if !names[e.Name()] {
			t.Errorf("testdata/%s is not checked by TestImportFixtures", e.Name())
		}
	}
}

func FuzzImport(f *testing.F) {
	for _, fx := range fixtures() {
		// With the password only where the key derivation is cheap: the
		// seeds run in every go test, the derivations are tested above.
		f.Add(readFixture(f, fx.file), strings.HasPrefix(fx.file, "2fas") || strings.HasPrefix(fx.file, "upstream_2fas"))
	}
	f.Add([]byte(`{"header":{"slots":[{"type":1,"n":2,"r":1,"p":1,"salt":"00","key":"00","key_params":{"nonce":"000000000000000000000000","tag":"00000000000000000000000000000000"}}],"params":{"nonce":"000000000000000000000000","tag":"00000000000000000000000000000000"}},"db":"AAAA"}`), true)
	f.Add([]byte("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP"), false)
	f.Fuzz(func(t *testing.T, data []byte, withPassword bool) {
		password := ""
		if withPassword {
			password = "test"
		}
		res, err := Import(context.Background(), data, password)
		if err == nil && res == nil {
			t.Fatal("nil result without an error")
		}
		if err != nil && res != nil {
			t.Fatal("result with an error")
		}
		if res != nil {
			for _, k := range res.Keys {
				if err := k.Params.Validate(); err != nil {
					t.Fatalf("imported an invalid key: %v", err)
				}
			}
			// Everything an import hands on is bounded.
			if len(res.Keys) > MaxEntries || len(res.Parts) > MaxBatchSize || res.Batch != nil && res.Batch.Size > MaxBatchSize {
				t.Fatalf("unbounded result: %d keys, %d parts, batch %+v", len(res.Keys), len(res.Parts), res.Batch)
			}
		}
	})
}

func FuzzGoogleMigration(f *testing.F) {
	for _, name := range []string{"google_part1.txt", "google_part2.txt"} {
		u, err := url.Parse(strings.TrimSpace(string(readFixture(f, name))))
		if err != nil {
			f.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(u.Query().Get("data"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte{0x0a, 0x00, 0x10, 0x01})
	f.Fuzz(func(t *testing.T, payload []byte) {
		link := "otpauth-migration://offline?data=" + url.QueryEscape(base64.StdEncoding.EncodeToString(payload))
		res, err := Import(context.Background(), []byte(link), "")
		if err != nil {
			return
		}
		if res.Batch == nil || res.Batch.Size < 1 || res.Batch.Index < 0 || res.Batch.Index >= res.Batch.Size {
			t.Fatalf("batch %+v", res.Batch)
		}
		for _, k := range res.Keys {
			if err := k.Params.Validate(); err != nil {
				t.Fatalf("imported an invalid key: %v", err)
			}
		}
	})
}

func BenchmarkImportAegisEncrypted(b *testing.B) {
	data := readFixture(b, "aegis_encrypted.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Import(context.Background(), data, "test"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkImportAegisPlain(b *testing.B) {
	data := readFixture(b, "aegis_plain.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Import(context.Background(), data, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkImportAndOTPLargest(b *testing.B) {
	data := []byte("[" + strings.TrimSuffix(strings.Repeat(`{"secret":"JBSWY3DPEHPK3PXP","issuer":"x","label":"y","digits":6,"type":"TOTP","algorithm":"SHA1","period":30},`, MaxEntries), ",") + "]")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Import(context.Background(), data, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCheckExportPassword: the rule counts characters, not bytes, so a
// short password of accented letters is still short.
func TestCheckExportPassword(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		pw   string
		weak bool
	}{
		{"", true},
		{"1234567", true},
		{"ääääääa", true}, // 7 characters, 14 bytes
		{"12345678", false},
		{"pässwörd", false},
		{"correct horse battery staple", false},
	} {
		err := CheckExportPassword(tt.pw)
		if weak := errors.Is(err, ErrWeakPassword); weak != tt.weak || (err != nil) != tt.weak {
			t.Errorf("CheckExportPassword(%q) = %v, want weak %v", tt.pw, err, tt.weak)
		}
	}
}
