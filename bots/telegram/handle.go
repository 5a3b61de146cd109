package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/outbox"
	"github.com/authbot/authbot/lang"
)

// The texts the adapter itself says are the catalogue's telegram.* keys
// (everything else comes from the handler), in the person's language:
// their /language choice when the handler knows it, else the update's
// language_code (strangers have only that).

// maxTextLen bounds the text handed to the handler; Telegram's own limit
// is 4096 characters, captions 1024.
const maxTextLen = 16 << 10

// handleUpdate is the one entry point for an update, run by the dispatcher.
func (b *Bot) handleUpdate(ctx context.Context, u *models.Update) {
	b.handlerCnt.Add(1)
	switch {
	case u.Message != nil:
		b.handleMessage(ctx, u.Message)
	case u.CallbackQuery != nil:
		b.handleCallback(ctx, u.CallbackQuery)
	}
}

// incoming is what the adapter knows of where a request came from.
type incoming struct {
	chatID  int64
	private bool
	msgID   int       // the person's message (0 for a button press)
	sent    time.Time // when the person sent it (Telegram's date)
	pr      *lang.Printer
}

// say is the adapter's own text id in the language of in (English when
// none is known).
func (in incoming) say(id string, args ...any) string {
	pr := in.pr
	if pr == nil {
		pr = lang.MustLoad().Printer(lang.English)
	}
	return pr.T(id, args...)
}

// languager is what *commands.Handler offers beyond Handler: the language
// its replies to req are written in (the person's stored choice first).
type languager interface {
	Language(ctx context.Context, req commands.Request) lang.Tag
}

// printerKey carries the printer of the person a message goes to down to
// where its later edits are worded (the expiry text of a code message).
type printerKey struct{}

func withPrinter(ctx context.Context, pr *lang.Printer) context.Context {
	return context.WithValue(ctx, printerKey{}, pr)
}

// printerIn is the printer withPrinter stored, English when none was.
func printerIn(ctx context.Context) *lang.Printer {
	if pr, ok := ctx.Value(printerKey{}).(*lang.Printer); ok && pr != nil {
		return pr
	}
	return lang.MustLoad().Printer(lang.English)
}

// printerOf is the catalogue in the language of a person the bot writes
// to unasked (a reply for someone else, a notice after a restart): their
// /language choice, else English.
func (b *Bot) printerOf(ctx context.Context, person string) *lang.Printer {
	if person == "" {
		return lang.MustLoad().Printer(lang.English)
	}
	return b.printerFor(ctx, commands.Request{Person: person})
}

// printerFor is the catalogue in the language of req.
func (b *Bot) printerFor(ctx context.Context, req commands.Request) *lang.Printer {
	t := lang.Match(req.Lang)
	if l, ok := b.cfg.Handler.(languager); ok {
		t = l.Language(ctx, req)
	}
	return lang.MustLoad().Printer(t)
}

func (b *Bot) handleMessage(ctx context.Context, m *models.Message) {
	if m.From == nil || m.From.IsBot {
		return
	}
	in := incoming{chatID: m.Chat.ID, private: m.Chat.Type == models.ChatTypePrivate, msgID: m.ID}
	if m.Date > 0 {
		in.sent = time.Unix(int64(m.Date), 0)
	}
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	if !in.private {
		// In a group only commands are for us (with privacy mode off the bot
		// sees every message), and "/cmd@otherbot" is someone else's.
		var ok bool
		if text, ok = b.forUs(text); !ok {
			return
		}
	} else {
		text, _ = b.forUs(text) // strip a "@ourbot" suffix if present
	}
	person, known := b.personOf(ctx, m.From.ID)
	if !known {
		in.pr = lang.MustLoad().Printer(lang.Match(m.From.LanguageCode))
		if !b.stranger(ctx, in, m.From.ID, m.From.LanguageCode, text) {
			b.refuse(ctx, in, m.From.ID)
		}
		return
	}
	if len(text) > maxTextLen {
		text = text[:maxTextLen]
	}
	req := commands.Request{Person: person, Platform: Platform, Chat: commands.Group, Text: text, Lang: m.From.LanguageCode,
		Buttons: true, DeletesMessages: true, Files: true, MiniApp: true}
	if in.private {
		req.Chat = commands.Private
	}
	in.pr = b.printerFor(ctx, req)
	att, problem := b.attachment(ctx, in, m)
	if problem != "" {
		b.deliver(ctx, in, []commands.Reply{{Parts: []commands.Part{{Text: problem}}}})
		return
	}
	req.Attachment = att
	if req.Text == "" && req.Attachment == nil {
		return // stickers, joins and the like
	}
	start := time.Now()
	replies := b.cfg.Handler.Handle(ctx, req)
	b.deliver(ctx, in, replies)
	b.log.Debug("telegram: message handled", "private", in.private, "replies", len(replies), "took", time.Since(start))
}

