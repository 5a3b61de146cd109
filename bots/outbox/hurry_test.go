package outbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/outbox"
)

// TestHurryRunsTaggedJobsNow: Hurry makes tagged jobs due at once, stored
// so across a restart, and leaves the others alone; a job still waiting
// for its message id (Expect) is due as soon as Resolve names it.
func TestHurryRunsTaggedJobsNow(t *testing.T) {
	r := newRig(t, outbox.Options{})
	ctx := context.Background()
	now := r.clock.Now()
	o := r.open()
	link := job(outbox.Delete, "link", now.Add(5*time.Minute))
	link.Tag = "web:1"
	if err := o.Add(ctx, link, job(outbox.Delete, "other", now.Add(5*time.Minute))); err != nil {
		t.Fatal(err)
	}
	tk, err := o.Expect(ctx, outbox.Job{Chat: "42", At: now.Add(5 * time.Minute), Tag: "web:2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Hurry(ctx, "web:1"); err != nil {
		t.Fatal(err)
	}
	if err := o.Hurry(ctx, "web:2"); err != nil {
		t.Fatal(err)
	}
	if err := o.Hurry(ctx, "web:none"); err != nil {
		t.Fatal(err)
	}
	if err := o.Resolve(ctx, tk, "sending"); err != nil {
		t.Fatal(err)
	}
	// Across a restart the hurried times hold.
	o = r.open()
	rc := newRecorder()
	stop := run(t, o, rc)
	defer stop()
	got := rc.wait(t, 2)
	if !(got[0] == "link" && got[1] == "sending" || got[0] == "sending" && got[1] == "link") {
		t.Fatalf("ran %v, want link and sending", got)
	}
	rc.none(t)
	waitLen(t, o, 1) // the untagged one waits for its time
	if j := o.Jobs(); len(j) != 1 || j[0].Message != "other" {
		t.Fatalf("left %v, want the untagged job", j)
	}
}
