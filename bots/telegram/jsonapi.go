package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-telegram/bot"
)

// The hot calls (sendMessage without files, editMessageText,
// deleteMessage, answerCallbackQuery, getUpdates) go out as JSON bodies
// from here, over the same http.Client as the library's. go-telegram/bot
// can only send multipart/form-data, built through an io.Pipe in its own
// goroutine with reflection over every parameter; the Bot API takes an
// application/json object just as well for calls without files
// (core.telegram.org/bots/api#making-requests). Files (sendPhoto,
// sendDocument) and the calls made once at start-up stay with the library.
//
// The errors are the library's own types, built the way it builds them
// (bot.ErrorBadRequest, *bot.TooManyRequestsError, ...), so do(),
// permanent() and jobError() treat both paths alike.

// maxReplyBody bounds the answer to one call: a message or true.
const maxReplyBody = 1 << 20

// linkPreview is link_preview_options.
type linkPreview struct {
	IsDisabled bool `json:"is_disabled,omitempty"`
}

type sendMessageReq struct {
	ChatID             int64        `json:"chat_id"`
	Text               string       `json:"text"`
	ParseMode          string       `json:"parse_mode,omitempty"`
	LinkPreviewOptions *linkPreview `json:"link_preview_options,omitempty"`
	// ReplyMarkup is an *inlineKeyboard (our own type, see render.go) or
	// nil; an interface holding a nil pointer would send null.
	ReplyMarkup *inlineKeyboard `json:"reply_markup,omitempty"`
}

type editMessageTextReq struct {
	ChatID      int64           `json:"chat_id"`
	MessageID   int             `json:"message_id"`
	Text        string          `json:"text"`
	ReplyMarkup *inlineKeyboard `json:"reply_markup,omitempty"`
}

type deleteMessageReq struct {
	ChatID    int64 `json:"chat_id"`
	MessageID int   `json:"message_id"`
}

type answerCallbackReq struct {
	CallbackQueryID string `json:"callback_query_id"`
	Text            string `json:"text,omitempty"`
}

type getUpdatesReq struct {
	Offset         int64    `json:"offset"`
	Timeout        int      `json:"timeout"`
	Limit          int      `json:"limit"`
	AllowedUpdates []string `json:"allowed_updates"`
}

var allowedUpdates = []string{"message", "callback_query"}

// sentMessage is the part of a sent Message the adapter uses.
type sentMessage struct {
	ID int `json:"message_id"`
}

// call posts params to method as JSON and decodes the result into dest
// (nil: the result is not needed). It makes one request; do() retries.
func (b *Bot) call(ctx context.Context, method string, params, dest any) error {
	raw, err := b.post(ctx, method, params, maxReplyBody)
	if err != nil {
		return err
	}
	var r apiReply
	if err := json.Unmarshal(raw, &r); err != nil {
		// Not the body: it may quote message text (a proxy's error page
		// too), and safeErr would cut it anyway.
		return fmt.Errorf("%s: error decode response body (not JSON)", method)
	}
	if !r.OK {
		return replyError(method, &r)
	}
	if dest != nil {
		if err := json.Unmarshal(r.Result, dest); err != nil {
			return fmt.Errorf("%s: error decode response result: %w", method, err)
		}
	}
	return nil
}

// post sends one JSON request and returns the answer's body, whatever
// its HTTP status (the Bot API's envelope says what happened). The body
// is read to its end and closed, so the connection goes back to the pool.
func (b *Bot) post(ctx context.Context, method string, params any, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // HTML text goes as it is, not as \u003c
	if err := enc.Encode(params); err != nil {
		return nil, fmt.Errorf("%s: encode: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.baseURL+"/bot"+b.cfg.Token+"/"+method, bytes.NewReader(buf.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("%s: %s", method, safeErr(err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		// The URL in the error holds the token; the library masks it the
		// same way. The cause stays wrapped (timeouts, ctx errors).
		var uerr *url.Error
		if errors.As(err, &uerr) {
			uerr.URL = strings.ReplaceAll(uerr.URL, b.cfg.Token, "***")
		}
		return nil, fmt.Errorf("error do request for method %s, %w", method, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("%s: read answer: %s", method, safeErr(err))
	}
	// Drain what the limit left, so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return raw, nil
}

// replyError is the library's error for a refused call (rawRequest in
// go-telegram/bot): the same types and texts.
func replyError(method string, r *apiReply) error {
	switch r.ErrorCode {
	case http.StatusForbidden:
		return fmt.Errorf("%w, %s", bot.ErrorForbidden, r.Description)
	case http.StatusBadRequest:
		if r.Parameters.MigrateToChatID != 0 {
			return &bot.MigrateError{Message: fmt.Sprintf("%s: %s", bot.ErrorBadRequest, r.Description), MigrateToChatID: r.Parameters.MigrateToChatID}
		}
		return fmt.Errorf("%w, %s", bot.ErrorBadRequest, r.Description)
	case http.StatusUnauthorized:
		return fmt.Errorf("%w, %s", bot.ErrorUnauthorized, r.Description)
	case http.StatusNotFound:
		return fmt.Errorf("%w, %s", bot.ErrorNotFound, r.Description)
	case http.StatusConflict:
		return fmt.Errorf("%w, %s", bot.ErrorConflict, r.Description)
	case http.StatusTooManyRequests:
		return &bot.TooManyRequestsError{Message: fmt.Sprintf("%s, %s", bot.ErrorTooManyRequests, r.Description), RetryAfter: r.Parameters.RetryAfter}
	}
	return fmt.Errorf("error response from telegram for method %s, %d %s", method, r.ErrorCode, r.Description)
}

// sendText sends one text message and returns its id.
func (b *Bot) sendText(ctx context.Context, p *sendMessageReq) (int, error) {
	var m sentMessage
	if err := b.call(ctx, "sendMessage", p, &m); err != nil {
		return 0, err
	}
	return m.ID, nil
}
