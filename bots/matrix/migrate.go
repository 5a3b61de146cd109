//go:build goolm

package matrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/authbot/authbot/bots/outbox"
	"github.com/authbot/authbot/storage/datadir"
)

// pendingFile is where versions before the outbox kept their scheduled
// redactions and expiry edits (in the state dir).
const pendingFile = datadir.PendingName

// maxPendingFile bounds what is read of it (the old version capped it too).
const maxPendingFile = 4 << 20

// legacyJob is one entry of pending.json.
type legacyJob struct {
	Action string    `json:"action"` // "redact" or "expire"
	Room   string    `json:"room"`
	Event  string    `json:"event"`
	At     time.Time `json:"at"`
}

// migratePending moves the jobs of an old pending.json into the outbox,
// then removes the file: the outbox write is durable before the file goes,
// so a crash in between only means the jobs are moved twice (and running a
// redaction twice is harmless). A damaged file is kept, and start-up stops
// with an error that names it: the redactions in it matter.
func migratePending(ctx context.Context, path string, box *outbox.Outbox, log *slog.Logger) error {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("matrix: read %s: %w", path, err)
	case len(data) > maxPendingFile:
		return fmt.Errorf("matrix: %s is larger than %d bytes; remove it", path, maxPendingFile)
	}
	var old []legacyJob
	if err := json.Unmarshal(data, &old); err != nil {
		return fmt.Errorf("matrix: %s is damaged (%w); remove it", path, err)
	}
	var jobs []outbox.Job
	for _, o := range old {
		j := outbox.Job{Chat: o.Room, Message: o.Event, At: o.At}
		switch o.Action {
		case "redact":
			j.Action = outbox.Delete
		case "expire":
			j.Action = outbox.Edit
		default:
			continue
		}
		if j.Chat == "" || j.Message == "" {
			continue
		}
		jobs = append(jobs, j)
	}
	if err := box.Add(ctx, jobs...); err != nil {
		return fmt.Errorf("matrix: move %s into the outbox: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("matrix: remove %s after moving it into the outbox: %w", path, err)
	}
	log.Info("matrix: moved pending redactions into the outbox", "count", len(jobs))
	return nil
}
