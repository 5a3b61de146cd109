package telegram

import (
	"context"
	"errors"
	"sync"

	"github.com/authbot/authbot/bots/outbox"
)

// jobBatch stores the lifecycle jobs (expiry edit, deletion) of replies
// sent at about the same time in one outbox transaction: a group commit.
// Each reply's jobs used to be one fsynced write of their own, and under
// load those writes, one after another behind the outbox's lock, were the
// largest part of the bot's CPU per /code (perf under BenchmarkLoad).
//
// Durability is unchanged: store returns only once the caller's jobs are
// on disk (or the write failed), so a handler still returns, and its
// update is still confirmed, only after its jobs are stored. The first
// caller writes; callers arriving meanwhile wait, and the first of them
// writes everyone's that queued up, as one batch.
type jobBatch struct {
	write func(ctx context.Context, jobs ...outbox.Job) error

	mu      sync.Mutex
	busy    bool // a write is running
	jobs    []outbox.Job
	waiters []chan error
}

// errLead tells a waiter that it writes the next batch.
var errLead = errors.New("lead the next batch")

// store writes jobs, with whatever other callers' jobs are queued.
func (g *jobBatch) store(ctx context.Context, jobs []outbox.Job) error {
	done := make(chan error, 1)
	g.mu.Lock()
	g.jobs = append(g.jobs, jobs...)
	g.waiters = append(g.waiters, done)
	if g.busy {
		g.mu.Unlock()
		if err := <-done; err != errLead {
			return err
		}
		g.mu.Lock() // our turn: our jobs are still queued
	}
	g.busy = true
	batch, ws := g.jobs, g.waiters
	g.jobs, g.waiters = nil, nil
	g.mu.Unlock()

	err := g.write(ctx, batch...)
	for _, w := range ws {
		w <- err
	}

	g.mu.Lock()
	if len(g.waiters) > 0 {
		// Hand the next batch to one who waits for it, so no caller
		// writes for others for longer than one batch.
		g.waiters[0] <- errLead
	} else {
		g.busy = false
	}
	g.mu.Unlock()
	return <-done
}
