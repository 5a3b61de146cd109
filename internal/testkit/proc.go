package testkit

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// builds are the authbot binaries this test process built, by build tags:
// each is built once per test binary, as every end-to-end test needs the
// same one. RemoveBuilds deletes them.
var builds = struct {
	sync.Mutex
	dir  string
	bins map[string]*build
}{bins: map[string]*build{}}

type build struct {
	once sync.Once
	path string
	err  error
}

// Authbot builds ./cmd/authbot with the given build tags ("goolm",
// "goolm authbot_crashhook", "" for none) once per test process and
// returns the binary's path. Call RemoveBuilds from TestMain after m.Run.
func Authbot(tb testing.TB, tags string) string {
	tb.Helper()
	builds.Lock()
	if builds.dir == "" {
		// Not tb.TempDir: the binary outlives the test that built it.
		dir, err := os.MkdirTemp("", "authbot-testkit-bin-")
		if err != nil {
			builds.Unlock()
			tb.Fatal(err)
		}
		builds.dir = dir
	}
	b := builds.bins[tags]
	if b == nil {
		b = &build{path: filepath.Join(builds.dir, fmt.Sprintf("authbot-%d", len(builds.bins)))}
		builds.bins[tags] = b
	}
	builds.Unlock()
	b.once.Do(func() {
		args := []string{"build", "-o", b.path}
		if tags != "" {
			args = append(args, "-tags", tags)
		}
		args = append(args, "github.com/authbot/authbot/cmd/authbot")
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build -tags %q: %v\n%s", tags, err, out)
		}
	})
	if b.err != nil {
		tb.Fatal(b.err)
	}
	return b.path
}

// RemoveBuilds deletes the binaries Authbot built.
func RemoveBuilds() {
	builds.Lock()
	defer builds.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
		builds.dir, builds.bins = "", map[string]*build{}
	}
}

// Proc is a running authbot subprocess whose output (stdout and stderr)
// is kept for the test to read.
type Proc struct {
	Cmd *exec.Cmd
	// Name, if set, labels the output logged when the test failed (one
	// of several processes).
	Name string

	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
	err  error // Wait's, once done is closed
}

// Write keeps the process's output.
func (p *Proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// Log is what the process wrote so far.
func (p *Proc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Start runs bin with args and exactly env as its environment. When the
// test ends the process is killed, and its output logged if the test
// failed.
func Start(tb testing.TB, bin string, env []string, args ...string) *Proc {
	tb.Helper()
	p := &Proc{Cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.Cmd.Env = env
	p.Cmd.Stdout, p.Cmd.Stderr = p, p
	if err := p.Cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { p.err = p.Cmd.Wait(); close(p.done) }()
	tb.Cleanup(func() {
		_ = p.Cmd.Process.Kill()
		<-p.done
		if tb.Failed() {
			label := "authbot"
			if p.Name != "" {
				label += " " + p.Name
			}
			tb.Logf("%s log:\n%s", label, p.Log())
		}
	})
	return p
}

// Wait waits up to d for the process to exit; exited is false when it is
// still running. It may be called again, and returns the same exit error.
func (p *Proc) Wait(d time.Duration) (exited bool, err error) {
	select {
	case <-p.done:
		return true, p.err
	case <-time.After(d):
		return false, nil
	}
}

// Exited reports whether the process has exited, without waiting.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends sig and waits up to d for the exit, failing the test when
// the process is still running then; it returns the exit error.
func (p *Proc) Stop(tb testing.TB, sig os.Signal, d time.Duration) error {
	tb.Helper()
	if err := p.Cmd.Process.Signal(sig); err != nil {
		tb.Fatalf("send %v: %v", sig, err)
	}
	exited, err := p.Wait(d)
	if !exited {
		tb.Fatalf("no exit %v after %v", d, sig)
	}
	return err
}
