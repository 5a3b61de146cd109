//go:build goolm

package matrix

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

// The integration tests share one Dendrite for the whole package: starting
// one takes well under a second, building it about two minutes (once).
var (
	hs    *homeserver
	hsErr error
)

// sharedSecret matches scripts/dendrite.sh's default.
const sharedSecret = "authbot-test-secret"

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	hs, hsErr = startHomeserver()
	if hs != nil {
		defer hs.stop()
	}
	return m.Run()
}

// needHomeserver fails the test when Dendrite could not be started under
// CI=true, and skips it (saying why) only outside CI.
func needHomeserver(t testing.TB) *homeserver {
	t.Helper()
	if hsErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Matrix integration tests need Dendrite, which could not be started: %v", hsErr)
		}
		t.Skipf("Dendrite is not available (%v); run scripts/dendrite.sh install, or set CI=true to make this a failure", hsErr)
	}
	return hs
}

type homeserver struct {
	dir  string
	bin  string
	port int
	url  string // http://127.0.0.1:PORT
	name string // localhost:PORT, the server name in user ids

	mu  sync.Mutex
	cmd *exec.Cmd
	log *os.File

	users sync.Map // names handed out, to keep them unique
}

func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..")
}

func startHomeserver() (*homeserver, error) {
	script := filepath.Join(repoRoot(), "scripts", "dendrite.sh")
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
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "authbot-dendrite-")
	if err != nil {
		return nil, err
	}
	if out, err := exec.Command(script, "prepare", dir, strconv.Itoa(port)).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("scripts/dendrite.sh prepare: %v: %s", err, lastLines(out, 10))
	}
	h := &homeserver{
		dir:  dir,
		bin:  strings.TrimSpace(string(binOut)),
		port: port,
		url:  fmt.Sprintf("http://127.0.0.1:%d", port),
		name: fmt.Sprintf("localhost:%d", port),
	}
	started := time.Now()
	if err := h.launch(); err != nil {
		h.stop()
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

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// launch starts the Dendrite process and waits until it answers.
func (h *homeserver) launch() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	logf, err := os.OpenFile(filepath.Join(h.dir, "dendrite.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(h.bin, "dendrite"), "--config", "dendrite.yaml",
		"--http-bind-address", fmt.Sprintf("127.0.0.1:%d", h.port))
	cmd.Dir = h.dir
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
		resp, err := http.Get(h.url + "/_matrix/client/versions")
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
func (h *homeserver) halt() {
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

func (h *homeserver) stop() {
	h.halt()
	if os.Getenv("AUTHBOT_KEEP_DENDRITE") == "" {
		os.RemoveAll(h.dir)
	}
}

// restart stops the homeserver and starts it again on the same port and data.
func (h *homeserver) restart(t testing.TB) {
	t.Helper()
	h.halt()
	if err := h.launch(); err != nil {
		t.Fatalf("restart dendrite: %v", err)
	}
}

// userID is the full Matrix id for a localpart on this server.
func (h *homeserver) userID(local string) string { return "@" + local + ":" + h.name }

// register creates an account by shared-secret registration (Synapse's
// admin API, which Dendrite implements) and returns its localpart, made
// unique per test so parallel tests never share a user.
func (h *homeserver) register(t testing.TB, base, password string) string {
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
		b.ReadFrom(resp.Body)
		t.Fatalf("register %s: HTTP %d: %s", local, resp.StatusCode, b.String())
	}
	return local
}
