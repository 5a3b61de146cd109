package testkit

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Fleet runs `authbot serve` processes as on separate machines: each with
// a data dir and a metrics port of its own, all with one config body and
// one environment (the master key, a shared database). The failover tests
// (storage/postgres/failover, matrixfailover) kill and start them.
type Fleet struct {
	Bin  string   // the authbot binary (Authbot)
	Dir  string   // process pN keeps its config and data in Dir/pN
	Env  []string // exactly the processes' environment
	Conf string   // the config without data_dir and metrics

	Running []*Server // started and not dropped, in start order
	All     []*Server // every one started, for their logs
}

// Server is one `authbot serve` of a Fleet.
type Server struct {
	*Proc
	Health string // its /healthz URL
}

// Start starts one more process; it is killed when the test ends (its
// output logged, labelled with its name, if the test failed).
func (f *Fleet) Start(tb testing.TB) *Server {
	tb.Helper()
	name := fmt.Sprintf("p%d", len(f.All)+1)
	port := FreePort(tb)
	dir := filepath.Join(f.Dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	cfg := fmt.Sprintf("data_dir: %s\nmetrics: {listen: \"127.0.0.1:%d\"}\n%s", filepath.Join(dir, "data"), port, f.Conf)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	s := &Server{Proc: Start(tb, f.Bin, f.Env, "serve", "--config", path), Health: fmt.Sprintf("http://127.0.0.1:%d/healthz", port)}
	s.Name = name
	f.Running = append(f.Running, s)
	f.All = append(f.All, s)
	return s
}

// Drop kills s with SIGKILL (a machine lost, no shutdown), waits for it
// to go and takes it out of Running.
func (f *Fleet) Drop(tb testing.TB, s *Server) {
	tb.Helper()
	_ = s.Cmd.Process.Kill()
	if exited, _ := s.Wait(time.Minute); !exited {
		tb.Fatalf("%s still runs a minute after SIGKILL", s.Name)
	}
	f.Running = slices.DeleteFunc(f.Running, func(q *Server) bool { return q == s })
}

// Settled waits until exactly one process is active and every other
// says standby, and returns the active one. Two active at once (counting
// one still reaching its chat platform, "unhealthy") fail the test: the
// lease must never let that happen.
func (f *Fleet) Settled(tb testing.TB, timeout time.Duration) *Server {
	tb.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var act []*Server
		standby, starting := 0, 0
		for _, s := range f.Running {
			switch s.Role() {
			case "ok":
				act = append(act, s)
			case "unhealthy":
				starting++ // active, its chat platform not reached yet
			case "standby":
				standby++
			}
		}
		if len(act)+starting > 1 {
			tb.Fatalf("%d processes are active at once", len(act)+starting)
		}
		if len(act) == 1 && standby == len(f.Running)-1 {
			return act[0]
		}
	}
	tb.Fatalf("no single active process with the others standby within %v", timeout)
	return nil
}

// Role is the first line of s's /healthz: "ok" (active), "standby",
// "unhealthy" (active, an adapter not reached yet), or "" when it does
// not answer.
func (s *Server) Role() string {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(s.Health)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	first, _, _ := strings.Cut(string(b), "\n") // adapter lines follow
	return strings.TrimSpace(first)
}

// FreeAddr returns a loopback host:port that was free a moment ago.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(tb)))
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
