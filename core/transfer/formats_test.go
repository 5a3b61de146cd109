package transfer

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/authbot/authbot/core/otp"
)

// steamKeyB64 builds an expected Steam Guard key from a base64 shared_secret.
func steamKeyB64(account, shared string) otp.Key {
	s, err := base64.StdEncoding.DecodeString(shared)
	if err != nil {
		panic(err)
	}
	return otp.Key{Issuer: "Steam", Account: account, Params: otp.Params{
		Kind: otp.Steam, Secret: s, Algorithm: otp.SHA1, Digits: 5, Period: 30,
	}}
}

// The secrets of steamguard-cli's and Aegis's Steam test files.
const (
	sgcliSecret   = "zvIayp3JPvtvX/QGHqsqKBk/44s="
	aegisSteam    = "THIl8+Jl6ugxr8x0X6eRMg==" // = JRZCL47CMXVOQMNPZR2F7J4RGI, the Boeing/Sophia vector
	steamV2Secret = "kSJa7hfbr8IvReG9/1Ax13BhTJA="
)

// setFixture is an export that spans several files, sent in the order
// given (every order is tried).
type setFixture struct {
	name     string
	files    []string // under testdata/
	password string
	format   string
	keys     []otp.Key
	bad      []string
}

func setFixtures() []setFixture {
	example, example2 := steamKeyB64("example", sgcliSecret), steamKeyB64("example2", sgcliSecret)
	return []setFixture{
		{name: "SDA plain", files: []string{"steam/sda-1-account/manifest.json", "steam/sda-1-account/1234.maFile"},
			format: "Steam Desktop Authenticator", keys: []otp.Key{example}},
		{name: "SDA encrypted", files: []string{"steam/sda-1-account-encrypted/manifest.json", "steam/sda-1-account-encrypted/1234.maFile"},
			password: "password", format: "Steam Desktop Authenticator (encrypted)", keys: []otp.Key{example}},
		{name: "SDA two accounts", files: []string{"steam/sda-2-account/manifest.json", "steam/sda-2-account/1234.maFile", "steam/sda-2-account/5678.maFile"},
			format: "Steam Desktop Authenticator", keys: []otp.Key{example, example2}},
		{name: "SDA one maFile missing", files: []string{"steam/sda-2-account/manifest.json", "steam/sda-2-account/5678.maFile"},
			format: "Steam Desktop Authenticator", keys: []otp.Key{example2}, bad: []string{"entry 2 (Steam)"}},
		{name: "steamguard-cli plain", files: []string{"steam/sgcli-1-account/manifest.json", "steam/sgcli-1-account/1234.maFile"},
			format: "steamguard-cli", keys: []otp.Key{example}},
		{name: "steamguard-cli encrypted", files: []string{"steam/sgcli-1-account-encrypted/manifest.json", "steam/sgcli-1-account-encrypted/1234.maFile"},
			password: "password", format: "steamguard-cli (encrypted)", keys: []otp.Key{example}},
		{name: "steamguard-cli two accounts", files: []string{"steam/sgcli-2-account/manifest.json", "steam/sgcli-2-account/1234.maFile", "steam/sgcli-2-account/5678.maFile"},
			format: "steamguard-cli", keys: []otp.Key{example, example2}},
		{name: "steamguard-cli argon2id", files: []string{"steam/sgcli-argon2id/manifest.json", "steam/sgcli-argon2id/1234.maFile", "steam/sgcli-argon2id/5678.maFile"},
			password: fixturePassword, format: "steamguard-cli (encrypted)", keys: []otp.Key{example, example2}},
	}
}

func readSet(t testing.TB, files []string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, f := range files {
		out = append(out, readFixture(t, f))
	}
	return out
}

// permutations returns every order of 0..n-1.
func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

