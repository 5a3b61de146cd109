// Package outbox is the persisted lifecycle of the messages a chat adapter
// sends and receives: "edit this message at T" (a code that expired),
// "delete this message at T" (a code or an export that expires) and "delete
// the person's message that carried a secret". Every adapter (Telegram,
// Matrix) keeps its jobs here instead of in memory, so a restart, an
// upgrade or a kill -9 never leaves a backup key in a chat for good.
//
// Jobs are records of their own kind in core's Store (a bucket of its own
// in bbolt, a row kind in PostgreSQL), one record per job, each sealed with
// XChaCha20-Poly1305 under a key the caller derives from the master key
// (core.Service.DeriveKey(SealPurpose)): chat and message ids are metadata
// about people, sealed like everything else. A job is written in the same
// step that records the sent message, before the adapter acknowledges the
// update, and removed only once it has run (or can never run).
//
// Run carries jobs out in time order (ties in the order they were added):
// on start-up every overdue job runs at once, then the rest on time. Stopping
// keeps every job that has not finished. Failures are sorted by what the
// adapter's run function returns: ErrGone (the message is gone already:
// done), a *PermanentError (the platform will never allow it, such as
// Telegram refusing to delete messages older than 48 hours: dropped and
// counted, not retried), a *RetryError (429: wait as told) and anything else
// (5xx, network: retried with exponential back-off, up to MaxTries).
//
// The queue is bounded (MaxJobs). When it is full the least important job
// goes: expiry edits first, then deletions of the bot's own replies, and
// deletions of a person's secret-bearing message only when nothing else is
// left; within a kind the one due last.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
)

// SealPurpose is the key derivation purpose of the outbox's sealing key:
// pass core.Service.DeriveKey(SealPurpose) to Open. A master key rotation
// seals the jobs again under the new root (core/rotate.go).
const SealPurpose = core.PurposeOutbox

// Kind is the Store record kind of outbox jobs; the owner is the platform
// ("telegram", "matrix"), the id the job's sequence number.
const Kind = core.KindOutbox

// Action is what a job does.
type Action uint8

// Actions, in order of importance (see the package comment on bounds).
const (
	// Edit replaces a message's content (a code that expired).
	Edit Action = iota + 1
	// Delete deletes (redacts) a message the bot sent.
	Delete
	// DeleteSecret deletes the person's message that carried a secret.
	DeleteSecret
)

func (a Action) String() string {
	switch a {
	case Edit:
		return "edit"
	case Delete:
		return "delete"
	case DeleteSecret:
		return "delete_secret"
	}
	return "unknown"
}

// Job is one timed action on one message.
type Job struct {
	Action  Action    `json:"a"`
	Chat    string    `json:"c"`           // the platform's chat or room id
	Message string    `json:"m"`           // the platform's message or event id
	At      time.Time `json:"t"`           // when to run
	Sent    time.Time `json:"s,omitzero"`  // when the message was sent (platform age limits)
	Payload []byte    `json:"p,omitempty"` // for Edit: the new content, in the adapter's own form
	Tries   int       `json:"n,omitempty"` // failed attempts so far
	// Tag, when set, lets Hurry find the job: a reply whose expiry can
	// come early (a /web link deleted once it is used).
	Tag string `json:"g,omitempty"`

	seq uint64 // record id, assigned by Add
}

// Errors a run function returns to say how a job ended.
var (
	// ErrGone: the message is not there any more (the person deleted it, or
	// an earlier run did before a crash). The job is done.
	ErrGone = errors.New("outbox: message is gone")
)

// PermanentError means the platform will never allow the job: it is
// dropped and counted, not retried. Reason is a short word for logs and
// metrics ("too_old", "forbidden").
type PermanentError struct {
	Reason string
	Err    error
}