// forUs strips "@ourbot" from a leading command and reports whether the
// text is a command for this bot.
func (b *Bot) forUs(text string) (string, bool) {
	if !strings.HasPrefix(text, "/") {
		return text, false
	}
	end := strings.IndexAny(text, " \n")
	if end < 0 {
		end = len(text)
	}
	cmd, at, hasAt := strings.Cut(text[:end], "@")
	if hasAt {
		if !strings.EqualFold(at, b.Username()) {
			return text, false
		}
		return cmd + text[end:], true
	}
	return text, true
}

// refuse answers someone not in the config: their user id, nothing else.
func (b *Bot) refuse(ctx context.Context, in incoming, userID int64) {
	b.log.Info("telegram: refused an unknown user", "private", in.private)
	text := in.say("telegram.refusal", "ID", userID)
	err := b.do(ctx, "sendMessage", func(ctx context.Context) error {
		_, err := b.sendText(ctx, &sendMessageReq{ChatID: in.chatID, Text: text})
		return err
	})
	if err != nil {
		b.log.Warn("telegram: refusal not sent", "err", safeErr(err))
	}
}

func (b *Bot) handleCallback(ctx context.Context, q *models.CallbackQuery) {
	// Answer at once so the button stops spinning, whatever happens next.
	ack := &answerCallbackReq{CallbackQueryID: q.ID}
	person, known := b.personOf(ctx, q.From.ID)
	if !known {
		ack.Text = lang.MustLoad().Printer(lang.Match(q.From.LanguageCode)).T("telegram.refusal_button", "ID", q.From.ID)
	}
	if err := b.do(ctx, "answerCallbackQuery", func(ctx context.Context) error {
		return b.call(ctx, "answerCallbackQuery", ack, nil)
	}); err != nil {
		b.log.Debug("telegram: answerCallbackQuery failed", "err", safeErr(err))
	}
	if !known || q.Data == "" || len(q.Data) > maxCallbackLen {
		return
	}
	in := incoming{chatID: q.From.ID, private: true}
	if m := q.Message.Message; m != nil {
		in.chatID, in.private = m.Chat.ID, m.Chat.Type == models.ChatTypePrivate
	} else if m := q.Message.InaccessibleMessage; m != nil {
		in.chatID, in.private = m.Chat.ID, m.Chat.Type == models.ChatTypePrivate
	}
	req := commands.Request{Person: person, Platform: Platform, Chat: commands.Group, Text: q.Data, Callback: true, Lang: q.From.LanguageCode,
		Buttons: true, DeletesMessages: true, Files: true, MiniApp: true}
	if in.private {
		req.Chat = commands.Private
	}
	in.pr = b.printerFor(ctx, req)
	b.deliver(ctx, in, b.cfg.Handler.Handle(ctx, req))
}

// attachment downloads the photo or file of m, if any. problem is a text
// for the person when it cannot be used.
func (b *Bot) attachment(ctx context.Context, in incoming, m *models.Message) (att *commands.Attachment, problem string) {
	var fileID string
	var size int64
	switch {
	case len(m.Photo) > 0:
		// Telegram sends several sizes; the largest has the sharpest QR.
		best := m.Photo[0]
		for _, p := range m.Photo[1:] {
			if p.Width*p.Height > best.Width*best.Height || (p.Width*p.Height == best.Width*best.Height && p.FileSize > best.FileSize) {
				best = p
			}
		}
		fileID, size = best.FileID, int64(best.FileSize)
		att = &commands.Attachment{Image: true, MIME: "image/jpeg"}
	case m.Document != nil:
		d := m.Document
		fileID, size = d.FileID, d.FileSize
		att = &commands.Attachment{Name: d.FileName, MIME: d.MimeType, Image: strings.HasPrefix(d.MimeType, "image/")}
	default:
		return nil, ""
	}
	limitMB := commands.MaxAttachmentBytes >> 20
	if size > commands.MaxAttachmentBytes {
		return nil, in.say("telegram.too_large", "MB", limitMB)
	}
	data, err := b.download(ctx, fileID)
	switch {
	case errors.Is(err, errTooLarge):
		return nil, in.say("telegram.too_large", "MB", limitMB)
	case err != nil:
		b.log.Warn("telegram: download failed", "err", safeErr(err))
		return nil, in.say("telegram.fetch_failed")
	}
	att.Data = data
	return att, ""
}

