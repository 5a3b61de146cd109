package core_test

import (
	"context"
	"errors"
	"testing"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/seal"
)

// TestCachedKeyFollowsTheRecord: a process that has served codes (its data
// key cache is warm) must not serve them from the cache once another
// process sharing the store has locked the person or rotated the master
// key: the cache is matched against the stored wrapped key, which both
// change.
func TestCachedKeyFollowsTheRecord(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		change func(t *testing.T, r *lockRig)
		want   func(err error) bool
	}{
		{"locked elsewhere", func(t *testing.T, r *lockRig) {
			if err := r.restart(t).SetPassphrase(ctx, "alice", pass); err != nil {
				t.Fatal(err)
			}
		}, func(err error) bool { return errors.Is(err, core.ErrLocked) }},
		{"master key rotated elsewhere", func(t *testing.T, r *lockRig) {
			newKey, _ := seal.NewKey()
			if _, err := core.RotateMasterKey(ctx, r.store, &r.master, &newKey); err != nil {
				t.Fatal(err)
			}
		}, func(err error) bool {
			var ce *core.CorruptRecordError
			return errors.As(err, &ce)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newLockRig(t)
			if _, err := r.svc.Add(ctx, "alice", core.NewAccount{Label: "github", Key: totpKey(1)}); err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second is served from the warm cache
				if _, err := r.svc.Code(ctx, "alice", "github"); err != nil {
					t.Fatal(err)
				}
			}
			c.change(t, r)
			if code, err := r.svc.Code(ctx, "alice", "github"); !c.want(err) {
				t.Errorf("after the change: code %q, error %v", code.Code, err)
			}
		})
	}
}
