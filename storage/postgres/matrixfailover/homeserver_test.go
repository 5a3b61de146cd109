//go:build goolm

package matrixfailover

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authbot/authbot/storage/postgres/pgtest"
)

// A Dendrite of this package's own, from the same pinned build and
// scripts/dendrite.sh setup as bots/matrix's tests (whose harness is
// package-private to them).

var (
	hs    *homeserver
	hsErr error
)

// TestMain starts Dendrite and PostgreSQL once for the package; each test
// takes a database of its own (pgtest.NewDatabase).
func TestMain(m *testing.M) {
	os.Exit(func() int {
		hs, hsErr = startHomeserver()
		if hs != nil {
			defer hs.stop()
		}
		return pgtest.Run(m)
	}())
}

// needHomeserver fails the test when Dendrite could not start under
// CI=true, and skips it (saying why) otherwise.
func needHomeserver(t testing.TB) *homeserver {
	t.Helper()
	if hsErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Matrix failover test needs Dendrite, which could not be started: %v", hsErr)
		}
		t.Skipf("Dendrite is not available (%v); run scripts/dendrite.sh install, or set CI=true to make this a failure", hsErr)
	}
	return hs
}

// sharedSecret matches scripts/dendrite.sh's default.
const sharedSecret = "authbot-test-secret"

type homeserver struct {
	dir  string
	url  string
	name string
	cmd  *exec.Cmd
}

func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..", "..")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startHomeserver() (*homeserver, error) {
	script := filepath.Join(repoRoot(), "scripts", "dendrite.sh")
	if out, err := exec.Command(script, "install").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("scripts/dendrite.sh install: %v: %s", err, out)
	}
	binOut, err := exec.Command(script, "bin").Output()
	if err != nil {
		return nil, fmt.Errorf("scripts/dendrite.sh bin: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "authbot-mxfailover-dendrite-")
	if err != nil {
		return nil, err
	}
	if out, err := exec.Command(script, "prepare", dir, strconv.Itoa(port)).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("scripts/dendrite.sh prepare: %v: %s", err, out)
	}
	h := &homeserver{dir: dir, url: fmt.Sprintf("http://127.0.0.1:%d", port), name: fmt.Sprintf("localhost:%d", port)}
	logf, err := os.Create(filepath.Join(dir, "dendrite.log"))
	if err != nil {
		return nil, err
	}
	h.cmd = exec.Command(filepath.Join(strings.TrimSpace(string(binOut)), "dendrite"), "--config", "dendrite.yaml",
		"--http-bind-address", fmt.Sprintf("127.0.0.1:%d", port))
	h.cmd.Dir = dir
	h.cmd.Stdout, h.cmd.Stderr = logf, logf
	// Its own process group, so a stop reaches it and nothing else.
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := h.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start dendrite: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- h.cmd.Wait(); logf.Close() }()
	deadline := time.After(60 * time.Second)
	for {
		if resp, err := http.Get(h.url + "/_matrix/client/versions"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return h, nil
			}
		}
		select {
		case err := <-exited:
			out, _ := os.ReadFile(filepath.Join(dir, "dendrite.log"))
			os.RemoveAll(dir)
			return nil, fmt.Errorf("dendrite exited at start (%v): %s", err, out)
		case <-deadline:
			h.stop()
			return nil, errors.New("dendrite did not answer within 60 s")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (h *homeserver) stop() {
	if h.cmd != nil && h.cmd.Process != nil {
		_ = h.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() {
			for h.cmd.Process.Signal(syscall.Signal(0)) == nil {
				time.Sleep(20 * time.Millisecond)
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = h.cmd.Process.Kill()
		}
	}
	os.RemoveAll(h.dir)
}

func (h *homeserver) userID(local string) string { return "@" + local + ":" + h.name }

// register creates an account by shared-secret registration (Synapse's
// admin API, which Dendrite implements).
func (h *homeserver) register(t testing.TB, local, password string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	url := h.url + "/_synapse/admin/v1/register"
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("register %s: nonce: %v", local, err)
	}
	var nonce struct {
		Nonce string `json:"nonce"`
	}
	err = json.NewDecoder(resp.Body).Decode(&nonce)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("register %s: nonce: %v", local, err)
	}
	mac := hmac.New(sha1.New, []byte(sharedSecret))
	mac.Write([]byte(strings.Join([]string{nonce.Nonce, local, password, "notadmin"}, "\x00")))
	body, _ := json.Marshal(map[string]any{
		"nonce": nonce.Nonce, "username": local, "password": password, "admin": false,
		"mac": hex.EncodeToString(mac.Sum(nil)),
	})
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("register %s: %v", local, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		t.Fatalf("register %s: HTTP %d: %s", local, resp.StatusCode, b.String())
	}
}