var errTooLarge = errors.New("file too large")

// download fetches a file via getFile, refusing anything over
// MaxAttachmentBytes both from the reported size and while reading.
func (b *Bot) download(ctx context.Context, fileID string) ([]byte, error) {
	var f *models.File
	err := b.do(ctx, "getFile", func(ctx context.Context) error {
		var err error
		f, err = b.api.GetFile(ctx, &bot.GetFileParams{FileID: fileID})
		return err
	})
	if err != nil {
		return nil, err
	}
	if f.FileSize > commands.MaxAttachmentBytes {
		return nil, errTooLarge
	}
	if f.FilePath == "" || strings.Contains(f.FilePath, "..") {
		return nil, errors.New("getFile: no usable file_path")
	}
	var data []byte
	err = b.do(ctx, "download", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.api.FileDownloadLink(f), nil)
		if err != nil {
			return errors.New("download: bad link") // the link holds the token
		}
		resp, err := b.client.Do(req)
		if err != nil {
			return fmt.Errorf("download: %s", safeErr(err))
		}
		defer resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusNotFound:
			return fmt.Errorf("%w, download: HTTP 404", bot.ErrorNotFound)
		case resp.StatusCode != http.StatusOK:
			return fmt.Errorf("download: HTTP %d", resp.StatusCode)
		case resp.ContentLength > commands.MaxAttachmentBytes:
			return errTooLarge
		}
		var buf bytes.Buffer
		n, err := io.Copy(&buf, io.LimitReader(resp.Body, commands.MaxAttachmentBytes+1))
		if err != nil {
			return fmt.Errorf("download: %s", safeErr(err))
		}
		if n > commands.MaxAttachmentBytes {
			return errTooLarge
		}
		data = buf.Bytes()
		return nil
	})
	if errors.Is(err, errTooLarge) {
		return nil, errTooLarge
	}
	return data, err
}

// isNotFound reports Telegram's "message to delete/edit not found".
func isNotFound(err error) bool {
	return err != nil && errors.Is(err, bot.ErrorBadRequest) && strings.Contains(err.Error(), "not found")
}

// deleteReason turns Telegram's refusal into the catalogue id of a reason
// a person understands.
func deleteReason(err error, private bool) string {
	switch {
	case errors.Is(err, bot.ErrorForbidden):
		return "telegram.delete.forbidden"
	case errors.Is(err, bot.ErrorBadRequest) && strings.Contains(err.Error(), "can't be deleted"):
		if private {
			return "telegram.delete.too_old"
		}
		return "telegram.delete.not_admin"
	}
	return "telegram.delete.timeout"
}

