//go:build goolm

package matrix

import (
	"context"
	"errors"
	"sync"
	"time"

	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/commands"
)

// Never silent: a message the bot cannot decrypt.
//
// When a person's client does not give the bot the message's key, the bot
// would otherwise say nothing at all. The usual cause with Element is its
// "Never send encrypted messages to unverified sessions" setting (or labs'
// "Exclude insecure devices"): the key is withheld from the bot with the
// code m.unverified. The bot then tells the person, in the direct chat, what
// happened and what to do, never more often than once per noticeInterval
// per person and cause, and counts the event by reason for the metrics.
// mautrix's crypto helper has by then already waited for the key and asked
// the person's devices for it (a key request, after 3 s); for a key withheld
// because no olm session existed the bot asks again, as a new session can
// fix that.

// Undecryptable reasons, the metric's label values.
const (
	reasonUnverified  = "withheld_unverified"  // the sender's client shares keys with verified sessions only
	reasonBlacklisted = "withheld_blacklisted" // the sender's client blocked the bot's session
	reasonWithheld    = "withheld_other"       // withheld for another reason (no olm session, unavailable)
	reasonNoSession   = "no_session"           // the key never arrived
	reasonDevice      = "device_mismatch"      // the sender's device keys do not match
	reasonOther       = "other"                // anything else (corrupt, replayed, bad algorithm)
)

// DecryptObserver counts events the bot could not decrypt, by reason
// (observe.Metrics has it).
type DecryptObserver interface {
	Undecryptable(reason string)
}

// noticeInterval is the least time between two undecryptable notices to
// one person for one reason.
const noticeInterval = 10 * time.Minute

// The notices are the catalogue's matrix.undecryptable.* texts, in the
// sender's language. They never quote the message (the bot cannot read it
// anyway) and say what to do.

// classify names why err kept evt from decrypting, with the withheld code
// from the crypto store when there is one.
func (b *Bot) classify(ctx context.Context, evt *event.Event, err error) (reason string, withheld event.RoomKeyWithheldCode) {
	switch {
	case errors.Is(err, crypto.ErrGroupSessionWithheld):
		content := evt.Content.AsEncrypted()
		if w, e := b.helper.Machine().CryptoStore.GetWithheldGroupSession(ctx, evt.RoomID, content.SessionID); e == nil && w != nil {
			withheld = w.Code
		}
		switch withheld {
		case event.RoomKeyWithheldUnverified:
			return reasonUnverified, withheld
		case event.RoomKeyWithheldBlacklisted:
			return reasonBlacklisted, withheld
		}
		return reasonWithheld, withheld
	case errors.Is(err, crypto.ErrNoSessionFound):
		return reasonNoSession, ""
	case errors.Is(err, crypto.ErrDeviceKeyMismatch):
		return reasonDevice, ""
	}
	return reasonOther, ""
}

// onUndecryptable is the crypto helper's DecryptErrorCallback. It runs on
// the sync goroutine or on the helper's waiting goroutines: the look-ups
// and the notice go to a worker.
func (b *Bot) onUndecryptable(evt *event.Event, err error) {
	if evt.Sender == b.cli.UserID {
		return
	}
	b.work(func(ctx context.Context) {
		reason, withheld := b.classify(ctx, evt, err)
		if b.cfg.Metrics != nil {
			b.cfg.Metrics.Undecryptable(reason)
		}
		b.log.Info("matrix: could not decrypt a message", "room", evt.RoomID, "reason", reason, "withheld", withheld, "err", err)
		// History from before the bot ran is not worth a notice.
		if time.UnixMilli(evt.Timestamp).Before(b.started) {
			return
		}
		if _, known := b.personOf(ctx, evt.Sender); !known {
			return // strangers get nothing
		}
		if withheld == event.RoomKeyWithheldNoOlmSession || withheld == event.RoomKeyWithheldUnavailable {
			content := evt.Content.AsEncrypted()
			//lint:ignore SA1019 older clients still send device_id, and key requests go to that device
			b.helper.RequestSession(ctx, evt.RoomID, content.SenderKey, content.SessionID, evt.Sender, content.DeviceID)
		}
		if b.chatKind(ctx, evt.RoomID, evt.Sender) != commands.Private {
			return // only the direct chat hears about it
		}
		if !b.notices.allow(evt.Sender, reason, b.cfg.Clock.Now()) {
			return
		}
		id := "matrix.undecryptable.no_key"
		switch reason {
		case reasonUnverified:
			id = "matrix.undecryptable.unverified"
		case reasonBlacklisted:
			id = "matrix.undecryptable.blacklisted"
		}
		b.sendText(ctx, evt.RoomID, b.userPrinter(ctx, evt.Sender).T(id))
	})
}

// noticeLimiter allows one notice per person and reason per interval.
type noticeLimiter struct {
	mu   sync.Mutex
	last map[noticeKey]time.Time
}

type noticeKey struct {
	user   id.UserID
	reason string
}

// maxNoticeKeys bounds the limiter's memory; old entries go first.
const maxNoticeKeys = 4096

func newNoticeLimiter() *noticeLimiter { return &noticeLimiter{last: map[noticeKey]time.Time{}} }

func (l *noticeLimiter) allow(user id.UserID, reason string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := noticeKey{user, reason}
	if t, ok := l.last[k]; ok && now.Sub(t) < noticeInterval {
		return false
	}
	if len(l.last) >= maxNoticeKeys {
		for key, t := range l.last {
			if now.Sub(t) >= noticeInterval {
				delete(l.last, key)
			}
		}
		if len(l.last) >= maxNoticeKeys {
			return false
		}
	}
	l.last[k] = now
	return true
}
