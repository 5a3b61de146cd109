package telegram

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/go-telegram/bot/models"
)

// dispatcher runs update handlers: at most `workers` at once across all
// chats, and one chat's updates strictly in arrival order, so "/add" then
// "/code" from one person never race.
type dispatcher struct {
	sem    chan struct{}
	handle func(ctx context.Context, u *models.Update)
	log    *slog.Logger

	mu     sync.Mutex
	queues map[int64][]job
	wg     sync.WaitGroup
}

type job struct {
	u    *models.Update
	done func(id int64)
}

func newDispatcher(workers int, handle func(context.Context, *models.Update), log *slog.Logger) *dispatcher {
	return &dispatcher{sem: make(chan struct{}, workers), handle: handle, log: log, queues: map[int64][]job{}}
}

// submit queues u behind the other updates of chat key; done(u.ID) is
// called once it has been handled (even if the handler panicked).
func (d *dispatcher) submit(ctx context.Context, key int64, u *models.Update, done func(int64)) {
	d.mu.Lock()
	q, busy := d.queues[key]
	d.queues[key] = append(q, job{u: u, done: done})
	if !busy {
		d.wg.Add(1)
	}
	d.mu.Unlock()
	if !busy {
		go d.drain(ctx, key)
	}
}

// drain handles chat key's queue until it is empty.
func (d *dispatcher) drain(ctx context.Context, key int64) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		q := d.queues[key]
		if len(q) == 0 {
			delete(d.queues, key)
			d.mu.Unlock()
			return
		}
		j := q[0]
		q[0] = job{}
		d.queues[key] = q[1:]
		d.mu.Unlock()

		d.sem <- struct{}{}
		d.run(ctx, j)
		<-d.sem
	}
}

// run handles one update. The library has no recover, and one bad update
// must not take the bot (and everyone's in-flight commands) down.
func (d *dispatcher) run(ctx context.Context, j job) {
	defer func() {
		if r := recover(); r != nil {
			// A runtime error names code, not message contents; any other
			// panic value might quote what a person sent, so only its type
			// is logged. The stack is code only.
			what := fmt.Sprintf("%T", r)
			if re, ok := r.(runtime.Error); ok {
				what = re.Error()
			}
			d.log.Error("telegram: handler panicked", "update", j.u.ID, "panic", what, "stack", string(debug.Stack()))
		}
		if j.done != nil {
			j.done(j.u.ID)
		}
	}()
	d.handle(ctx, j.u)
}

// wait blocks until every queued update has been handled.
func (d *dispatcher) wait() { d.wg.Wait() }
