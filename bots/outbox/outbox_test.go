package outbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/outbox"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/internal/testkit"
	"github.com/authbot/authbot/storage/bolt"
)

// newClock is the fake clock: it moves only when told, and Run waits on
// its After.
func newClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
}

type counts struct {
	mu      sync.Mutex
	n       map[string]int
	pending int
}

func (c *counts) OutboxJob(platform, action, outcome string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[action+"/"+outcome]++
}

func (c *counts) OutboxPending(platform string, n int) {
	c.mu.Lock()
	c.pending = n
	c.mu.Unlock()
}

func (c *counts) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

// rig is an outbox over a real bbolt file that can be closed and opened
// again, as a restart does.
type rig struct {
	t     *testing.T
	path  string
	key   seal.Key
	clock *testkit.Clock
	obs   *counts
	store *bolt.Store
	opts  outbox.Options
}

func newRig(t *testing.T, opts outbox.Options) *rig {
	t.Helper()
	r := &rig{t: t, path: filepath.Join(t.TempDir(), "authbot.db"), key: testkit.Key(t), clock: newClock(), obs: &counts{}, opts: opts}
	r.opts.Platform = "telegram"
	r.opts.Clock = r.clock
	r.opts.Observer = r.obs
	return r
}

func (r *rig) open() *outbox.Outbox {
	r.t.Helper()
	if r.store != nil {
		r.store.Close()
	}
	r.store = testkit.Bolt(r.t, r.path)
	return testkit.OpenOutbox(r.t, r.store, r.key, r.opts)
}

// recorder is a run function that records what ran and answers with err
// (per message id) when set.
type recorder struct {
	mu   sync.Mutex
	ran  []string
	errs map[string][]error
	ch   chan string
}

func newRecorder() *recorder {
	return &recorder{errs: map[string][]error{}, ch: make(chan string, 4096)}
}

func (rc *recorder) run(ctx context.Context, j outbox.Job) error {
	rc.mu.Lock()
	var err error
	if e := rc.errs[j.Message]; len(e) > 0 {
		err, rc.errs[j.Message] = e[0], e[1:]
	}
	rc.ran = append(rc.ran, j.Action.String()+":"+j.Message)
	rc.mu.Unlock()
	rc.ch <- j.Message
	return err
}

func (rc *recorder) wait(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	for range n {
		select {
		case m := <-rc.ch:
			got = append(got, m)
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d jobs ran: %v", len(got), n, got)
		}
	}
	return got
}

func (rc *recorder) none(t *testing.T) {
	t.Helper()
	select {
	case m := <-rc.ch:
		t.Fatalf("job %s ran too early", m)
	case <-time.After(50 * time.Millisecond):
	}
}

func run(t *testing.T, o *outbox.Outbox, rc *recorder) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); o.Run(ctx, rc.run) }()
	return func() { cancel(); <-done }
}

func job(a outbox.Action, msg string, at time.Time) outbox.Job {
	return outbox.Job{Action: a, Chat: "42", Message: msg, At: at}
}

