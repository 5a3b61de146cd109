package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// The lease decides which of several authbot processes on one database is
// active (polls Telegram, syncs Matrix, writes). It is a row, not an
// advisory lock: a lock held by a connection is only released when the
// server notices the connection is gone, which after a network cut can
// take TCP's minutes; a row with an expiry on the database's own clock
// ends when it says. Each takeover increments the token, and every write
// transaction checks holder and token (SetFence, authbot_fence), so a
// process that lost the lease cannot write after a successor took over.
//
// Timing, with the defaults (TTL 5 s, renew every 1 s, poll every 0.5 s):
// the holder renews every second; when it has not managed to renew for
// TTL minus Margin (3.5 s, counted from when the last successful renewal
// was sent, so before the database's own count started) it gives up on its
// own: its context is cancelled and the adapters stop before the lease can
// have expired on the server. A standby takes over at most TTL + Poll after
// the holder's last renewal: under 6 s when the holder dies.

// LeaseOptions tune a Lease; zero values take the defaults above.
type LeaseOptions struct {
	TTL    time.Duration // how long a renewal keeps the lease
	Renew  time.Duration // how often the holder renews
	Poll   time.Duration // how often a standby tries to take over
	Margin time.Duration // how long before expiry the holder gives up
	Log    *slog.Logger
	// OnRole, if set, is told "active" and "standby" as the role changes.
	OnRole func(role string)
}

// Lease is one process's claim on the active role. Create it with
// NewLease; Hold blocks until the process is active.
type Lease struct {
	s      *Store
	holder string
	o      LeaseOptions
	token  int64
}

// NewLease prepares a claim under a fresh random holder id.
func (s *Store) NewLease(o LeaseOptions) *Lease {
	if o.TTL <= 0 {
		o.TTL = 5 * time.Second
	}
	if o.Renew <= 0 {
		o.Renew = o.TTL / 5
	}
	if o.Poll <= 0 {
		o.Poll = o.TTL / 10
	}
	if o.Margin <= 0 || o.Margin >= o.TTL {
		o.Margin = o.TTL * 3 / 10
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return &Lease{s: s, holder: hex.EncodeToString(b[:]), o: o}
}

// Holder is this process's holder id (hex; in logs and the lease row).
func (l *Lease) Holder() string { return l.holder }

// ErrLeaseLost is the cause of an active context cancelled because the
// lease could not be renewed in time or was taken over. It says so to the
// adapters through AnotherMayBeActive: a process that lost the lease must
// not poll Telegram once more on its way out (the new active one polls).
var ErrLeaseLost error = leaseLost{}

type leaseLost struct{}

func (leaseLost) Error() string { return "the lease was lost: another authbot may be active" }

// AnotherMayBeActive marks the stop as a handover, not a shutdown.
func (leaseLost) AnotherMayBeActive() bool { return true }

// Hold waits (as standby) until this process holds the lease, then sets
// the store's fence and returns a context for the active work. That
// context is cancelled, with cause ErrLeaseLost, as soon as the lease may
// be lost; done must be called when the active work has stopped: it
// releases the lease so a standby takes over at once after a clean stop.
// Hold returns ctx's error when ctx ends first.
func (l *Lease) Hold(ctx context.Context) (active context.Context, done func(), err error) {
	l.role("standby")
	for {
		sent := time.Now()
		token, err := l.tryAcquire(ctx)
		if err == nil && token != 0 {
			l.token = token
			l.s.SetFence(l.holder, token)
			l.o.Log.Info("lease taken: this authbot is active", "holder", l.holder, "token", token)
			l.role("active")
			return l.keep(ctx, sent)
		}
		if err != nil && ctx.Err() == nil {
			l.o.Log.Warn("lease: cannot reach the database, staying standby", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(l.o.Poll):
		}
	}
}

func (l *Lease) role(r string) {
	if l.o.OnRole != nil {
		l.o.OnRole(r)
	}
}

// tryAcquire takes the lease if it is free or expired (by the database's
// clock) and returns the new token, or 0 if someone else holds it.
func (l *Lease) tryAcquire(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, l.o.TTL-l.o.Margin)
	defer cancel()
	var token int64
	err := l.s.leasePool.QueryRow(ctx, `INSERT INTO authbot_lease AS l (name, holder, token, expires)
		VALUES ('active', $1, 1, clock_timestamp() + $2::bigint * interval '1 millisecond')
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = l.token + 1, expires = excluded.expires
		WHERE l.expires < clock_timestamp()
		RETURNING token`, l.holder, l.o.TTL.Milliseconds()).Scan(&token)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, nil
		}
		return 0, fmt.Errorf("take lease: %w", scrub(err))
	}
	return token, nil
}

// renew extends the lease; false means it was taken over or has expired.
func (l *Lease) renew(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, l.o.Renew)
	defer cancel()
	tag, err := l.s.leasePool.Exec(ctx, `UPDATE authbot_lease
		SET expires = clock_timestamp() + $3::bigint * interval '1 millisecond'
		WHERE name = 'active' AND holder = $1 AND token = $2 AND expires > clock_timestamp()`,
		l.holder, l.token, l.o.TTL.Milliseconds())
	if err != nil {
		return false, fmt.Errorf("renew lease: %w", scrub(err))
	}
	return tag.RowsAffected() == 1, nil
}

// keep renews in the background and cancels the active context when the
// lease may be lost.
func (l *Lease) keep(parent context.Context, lastOK time.Time) (context.Context, func(), error) {
	active, cancel := context.WithCancelCause(parent)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(l.o.Renew)
		defer t.Stop()
		for {
			// Give up before the database could consider the lease
			// expired: lastOK is when the last successful renewal was
			// sent, earlier than the expiry the server computed.
			giveUp := time.Until(lastOK.Add(l.o.TTL - l.o.Margin))
			select {
			case <-active.Done():
				return
			case <-time.After(giveUp):
				l.o.Log.Error("lease: could not renew in time, stepping down", "holder", l.holder)
				cancel(ErrLeaseLost)
				return
			case <-t.C:
			}
			sent := time.Now()
			ok, err := l.renew(active)
			switch {
			case err != nil:
				if active.Err() == nil {
					l.o.Log.Warn("lease: renewal failed, retrying", "err", err)
				}
			case !ok:
				l.o.Log.Error("lease: taken over or expired, stepping down", "holder", l.holder)
				cancel(ErrLeaseLost)
				return
			default:
				lastOK = sent
			}
		}
	}()
	done := func() {
		cancel(context.Canceled)
		<-stopped
		// A clean stop hands over at once instead of after the TTL.
		ctx, c := context.WithTimeout(context.WithoutCancel(parent), 2*time.Second)
		defer c()
		_, _ = l.s.leasePool.Exec(ctx, `UPDATE authbot_lease SET expires = clock_timestamp() - interval '1 second'
			WHERE name = 'active' AND holder = $1 AND token = $2`, l.holder, l.token)
		// The fence stays: with the lease released its token no longer
		// matches, so any write after this point fails with ErrFenced.
		l.role("standby")
	}
	return active, done, nil
}
