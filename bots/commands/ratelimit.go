package commands

import (
	"math"
	"strings"
	"sync"
	"time"
)

// Rate limits: a token bucket per person and command class, driven by the
// handler's clock and kept in memory. A runaway client or a stolen phone
// gets a clear answer instead of thousands of codes; a person typing gets
// nowhere near the limits. Buckets are per person, not per chat, so a
// person linked on two platforms shares one budget.

// Rate is one class's budget: Burst requests at once, refilled at PerMinute.
type Rate struct {
	PerMinute float64
	Burst     float64
}

// RateLimits are the budgets per command class. A zero Rate means no limit
// for that class.
type RateLimits struct {
	Code   Rate // /code, its buttons
	Secret Rate // /export, /check, /recovery-codes, /audit, answers to questions
	Lock   Rate // /lock, /unlock: core adds growing waits after wrong passphrases
	Write  Rate // /add, /rename, /del, /vault, pasted links, files
	Other  Rate // everything else
}

// DefaultRateLimits are used when Options.RateLimits is nil.
var DefaultRateLimits = RateLimits{
	Code:   Rate{PerMinute: 30, Burst: 20},
	Secret: Rate{PerMinute: 10, Burst: 10},
	Lock:   Rate{PerMinute: 5, Burst: 5},
	Write:  Rate{PerMinute: 20, Burst: 20},
	Other:  Rate{PerMinute: 60, Burst: 30},
}

// rateClass names a budget. Each command's class is in the command table;
// files and pasted text are "write", answers to a question "secret".
type rateClass string

const (
	rateCode   rateClass = "code"
	rateSecret rateClass = "secret"
	rateLock   rateClass = "lock"
	rateWrite  rateClass = "write"
	rateOther  rateClass = "other"
)

func (l *RateLimits) rate(class rateClass) Rate {
	switch class {
	case rateCode:
		return l.Code
	case rateSecret:
		return l.Secret
	case rateLock:
		return l.Lock
	case rateWrite:
		return l.Write
	}
	return l.Other
}

type bucket struct {
	tokens float64
	at     time.Time
}

// limiter holds the buckets.
type limiter struct {
	limits RateLimits
	mu     sync.Mutex
	b      map[string]*bucket // person|class
	seen   int                // takes since the last sweep
}

func newLimiter(l RateLimits) *limiter { return &limiter{limits: l, b: map[string]*bucket{}} }

// take spends one token of person's class budget at now. When none is
// left it returns how long until one is.
func (l *limiter) take(person string, class rateClass, now time.Time) (ok bool, wait time.Duration) {
	r := l.limits.rate(class)
	if r.PerMinute <= 0 || r.Burst <= 0 {
		return true, 0
	}
	perSec := r.PerMinute / 60
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	key := person + "|" + string(class)
	b, found := l.b[key]
	if !found {
		if len(l.b) >= maxBuckets {
			l.evict(now)
		}
		b = &bucket{tokens: r.Burst, at: now}
		l.b[key] = b
	}
	if d := now.Sub(b.at).Seconds(); d > 0 {
		b.tokens = math.Min(r.Burst, b.tokens+d*perSec)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / perSec * float64(time.Second))
}

// maxBuckets bounds the limiter's memory (strangers have buckets too):
// about 100 bytes each, so 10 MB at most.
const maxBuckets = 100_000

// evict makes room when the map is full: first the buckets that have
// refilled completely (dropping one changes nothing), then, if a flood of
// new names filled it, every other one (map order is random, so a flooder
// cannot pick whose budget is reset).
func (l *limiter) evict(now time.Time) {
	for k, b := range l.b {
		if r := l.limits.rate(rateClass(k[strings.LastIndexByte(k, '|')+1:])); r.PerMinute > 0 &&
			b.tokens+now.Sub(b.at).Seconds()*r.PerMinute/60 >= r.Burst {
			delete(l.b, k)
		}
	}
	if len(l.b) < maxBuckets {
		return
	}
	i := 0
	for k := range l.b {
		if i%2 == 0 {
			delete(l.b, k)
		}
		i++
	}
}

// sweep drops buckets that have refilled completely, now and then, so the
// map holds only people who were active lately.
func (l *limiter) sweep(now time.Time) {
	l.seen++
	if l.seen < 1024 {
		return
	}
	l.seen = 0
	for k, b := range l.b {
		if now.Sub(b.at) > time.Hour {
			delete(l.b, k)
		}
	}
}

// limited is the reply when a person is over a budget.
func limited(req Request, class rateClass, wait time.Duration, secretish bool) []Reply {
	p := req.printer()
	id := map[rateClass]string{
		rateCode: "rate.codes", rateSecret: "rate.secret", rateLock: "rate.lock", rateWrite: "rate.write",
	}[class]
	if id == "" {
		id = "rate.other"
	}
	return []Reply{{Parts: plain(p.T(id, "Wait", waitWords(p, wait))),
		DeleteRequest: secretish}}
}
