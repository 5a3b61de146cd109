// Package fakeclock is the one fake clock of authbot's tests: it moves only
// when a test says so, so time logic is tested without sleeps. It depends
// on nothing in the project, so even a package's internal tests (core's,
// bots/commands') can use it without an import cycle; internal/testkit
// names it testkit.Clock.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a fake clock safe for concurrent use. It fits core.Clock and
// every adapter's Clock (bots/telegram, bots/web, bots/outbox: Now). Its
// After makes bots/outbox wait on it instead of a real timer; waiters fire
// when Set or Advance reaches their time.
type Clock struct {
	mu      sync.Mutex
	t       time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// New returns a clock that reads t until it is moved.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t (backwards too: tests of clock skew need it).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
	c.fire()
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.fire()
}

// After returns a channel that receives the clock's time once the clock
// has been moved d past now; at once when d <= 0.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.t
		return ch
	}
	c.waiters = append(c.waiters, waiter{c.t.Add(d), ch})
	return ch
}

// fire wakes the waiters whose time has come; c.mu is held.
func (c *Clock) fire() {
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.t) {
			w.ch <- c.t
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}