func TestImportFileSets(t *testing.T) {
	im := NewImporter()
	for _, fx := range setFixtures() {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			files := readSet(t, fx.files)
			orders := permutations(len(files))
			if fx.password != "" {
				// Each try runs key derivations: the given order and its reverse.
				orders = [][]int{orders[0], orders[len(orders)-1]}
			}
			for _, order := range orders {
				var in [][]byte
				for _, i := range order {
					in = append(in, files[i])
				}
				res, err := im.ImportFiles(context.Background(), in, fx.password)
				if err != nil {
					t.Fatalf("order %v: %v", order, err)
				}
				if res.Format != fx.format {
					t.Errorf("order %v: Format = %q, want %q", order, res.Format, fx.format)
				}
				if !sameKeys(res.Keys, fx.keys) {
					t.Errorf("order %v: keys = %v, want %v", order, describeKeys(res.Keys), describeKeys(fx.keys))
				}
				checkBad(t, res, fx.bad)
				checkCodes(t, res.Keys)
			}
			if fx.password == "" {
				return
			}
			if _, err := im.ImportFiles(context.Background(), files, ""); !errors.Is(err, ErrPasswordRequired) {
				t.Errorf("no password: err = %v, want ErrPasswordRequired", err)
			}
			if res, err := im.ImportFiles(context.Background(), files, "wrong password"); !errors.Is(err, ErrWrongPassword) || res != nil {
				t.Errorf("wrong password: res = %v, err = %v, want ErrWrongPassword", res, err)
			}
		})
	}
}