// deliver sends the handler's replies into the chat, honouring
// DeleteRequest, Sensitive, ExpiresAt and CodeValidUntil.
func (b *Bot) deliver(ctx context.Context, in incoming, replies []commands.Reply) {
	// Replies for other people go to their private chats, after the
	// secret-bearing message is deleted below.
	var others []commands.Reply
	if slices.ContainsFunc(replies, func(r commands.Reply) bool { return r.To != "" }) {
		others = replies
		replies = slices.DeleteFunc(slices.Clone(replies), func(r commands.Reply) bool { return r.To != "" })
		defer func() { b.sendTo(ctx, b.elsewhere(ctx, others)) }()
	}
	var notice string
	for _, r := range replies {
		if r.DeleteRequest && in.msgID != 0 {
			// Stored before it is tried: should the process die now, the
			// next start deletes it. A failure that may pass is retried
			// by the outbox; the person is told to delete it all the same.
			err := b.outbox.Now(ctx, outbox.Job{Action: outbox.DeleteSecret, Chat: strconv.FormatInt(in.chatID, 10),
				Message: strconv.Itoa(in.msgID), Sent: in.sent}, b.runJob)
			if err != nil {
				b.log.Warn("telegram: could not delete a secret-bearing message", "err", safeErr(err))
				notice = in.say("msg.delete_failed", "Reason", in.say(deleteReason(err, in.private)))
			}
			break
		}
	}
	var extra *inlineButton
	if !in.private {
		// Second lock: nothing sensitive leaves a private chat, whatever
		// the handler returned.
		kept := replies[:0:0]
		dropped := false
		for _, r := range replies {
			if r.Sensitive {
				dropped = true
				continue
			}
			kept = append(kept, r)
		}
		if dropped {
			kept = append(kept, commands.Reply{Parts: []commands.Part{{Text: in.say("telegram.private_only")}}})
		}
		replies = kept
		if u := b.Username(); u != "" {
			extra = &inlineButton{Text: in.say("telegram.open_private"), URL: "https://t.me/" + u}
		}
	}
	if notice != "" {
		if len(replies) == 0 {
			replies = []commands.Reply{{}}
		}
		last := &replies[len(replies)-1]
		parts := append([]commands.Part(nil), last.Parts...)
		if len(parts) > 0 {
			parts = append(parts, commands.Part{Text: "\n\n"})
		}
		last.Parts = append(parts, commands.Part{Text: notice})
	}
	for i, r := range replies {
		var x *inlineButton
		if i == len(replies)-1 {
			x = extra
		}
		if err := b.send(withPrinter(ctx, in.pr), in.chatID, r, x); err != nil {
			b.log.Warn("telegram: reply not sent", "err", safeErr(err))
		}
	}
}

// send renders one reply: text (split to fit), then image, then file.
func (b *Bot) send(ctx context.Context, chatID int64, r commands.Reply, extra *inlineButton) error {
	kb, dropped := keyboard(r.Buttons, extra)
	if dropped > 0 {
		b.log.Warn("telegram: buttons dropped (no label or callback data over 64 bytes)", "count", dropped)
	}
	var markup any
	if kb != nil {
		markup = kb
	}
	chunks := renderChunks(r.Parts, maxMessageLen)
	for i, c := range chunks {
		// The text, its buttons and no link preview in one request.
		p := &sendMessageReq{ChatID: chatID, Text: c.html, ParseMode: string(models.ParseModeHTML),
			LinkPreviewOptions: &linkPreview{IsDisabled: true}}
		last := i == len(chunks)-1
		if last && kb != nil && r.Image == nil && r.File == nil {
			p.ReplyMarkup = kb
		}
		err := b.sendTracked(ctx, chatID, r, c.hasCode, kb, "sendMessage", func(ctx context.Context) (int, error) {
			return b.sendText(ctx, p)
		})
		if err != nil {
			return err
		}
	}
	for _, f := range []*commands.File{r.Image, r.File} {
		if f == nil || len(f.Data) == 0 {
			continue
		}
		capHTML, fits := caption(f.Caption)
		if !fits {
			// Too long for a caption: send it as text first.
			if err := b.send(ctx, chatID, commands.Reply{Parts: []commands.Part{{Text: f.Caption}}, ExpiresAt: r.ExpiresAt, Sensitive: r.Sensitive}, nil); err != nil {
				return err
			}
		}
		name := f.Name
		if name == "" {
			name = "file"
		}
		isLast := f == r.File || r.File == nil
		err := b.sendTracked(ctx, chatID, r, false, kb, "send file", func(ctx context.Context) (int, error) {
			up := &models.InputFileUpload{Filename: name, Data: bytes.NewReader(f.Data)}
			var rm models.ReplyMarkup
			if isLast && markup != nil {
				rm = markup
			}
			// Files stay multipart, with the library.
			var m *models.Message
			var err error
			if f == r.Image {
				m, err = b.api.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: chatID, Photo: up, Caption: capHTML, ParseMode: models.ParseModeHTML, ReplyMarkup: rm})
			} else {
				m, err = b.api.SendDocument(ctx, &bot.SendDocumentParams{ChatID: chatID, Document: up, Caption: capHTML, ParseMode: models.ParseModeHTML, ReplyMarkup: rm})
			}
			if err != nil {
				return 0, err
			}
			return m.ID, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
