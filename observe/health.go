package observe

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Adapter health: each chat adapter reports how its platform last answered
// (Telegram: getMe, getUpdates, setWebhook, a webhook call; Matrix: login,
// sync) through an AdapterHealth, and /healthz shows one line per adapter.
// The bot serves while at least one adapter's last answer was good; when
// adapters are registered and none is, /healthz answers 503. Only fixed
// words cross this type (the adapter names what it asked), never an error
// text: /healthz has no authentication and must not leak paths or ids.

// AdapterHealth is one adapter's state. The adapters see it through an
// interface of their own (Reached/Failed); Metrics.Adapter makes one.
type AdapterHealth struct {
	name string

	mu      sync.Mutex
	ok      bool
	what    string    // what was asked last ("getUpdates", "sync")
	lastOK  time.Time // zero: never reached
	lastBad time.Time
	// first is closed by the first good answer since the last reset
	// (WaitReached).
	first chan struct{}
}

// Reached records a good answer from the platform to what, at t.
func (a *AdapterHealth) Reached(t time.Time, what string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ok, a.what, a.lastOK = true, label(what), t
	select {
	case <-a.first:
	default:
		close(a.first)
	}
}

// Failed records that asking what failed at t.
func (a *AdapterHealth) Failed(t time.Time, what string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ok, a.what, a.lastBad = false, label(what), t
}

// reset forgets the state (a new activation under the lease starts over).
func (a *AdapterHealth) reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ok, a.what, a.lastOK, a.lastBad = false, "", time.Time{}, time.Time{}
	a.first = make(chan struct{})
}

// reachedCh is closed once the adapter has had a good answer.
func (a *AdapterHealth) reachedCh() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.first
}

// AdapterState is one adapter as /healthz reports it.
type AdapterState struct {
	Name string `json:"name"`
	// State is "ok", "failing" or "starting" (never reached yet).
	State  string     `json:"state"`
	What   string     `json:"what,omitempty"`
	LastOK *time.Time `json:"last_ok,omitempty"`
}

func (a *AdapterHealth) state() AdapterState {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := AdapterState{Name: a.name, State: "starting", What: a.what}
	switch {
	case a.ok:
		s.State = "ok"
	case !a.lastBad.IsZero():
		s.State = "failing"
	}
	if !a.lastOK.IsZero() {
		t := a.lastOK.UTC()
		s.LastOK = &t
	}
	return s
}

// adapters is the set /healthz reports.
type adapters struct {
	mu  sync.Mutex
	all map[string]*AdapterHealth
}

// Adapter returns the health of the adapter called name ("telegram",
// "matrix"), registering it on first use; a second call (the next
// activation under the PostgreSQL lease) returns the same one, reset.
func (m *Metrics) Adapter(name string) *AdapterHealth {
	m.health.mu.Lock()
	defer m.health.mu.Unlock()
	if m.health.all == nil {
		m.health.all = map[string]*AdapterHealth{}
	}
	a, ok := m.health.all[name]
	if !ok {
		a = &AdapterHealth{name: label(name)}
		m.health.all[name] = a
	}
	a.reset()
	return a
}

// WaitReached returns once every adapter registered so far has had a good
// answer from its platform (Telegram's getMe, Matrix's login): serve's
// start-up is then nearly over (memlimit.go). It returns ctx's error if
// ctx ends first; at once when no adapter is registered.
func (m *Metrics) WaitReached(ctx context.Context) error {
	m.health.mu.Lock()
	var chans []<-chan struct{}
	for _, a := range m.health.all {
		chans = append(chans, a.reachedCh())
	}
	m.health.mu.Unlock()
	for _, ch := range chans {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Adapters returns the adapters' states, by name.
func (m *Metrics) Adapters() []AdapterState {
	m.health.mu.Lock()
	list := make([]*AdapterHealth, 0, len(m.health.all))
	for _, a := range m.health.all {
		list = append(list, a)
	}
	m.health.mu.Unlock()
	out := make([]AdapterState, 0, len(list))
	for _, a := range list {
		out = append(out, a.state())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// healthReport is /healthz's JSON body.
type healthReport struct {
	Status   string         `json:"status"` // ok, standby, unhealthy
	Adapters []AdapterState `json:"adapters,omitempty"`
}

// writeHealth answers /healthz: a first line "ok", "standby" or
// "unhealthy" (what scripts and the failover test read), then one line per
// adapter; JSON when asked (?format=json or Accept: application/json).
func writeHealth(w http.ResponseWriter, r *http.Request, status string, list []AdapterState, now time.Time) {
	code := http.StatusOK
	if status == "unhealthy" {
		code = http.StatusServiceUnavailable
	}
	if r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(healthReport{Status: status, Adapters: list})
		return
	}
	w.WriteHeader(code)
	fmt.Fprintln(w, status)
	for _, a := range list {
		line := a.Name + ": " + a.State
		if a.What != "" {
			line += " (" + a.What + ")"
		}
		if a.LastOK != nil {
			line += fmt.Sprintf(", last ok %s ago at %s", now.Sub(*a.LastOK).Round(time.Second), a.LastOK.Format(time.RFC3339))
		} else {
			line += ", never reached"
		}
		fmt.Fprintln(w, line)
	}
}

// serving reports whether any adapter's last answer was good (true when
// none is registered: the database check alone decides then).
func serving(list []AdapterState) bool {
	if len(list) == 0 {
		return true
	}
	for _, a := range list {
		if a.State == "ok" {
			return true
		}
	}
	return false
}
