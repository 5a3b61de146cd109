// Package matrixtest runs a real Matrix homeserver for tests: Dendrite,
// from the pinned build scripts/dendrite.sh installs once under the Go path,
// on a loopback port, with shared-secret registration. bots/matrix, its
// Element test and the PostgreSQL failover test each start one for their
// package (TestMain) from this one copy. Person (person.go, goolm builds)
// is the human side those tests talk to the bot through: an E2EE client
// of its own.
package matrixtest

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
	"sync"
	"syscall"
	"testing"
	"time"
)

// SharedSecret is the registration secret; it matches scripts/dendrite.sh's
// default.
const SharedSecret = "authbot-test-secret"

// Need returns h when it started, and otherwise fails the test under
// CI=true (what names the tests, for the message) or skips it saying why.
func Need(t testing.TB, h *Homeserver, err error, what string) *Homeserver {
	t.Helper()
	if err != nil || h == nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: they need Dendrite, which could not be started: %v", what, err)
		}
		t.Skipf("Dendrite is not available (%v); run scripts/dendrite.sh install, or set CI=true to make this a failure", err)
	}
	return h
}

// RepoRoot is the module's root directory: the first directory above the
// working directory (a test's package directory) holding go.mod.
func RepoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// Homeserver is one running Dendrite.
type Homeserver struct {
	Dir  string // its config, keys, databases and dendrite.log
	URL  string // http://127.0.0.1:PORT
	Name string // localhost:PORT, the server name in user ids

	bin  string
	port int

	mu  sync.Mutex
	cmd *exec.Cmd
	log *os.File

	users sync.Map // names handed out, to keep them unique
}

// Start installs Dendrite when it is missing and starts it on a free
// loopback port, in a new temporary directory named after prefix.
func Start(prefix string) (*Homeserver, error) {
	script := filepath.Join(RepoRoot(), "scripts", "dendrite.sh")
	begin := time.Now()
	// install is idempotent; it builds only when the pinned binaries are missing.
	if out, err := exec.Command(script, "install").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("scripts/dendrite.sh install: %v: %s", err, lastLines(out, 10))
	}
	binOut, err := exec.Command(script, "bin").Output()
	if err != nil {
		return nil, fmt.Errorf("scripts/dendrite.sh bin: %w", err)
	}
	installTook := time.Since(begin)
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, err
	}
	if out, err := exec.Command(script, "prepare", dir, strconv.Itoa(port)).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("scripts/dendrite.sh prepare: %v: %s", err, lastLines(out, 10))
	}
	h := &Homeserver{
		Dir:  dir,
		bin:  strings.TrimSpace(string(binOut)),
		port: port,
		URL:  fmt.Sprintf("http://127.0.0.1:%d", port),
		Name: fmt.Sprintf("localhost:%d", port),
	}
	started := time.Now()
	if err := h.launch(); err != nil {
		h.Stop()
		return nil, err
	}
	if os.Getenv("AUTHBOT_TEST_TIMING") != "" || testingVerbose() {
		fmt.Fprintf(os.Stderr, "dendrite: install check %v, ready %v after launch\n",
			installTook.Round(time.Millisecond), time.Since(started).Round(time.Millisecond))
	}
	return h, nil
}

func testingVerbose() bool {
	for _, a := range os.Args {
		if a == "-test.v" || a == "-test.v=true" {
			return true
		}
	}
	return false
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FreePort is a loopback TCP port nothing listens on just now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// launch starts the Dendrite process and waits until it answers.
func (h *Homeserver) launch() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	logf, err := os.OpenFile(filepath.Join(h.Dir, "dendrite.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(h.bin, "dendrite"), "--config", "dendrite.yaml",
		"--http-bind-address", fmt.Sprintf("127.0.0.1:%d", h.port))
	cmd.Dir = h.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so a stop reaches it and nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start dendrite: %w", err)
	}
	h.cmd, h.log = cmd, logf
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
	for {
		resp, err := http.Get(h.URL + "/_matrix/client/versions")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				go func() { <-exited }()
				return nil
			}
		}
		select {
		case err := <-exited:
			out, _ := os.ReadFile(logf.Name())
			return fmt.Errorf("dendrite exited at start (%v): %s", err, lastLines(out, 15))
		case <-deadline:
			return errors.New("dendrite did not answer within 60 s")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// halt stops the Dendrite process (SIGTERM, then SIGKILL after 10 s).
func (h *Homeserver) halt() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cmd == nil || h.cmd.Process == nil {
		return
	}
	p := h.cmd.Process
	_ = p.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			if err := p.Signal(syscall.Signal(0)); err != nil {
				close(done)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.Kill()
	}
	h.cmd = nil
	if h.log != nil {
		h.log.Close()
	}
}

// Stop stops Dendrite and removes its directory (kept when
// AUTHBOT_KEEP_DENDRITE is set, to read dendrite.log).
func (h *Homeserver) Stop() {
	h.halt()
	if os.Getenv("AUTHBOT_KEEP_DENDRITE") == "" {
		os.RemoveAll(h.Dir)
	}
}

// Restart stops the homeserver and starts it again on the same port and data.
func (h *Homeserver) Restart(t testing.TB) {
	t.Helper()
	h.halt()
	if err := h.launch(); err != nil {
		t.Fatalf("restart dendrite: %v", err)
	}
}

// UserID is the full Matrix id for a localpart on this server.
func (h *Homeserver) UserID(local string) string { return "@" + local + ":" + h.Name }

// Register creates an account by shared-secret registration (Synapse's
// admin API, which Dendrite implements) and returns its localpart, made
// unique per test so parallel tests never share a user.
func (h *Homeserver) Register(t testing.TB, base, password string) string {
	t.Helper()
	local := base
	for i := 2; ; i++ {
		if _, taken := h.users.LoadOrStore(local, true); !taken {
			break
		}
		local = fmt.Sprintf("%s%d", base, i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	url := h.URL + "/_synapse/admin/v1/register"
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
	mac := hmac.New(sha1.New, []byte(SharedSecret))
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
		b.ReadFrom(resp.Body)
		t.Fatalf("register %s: HTTP %d: %s", local, resp.StatusCode, b.String())
	}
	return local
}
