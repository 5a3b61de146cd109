package telegram

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// scheduler runs delayed work (edit a code message when the code expires,
// delete a message at ExpiresAt) from one goroutine with a heap and one
// timer, so thousands of pending messages cost no goroutines. Pending tasks
// are dropped when its context ends: they do not survive a restart.
type scheduler struct {
	clock Clock

	mu   sync.Mutex
	h    taskHeap
	seq  uint64
	wake chan struct{} // buffered(1): a task was added
}

type task struct {
	at  time.Time
	seq uint64 // keeps tasks due at the same time in insertion order
	fn  func(ctx context.Context)
}

type taskHeap []task

func (h taskHeap) Len() int { return len(h) }
func (h taskHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h taskHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *taskHeap) Push(x any)   { *h = append(*h, x.(task)) }
func (h *taskHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = task{}
	*h = old[:len(old)-1]
	return t
}

// maxScheduled bounds memory if something schedules without end.
const maxScheduled = 1 << 16

func newScheduler(c Clock) *scheduler {
	return &scheduler{clock: c, wake: make(chan struct{}, 1)}
}

// add schedules fn at time at. It reports false when the queue is full.
func (s *scheduler) add(at time.Time, fn func(ctx context.Context)) bool {
	s.mu.Lock()
	if len(s.h) >= maxScheduled {
		s.mu.Unlock()
		return false
	}
	s.seq++
	heap.Push(&s.h, task{at: at, seq: s.seq, fn: fn})
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return true
}

// due pops the tasks due at now, in time order, and says how long until
// the next one (or -1 when none is left).
func (s *scheduler) due(now time.Time) ([]task, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []task
	for len(s.h) > 0 && !s.h[0].at.After(now) {
		out = append(out, heap.Pop(&s.h).(task))
	}
	if len(s.h) == 0 {
		return out, -1
	}
	return out, s.h[0].at.Sub(now)
}

// pending is the number of tasks waiting.
func (s *scheduler) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.h)
}

// run executes tasks as they fall due until ctx is done, then waits for
// the running ones (which see ctx cancelled) and returns. At most four run
// at once so a slow Bot API does not pile up goroutines.
func (s *scheduler) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, 4)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		tasks, next := s.due(s.clock.Now())
		for _, t := range tasks {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				t.fn(ctx)
			}()
		}
		if next < 0 {
			next = time.Hour
		}
		timer.Reset(next)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}
