package transfer

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/argon2"
	"google.golang.org/protobuf/proto"

	gm "github.com/authbot/authbot/core/transfer/googlemigration"
)

// The encrypted fixtures are written by this generator from the published
// format descriptions (see each importer's comment), with password
// fixturePassword, and committed. Run it again only to change them:
//
//	go test ./core/transfer -run TestGenerateFixtures -update
//
// The files named upstream_* were not made here: they are the test files of
// the Aegis project (see testdata/README.md), an independent check that our
// reading of the Aegis and 2FAS formats matches the apps.
var update = flag.Bool("update", false, "rewrite the generated encrypted fixtures in testdata/")

const fixturePassword = "test"

// The plaintexts of the encrypted fixtures: the same seven accounts as the
// plain fixtures.
const (
	twoFASServices = `[{"name":"Deno","secret":"4SJHB4GSD43FZBAI7C2HLRJGPQ","otp":{"account":"Mason","issuer":"Deno","digits":6,"period":30,"algorithm":"SHA1","tokenType":"TOTP"}},` +
		`{"name":"SPDX","secret":"5OM4WOOGPLQEF6UGN3CPEOOLWU","otp":{"account":"James","issuer":"SPDX","digits":7,"period":20,"algorithm":"SHA256","tokenType":"TOTP"}},` +
		`{"name":"Airbnb","secret":"7ELGJSGXNCCTV3O6LKJWYFV2RA","otp":{"account":"Elijah","issuer":"Airbnb","digits":8,"period":50,"algorithm":"SHA512","tokenType":"TOTP"}},` +
		`{"name":"Issuu","secret":"YOOMIXWS5GN6RTBPUFFWKTW5M4","otp":{"account":"James","issuer":"Issuu","digits":6,"algorithm":"SHA1","counter":1,"tokenType":"HOTP"}},` +
		`{"name":"Air Canada","secret":"KUVJJOM753IHTNDSZVCNKL7GII","otp":{"account":"Benjamin","issuer":"Air Canada","digits":7,"algorithm":"SHA256","counter":50,"tokenType":"HOTP"}},` +
		`{"name":"WWE","secret":"5VAML3X35THCEBVRLV24CGBKOY","otp":{"account":"Mason","issuer":"WWE","digits":8,"algorithm":"SHA512","counter":10300,"tokenType":"HOTP"}},` +
		`{"name":"Boeing","secret":"JRZCL47CMXVOQMNPZR2F7J4RGI","otp":{"account":"Sophia","issuer":"Boeing","digits":5,"period":30,"algorithm":"SHA1","tokenType":"STEAM"}}]`
)