// sameKeys compares as sets: the order of a set depends on the order the
// files came in.
func sameKeys(got, want []otp.Key) bool {
	if len(got) != len(want) {
		return false
	}
	used := make([]bool, len(got))
	for _, w := range want {
		found := false
		for i, g := range got {
			if !used[i] && reflect.DeepEqual(g, w) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func describeKeys(keys []otp.Key) string {
	var s []string
	for _, k := range keys {
		s = append(s, fmt.Sprintf("%s/%s %s %d %d %x", k.Issuer, k.Account, k.Params.Kind, k.Params.Digits, k.Params.Period, k.Params.Secret))
	}
	return strings.Join(s, "; ")
}

func checkBad(t *testing.T, res *Result, want []string) {
	t.Helper()
	if len(res.Bad) != len(want) {
		t.Errorf("bad = %+v, want %d problems %v", res.Bad, len(want), want)
		return
	}
	for i, w := range want {
		if !strings.Contains(res.Bad[i].Entry, w) {
			t.Errorf("bad[%d] = %+v, want %q", i, res.Bad[i], w)
		}
	}
}

// One part of a set alone says what else to send, and keeps nothing.
func TestImportNeedsFile(t *testing.T) {
	for _, name := range []string{
		"steam/sda-1-account/manifest.json", "steam/sda-1-account-encrypted/manifest.json",
		"steam/sgcli-1-account-encrypted/manifest.json", "steam/sda-1-account-encrypted/1234.maFile",
		"steam/sgcli-1-account-encrypted/1234.maFile",
	} {
		res, err := Import(context.Background(), readFixture(t, name), "password")
		var nf *NeedFileError
		if !errors.Is(err, ErrNeedFile) || !errors.As(err, &nf) || res != nil {
			t.Errorf("%s: res %v, err %v; want a NeedFileError", name, res, err)
			continue
		}
		if !strings.Contains(nf.Want, "manifest.json") && !strings.Contains(nf.Want, ".maFile") {
			t.Errorf("%s: %q does not say what to send", name, nf.Want)
		}
	}
	// A manifest with the maFiles of another folder: they do not open.
	files := readSet(t, []string{"steam/sda-1-account-encrypted/manifest.json", "steam/sgcli-argon2id/1234.maFile"})
	if _, err := Import(context.Background(), files[0], ""); !errors.Is(err, ErrNeedFile) {
		t.Fatal(err)
	}
	if _, err := NewImporter().ImportFiles(context.Background(), files, "password"); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("foreign maFile: err = %v, want ErrWrongPassword", err)
	}
}

// checkCodes checks every key's code at fixed times against the test's own
// RFC 4226/6238 and Steam Guard computation (not otp.Code's library).
func checkCodes(t *testing.T, keys []otp.Key) {
	t.Helper()
	for _, k := range keys {
		for _, at := range []int64{59, 1_111_111_109, 1_616_374_841, 2_000_000_000} {
			got, _, err := otp.Code(k.Params, time.Unix(at, 0))
			if err != nil {
				t.Errorf("%s/%s: %v", k.Issuer, k.Account, err)
				continue
			}
			if want := independentCode(k.Params, at); got != want {
				t.Errorf("%s/%s at %d: code %q, want %q", k.Issuer, k.Account, at, got, want)
			}
		}
	}
}

func independentCode(p otp.Params, at int64) string {
	counter := p.Counter
	if p.Kind != otp.HOTP {
		counter = uint64(at) / uint64(p.Period)
	}
	var h func() hash.Hash
	switch p.Algorithm {
	case otp.SHA256:
		h = sha256.New
	case otp.SHA512:
		h = sha512.New
	default:
		h = sha1.New
	}
	mac := hmac.New(h, p.Secret)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff
	if p.Kind == otp.Steam {
		const alphabet = "23456789BCDFGHJKMNPQRTVWXY"
		out := make([]byte, 5)
		for i := range out {
			out[i] = alphabet[v%uint32(len(alphabet))]
			v /= uint32(len(alphabet))
		}
		return string(out)
	}
	mod := uint32(1)
	for range p.Digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", p.Digits, v%mod)
}

// steamguard-cli's own test: this secret gives 2F9J5 at 1616374841.
func TestSteamCodeVector(t *testing.T) {
	k := steamKeyB64("example", sgcliSecret)
	got, _, err := otp.Code(k.Params, time.Unix(1616374841, 0))
	if err != nil || got != "2F9J5" {
		t.Errorf("code = %q, %v; want 2F9J5 (steamguard-cli's test vector)", got, err)
	}
	if ind := independentCode(k.Params, 1616374841); ind != "2F9J5" {
		t.Errorf("independent code = %q", ind)
	}
}

// Every key of every fixture gives the codes an independent computation
// gives.
func TestFixtureCodes(t *testing.T) {
	for _, fx := range fixtures() {
		checkCodes(t, fx.keys)
	}
	for _, fx := range setFixtures() {
		checkCodes(t, fx.keys)
	}
}

func TestSteamSetDirsCovered(t *testing.T) {
	used := map[string]bool{}
	for _, fx := range setFixtures() {
		for _, f := range fx.files {
			used[f] = true
		}
	}
	for _, f := range []string{"steam/steamv2.maFile", "steam/sda-1-account-encrypted/1234.maFile", "steam/sgcli-1-account-encrypted/1234.maFile", "steam/sgcli-argon2id/1234.maFile"} {
		used[f] = true // also read alone by TestImportNeedsFile and the fixtures
	}
	err := filepath.WalkDir("testdata/steam", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("testdata", path)
		if !used[filepath.ToSlash(rel)] {
			t.Errorf("testdata/%s is not used by any test", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Zip archives: limits against bombs, and encrypted entries.
func TestZipLimits(t *testing.T) {
	big := make([]byte, 20<<10) // stored as is: a ratio of 150 at 3 MiB declared
	cases := map[string][]byte{
		"too many files": zipOf(t, maxZipEntries+1, func(i int) (string, []byte) { return fmt.Sprintf("f%d.txt", i), []byte("x") }),
		"bomb ratio":     zipOf(t, 1, func(int) (string, []byte) { return "big.txt", make([]byte, 1<<20) }),
		"declared total": rawZip(t, []rawMember{{"a.txt", zip.Store, big, 3 << 20}, {"b.txt", zip.Store, big, 3 << 20}}),
		"lying size":     rawZip(t, []rawMember{{"a.txt", zip.Deflate, deflated(t, make([]byte, 64<<10)), 100}}),
		"zip in zip":     zipOf(t, 1, func(int) (string, []byte) { return "inner.zip", readFixture(t, "sda_folder.zip") }),
	}
	for name, data := range cases {
		res, err := Import(context.Background(), data, "")
		if err == nil {
			t.Errorf("%s: imported %d keys, want an error", name, len(res.Keys))
		}
		if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrCorruptFile) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// zipOf builds a zip archive of n files.
func zipOf(t *testing.T, n int, file func(i int) (string, []byte)) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range n {
		name, data := file(i)
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawMember is a zip entry written as given, with the uncompressed size it
// claims (true or not).
type rawMember struct {
	name     string
	method   uint16
	raw      []byte
	declared uint64
}

func rawZip(t *testing.T, members []rawMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: m.name, Method: m.method,
			CompressedSize64: uint64(len(m.raw)), UncompressedSize64: m.declared})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.raw); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func deflated(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(b)
	fw.Close()
	return buf.Bytes()
}

// Only one derivation above heavyKDFBytes runs at a time; a waiting one
// gives up when its context ends; small ones never wait.
func TestHeavyKDFOneAtATime(t *testing.T) {
	im := NewImporter()
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- im.withKDF(context.Background(), 1<<30, func() { close(inside); <-release })
	}()
	<-inside
	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() {
		waited <- im.withKDF(ctx, 1<<30, func() { t.Error("second heavy derivation ran while the first held the slot") })
	}()
	if err := im.withKDF(context.Background(), 16<<20, func() {}); err != nil {
		t.Errorf("small derivation: %v", err)
	}
	cancel()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Errorf("waiting derivation: err = %v, want context.Canceled", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ran := false
	if err := im.withKDF(context.Background(), 1<<30, func() { ran = true }); err != nil || !ran {
		t.Errorf("after release: ran %v, err %v", ran, err)
	}
}

// Ente at its full 1 GiB asks for the password with the slow-KDF note.
func TestEnteSlowNotice(t *testing.T) {
	data := []byte(`{"version":1,"kdfParams":{"memLimit":1073741824,"opsLimit":4,"salt":"AAAAAAAAAAAAAAAAAAAAAA=="},` +
		`"encryptedData":"AAAAAAAAAAAAAAAAAAAAAAAA","encryptionNonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`)
	_, err := Import(context.Background(), data, "")
	if !errors.Is(err, ErrPasswordRequired) || !errors.Is(err, ErrSlowKDF) {
		t.Errorf("err = %v, want ErrPasswordRequired with ErrSlowKDF", err)
	}
	small := readFixture(t, "ente_encrypted.json")
	if _, err := Import(context.Background(), small, ""); !errors.Is(err, ErrPasswordRequired) || errors.Is(err, ErrSlowKDF) {
		t.Errorf("16 MiB: err = %v, want ErrPasswordRequired alone", err)
	}
}

// BenchmarkEnteKDF1GiB is Ente's full key derivation (Argon2id, 1 GiB, 4
// passes, one lane): the seconds the person is told about.
func BenchmarkEnteKDF1GiB(b *testing.B) {
	salt := make([]byte, 16)
	for b.Loop() {
		argon2.IDKey([]byte("test"), salt, 4, 1<<20, 1, 32)
	}
}

func BenchmarkImportSteamEncrypted(b *testing.B) {
	files := readSet(b, []string{"steam/sda-1-account-encrypted/manifest.json", "steam/sda-1-account-encrypted/1234.maFile"})
	im := NewImporter()
	for b.Loop() {
		if _, err := im.ImportFiles(context.Background(), files, "password"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkImportBitwardenProtectedPBKDF2(b *testing.B) {
	data := readFixture(b, "bitwarden_protected_pbkdf2.json")
	for b.Loop() {
		if _, err := Import(context.Background(), data, fixturePassword); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkImportWinAuthZip(b *testing.B) {
	data := readFixture(b, "winauth_protected.zip")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Import(context.Background(), data, fixturePassword); err != nil {
			b.Fatal(err)
		}
	}
}
