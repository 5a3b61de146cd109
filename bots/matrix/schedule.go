//go:build goolm

package matrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/core"
)

// Job actions.
const (
	actionRedact = "redact" // remove a reply (a code, an export)
	actionExpire = "expire" // edit a code reply to say the code has expired
)

// job is one timed action on a message the bot sent. Jobs are saved in
// pending.json so a restart does not leave old codes in a chat; the file
// holds only room and event ids and times.
type job struct {
	Action string     `json:"action"`
	Room   id.RoomID  `json:"room"`
	Event  id.EventID `json:"event"`
	At     time.Time  `json:"at"`
	Tries  int        `json:"tries,omitempty"`
}

// maxJobs bounds the file and memory; beyond it the oldest expiry edits are
// dropped first (redactions matter more).
const (
	maxJobs     = 10000
	maxTries    = 5
	retryDelay  = 30 * time.Second
	maxJobsFile = 4 << 20
)

// scheduler keeps jobs sorted by time and runs them when due.
type scheduler struct {
	path  string
	clock core.Clock

	mu   sync.Mutex
	jobs []job
	wake chan struct{}
}

func loadScheduler(path string, clock core.Clock) (*scheduler, error) {
	s := &scheduler{path: path, clock: clock, wake: make(chan struct{}, 1)}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("matrix: read pending redactions: %w", err)
	case len(data) > maxJobsFile:
		return nil, fmt.Errorf("matrix: %s is larger than %d bytes; remove it", path, maxJobsFile)
	}
	if err := json.Unmarshal(data, &s.jobs); err != nil {
		return nil, fmt.Errorf("matrix: %s is damaged (%w); remove it", path, err)
	}
	s.jobs = slices.DeleteFunc(s.jobs, func(j job) bool {
		return (j.Action != actionRedact && j.Action != actionExpire) || j.Room == "" || j.Event == ""
	})
	s.sort()
	return s, nil
}

func (s *scheduler) sort() {
	slices.SortStableFunc(s.jobs, func(a, b job) int { return a.At.Compare(b.At) })
}

// add schedules j and saves the list.
func (s *scheduler) add(j job, now time.Time) {
	s.mu.Lock()
	s.jobs = append(s.jobs, j)
	s.sort()
	if len(s.jobs) > maxJobs {
		// Drop an expiry edit if there is one, else the latest job.
		if i := slices.IndexFunc(s.jobs, func(j job) bool { return j.Action == actionExpire }); i >= 0 {
			s.jobs = slices.Delete(s.jobs, i, i+1)
		} else {
			s.jobs = s.jobs[:maxJobs]
		}
	}
	s.mu.Unlock()
	_ = s.save()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// due removes and returns the jobs due at now.
func (s *scheduler) due(now time.Time) []job {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for n < len(s.jobs) && !s.jobs[n].At.After(now) {
		n++
	}
	out := slices.Clone(s.jobs[:n])
	s.jobs = slices.Delete(s.jobs, 0, n)
	return out
}

// next is the time of the earliest job, if any.
func (s *scheduler) next() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.jobs) == 0 {
		return time.Time{}, false
	}
	return s.jobs[0].At, true
}

// run carries out jobs as they fall due until ctx is done. A job that fails
// for a reason that may pass (homeserver away) is tried again later.
func (s *scheduler) run(ctx context.Context, do func(context.Context, job) error) {
	for {
		now := s.clock.Now()
		if jobs := s.due(now); len(jobs) > 0 {
			for _, j := range jobs {
				if err := do(ctx, j); err != nil && ctx.Err() == nil {
					if retryableJob(err) && j.Tries+1 < maxTries {
						j.Tries++
						j.At = now.Add(retryDelay)
						s.mu.Lock()
						s.jobs = append(s.jobs, j)
						s.sort()
						s.mu.Unlock()
					}
				} else if ctx.Err() != nil {
					// Interrupted by shutdown: keep it for the next start.
					s.mu.Lock()
					s.jobs = append(s.jobs, j)
					s.sort()
					s.mu.Unlock()
				}
			}
			_ = s.save()
			continue
		}
		wait := time.Hour
		if at, ok := s.next(); ok {
			wait = max(at.Sub(now), 0)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// retryableJob: a forbidden or unknown event will not get better.
func retryableJob(err error) bool {
	return !errors.Is(err, mautrix.MForbidden) && !errors.Is(err, mautrix.MNotFound)
}

// save writes the jobs atomically (temp file, fsync, rename), 0600.
func (s *scheduler) save() error {
	s.mu.Lock()
	data, err := json.Marshal(s.jobs)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".pending-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.path)
}
