package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/outbox"
)

// MaxDeleteAge is how old a message may be for a bot to delete it:
// Telegram answers "message can't be deleted" after 48 hours.
const MaxDeleteAge = 48 * time.Hour

// editPayload is an Edit job's content: the text a code message becomes,
// and its keyboard (the refresh button stays).
type editPayload struct {
	Text     string          `json:"t"`
	Keyboard *inlineKeyboard `json:"k,omitempty"`
}

// sendTracked sends one message for r with call (retried by do) and stores
// its lifecycle. A reply that expires and is not a code (an export, an
// invite) is announced to the outbox before it is sent (Expect), so even a
// kill -9 between Telegram's answer and the write leaves a trace: the next
// start tells the chat to delete what it cannot name.
func (b *Bot) sendTracked(ctx context.Context, chatID int64, r commands.Reply, hasCode bool, kb *inlineKeyboard,
	method string, call func(ctx context.Context) (int, error)) error {
	store := context.WithoutCancel(ctx) // the message may be out already
	var ticket outbox.Ticket
	expect := !r.ExpiresAt.IsZero() && r.CodeValidUntil.IsZero()
	if expect {
		t, err := b.outbox.Expect(store, outbox.Job{Chat: strconv.FormatInt(chatID, 10), At: r.ExpiresAt, Sent: b.cfg.Clock.Now(), Tag: r.Tag})
		if err != nil {
			b.log.Error("telegram: could not store when to delete a message", "err", err)
			expect = false
		}
		ticket = t
	}
	var msgID int
	err := b.do(ctx, method, func(ctx context.Context) error {
		var err error
		msgID, err = call(ctx)
		return err
	})
	switch {
	case err != nil && expect:
		b.outbox.Cancel(store, ticket)
	case err != nil:
	case expect:
		if rerr := b.outbox.Resolve(store, ticket, strconv.Itoa(msgID)); rerr != nil {
			b.log.Error("telegram: could not store when to delete a message", "err", rerr)
		}
	default:
		b.keepLifecycle(ctx, chatID, msgID, hasCode, r, kb)
	}
	return err
}

// unnamedNotice is what a chat gets when the bot stopped between sending a
// secret and noting its message id, so it cannot delete it: in the
// language of the person whose private chat it is (a group's: English).
func (b *Bot) unnamedNotice(ctx context.Context, chatID int64) string {
	person := ""
	if chatID > 0 { // a private chat's id is the user's
		person, _ = b.personOf(ctx, chatID)
	}
	return b.printerOf(ctx, person).T("telegram.unnamed_notice")
}

// keepLifecycle stores the lifecycle of one message just sent for r: the expiry
// edit of a code message, and its deletion at ExpiresAt. It runs before
// the handler returns, so before the update is confirmed to Telegram.
func (b *Bot) keepLifecycle(ctx context.Context, chatID int64, msgID int, hasCode bool, r commands.Reply, kb *inlineKeyboard) {
	now := b.cfg.Clock.Now()
	chat, msg := strconv.FormatInt(chatID, 10), strconv.Itoa(msgID)
	var jobs []outbox.Job
	if hasCode && !r.CodeValidUntil.IsZero() && (r.ExpiresAt.IsZero() || r.CodeValidUntil.Before(r.ExpiresAt)) {
		p := editPayload{Text: expiredText(printerIn(ctx), kb != nil && len(kb.InlineKeyboard) > 0), Keyboard: kb}
		data, err := json.Marshal(p)
		if err == nil {
			jobs = append(jobs, outbox.Job{Action: outbox.Edit, Chat: chat, Message: msg, At: r.CodeValidUntil, Sent: now, Payload: data})
		}
	}
	if !r.ExpiresAt.IsZero() {
		jobs = append(jobs, outbox.Job{Action: outbox.Delete, Chat: chat, Message: msg, At: r.ExpiresAt, Sent: now, Tag: r.Tag})
	}
	if len(jobs) == 0 {
		return
	}
	// The reply is out already: store its jobs even if the update's
	// context is ending.
	if err := b.lifeJobs.store(context.WithoutCancel(ctx), jobs); err != nil {
		b.log.Error("telegram: could not store when to delete a message; it stays in the chat", "err", err)
	}
}

