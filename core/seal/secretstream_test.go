package seal

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// libsodiumVectors compiles testdata/secretstream_vectors.c against the real
// libsodium (Debian's libsodium-dev; .ci/run installs it) and runs it. The
// test fails under CI=true when that cannot be done, and is skipped
// elsewhere.
func libsodiumVectors(t *testing.T, count int) []byte {
	t.Helper()
	need := func(err error, what string) {
		if err == nil {
			return
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: %v (install gcc and libsodium-dev)", what, err)
		}
		t.Skipf("%s: %v (install gcc and libsodium-dev to run this test)", what, err)
	}
	gcc, err := exec.LookPath("gcc")
	need(err, "no C compiler")
	bin := filepath.Join(t.TempDir(), "vectors")
	out, err := exec.Command(gcc, "-O1", "-o", bin, "testdata/secretstream_vectors.c", "-lsodium").CombinedOutput()
	if err != nil {
		need(errors.New(strings.TrimSpace(string(out))), "compile against libsodium")
	}
	res, err := exec.Command(bin, strconv.Itoa(count)).Output()
	if err != nil {
		t.Fatalf("run the libsodium helper: %v", err)
	}
	return res
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	if s == "-" {
		return nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Pull opens what libsodium's push wrote, message by message, with every
// tag, rekeying (by tag and by call) and associated data.
func TestSecretStreamLibsodiumVectors(t *testing.T) {
	sc := bufio.NewScanner(bytes.NewReader(libsodiumVectors(t, 40)))
	sc.Buffer(nil, 1<<20)
	sc.Scan()
	key := unhex(t, sc.Text())
	sc.Scan()
	header := unhex(t, sc.Text())
	p, err := NewStreamPuller(key, header)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for sc.Scan() {
		if sc.Text() == "rekey" {
			p.rekey()
			continue
		}
		f := strings.Fields(sc.Text())
		wantTag, _ := strconv.Atoi(f[0])
		ad, msg, c := unhex(t, f[1]), unhex(t, f[2]), unhex(t, f[3])
		// A flipped bit anywhere is refused and leaves the state alone.
		bad := append([]byte{}, c...)
		bad[len(bad)/2] ^= 1
		if _, _, err := p.Pull(bad, ad); !errors.Is(err, ErrStreamAuth) {
			t.Fatalf("message %d: tampered ciphertext: err = %v", n, err)
		}
		got, tag, err := p.Pull(c, ad)
		if err != nil {
			t.Fatalf("message %d: %v", n, err)
		}
		if int(tag) != wantTag || !bytes.Equal(got, msg) {
			t.Fatalf("message %d: tag %d, %d bytes; want tag %d, %d bytes", n, tag, len(got), wantTag, len(msg))
		}
		n++
	}
	if n != 40 {
		t.Fatalf("read %d messages", n)
	}
}

func TestSecretStreamRefuses(t *testing.T) {
	if _, err := NewStreamPuller(make([]byte, 31), make([]byte, 24)); err == nil {
		t.Error("short key accepted")
	}
	if _, err := NewStreamPuller(make([]byte, 32), make([]byte, 23)); err == nil {
		t.Error("short header accepted")
	}
	p, err := NewStreamPuller(make([]byte, 32), make([]byte, 24))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][]byte{nil, make([]byte, SecretStreamABytes-1), make([]byte, SecretStreamABytes), make([]byte, 100)} {
		if _, _, err := p.Pull(c, nil); !errors.Is(err, ErrStreamAuth) {
			t.Errorf("%d zero bytes: err = %v", len(c), err)
		}
	}
}

func FuzzSecretStreamPull(f *testing.F) {
	f.Add(make([]byte, 32), make([]byte, 24), make([]byte, 40), []byte(nil))
	f.Fuzz(func(t *testing.T, key, header, c, ad []byte) {
		p, err := NewStreamPuller(key, header)
		if err != nil {
			return
		}
		if msg, _, err := p.Pull(c, ad); err == nil && len(msg) != len(c)-SecretStreamABytes {
			t.Fatalf("message of %d bytes from %d", len(msg), len(c))
		}
	})
}
