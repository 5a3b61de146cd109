package observe

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serve starts the handler on a real loopback port and returns its base URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMetricsOverHTTP(t *testing.T) {
	m := New(3)
	m.Observe("telegram", "code", 2*time.Millisecond, false)
	m.Observe("telegram", "code", 3*time.Millisecond, false)
	m.Observe("matrix", "add", 40*time.Millisecond, true)
	m.Observe("console", strings.Repeat("x", 100), time.Millisecond, false)
	m.Undecryptable("withheld_unverified")
	m.Undecryptable("withheld_unverified")
	m.Undecryptable("no_session")
	base := serve(t, m.Handler(nil, nil))
	code, body := get(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{
		`authbot_commands_total{command="code",platform="telegram"} 2`,
		`authbot_commands_total{command="add",platform="matrix"} 1`,
		`authbot_command_errors_total{command="add",platform="matrix"} 1`,
		`authbot_command_duration_seconds_bucket{platform="telegram",le="0.005"} 2`,
		`authbot_command_duration_seconds_count{platform="matrix"} 1`,
		`authbot_people 3`,
		`authbot_matrix_undecryptable_total{reason="withheld_unverified"} 2`,
		`authbot_matrix_undecryptable_total{reason="no_session"} 1`,
		`command="` + strings.Repeat("x", maxLabelLen) + `"`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, `authbot_command_errors_total{command="code"`) {
		t.Error("a success counted as an error")
	}
}

func TestHealthz(t *testing.T) {
	var healthErr error
	var logged []error
	m := New(1)
	base := serve(t, m.Handler(func(ctx context.Context) error { return healthErr },
		func(err error) { logged = append(logged, err) }))
	tests := []struct {
		name     string
		err      error
		wantCode int
		wantBody string
	}{
		{"healthy", nil, 200, "ok\n"},
		{"database gone", errors.New("open /secret/path/authbot.db: input/output error"), 503, "unhealthy\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			healthErr = tt.err
			code, body := get(t, base+"/healthz")
			if code != tt.wantCode || body != tt.wantBody {
				t.Fatalf("got %d %q", code, body)
			}
			err := Check(context.Background(), base+"/healthz")
			if (err == nil) != (tt.err == nil) {
				t.Fatalf("Check: %v", err)
			}
		})
	}
	if len(logged) != 2 { // the GET and the Check of the unhealthy case
		t.Errorf("logged %d health errors, want 2", len(logged))
	}
	if err := Check(context.Background(), "http://127.0.0.1:1/healthz"); err == nil {
		t.Error("Check of a closed port passed")
	}
}

func BenchmarkObserve(b *testing.B) {
	m := New(1)
	for b.Loop() {
		m.Observe("telegram", "code", time.Millisecond, false)
	}
}

func TestRole(t *testing.T) {
	m := New(1)
	base := serve(t, m.Handler(func(ctx context.Context) error { return nil }, nil))
	for _, tt := range []struct{ role, body, gauge string }{
		{"standby", "standby\n", "authbot_active 0"},
		{"active", "ok\n", "authbot_active 1"},
	} {
		m.SetRole(tt.role)
		if code, body := get(t, base+"/healthz"); code != 200 || body != tt.body {
			t.Fatalf("%s: /healthz %d %q", tt.role, code, body)
		}
		if _, body := get(t, base+"/metrics"); !strings.Contains(body, tt.gauge) {
			t.Fatalf("%s: metrics lack %q", tt.role, tt.gauge)
		}
	}
}