func (e *PermanentError) Error() string { return "outbox: " + e.Reason + ": " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// RetryError asks to try again after After (a 429's retry_after).
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string { return fmt.Sprintf("outbox: retry after %v: %v", e.After, e.Err) }
func (e *RetryError) Unwrap() error { return e.Err }

// RunFunc carries out one job on the platform.
type RunFunc func(ctx context.Context, j Job) error

// Observer is told how jobs end, for metrics: action is Action.String(),
// outcome one of "done", "gone", "retry", "too_old", "refused", "gave_up",
// "full", "unreadable".
type Observer interface {
	OutboxJob(platform, action, outcome string)
	OutboxPending(platform string, n int)
}

// Clock tells the time. When it also has After (a fake clock in tests),
// Run waits on it instead of a real timer.
type Clock interface {
	Now() time.Time
}

type afterClock interface {
	After(d time.Duration) <-chan time.Time
}

// Options tune an Outbox. Zero values get the defaults shown.
type Options struct {
	Platform string // record owner, log and metric label; required
	Clock    Clock
	Log      *slog.Logger
	Observer Observer
	// MaxJobs bounds the queue (10000).
	MaxJobs int
	// MaxAge, when set, is the platform's limit on deleting old messages
	// (Telegram: 48 hours): a deletion whose message is older is dropped
	// as impossible instead of being tried.
	MaxAge time.Duration
	// MaxTries bounds attempts of a job that keeps failing (10).
	MaxTries int
	// BackoffMin and BackoffMax bound the wait between attempts (1 s, 5 min).
	BackoffMin, BackoffMax time.Duration
	// Batch is how many due jobs run before their results are written in
	// one transaction (64).
	Batch int
}

// Outbox is one platform's queue. It is safe for concurrent use; Run runs
// in one goroutine.
type Outbox struct {
	store core.Store
	key   seal.Key
	opts  Options
	log   *slog.Logger

	mu      sync.Mutex
	jobs    []Job // sorted by At, then seq
	claimed map[uint64]bool
	expects map[uint64]Job // stored by Expect, not resolved yet
	seq     uint64
	wake    chan struct{}
}

// Open loads the platform's jobs from store. A record that does not open
// (damaged, or sealed under another key) is removed and counted: an
// outbox job is worth less than a bot that starts.
func Open(ctx context.Context, store core.Store, key seal.Key, opts Options) (*Outbox, error) {
	if opts.Platform == "" {
		return nil, errors.New("outbox: no platform")
	}
	if opts.Clock == nil {
		opts.Clock = core.SystemClock{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.MaxJobs <= 0 {
		opts.MaxJobs = 10000
	}
	if opts.MaxTries <= 0 {
		opts.MaxTries = 10
	}
	if opts.BackoffMin <= 0 {
		opts.BackoffMin = time.Second
	}
	if opts.BackoffMax < opts.BackoffMin {
		opts.BackoffMax = max(5*time.Minute, opts.BackoffMin)
	}
	if opts.Batch <= 0 {
		opts.Batch = 64
	}
	o := &Outbox{store: store, key: key, opts: opts, log: opts.Log, claimed: map[uint64]bool{}, expects: map[uint64]Job{}, wake: make(chan struct{}, 1)}
	var bad []string
	err := store.View(ctx, func(tx core.Tx) error {
		ids, err := tx.List(Kind, opts.Platform)
		if err != nil {
			return err
		}
		for _, id := range ids {
			seq, perr := strconv.ParseUint(id, 16, 64)
			sealed, err := tx.Get(o.ref(seq))
			if err != nil {
				return err
			}
			j, oerr := o.open(id, sealed)
			if perr != nil || oerr != nil {
				bad = append(bad, id)
				continue
			}
			j.seq = seq
			o.jobs = append(o.jobs, j)
			o.seq = max(o.seq, seq)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: load %s jobs: %w", opts.Platform, err)
	}
	if len(bad) > 0 {
		o.log.Warn("outbox: removing jobs that do not open", "platform", opts.Platform, "count", len(bad))
		err := store.Update(ctx, func(tx core.Tx) error {
			for _, id := range bad {
				if err := tx.Delete(core.Ref{Kind: Kind, Owner: opts.Platform, ID: id}); err != nil && !errors.Is(err, core.ErrNotFound) {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("outbox: remove unreadable jobs: %w", err)
		}
		for range bad {
			o.count(0, "unreadable")
		}
	}
	o.sort()
	o.pending()
	if n := len(o.jobs); n > 0 {
		o.log.Info("outbox: jobs waiting from before", "platform", opts.Platform, "count", n)
	}
	return o, nil
}

func (o *Outbox) ref(seq uint64) core.Ref {
	// Fixed-width hex: byte order is insertion order.
	return core.Ref{Kind: Kind, Owner: o.opts.Platform, ID: fmt.Sprintf("%016x", seq)}
}

// ad binds a sealed job to its platform and id, so a record cannot be
// moved to another slot or platform.
func (o *Outbox) ad(id string) []byte { return core.OutboxAD(o.opts.Platform, id) }

func (o *Outbox) open(id string, sealed []byte) (Job, error) {
	plain, err := seal.Open(&o.key, sealed, o.ad(id))
	if err != nil {
		return Job{}, err
	}
	var j Job
	if err := json.Unmarshal(plain, &j); err != nil {
		return Job{}, err
	}
	// An empty Message is an Expect that was never resolved (see there).
	if j.Action < Edit || j.Action > DeleteSecret || j.Chat == "" || (j.Message == "" && j.Action != Delete) {
		return Job{}, errors.New("outbox: malformed job")
	}
	return j, nil
}

func (o *Outbox) put(tx core.Tx, j Job) error {
	plain, err := json.Marshal(j)
	if err != nil {
		return err
	}
	ref := o.ref(j.seq)
	sealed, err := seal.Seal(&o.key, plain, o.ad(ref.ID))
	if err != nil {
		return err
	}
	return tx.Put(ref, sealed)
}

// sort orders the whole queue by due time, then sequence (the order jobs
// run in); used after loading and after Hurry moves jobs in place.
func (o *Outbox) sort() { slices.SortFunc(o.jobs, compareJobs) }

// enqueue adds jobs to the ordered queue. A full sort on every add cost a
// seventh of the CPU of a busy bot with 20,000 jobs waiting (each /code adds
// its expiry edit and delete), while new jobs almost always fall due after
// the ones waiting: so only the new ones are sorted, and merged into the
// queue from where the first of them belongs.
func (o *Outbox) enqueue(jobs ...Job) {
	if len(jobs) == 0 {
		return
	}
	head := len(o.jobs)
	o.jobs = append(o.jobs, jobs...)
	tail := o.jobs[head:]
	slices.SortFunc(tail, compareJobs)
	if head == 0 || compareJobs(o.jobs[head-1], tail[0]) <= 0 {
		return
	}
	at, _ := slices.BinarySearchFunc(o.jobs[:head], tail[0], compareJobs)
	// Merge o.jobs[at:head] with the sorted new jobs into place.
	older := slices.Clone(o.jobs[at:head])
	newer := slices.Clone(tail)
	out := o.jobs[at:at]
	for len(older) > 0 && len(newer) > 0 {
		if compareJobs(older[0], newer[0]) <= 0 {
			out, older = append(out, older[0]), older[1:]
		} else {
			out, newer = append(out, newer[0]), newer[1:]
		}
	}
	out = append(out, older...)
	_ = append(out, newer...)
}

func compareJobs(a, b Job) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	return compareSeq(a.seq, b.seq)
}

func compareSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (o *Outbox) count(a Action, outcome string) {
	if o.opts.Observer != nil {
		o.opts.Observer.OutboxJob(o.opts.Platform, a.String(), outcome)
	}
}

// pending reports the queue length; callers may hold o.mu or not.
func (o *Outbox) pending() {
	if o.opts.Observer != nil {
		o.opts.Observer.OutboxPending(o.opts.Platform, len(o.jobs)+len(o.claimed))
	}
}

// Len is the number of jobs waiting (and running).
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.jobs) + len(o.claimed)
}

// Jobs returns a copy of the waiting jobs in the order they will run.
func (o *Outbox) Jobs() []Job {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.jobs)
}

// Add stores jobs durably, in one transaction, and queues them. It returns
// once they are on disk: call it right after the message was sent and
// before the update is acknowledged.
func (o *Outbox) Add(ctx context.Context, jobs ...Job) error {
	if len(jobs) == 0 {
		return nil
	}
	_, err := o.add(ctx, jobs, false)
	return err
}

// add stores jobs; with claim they are not queued but handed back to the
// caller to run (Now).
func (o *Outbox) add(ctx context.Context, jobs []Job, claim bool) ([]Job, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	jobs = slices.Clone(jobs)
	for i := range jobs {
		o.seq++
		jobs[i].seq = o.seq
	}
	// Make room first, so the bound holds on disk too.
	var drop []Job
	if over := len(o.jobs) + len(o.claimed) + len(jobs) - o.opts.MaxJobs; over > 0 {
		drop = o.victims(over)
	}
	err := o.store.Update(ctx, func(tx core.Tx) error {
		for _, j := range drop {
			if err := tx.Delete(o.ref(j.seq)); err != nil && !errors.Is(err, core.ErrNotFound) {
				return err
			}
		}
		for _, j := range jobs {
			if err := o.put(tx, j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: store job: %w", err)
	}
	if len(drop) > 0 {
		o.jobs = slices.DeleteFunc(o.jobs, func(j Job) bool {
			return slices.ContainsFunc(drop, func(d Job) bool { return d.seq == j.seq })
		})
		for _, j := range drop {
			o.count(j.Action, "full")
		}
		o.log.Warn("outbox: queue full, dropped the least important jobs", "platform", o.opts.Platform, "count", len(drop), "max", o.opts.MaxJobs)
	}
	if claim {
		for _, j := range jobs {
			o.claimed[j.seq] = true
			if j.Message == "" {
				o.expects[j.seq] = j
			}
		}
	} else {
		o.enqueue(jobs...)
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
	o.pending()
	return jobs, nil
}

// victims picks n queued jobs to drop: lowest action first, within one
// the one due last. Callers hold o.mu.
func (o *Outbox) victims(n int) []Job {
	order := slices.Clone(o.jobs)
	slices.SortStableFunc(order, func(a, b Job) int {
		if a.Action != b.Action {
			return int(a.Action) - int(b.Action)
		}
		return -a.At.Compare(b.At)
	})
	return order[:min(n, len(order))]
}

// Ticket names a job stored by Expect.
type Ticket uint64

// Expect stores a deletion before the message exists, with Message empty:
// the moment between the platform accepting a message and the job being
// on disk is not covered otherwise, and a kill -9 then would leave the
// message in the chat with nobody knowing. Resolve fills in the message id
// once it is sent; Cancel drops the job when sending failed. An Expect
// that a crash left unresolved runs at its time with Message empty: the
// adapter cannot delete what it cannot name, so it tells the chat instead.
// Use it for replies that carry a secret (exports), not for every code.
func (o *Outbox) Expect(ctx context.Context, j Job) (Ticket, error) {
	j.Action, j.Message = Delete, ""
	jobs, err := o.add(ctx, []Job{j}, true)
	if err != nil {
		return 0, err
	}
	return Ticket(jobs[0].seq), nil
}

// Resolve records the id of the message an Expect was for and queues the
// deletion; extra jobs for the same message (an expiry edit) are stored in
// the same transaction.
func (o *Outbox) Resolve(ctx context.Context, t Ticket, message string, extra ...Job) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	j, ok := o.expected(t)
	if !ok {
		return errors.New("outbox: unknown ticket")
	}
	j.Message = message
	extra = slices.Clone(extra)
	for i := range extra {
		o.seq++
		extra[i].seq = o.seq
	}
	err := o.store.Update(ctx, func(tx core.Tx) error {
		for _, x := range append([]Job{j}, extra...) {
			if err := o.put(tx, x); err != nil {
				return err
			}
		}
		return nil
	})
	delete(o.claimed, j.seq)
	delete(o.expects, j.seq)
	if err != nil {
		// Still queued in memory: the deletion runs while the process lives.
		o.log.Warn("outbox: could not store a message id", "platform", o.opts.Platform, "err", err)
	}
	o.enqueue(append([]Job{j}, extra...)...)
	select {
	case o.wake <- struct{}{}:
	default:
	}
	o.pending()
	return err
}

// Hurry makes every queued job tagged tag due now, stored so, and wakes
// Run: the message that carried a one-time link goes once the link is
// used, not only when it expires. No such job is not an error.
func (o *Outbox) Hurry(ctx context.Context, tag string) error {
	if tag == "" {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.opts.Clock.Now()
	var moved []Job
	for i := range o.jobs {
		if o.jobs[i].Tag == tag && o.jobs[i].At.After(now) {
			o.jobs[i].At = now
			moved = append(moved, o.jobs[i])
		}
	}
	// A message still being sent (Expect without Resolve yet): Resolve
	// queues it due now.
	for seq, j := range o.expects {
		if j.Tag == tag && j.At.After(now) {
			j.At = now
			o.expects[seq] = j
			moved = append(moved, j)
		}
	}
	if len(moved) == 0 {
		return nil
	}
	err := o.store.Update(ctx, func(tx core.Tx) error {
		for _, j := range moved {
			if err := o.put(tx, j); err != nil {
				return err
			}
		}
		return nil
	})
	o.sort()
	select {
	case o.wake <- struct{}{}:
	default:
	}
	if err != nil {
		// Due now in memory all the same; the stored time is the later one.
		return fmt.Errorf("outbox: store hurried job: %w", err)
	}
	return nil
}

// Cancel drops an Expect whose message was not sent.
func (o *Outbox) Cancel(ctx context.Context, t Ticket) {
	o.mu.Lock()
	defer o.mu.Unlock()
	j, ok := o.expected(t)
	if !ok {
		return
	}
	err := o.store.Update(ctx, func(tx core.Tx) error {
		if err := tx.Delete(o.ref(j.seq)); err != nil && !errors.Is(err, core.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		o.log.Warn("outbox: could not drop an unused job", "platform", o.opts.Platform, "err", err)
	}
	delete(o.claimed, j.seq)
	delete(o.expects, j.seq)
	o.pending()
}

// expected finds an Expect's job; callers hold o.mu.
func (o *Outbox) expected(t Ticket) (Job, bool) {
	j, ok := o.expects[uint64(t)]
	return j, ok
}

// Now stores j and runs it at once in the caller's goroutine: for the
// person's secret-bearing message, whose deletion the reply must report.
// It returns the first attempt's error (nil when it worked or the message
// was gone). A job that failed for a reason that may pass stays queued and
// is retried; one that can never work is dropped and counted.
func (o *Outbox) Now(ctx context.Context, j Job, run RunFunc) error {
	if j.At.IsZero() {
		j.At = o.opts.Clock.Now()
	}
	jobs, err := o.add(ctx, []Job{j}, true)
	if err != nil {
		// Not stored: still try, the secret must go.
		if rerr := run(ctx, j); rerr != nil && !errors.Is(rerr, ErrGone) {
			return rerr
		}
		return nil
	}
	j = jobs[0]
	runErr := run(ctx, j)
	keep, _ := o.settle(j, runErr, ctx.Err() != nil)
	if err := o.write(context.WithoutCancel(ctx), []settled{{j: j, keep: keep}}); err != nil {
		o.log.Warn("outbox: could not record a finished job; it runs again later", "platform", o.opts.Platform, "err", err)
	}
	o.mu.Lock()
	delete(o.claimed, j.seq)
	if keep != nil {
		o.enqueue(*keep)
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
	o.pending()
	o.mu.Unlock()
	if errors.Is(runErr, ErrGone) {
		return nil
	}
	return runErr
}

// settle decides what becomes of j after a run: keep is the job to retry
// (nil when done or dropped). stopping means the run was cut off by
// shutdown: keep it unchanged for the next start.
func (o *Outbox) settle(j Job, err error, stopping bool) (keep *Job, outcome string) {
	var perm *PermanentError
	var retry *RetryError
	switch {
	case err == nil:
		outcome = "done"
	case errors.Is(err, ErrGone):
		outcome = "gone"
	case stopping:
		return &j, "stopped"
	case errors.As(err, &perm):
		outcome = "refused"
		if perm.Reason == "too_old" {
			outcome = "too_old"
		}
		o.log.Warn("outbox: the platform refuses this job for good; dropped", "platform", o.opts.Platform,
			"action", j.Action.String(), "reason", perm.Reason, "err", err)
	default:
		j.Tries++
		if j.Tries >= o.opts.MaxTries {
			o.log.Warn("outbox: job failed too often; dropped", "platform", o.opts.Platform, "action", j.Action.String(), "tries", j.Tries, "err", err)
			outcome = "gave_up"
			break
		}
		wait := o.opts.BackoffMin << min(j.Tries-1, 20)
		if errors.As(err, &retry) && retry.After > 0 {
			wait = retry.After
		}
		wait = min(wait, o.opts.BackoffMax)
		j.At = o.opts.Clock.Now().Add(wait)
		o.log.Info("outbox: job failed, trying again", "platform", o.opts.Platform, "action", j.Action.String(), "tries", j.Tries, "in", wait, "err", err)
		o.count(j.Action, "retry")
		return &j, "retry"
	}
	o.count(j.Action, outcome)
	return nil, outcome
}

type settled struct {
	j    Job
	keep *Job // rewrite with this (a retry), or nil: delete
}

// write records the results of finished jobs in one transaction.
func (o *Outbox) write(ctx context.Context, done []settled) error {
	if len(done) == 0 {
		return nil
	}
	return o.store.Update(ctx, func(tx core.Tx) error {
		for _, s := range done {
			if s.keep != nil {
				if err := o.put(tx, *s.keep); err != nil {
					return err
				}
				continue
			}
			if err := tx.Delete(o.ref(s.j.seq)); err != nil && !errors.Is(err, core.ErrNotFound) {
				return err
			}
		}
		return nil
	})
}

// tooOld says whether a deletion can no longer be done on this platform.
func (o *Outbox) tooOld(j Job, now time.Time) bool {
	return o.opts.MaxAge > 0 && j.Action != Edit && !j.Sent.IsZero() && now.Sub(j.Sent) > o.opts.MaxAge
}

// due takes up to Batch jobs due at now off the queue, claiming them.
func (o *Outbox) due(now time.Time) []Job {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for n < len(o.jobs) && n < o.opts.Batch && !o.jobs[n].At.After(now) {
		n++
	}
	out := slices.Clone(o.jobs[:n])
	o.jobs = slices.Delete(o.jobs, 0, n)
	for _, j := range out {
		o.claimed[j.seq] = true
	}
	return out
}

// next is how long until the earliest job, or false when there is none.
func (o *Outbox) next(now time.Time) (time.Duration, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.jobs) == 0 {
		return 0, false
	}
	return max(o.jobs[0].At.Sub(now), 0), true
}

// Run carries out jobs as they fall due until ctx is done, one at a time
// and in order. It returns when ctx is done; jobs not yet run stay stored
// for the next start.
func (o *Outbox) Run(ctx context.Context, run RunFunc) {
	for ctx.Err() == nil {
		now := o.opts.Clock.Now()
		if jobs := o.due(now); len(jobs) > 0 {
			o.runBatch(ctx, jobs, run)
			continue
		}
		wait, ok := o.next(now)
		if !ok {
			wait = time.Hour
		}
		var fire <-chan time.Time
		var stop func() bool
		if ac, fake := o.opts.Clock.(afterClock); fake {
			fire, stop = ac.After(wait), func() bool { return true }
		} else {
			t := time.NewTimer(wait)
			fire, stop = t.C, t.Stop
		}
		select {
		case <-ctx.Done():
		case <-o.wake:
		case <-fire:
		}
		stop()
	}
}

func (o *Outbox) runBatch(ctx context.Context, jobs []Job, run RunFunc) {
	var toWrite []settled
	var requeue []Job
	for _, j := range jobs {
		var err error
		switch {
		case ctx.Err() != nil:
			err = ctx.Err()
		case o.tooOld(j, o.opts.Clock.Now()):
			err = &PermanentError{Reason: "too_old", Err: fmt.Errorf("the message is older than %v", o.opts.MaxAge)}
		default:
			err = run(ctx, j)
		}
		keep, outcome := o.settle(j, err, ctx.Err() != nil)
		if keep != nil {
			requeue = append(requeue, *keep)
		}
		if outcome != "stopped" { // a stopped job is unchanged on disk
			toWrite = append(toWrite, settled{j: j, keep: keep})
		}
	}
	// Write even when stopping: what finished must not run again.
	if err := o.write(context.WithoutCancel(ctx), toWrite); err != nil {
		o.log.Warn("outbox: could not record finished jobs; they run again later", "platform", o.opts.Platform, "err", err)
	}
	o.mu.Lock()
	for _, j := range jobs {
		delete(o.claimed, j.seq)
	}
	o.enqueue(requeue...)
	o.pending()
	o.mu.Unlock()
}