// runJob carries out one outbox job and says how it went in the outbox's
// terms (gone, never possible, retry later).
func (b *Bot) runJob(ctx context.Context, j outbox.Job) error {
	chatID, err1 := strconv.ParseInt(j.Chat, 10, 64)
	msgID, err2 := strconv.Atoi(j.Message)
	if j.Message == "" {
		err2 = nil
	}
	if err1 != nil || err2 != nil {
		return &outbox.PermanentError{Reason: "malformed", Err: errors.New("telegram: job ids are not numbers")}
	}
	var err error
	switch {
	case j.Message == "": // an Expect a crash left unresolved
		text := b.unnamedNotice(ctx, chatID)
		err = b.do(ctx, "sendMessage", func(ctx context.Context) error {
			_, err := b.sendText(ctx, &sendMessageReq{ChatID: chatID, Text: text})
			return err
		})
		return jobError(err, chatID > 0)
	case j.Action == outbox.Edit:
		var p editPayload
		if jerr := json.Unmarshal(j.Payload, &p); jerr != nil || p.Text == "" {
			return &outbox.PermanentError{Reason: "malformed", Err: errors.New("telegram: edit job without text")}
		}
		params := &editMessageTextReq{ChatID: chatID, MessageID: msgID, Text: p.Text, ReplyMarkup: p.Keyboard}
		err = b.do(ctx, "editMessageText", func(ctx context.Context) error {
			return b.call(ctx, "editMessageText", params, nil)
		})
	case j.Action == outbox.Delete, j.Action == outbox.DeleteSecret:
		err = b.do(ctx, "deleteMessage", func(ctx context.Context) error {
			return b.call(ctx, "deleteMessage", &deleteMessageReq{ChatID: chatID, MessageID: msgID}, nil)
		})
	default:
		return &outbox.PermanentError{Reason: "malformed", Err: fmt.Errorf("telegram: unknown job action %d", j.Action)}
	}
	return jobError(err, chatID > 0)
}

// jobError sorts a Bot API error for the outbox. Telegram's 400s do not
// get better on their own; 429 says when to come back; the rest (5xx,
// network) may pass.
func jobError(err error, private bool) error {
	if err == nil {
		return nil
	}
	var tmr *bot.TooManyRequestsError
	switch {
	case isNotFound(err), errors.Is(err, bot.ErrorBadRequest) && strings.Contains(err.Error(), "message is not modified"):
		// Deleted by the person, or by a run before a crash; an edit
		// that was made already.
		return fmt.Errorf("telegram: %w: %w", quiet{err}, outbox.ErrGone)
	case errors.Is(err, bot.ErrorBadRequest) && strings.Contains(err.Error(), "can't be deleted"):
		reason := "refused" // a group where the bot may not delete
		if private {
			reason = "too_old" // Telegram: bots cannot delete messages older than 48 hours
		}
		return &outbox.PermanentError{Reason: reason, Err: quiet{err}}
	case errors.Is(err, bot.ErrorForbidden):
		return &outbox.PermanentError{Reason: "forbidden", Err: quiet{err}}
	case errors.Is(err, bot.ErrorBadRequest):
		return &outbox.PermanentError{Reason: "refused", Err: quiet{err}}
	case errors.As(err, &tmr):
		return &outbox.RetryError{After: time.Duration(max(tmr.RetryAfter, 1)) * time.Second, Err: quiet{err}}
	}
	return quiet{err}
}

// quiet shows an error the way safeErr does (no token, no response body)
// but keeps it for errors.Is, so callers still tell Telegram's answers apart.
type quiet struct{ err error }

func (q quiet) Error() string { return safeErr(q.err) }
func (q quiet) Unwrap() error { return q.err }
