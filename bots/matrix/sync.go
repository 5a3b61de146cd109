//go:build goolm

package matrix

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// syncer is mautrix's DefaultSyncer with authbot's back-off: failed syncs
// are retried after RetryMin, doubling up to RetryMax, reset by the next
// successful sync. The default waits a flat 10 s.
type syncer struct {
	*mautrix.DefaultSyncer
	b     *Bot
	fails atomic.Int32
}

func newSyncer(b *Bot) *syncer {
	s := &syncer{DefaultSyncer: mautrix.NewDefaultSyncer(), b: b}
	s.OnSync(func(ctx context.Context, resp *mautrix.RespSync, since string) bool {
		b.readyOnce.Do(func() { close(b.ready) })
		b.reached("sync")
		if s.fails.Swap(0) > 0 {
			b.log.Info("matrix: sync works again")
		}
		return true
	})
	s.OnEventType(event.StateMember, b.onMember)
	s.OnEventType(event.EventMessage, b.onMessage)
	s.OnEventType(event.EventReaction, b.onMessage) // 1️⃣ picks a numbered option
	return s
}

// OnFailedSync implements mautrix.Syncer.
func (s *syncer) OnFailedSync(_ *mautrix.RespSync, err error) (time.Duration, error) {
	if errors.Is(err, mautrix.MUnknownToken) {
		return 0, err // syncLoop logs in again
	}
	s.b.failed("sync")
	n := s.fails.Add(1)
	d := backoff(s.b.cfg.RetryMin, s.b.cfg.RetryMax, int(n))
	s.b.log.Warn("matrix: sync failed, retrying", "err", err, "in", d)
	return d, nil
}

// backoff is min·2^(n-1), capped at max.
func backoff(lo, hi time.Duration, n int) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// syncLoop runs /sync until ctx is done. mautrix retries failed requests
// itself (through OnFailedSync); this loop covers what makes it return:
// errors before the first request (loading the filter) and a dropped token.
func (b *Bot) syncLoop(ctx context.Context) error {
	for n := 1; ; n++ {
		err := b.cli.SyncWithContext(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, mautrix.MUnknownToken) {
			b.log.Warn("matrix: the homeserver dropped our access token, logging in again")
			if err := b.relogin(ctx); err != nil {
				if !retryable(err) {
					return err
				}
			} else {
				n = 0
				continue
			}
		}
		d := backoff(b.cfg.RetryMin, b.cfg.RetryMax, n)
		b.log.Warn("matrix: sync stopped, restarting", "err", err, "in", d)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d):
		}
	}
}

// retryable reports whether err is the homeserver being away (network,
// 5xx, rate limit) rather than something a retry cannot fix.
func retryable(err error) bool {
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &netErr), errors.As(err, &opErr):
		return true
	case errors.Is(err, mautrix.MLimitExceeded):
		return true
	}
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.Response != nil {
		return httpErr.Response.StatusCode >= 500
	}
	var httpErrP *mautrix.HTTPError
	if errors.As(err, &httpErrP) && httpErrP.Response != nil {
		return httpErrP.Response.StatusCode >= 500
	}
	// Connection refused and resets sometimes arrive as plain errors.
	s := err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "connection reset") || strings.Contains(s, "EOF")
}

func isDeviceMismatch(err error) bool {
	return strings.Contains(err.Error(), "mismatching device ID")
}

func isInitialSync(ctx context.Context) bool {
	since, _ := ctx.Value(mautrix.SyncTokenContextKey).(string)
	return since == ""
}

// onMember joins rooms that configured people invite the bot to, refuses
// every other invite, and leaves rooms where nobody else is left.
// It runs on the sync goroutine, so the HTTP calls go to a goroutine.
func (b *Bot) onMember(ctx context.Context, evt *event.Event) {
	self := b.cli.UserID
	m := evt.Content.AsMember()
	switch {
	case evt.GetStateKey() == self.String() && m.Membership == event.MembershipInvite:
		// The invite also comes again in the joined room's timeline; act
		// only on the one from the sync's invite section.
		if evt.Mautrix.EventSource&event.SourceInvite == 0 {
			return
		}
		if _, known := b.personOf(ctx, evt.Sender); known || b.acceptsStranger(ctx, m) {
			// A stranger's direct chat is joined so they can send /join
			// TOKEN; anything else from them makes the bot leave.
			b.background(evt.RoomID, func(ctx context.Context) {
				if _, err := b.cli.JoinRoomByID(ctx, evt.RoomID); err != nil {
					b.log.Warn("matrix: could not join", "room", evt.RoomID, "err", err)
					return
				}
				b.log.Info("matrix: joined", "room", evt.RoomID)
			})
			return
		}
		b.background(evt.RoomID, func(ctx context.Context) {
			b.log.Info("matrix: refusing an invite from someone not in users", "room", evt.RoomID)
			if _, err := b.cli.LeaveRoom(ctx, evt.RoomID, &mautrix.ReqLeave{Reason: english().T("matrix.leave_reason")}); err != nil {
				b.log.Warn("matrix: could not refuse invite", "room", evt.RoomID, "err", err)
			}
		})
	case evt.GetStateKey() != self.String() && evt.Mautrix.EventSource&event.SourceJoin != 0 &&
		(m.Membership == event.MembershipLeave || m.Membership == event.MembershipBan) && !isInitialSync(ctx):
		members, err := b.cli.StateStore.GetRoomJoinedOrInvitedMembers(ctx, evt.RoomID)
		if err != nil || len(members) != 1 || members[0] != self {
			return
		}
		// Alone in a room: nobody to serve, and it keeps the room list short.
		b.background(evt.RoomID, func(ctx context.Context) {
			if _, err := b.cli.LeaveRoom(ctx, evt.RoomID); err != nil {
				b.log.Warn("matrix: could not leave empty room", "room", evt.RoomID, "err", err)
			}
		})
	}
}