// TestHealthzAdapters: /healthz lists each adapter with its last good
// answer, is 503 when adapters run and none reaches its platform, stays
// 200 "standby" on a standby, and speaks JSON when asked.
func TestHealthzAdapters(t *testing.T) {
	m := New(1)
	base := serve(t, m.Handler(nil, nil))
	at := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	tg, mx := m.Adapter("telegram"), m.Adapter("matrix")
	steps := []struct {
		name  string
		do    func()
		code  int
		lines []string
	}{
		{"starting", func() {}, 503, []string{"unhealthy", "matrix: starting, never reached", "telegram: starting, never reached"}},
		{"telegram polls", func() { tg.Reached(at, "getUpdates") }, 200,
			[]string{"ok", "matrix: starting", "telegram: ok (getUpdates), last ok"}},
		{"telegram fails, matrix syncs", func() { tg.Failed(at.Add(time.Minute), "getUpdates"); mx.Reached(at, "sync") }, 200,
			[]string{"ok", "matrix: ok (sync)", "telegram: failing (getUpdates), last ok"}},
		{"both fail", func() { mx.Failed(at.Add(time.Minute), "sync") }, 503, []string{"unhealthy", "matrix: failing (sync)"}},
		{"standby", func() { m.SetRole("standby") }, 200, []string{"standby"}},
	}
	for _, s := range steps {
		s.do()
		code, body := get(t, base+"/healthz")
		if code != s.code {
			t.Errorf("%s: status %d, want %d\n%s", s.name, code, s.code, body)
		}
		lines := strings.Split(strings.TrimSpace(body), "\n")
		if lines[0] != s.lines[0] {
			t.Errorf("%s: first line %q, want %q", s.name, lines[0], s.lines[0])
		}
		for _, want := range s.lines[1:] {
			if !strings.Contains(body, want) {
				t.Errorf("%s: body lacks %q:\n%s", s.name, want, body)
			}
		}
	}
	m.SetRole("active")
	tg.Reached(at, "webhook")
	code, body := get(t, base+"/healthz?format=json")
	var rep struct {
		Status   string `json:"status"`
		Adapters []struct {
			Name, State string
			LastOK      *time.Time `json:"last_ok"`
		}
	}
	if err := json.Unmarshal([]byte(body), &rep); err != nil || code != 200 || rep.Status != "ok" || len(rep.Adapters) != 2 ||
		rep.Adapters[1].Name != "telegram" || rep.Adapters[1].State != "ok" || !rep.Adapters[1].LastOK.Equal(at) {
		t.Fatalf("json: %d %s (%v)", code, body, err)
	}
	// A new activation starts over.
	if m.Adapter("telegram"); m.Adapters()[1].State != "starting" {
		t.Errorf("Adapter did not reset: %+v", m.Adapters())
	}
}

// TestWaitReached: serve's start-up is over once every registered adapter
// has had a good answer; a failure is not one, and a reset (the next
// activation under the lease) starts over.
func TestWaitReached(t *testing.T) {
	now := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		setup func(m *Metrics)
		want  bool // returns before ctx ends
	}{
		{"no adapter", func(*Metrics) {}, true},
		{"one reached", func(m *Metrics) { m.Adapter("telegram").Reached(now, "getMe") }, true},
		{"reached then failed", func(m *Metrics) {
			a := m.Adapter("telegram")
			a.Reached(now, "getMe")
			a.Failed(now, "getUpdates")
		}, true},
		{"only failed", func(m *Metrics) { m.Adapter("telegram").Failed(now, "getMe") }, false},
		{"one of two", func(m *Metrics) {
			m.Adapter("telegram").Reached(now, "getMe")
			m.Adapter("matrix")
		}, false},
		{"both", func(m *Metrics) {
			m.Adapter("telegram").Reached(now, "getMe")
			m.Adapter("matrix").Reached(now, "sync")
		}, true},
		{"reset after reached", func(m *Metrics) {
			m.Adapter("telegram").Reached(now, "getMe")
			m.Adapter("telegram") // the next activation
		}, false},
		{"reached twice", func(m *Metrics) {
			a := m.Adapter("telegram")
			a.Reached(now, "getMe")
			a.Reached(now, "getUpdates")
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := New(1)
			c.setup(m)
			ctx, cancel := context.WithCancel(context.Background())
			if !c.want {
				cancel() // an already ended ctx: WaitReached must not wait
			}
			defer cancel()
			err := m.WaitReached(ctx)
			if c.want && err != nil {
				t.Fatalf("WaitReached: %v, want nil", err)
			}
			if !c.want && !errors.Is(err, context.Canceled) {
				t.Fatalf("WaitReached: %v, want context.Canceled", err)
			}
		})
	}
}

// TestWaitReachedWakes: a waiter returns when the answer comes.
func TestWaitReachedWakes(t *testing.T) {
	m := New(1)
	a := m.Adapter("telegram")
	done := make(chan error, 1)
	go func() { done <- m.WaitReached(context.Background()) }()
	a.Reached(time.Now(), "getMe")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
