package fakeclock_test

import (
	"testing"
	"time"

	"github.com/authbot/authbot/internal/testkit/fakeclock"
)

func TestClock(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name  string
		after time.Duration
		move  func(c *fakeclock.Clock)
		now   time.Time
		fired bool
	}{
		{"advance short of the waiter", 10 * time.Second, func(c *fakeclock.Clock) { c.Advance(9 * time.Second) }, start.Add(9 * time.Second), false},
		{"advance onto the waiter", 10 * time.Second, func(c *fakeclock.Clock) { c.Advance(10 * time.Second) }, start.Add(10 * time.Second), true},
		{"set past the waiter", 10 * time.Second, func(c *fakeclock.Clock) { c.Set(start.Add(time.Hour)) }, start.Add(time.Hour), true},
		{"set backwards", 10 * time.Second, func(c *fakeclock.Clock) { c.Set(start.Add(-time.Hour)) }, start.Add(-time.Hour), false},
		{"zero wait fires at once", 0, func(*fakeclock.Clock) {}, start, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeclock.New(start)
			ch := c.After(tt.after)
			tt.move(c)
			if got := c.Now(); !got.Equal(tt.now) {
				t.Errorf("Now = %v, want %v", got, tt.now)
			}
			select {
			case got := <-ch:
				if !tt.fired {
					t.Errorf("After fired at %v", got)
				} else if !got.Equal(tt.now) {
					t.Errorf("After sent %v, want %v", got, tt.now)
				}
			default:
				if tt.fired {
					t.Error("After did not fire")
				}
			}
		})
	}
}
