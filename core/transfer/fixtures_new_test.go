package transfer

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/argon2"
)

// Generators of the fixtures for the formats added with issue 17, run only
// to change them:
//
//	go test ./core/transfer -run TestGenerateMoreFixtures -update
//
// Each writes the format as its app's own code does (the app's function is
// named); the plaintexts are the apps' upstream test files where there are
// any, so the keys inside are the same as in the plain fixtures.
func TestGenerateMoreFixtures(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the generated fixtures")
	}
	write := func(name string, b []byte) {
		t.Helper()
		p := filepath.Join("testdata", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// steamguard-cli's Argon2idAes256 scheme (src/encryption/argon2id_aes.rs):
	// Argon2id t=3, m=12 MiB, p=12 over a 16-byte salt, AES-256-CBC with
	// PKCS#7 under a 16-byte IV, base64. Plaintexts: steamguard-cli's
	// manifest-v1/2-account maFiles.
	var entries string
	for i, f := range []string{"1234.maFile", "5678.maFile"} {
		plain := readFixture(t, "steam/sgcli-2-account/"+f)
		salt, iv := random(t, 16), random(t, 16)
		key := argon2.IDKey([]byte(fixturePassword), salt, 3, 12*1024, 12, 32)
		write("steam/sgcli-argon2id/"+f, []byte(base64.StdEncoding.EncodeToString(cbcSeal(t, key, iv, plain))))
		if i > 0 {
			entries += ","
		}
		id, name := []string{"1234", "5678"}[i], []string{"example", "example2"}[i]
		entries += fmt.Sprintf(`{"filename":%q,"steam_id":%s,"account_name":%q,"encryption":{"iv":%q,"salt":%q,"scheme":"Argon2idAes256"}}`,
			f, id, name, base64.StdEncoding.EncodeToString(iv), base64.StdEncoding.EncodeToString(salt))
	}
	write("steam/sgcli-argon2id/manifest.json", []byte(`{"version":1,"entries":[`+entries+`]}`))
}

// cbcSeal is AES-256-CBC with PKCS#7 padding.
func cbcSeal(t *testing.T, key, iv, plain []byte) []byte {
	t.Helper()
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	padded := append(append([]byte{}, plain...), make([]byte, pad)...)
	for i := len(plain); i < len(padded); i++ {
		padded[i] = byte(pad)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, padded)
	return ct
}
