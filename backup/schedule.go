package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Scheduled backups are named authbot-<UTC time>.age so that byte order is
// time order and pruning never needs to parse or stat anything.
const (
	schedPrefix = "authbot-"
	schedSuffix = ".age"
	timeLayout  = "20060102T150405Z"
)

// WriteFunc writes one complete backup file to path's temporary twin.
type WriteFunc func(ctx context.Context, f *os.File) error

// Scheduler writes a backup into Dir every Every and keeps the newest Keep.
type Scheduler struct {
	Dir   string
	Every time.Duration
	Keep  int
	Write WriteFunc
	// Now tells the time for file names; tests pass a fixed clock.
	Now func() time.Time
	// OnError is told about failed runs (the caller logs them); the
	// scheduler goes on, the next run may succeed (disk freed).
	OnError func(error)
	// OnDone is told the path of each backup written.
	OnDone func(path string)
}

// Run writes a backup every s.Every until ctx ends. The first one is
// written at once unless the newest backup in Dir is younger than Every:
// then it waits for that one's turn. A bot that crashes and restarts in a
// loop therefore writes no backups at all, instead of one per start that
// would prune the good ones away.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.Every <= 0 || s.Keep <= 0 || s.Write == nil {
		return fmt.Errorf("backup schedule: every, keep and a writer are required")
	}
	if wait := s.FirstWait(); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
	t := time.NewTicker(s.Every)
	defer t.Stop()
	for {
		if path, err := s.RunOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if s.OnError != nil {
				s.OnError(err)
			}
		} else if s.OnDone != nil {
			s.OnDone(path)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// FirstWait is how long Run waits before its first backup: until the
// newest scheduled backup in Dir is Every old (0 when there is none, or it
// is old enough). A newest backup dated in the future (the clock went
// back) counts as just written.
func (s *Scheduler) FirstWait() time.Duration {
	names, err := scheduled(s.Dir)
	if err != nil || len(names) == 0 {
		return 0
	}
	t, ok := backupTime(names[len(names)-1])
	if !ok {
		return 0
	}
	age := s.now().Sub(t)
	if age < 0 {
		age = 0
	}
	return max(s.Every-age, 0)
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// RunOnce writes one backup now and prunes old ones. The file appears
// under its final name only once complete and fsynced (write to a .tmp,
// fsync, rename, fsync the directory), so a crash or a full disk never
// leaves a half backup that looks whole.
func (s *Scheduler) RunOnce(ctx context.Context) (string, error) {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return "", fmt.Errorf("backup dir: %w", err)
	}
	now := s.now()
	name := schedPrefix + now.UTC().Format(timeLayout) + schedSuffix
	path := filepath.Join(s.Dir, name)
	if err := WriteFileAtomic(ctx, path, s.Write); err != nil {
		return "", err
	}
	if err := PruneKeepingRecent(s.Dir, s.Keep, now.Add(-s.Every)); err != nil {
		return path, err
	}
	return path, nil
}

// WriteFileAtomic creates path (0600) through a temporary file in the same
// directory that is fsynced and renamed into place; on any error the
// temporary file is removed and path is untouched.
func WriteFileAtomic(ctx context.Context, path string, write WriteFunc) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := write(ctx, f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory so a rename in it survives a power cut.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// Prune removes all but the newest keep scheduled backups in dir, and
// temporary files left by interrupted runs. Other files are left alone.
func Prune(dir string, keep int) error {
	return PruneKeepingRecent(dir, keep, time.Time{})
}

// PruneKeepingRecent is Prune that never removes a backup written after
// since (the scheduler passes now - every): however often backups are
// written — a restart loop, a clock that jumped — the ones of the last
// period survive, and with them every older one the newest keep still
// cover. A name that does not parse as a time is treated as old.
func PruneKeepingRecent(dir string, keep int, since time.Time) error {
	backups, err := scheduled(dir)
	if err != nil {
		return fmt.Errorf("prune backups: %w", err)
	}
	var first error
	for len(backups) > keep {
		if t, ok := backupTime(backups[0]); ok && !since.IsZero() && t.After(since) {
			break // sorted: every later one is younger still
		}
		if err := os.Remove(filepath.Join(dir, backups[0])); err != nil && first == nil {
			first = fmt.Errorf("prune backups: %w", err)
		}
		backups = backups[1:]
	}
	return first
}

// scheduled lists dir's scheduled backups, oldest first, removing the
// temporary files of interrupted runs on the way.
func scheduled(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var backups []string
	for _, e := range entries {
		n := e.Name()
		switch {
		case !e.Type().IsRegular():
		case strings.HasPrefix(n, "."+schedPrefix) && strings.HasSuffix(n, ".tmp"):
			_ = os.Remove(filepath.Join(dir, n))
		case strings.HasPrefix(n, schedPrefix) && strings.HasSuffix(n, schedSuffix):
			backups = append(backups, n)
		}
	}
	sort.Strings(backups)
	return backups, nil
}

// backupTime is the time in a scheduled backup's name.
func backupTime(name string) (time.Time, bool) {
	ts := strings.TrimSuffix(strings.TrimPrefix(name, schedPrefix), schedSuffix)
	t, err := time.Parse(timeLayout, ts)
	return t, err == nil
}