// waitIdle waits until the outbox has settled n jobs (Len drops to want).
func waitLen(t *testing.T, o *outbox.Outbox, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for o.Len() != want {
		if time.Now().After(deadline) {
			t.Fatalf("outbox holds %d jobs, want %d", o.Len(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestOverdueAtOnceThenOnTimeAcrossARestart(t *testing.T) {
	r := newRig(t, outbox.Options{})
	now := r.clock.Now()
	o := r.open()
	if err := o.Add(context.Background(),
		job(outbox.Delete, "late", now.Add(time.Minute)),
		job(outbox.Edit, "soon", now.Add(10*time.Second)),
		job(outbox.Delete, "overdue", now.Add(-time.Hour)),
	); err != nil {
		t.Fatal(err)
	}
	// A restart before anything ran: the jobs come back from the store.
	o = r.open()
	if o.Len() != 3 {
		t.Fatalf("%d jobs after a restart, want 3", o.Len())
	}
	rc := newRecorder()
	stop := run(t, o, rc)
	defer stop()
	if got := rc.wait(t, 1); got[0] != "overdue" {
		t.Fatalf("ran %v first", got)
	}
	rc.none(t)
	r.clock.Advance(10 * time.Second)
	if got := rc.wait(t, 1); got[0] != "soon" {
		t.Fatalf("ran %v", got)
	}
	r.clock.Advance(50 * time.Second)
	if got := rc.wait(t, 1); got[0] != "late" {
		t.Fatalf("ran %v", got)
	}
	waitLen(t, o, 0)
	stop()
	if o := r.open(); o.Len() != 0 {
		t.Errorf("finished jobs came back after a restart: %v", o.Jobs())
	}
	if r.obs.get("delete/done") != 2 || r.obs.get("edit/done") != 1 {
		t.Errorf("counts %v", r.obs.n)
	}
}

func TestThousandJobsSurviveARestartInOrder(t *testing.T) {
	r := newRig(t, outbox.Options{})
	o := r.open()
	now := r.clock.Now()
	var jobs []outbox.Job
	for i := range 1000 {
		// Due times out of insertion order, with ties: they run by time,
		// ties in the order they were added.
		at := now.Add(time.Duration((i*7)%100) * time.Second)
		jobs = append(jobs, job(outbox.Delete, fmt.Sprint(i), at))
	}
	for i := 0; i < len(jobs); i += 100 {
		if err := o.Add(context.Background(), jobs[i:i+100]...); err != nil {
			t.Fatal(err)
		}
	}
	o = r.open()
	if o.Len() != 1000 {
		t.Fatalf("%d jobs after the restart", o.Len())
	}
	rc := newRecorder()
	stop := run(t, o, rc)
	defer stop()
	r.clock.Advance(100 * time.Second)
	got := rc.wait(t, 1000)
	var want []string
	for s := range 100 {
		for i := range 1000 {
			if (i*7)%100 == s {
				want = append(want, fmt.Sprint(i))
			}
		}
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("job %d was %s, want %s", i, got[i], want[i])
		}
	}
	waitLen(t, o, 0)
}

func TestRetriesBackOffAndGiveUp(t *testing.T) {
	r := newRig(t, outbox.Options{MaxTries: 3, BackoffMin: time.Second})
	o := r.open()
	rc := newRecorder()
	boom := errors.New("HTTP 502")
	rc.errs["flaky"] = []error{boom, &outbox.RetryError{After: 7 * time.Second, Err: boom}}
	rc.errs["broken"] = []error{boom, boom, boom}
	now := r.clock.Now()
	if err := o.Add(context.Background(), job(outbox.Delete, "flaky", now), job(outbox.Delete, "broken", now)); err != nil {
		t.Fatal(err)
	}
	stop := run(t, o, rc)
	defer stop()
	rc.wait(t, 2)
	rc.none(t)
	r.clock.Advance(time.Second) // back-off 1 s
	rc.wait(t, 2)
	r.clock.Advance(2 * time.Second) // broken: back-off 2 s; flaky waits 7 s as told
	if got := rc.wait(t, 1); got[0] != "broken" {
		t.Fatalf("ran %v", got)
	}
	rc.none(t)
	r.clock.Advance(5 * time.Second)
	if got := rc.wait(t, 1); got[0] != "flaky" {
		t.Fatalf("ran %v", got)
	}
	waitLen(t, o, 0)
	if r.obs.get("delete/gave_up") != 1 || r.obs.get("delete/done") != 1 || r.obs.get("delete/retry") != 4 {
		t.Errorf("counts %v", r.obs.n)
	}
}

func TestNeverPossibleJobsAreDroppedAndCounted(t *testing.T) {
	r := newRig(t, outbox.Options{MaxAge: 48 * time.Hour})
	o := r.open()
	rc := newRecorder()
	rc.errs["refused"] = []error{&outbox.PermanentError{Reason: "too_old", Err: errors.New("Bad Request: message can't be deleted")}}
	rc.errs["gone"] = []error{fmt.Errorf("delete: %w", outbox.ErrGone)}
	now := r.clock.Now()
	old := job(outbox.Delete, "49h", now)
	old.Sent = now.Add(-49 * time.Hour)
	young := job(outbox.Delete, "47h", now)
	young.Sent = now.Add(-47 * time.Hour)
	if err := o.Add(context.Background(), old, young, job(outbox.Delete, "refused", now), job(outbox.DeleteSecret, "gone", now)); err != nil {
		t.Fatal(err)
	}
	stop := run(t, o, rc)
	defer stop()
	got := rc.wait(t, 3)
	if got[0] != "47h" || got[1] != "refused" || got[2] != "gone" {
		t.Errorf("ran %v; the 49-hour-old message must not be tried", got)
	}
	waitLen(t, o, 0)
	rc.none(t)
	if r.obs.get("delete/too_old") != 2 || r.obs.get("delete/done") != 1 || r.obs.get("delete_secret/gone") != 1 {
		t.Errorf("counts %v", r.obs.n)
	}
}

func TestBoundKeepsSecretDeletionsLongest(t *testing.T) {
	r := newRig(t, outbox.Options{MaxJobs: 4})
	o := r.open()
	now := r.clock.Now().Add(time.Hour)
	ctx := context.Background()
	for _, j := range []outbox.Job{
		job(outbox.DeleteSecret, "s1", now), job(outbox.Edit, "e1", now), job(outbox.Delete, "d1", now), job(outbox.Edit, "e2", now.Add(time.Second)),
	} {
		if err := o.Add(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	_ = o.Add(ctx, job(outbox.DeleteSecret, "s2", now)) // drops e2 (the edit due last)
	_ = o.Add(ctx, job(outbox.DeleteSecret, "s3", now)) // drops e1
	_ = o.Add(ctx, job(outbox.DeleteSecret, "s4", now)) // drops d1
	_ = o.Add(ctx, job(outbox.DeleteSecret, "s5", now)) // only secrets left: drops one of them
	o = r.open()
	var left []string
	for _, j := range o.Jobs() {
		left = append(left, j.Message)
		if j.Action != outbox.DeleteSecret {
			t.Errorf("%s survived while secret deletions were dropped", j.Message)
		}
	}
	if len(left) != 4 || r.obs.get("edit/full") != 2 || r.obs.get("delete/full") != 1 || r.obs.get("delete_secret/full") != 1 {
		t.Errorf("left %v, counts %v", left, r.obs.n)
	}
}

func TestNowReportsAndKeepsWhatMayPass(t *testing.T) {
	r := newRig(t, outbox.Options{})
	o := r.open()
	rc := newRecorder()
	ctx := context.Background()
	if err := o.Now(ctx, job(outbox.DeleteSecret, "ok", time.Time{}), rc.run); err != nil {
		t.Fatal(err)
	}
	rc.errs["busy"] = []error{errors.New("HTTP 500")}
	if err := o.Now(ctx, job(outbox.DeleteSecret, "busy", time.Time{}), rc.run); err == nil {
		t.Fatal("a failed deletion reported success")
	}
	rc.wait(t, 2)
	o = r.open() // the failed one is stored for a retry
	if jobs := o.Jobs(); len(jobs) != 1 || jobs[0].Message != "busy" || jobs[0].Tries != 1 {
		t.Fatalf("after a restart: %+v", jobs)
	}
	stop := run(t, o, rc)
	defer stop()
	r.clock.Advance(time.Second)
	rc.wait(t, 1)
	waitLen(t, o, 0)
}

func TestStopKeepsJobs(t *testing.T) {
	r := newRig(t, outbox.Options{})
	o := r.open()
	now := r.clock.Now()
	var jobs []outbox.Job
	for i := range 5 {
		jobs = append(jobs, job(outbox.Delete, fmt.Sprint(i), now.Add(time.Duration(i)*time.Minute)))
	}
	if err := o.Add(context.Background(), jobs...); err != nil {
		t.Fatal(err)
	}
	rc := newRecorder()
	stop := run(t, o, rc)
	rc.wait(t, 1)
	waitLen(t, o, 4)
	stop() // SIGTERM
	if o := r.open(); o.Len() != 4 {
		t.Fatalf("%d jobs kept over a stop, want 4", o.Len())
	}
}

func TestJobsAreSealed(t *testing.T) {
	r := newRig(t, outbox.Options{})
	o := r.open()
	j := outbox.Job{Action: outbox.Edit, Chat: "chat-123456789", Message: "msg-987654321", At: r.clock.Now().Add(time.Hour), Payload: []byte("expired-text")}
	if err := o.Add(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	err := r.store.View(context.Background(), func(tx core.Tx) error {
		ids, err := tx.List(outbox.Kind, "telegram")
		if err != nil || len(ids) != 1 {
			return fmt.Errorf("ids %v: %v", ids, err)
		}
		raw, err := tx.Get(core.Ref{Kind: outbox.Kind, Owner: "telegram", ID: ids[0]})
		if err != nil {
			return err
		}
		for _, s := range []string{"123456789", "987654321", "expired-text"} {
			if bytes.Contains(raw, []byte(s)) {
				return fmt.Errorf("the record shows %q", s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Under another key the job does not open: it is removed and counted,
	// and the bot still starts.
	r.key, _ = seal.NewKey()
	if o := r.open(); o.Len() != 0 || r.obs.get("unknown/unreadable") != 1 {
		t.Errorf("len %d, counts %v", o.Len(), r.obs.n)
	}
}

func BenchmarkAddAndRun(b *testing.B) {
	clock := newClock()
	o := testkit.Outbox(b, outbox.Options{Platform: "telegram", Clock: clock})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, b.N+1)
	go o.Run(ctx, func(context.Context, outbox.Job) error { done <- struct{}{}; return nil })
	defer cancel()
	b.ResetTimer()
	for i := range b.N {
		if err := o.Add(ctx, job(outbox.Delete, fmt.Sprint(i), clock.Now())); err != nil {
			b.Fatal(err)
		}
	}
	for range b.N {
		<-done
	}
}
