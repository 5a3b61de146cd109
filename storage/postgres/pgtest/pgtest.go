// Package pgtest starts a real PostgreSQL server for tests: Debian's
// postgresql package (initdb and pg_ctl under /usr/lib/postgresql/*/bin),
// a data directory in a fresh temp dir, a free loopback port. One server
// per test package (Main in TestMain), one database per test (NewDB).
//
// initdb and postgres refuse to run as root, and CI runs as root: then the
// server runs as the "postgres" user the Debian package creates (through
// runuser), in a temp dir owned by it.
//
// When the server cannot start, tests that need it fail under CI=true and
// are skipped otherwise (a developer without PostgreSQL installed can still
// run everything else).
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Password is the superuser's password (scram-sha-256 over TCP): tests
// that check DSNs never reach logs look for it.
const Password = "pgtest-secret-8d1f0c"

// Server is one running PostgreSQL.
type Server struct {
	Port    int
	dir     string
	bin     string
	asUser  *user.User // non-nil when running as root
	mu      sync.Mutex
	nextDB  atomic.Int64
	stopped bool
}

// DSN is the connection string for database db.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://authbot:%s@127.0.0.1:%d/%s?sslmode=disable", Password, s.Port, db)
}

// binDir finds initdb/pg_ctl: the newest Debian version dir, else PATH.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("initdb not found: install PostgreSQL (apt-get install postgresql)")
}

// Start initialises and starts a server. fsync stays on: the figures of
// BenchmarkCode/BenchmarkAdd compare durable commits with bbolt's.
func Start() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, and initdb refuses root, but there is no postgres user to run it as: %w", err)
		}
		s.asUser = u
	}
	dir, err := os.MkdirTemp("", "authbot-pgtest-")
	if err != nil {
		return nil, err
	}
	s.dir = dir
	if s.asUser != nil {
		uid, _ := strconv.Atoi(s.asUser.Uid)
		gid, _ := strconv.Atoi(s.asUser.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	tmpl, err := s.template()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// cp -a keeps the owner and the 0700 mode PostgreSQL insists on.
	if out, err := exec.Command("cp", "-a", tmpl, s.data()).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("copy the initdb template: %w: %s", err, out)
	}
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.Port = port
		if err = s.start(); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := s.createMain(ctx); err != nil {
				s.Stop()
				return nil, fmt.Errorf("create database: %w", err)
			}
			return s, nil
		}
		if attempt == 2 {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

// template returns a data directory made by initdb once per machine and
// PostgreSQL version, under the temp dir: initdb takes about ten seconds
// on a busy 2-core machine, a copy of its result one. Packages starting
// at once take turns on a lock file; a half-made template is never seen
// (it is renamed into place).
func (s *Server) template() (string, error) {
	base := filepath.Join(os.TempDir(), fmt.Sprintf("authbot-pgtest-%s-uid%d", filepath.Base(filepath.Dir(s.bin)), os.Geteuid()))
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(base, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	tmpl := filepath.Join(base, "data")
	if _, err := os.Stat(filepath.Join(tmpl, "PG_VERSION")); err == nil {
		return tmpl, nil
	}
	work, err := os.MkdirTemp(base, "initdb-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	if err := os.Chmod(work, 0o755); err != nil {
		return "", err
	}
	if s.asUser != nil {
		uid, _ := strconv.Atoi(s.asUser.Uid)
		gid, _ := strconv.Atoi(s.asUser.Gid)
		if err := os.Chown(work, uid, gid); err != nil {
			return "", err
		}
	}
	pw := filepath.Join(work, "pw")
	if err := os.WriteFile(pw, []byte(Password+"\n"), 0o644); err != nil {
		return "", err
	}
	out, err := s.run("initdb", "-D", filepath.Join(work, "data"), "-U", "authbot", "--pwfile", pw,
		"--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	if err != nil {
		return "", fmt.Errorf("initdb: %w: %s", err, out)
	}
	os.RemoveAll(tmpl)
	if err := os.Rename(filepath.Join(work, "data"), tmpl); err != nil {
		return "", err
	}
	return tmpl, nil
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

func (s *Server) run(tool string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, tool)
	var cmd *exec.Cmd
	if s.asUser != nil {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir
	// Its own process group: a test's Ctrl-C goes to the test, and the
	// server is stopped by Stop, not killed halfway by the signal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd.CombinedOutput()
}

func (s *Server) start() error {
	opts := fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -c max_connections=200 -c shared_buffers=32MB -c log_min_messages=warning", s.Port, s.dir)
	out, err := s.run("pg_ctl", "start", "-w", "-t", "30", "-D", s.data(), "-l", filepath.Join(s.dir, "log"), "-o", opts)
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		return fmt.Errorf("pg_ctl start: %w: %s %s", err, out, tail(log))
	}
	return nil
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Restart stops the server (fast: connections are cut) and starts it
// again on the same port, as an operator's restart or a failover would.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if out, err := s.run("pg_ctl", "stop", "-w", "-m", "fast", "-D", s.data()); err != nil {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, out)
	}
	return s.start()
}

// Stop stops the server and removes its files.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	_, _ = s.run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", s.data())
	os.RemoveAll(s.dir)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// CreateDB returns the DSN of a new, empty place to keep data: a schema
// of its own in the "authbot" database, chosen by the DSN's search_path.
// A schema is made in a millisecond; CREATE DATABASE takes a checkpoint.
func (s *Server) CreateDB(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d", s.nextDB.Add(1))
	conn, err := pgx.Connect(ctx, s.DSN("authbot"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return "", err
	}
	return s.DSN("authbot") + "&search_path=" + name, nil
}

// createMain creates the "authbot" database the schemas live in.
func (s *Server) createMain(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE authbot")
	return err
}

// shared is the package's server, set by Main.
var (
	shared    *Server
	sharedErr error
)

// Main starts the package's server, runs the tests and stops it. Use it
// as TestMain's body: func TestMain(m *testing.M) { pgtest.Main(m) }.
// Under CI=true a server that cannot start fails the whole package.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Run is Main without the exit, for a TestMain that starts other servers
// too (a Dendrite beside PostgreSQL): it starts the package's server, runs
// the tests, stops the server and returns m.Run's code.
func Run(m *testing.M) int {
	shared, sharedErr = Start()
	if sharedErr != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "pgtest: PostgreSQL did not start (CI=true, so this fails):", sharedErr)
			return 1
		}
		fmt.Fprintln(os.Stderr, "pgtest: PostgreSQL did not start, its tests are skipped:", sharedErr)
	} else {
		defer shared.Stop()
	}
	return m.Run()
}

// Shared returns the package's server (started by Main), skipping the test
// when it could not start outside CI.
func Shared(t testing.TB) *Server {
	t.Helper()
	if shared == nil {
		if sharedErr == nil {
			t.Fatal("pgtest: call pgtest.Main from TestMain")
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL did not start: %v", sharedErr)
		}
		t.Skipf("PostgreSQL did not start: %v", sharedErr)
	}
	return shared
}

// NewDB creates a fresh database on the package's server for one test and
// returns its DSN.
func NewDB(t testing.TB) string {
	t.Helper()
	s := Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dsn, err := s.CreateDB(ctx)
	if err != nil {
		t.Fatalf("create database: %v", err)
	}
	return dsn
}

// NewDatabase is NewDB with a database of its own rather than a schema:
// for code that looks tables up by name across schemas (mautrix's dbutil
// checks information_schema.tables without a schema), which a schema per
// test would confuse.
func NewDatabase(t testing.TB) string {
	t.Helper()
	s := Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("d%d", s.nextDB.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return s.DSN(name)
}