func TestGenerateFixtures(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the generated fixtures")
	}
	write := func(name string, b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// Aegis: our exporter (its output also opens in Aegis).
	vault, err := ExportAegis(vectors(), fixturePassword)
	if err != nil {
		t.Fatal(err)
	}
	write("aegis_encrypted.json", vault)

	// 2FAS: PBKDF2-HMAC-SHA256, 10,000 iterations, AES-GCM,
	// "b64(ciphertext+tag):b64(salt):b64(iv)".
	salt, iv := random(t, 256), random(t, 12)
	key, err := pbkdf2.Key(sha256.New, fixturePassword, salt, 10_000, 32)
	if err != nil {
		t.Fatal(err)
	}
	sealed := gcmSealFixture(t, key, iv, []byte(twoFASServices))
	enc := base64.StdEncoding.EncodeToString(sealed) + ":" + base64.StdEncoding.EncodeToString(salt) + ":" + base64.StdEncoding.EncodeToString(iv)
	write("2fas_encrypted.2fas", []byte(`{"services":[],"groups":[],"updatedAt":1700000000000,"schemaVersion":4,"appVersionCode":5000009,"appVersionName":"5.1.0","appOrigin":"android","servicesEncrypted":"`+enc+`"}`))

	// andOTP new format: iterations, salt, nonce, ciphertext+tag under
	// PBKDF2-HMAC-SHA1.
	andPlain := read("andotp_plain.json")
	const iter = 20_000 // andOTP itself uses 140,000-160,000; fewer keeps tests fast
	salt, iv = random(t, 12), random(t, 12)
	key, err = pbkdf2.Key(sha1.New, fixturePassword, salt, iter, 32)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.BigEndian.AppendUint32(nil, iter)
	out = append(append(append(out, salt...), iv...), gcmSealFixture(t, key, iv, andPlain)...)
	write("andotp_encrypted.bin", out)

	// andOTP old format: nonce, ciphertext+tag under SHA-256(password).
	k := sha256.Sum256([]byte(fixturePassword))
	iv = random(t, 12)
	write("andotp_encrypted_old.bin", append(append([]byte{}, iv...), gcmSealFixture(t, k[:], iv, andPlain)...))

	// Authenticator Pro: header, salt, IV, AES-GCM under Argon2id.
	apPlain := read("authpro.json")
	salt, iv = random(t, 16), random(t, 12)
	key = argon2.IDKey([]byte(fixturePassword), salt, 3, 64*1024, 4, 32)
	out = append([]byte("AUTHENTICATORPRO"), salt...)
	out = append(append(out, iv...), gcmSealFixture(t, key, iv, apPlain)...)
	write("authpro_encrypted.authpro", out)

	// Authenticator Pro legacy: header, salt, IV, AES-CBC/PKCS#7 under
	// PBKDF2-HMAC-SHA1 with 64,000 iterations.
	salt, iv = random(t, 20), random(t, 16)
	key, err = pbkdf2.Key(sha1.New, fixturePassword, salt, 64_000, 32)
	if err != nil {
		t.Fatal(err)
	}
	pad := 16 - len(apPlain)%16
	padded := append(append([]byte{}, apPlain...), make([]byte, pad)...)
	for i := len(apPlain); i < len(padded); i++ {
		padded[i] = byte(pad)
	}
	block, _ := aes.NewCipher(key)
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, padded)
	write("authpro_legacy.authpro", append(append(append([]byte("AuthenticatorPro"), salt...), iv...), ct...))

	// Google Authenticator transfer: two parts of one batch, built from the
	// protobuf directly (not by our exporter), with every enum exercised.
	secret := func(s string) []byte {
		b, err := decodeShortBase32(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	parts := []*gm.MigrationPayload{
		{Version: 1, BatchSize: 2, BatchIndex: 0, BatchId: 1357924680, OtpParameters: []*gm.MigrationPayload_OtpParameters{
			{Secret: secret("4SJHB4GSD43FZBAI7C2HLRJGPQ"), Name: "Deno:Mason", Issuer: "Deno", Algorithm: gm.MigrationPayload_ALGORITHM_SHA1, Digits: gm.MigrationPayload_DIGIT_COUNT_SIX, Type: gm.MigrationPayload_OTP_TYPE_TOTP},
			{Secret: secret("7ELGJSGXNCCTV3O6LKJWYFV2RA"), Name: "Elijah", Issuer: "Airbnb", Algorithm: gm.MigrationPayload_ALGORITHM_SHA512, Digits: gm.MigrationPayload_DIGIT_COUNT_EIGHT, Type: gm.MigrationPayload_OTP_TYPE_TOTP},
			{Secret: secret("5OM4WOOGPLQEF6UGN3CPEOOLWU"), Name: "SPDX:James", Algorithm: gm.MigrationPayload_ALGORITHM_SHA256, Type: gm.MigrationPayload_OTP_TYPE_UNSPECIFIED},
		}},
		{Version: 1, BatchSize: 2, BatchIndex: 1, BatchId: 1357924680, OtpParameters: []*gm.MigrationPayload_OtpParameters{
			{Secret: secret("YOOMIXWS5GN6RTBPUFFWKTW5M4"), Name: "Issuu:James", Issuer: "Issuu", Type: gm.MigrationPayload_OTP_TYPE_HOTP, Counter: 1},
			{Secret: secret("5VAML3X35THCEBVRLV24CGBKOY"), Name: "WWE:Mason", Issuer: "WWE", Algorithm: gm.MigrationPayload_ALGORITHM_SHA512, Digits: gm.MigrationPayload_DIGIT_COUNT_EIGHT, Type: gm.MigrationPayload_OTP_TYPE_HOTP, Counter: 10300},
			{Secret: secret("KUVJJOM753IHTNDSZVCNKL7GII"), Name: "Old", Issuer: "MD5Corp", Algorithm: gm.MigrationPayload_ALGORITHM_MD5, Type: gm.MigrationPayload_OTP_TYPE_TOTP},
			{Secret: nil, Name: "Empty", Issuer: "NoSecret", Type: gm.MigrationPayload_OTP_TYPE_TOTP},
		}},
	}
	for i, p := range parts {
		b, err := proto.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		link := "otpauth-migration://offline?data=" + url.QueryEscape(base64.StdEncoding.EncodeToString(b))
		write([]string{"google_part1.txt", "google_part2.txt"}[i], []byte(link+"\n"))
	}
}

func random(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func gcmSealFixture(t *testing.T, key, nonce, plain []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return aead.Seal(nil, nonce, plain, nil)
}