// background runs fn off the sync goroutine, once per room at a time, as
// tracked work that shutdown waits for.
func (b *Bot) background(room id.RoomID, fn func(ctx context.Context)) {
	if _, busy := b.joinOnce.LoadOrStore(room, struct{}{}); busy {
		return
	}
	b.qmu.Lock()
	defer b.qmu.Unlock()
	if b.stopped {
		b.joinOnce.Delete(room)
		return
	}
	b.workers.Add(1)
	go func() {
		defer b.workers.Done()
		defer b.joinOnce.Delete(room)
		ctx, cancel := context.WithTimeout(b.workCtx, time.Minute)
		defer cancel()
		b.protect("join", func() { fn(ctx) })
	}()
}

// onMessage queues a message for its room's worker. Messages from the very
// first sync are history from before the bot ran and are skipped; later
// starts resume from the stored sync token, so nothing is answered twice.
func (b *Bot) onMessage(ctx context.Context, evt *event.Event) {
	if evt.Sender == b.cli.UserID || isInitialSync(ctx) {
		return
	}
	if b.cfg.Skew != nil && evt.Timestamp > 0 {
		// Not the initial sync's backlog: sent a moment ago.
		b.cfg.Skew.Sample(ctx, b.cfg.Clock.Now(), time.UnixMilli(evt.Timestamp))
	}
	if _, ok := b.cfg.Handler.(commands.Directory); !ok {
		return // no directory, no people: strangers get nothing, not even a refusal
	}
	// People and strangers alike: handle() asks the directory off the sync
	// goroutine (it may read the store).
	b.enqueue(evt)
}

// queueLen bounds the messages waiting per room; beyond it they are dropped
// (a person does not type that fast; a flood should not pile up memory).
const queueLen = 32

func (b *Bot) enqueue(evt *event.Event) {
	b.qmu.Lock()
	defer b.qmu.Unlock()
	if b.stopped {
		return
	}
	q, ok := b.queues[evt.RoomID]
	if !ok {
		q = make(chan *event.Event, queueLen)
		b.queues[evt.RoomID] = q
		b.workers.Add(1)
		go b.worker(q)
	}
	select {
	case q <- evt:
	default:
		b.log.Warn("matrix: too many waiting messages, dropping one", "room", evt.RoomID)
	}
}

// worker handles one room's messages in order, so replies keep the order
// of the questions.
func (b *Bot) worker(q chan *event.Event) {
	defer b.workers.Done()
	for {
		select {
		case <-b.stopping:
			return
		case evt := <-q:
			ctx, cancel := context.WithTimeout(b.workCtx, 2*time.Minute)
			b.protect("message", func() { b.handleEvent(ctx, evt) })
			cancel()
		}
	}
}

// zerologTo sends mautrix's zerolog output to slog at warn level and above
// (mautrix logs no message bodies; login bodies are omitted even at debug).
func zerologTo(log *slog.Logger) zerolog.Logger {
	return zerolog.New(slogWriter{log}).Level(zerolog.WarnLevel).With().Timestamp().Logger()
}

type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	var rec map[string]any
	if err := json.Unmarshal(p, &rec); err != nil {
		w.log.Warn("matrix: mautrix", "line", string(p))
		return len(p), nil
	}
	level := slog.LevelWarn
	if l, _ := rec["level"].(string); l == "error" || l == "fatal" || l == "panic" {
		level = slog.LevelError
	}
	msg, _ := rec["message"].(string)
	if e, _ := rec["error"].(string); msg == "Request canceled" || strings.Contains(e, context.Canceled.Error()) {
		return len(p), nil // our own shutdown, not worth a warning
	}
	attrs := make([]any, 0, 2*len(rec))
	for k, v := range rec {
		if k != "level" && k != "message" && k != "time" {
			attrs = append(attrs, k, v)
		}
	}
	w.log.Log(context.Background(), level, "mautrix: "+msg, attrs...)
	return len(p), nil
}
