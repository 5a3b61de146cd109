//go:build goolm

package matrix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/attachment"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/outbox"
)

// The texts the adapter itself says are the catalogue's matrix.* keys, in
// the person's language (lang.go).

// handle serves one message: builds the request, asks the handler, removes
// the message when it carried a secret, and sends the replies.
func (b *Bot) handle(ctx context.Context, evt *event.Event) {
	if evt.Type == event.EventReaction {
		b.handleReaction(ctx, evt)
		return
	}
	msg := evt.Content.AsMessage()
	if msg.RelatesTo != nil && msg.RelatesTo.Type == event.RelReplace {
		return // an edit: answering it again would repeat the command
	}
	kind := b.chatKind(ctx, evt.RoomID, evt.Sender)
	person, known := b.personOf(ctx, evt.Sender)
	if !known {
		if msg.MsgType == event.MsgText {
			msg.RemoveReplyFallback()
			if len(msg.Body) <= commands.MaxMessageBytes {
				b.stranger(ctx, evt, kind, msg.Body)
			}
		}
		return
	}
	req := commands.Request{Person: person, Platform: Platform, Prefix: commands.MatrixPrefix, Chat: kind,
		DeletesMessages: true, Files: true} // no Buttons: they become numbered options (render.go)
	pr := b.printerOf(ctx, person)
	ctx = withPrinter(ctx, pr)
	switch msg.MsgType {
	case event.MsgText:
		msg.RemoveReplyFallback()
		req.Text = msg.Body
		// "1" answers the numbered options the bot last showed this person
		// here, as a tapped button would.
		if n := optionNumber(msg.Body); n > 0 {
			if data, ok := b.choices.pick(evt.RoomID, evt.Sender, "", n, b.cfg.Clock.Now()); ok {
				req.Text, req.Callback = data, true
			}
		}
	case event.MsgImage, event.MsgFile:
		att, err := b.download(ctx, msg)
		if err != nil {
			b.log.Info("matrix: attachment not read", "room", evt.RoomID, "err", err)
			text := pr.T("matrix.attachment_failed")
			if errors.Is(err, errTooLarge) {
				text = pr.T("matrix.attachment_too_big", "MB", commands.MaxAttachmentBytes>>20)
			}
			// The file may well hold a secret: remove it all the same.
			notice := b.redactRequest(ctx, evt)
			b.sendText(ctx, evt.RoomID, joinNotice(text, notice))
			return
		}
		req.Attachment = att
		// In Matrix a caption is the body when a separate file name is set.
		if msg.FileName != "" && msg.FileName != msg.Body {
			req.Text = msg.Body
		}
	default:
		return // notices (other bots), emotes, locations: nothing to answer
	}
	b.serve(ctx, evt, req)
}

// handleReaction treats a keycap reaction (1️⃣) to the message that showed
// numbered options like typing the number.
func (b *Bot) handleReaction(ctx context.Context, evt *event.Event) {
	rel := evt.Content.AsReaction().RelatesTo
	n := reactionNumber(rel.Key)
	if n == 0 || rel.EventID == "" {
		return
	}
	person, known := b.personOf(ctx, evt.Sender)
	if !known {
		return
	}
	data, ok := b.choices.pick(evt.RoomID, evt.Sender, rel.EventID, n, b.cfg.Clock.Now())
	if !ok {
		return
	}
	kind := b.chatKind(ctx, evt.RoomID, evt.Sender)
	ctx = withPrinter(ctx, b.printerOf(ctx, person))
	b.serve(ctx, evt, commands.Request{Person: person, Platform: Platform, Prefix: commands.MatrixPrefix, Chat: kind, Text: data, Callback: true,
		DeletesMessages: true, Files: true})
}

// serve asks the handler and delivers its replies for the request in evt;
// ctx carries the person's printer (withPrinter).
func (b *Bot) serve(ctx context.Context, evt *event.Event, req commands.Request) {
	replies := b.cfg.Handler.Handle(ctx, req)
	// Remove the secret first, before anything else goes out.
	var notice string
	if slices.ContainsFunc(replies, func(r commands.Reply) bool { return r.DeleteRequest }) {
		notice = b.redactRequest(ctx, evt)
	}
	own, others := splitTo(replies)
	replyTo := evt.ID
	if evt.Type == event.EventReaction {
		replyTo = evt.Content.AsReaction().RelatesTo.EventID
	}
	for _, r := range own {
		b.send(ctx, evt.RoomID, evt.Sender, r, replyTo)
	}
	if notice != "" {
		b.sendText(ctx, evt.RoomID, notice)
	}
	for _, r := range others {
		if !b.elsewhere(ctx, r) {
			b.sendTo(ctx, r)
		}
	}
}

func joinNotice(text, notice string) string {
	if notice == "" {
		return text
	}
	return text + "\n\n" + notice
}

// redactRequest removes the person's message, through the outbox: the job
// is stored before it is tried, so a crash now still redacts it at the
// next start, and a failure that may pass is retried. It returns "" on
// success or the text that tells the person to remove it themselves.
func (b *Bot) redactRequest(ctx context.Context, evt *event.Event) string {
	sent := time.UnixMilli(evt.Timestamp)
	err := b.outbox.Now(ctx, outbox.Job{Action: outbox.DeleteSecret, Chat: string(evt.RoomID), Message: string(evt.ID), Sent: sent}, b.runJob)
	if err == nil {
		return ""
	}
	b.log.Warn("matrix: could not redact a message with a secret", "room", evt.RoomID, "err", err)
	pr := printerIn(ctx)
	reason := pr.T("matrix.redact_failed")
	if errors.Is(err, mautrix.MForbidden) {
		reason = pr.T("matrix.redact_forbidden")
	}
	return pr.T("msg.delete_failed", "Reason", reason)
}

// chatKind is Private only when the room holds exactly the bot and the
// sender (joined or invited: an invitee can read what is posted next).
// When the membership is unknown it says Group, the safe answer.
func (b *Bot) chatKind(ctx context.Context, room id.RoomID, sender id.UserID) commands.ChatKind {
	members, err := b.cli.StateStore.GetRoomJoinedOrInvitedMembers(ctx, room)
	if err != nil {
		b.log.Warn("matrix: room members unknown, treating as a group", "room", room, "err", err)
		return commands.Group
	}
	return kindOf(members, b.cli.UserID, sender)
}

func kindOf(members []id.UserID, self, sender id.UserID) commands.ChatKind {
	if len(members) == 2 && slices.Contains(members, self) && slices.Contains(members, sender) && self != sender {
		return commands.Private
	}
	return commands.Group
}

var errTooLarge = errors.New("attachment too large")

// download fetches (and, for encrypted rooms, decrypts and checks) a file or
// image, never reading more than commands.MaxAttachmentBytes.
func (b *Bot) download(ctx context.Context, msg *event.MessageEventContent) (*commands.Attachment, error) {
	if msg.Info != nil && msg.Info.Size > commands.MaxAttachmentBytes {
		return nil, errTooLarge
	}
	uriStr := msg.URL
	if msg.File != nil {
		uriStr = msg.File.URL
	}
	uri, err := uriStr.Parse()
	if err != nil {
		return nil, fmt.Errorf("attachment url: %w", err)
	}
	resp, err := b.cli.Download(ctx, uri)
	if err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download: status %d", resp.StatusCode)
	}
	if resp.ContentLength > commands.MaxAttachmentBytes {
		return nil, errTooLarge
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, commands.MaxAttachmentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	if len(data) > commands.MaxAttachmentBytes {
		return nil, errTooLarge
	}
	if msg.File != nil {
		// AES-CTR keeps the size; DecryptInPlace checks the SHA-256 from
		// the (encrypted, so trustworthy) event before decrypting.
		if err := msg.File.DecryptInPlace(data); err != nil {
			return nil, fmt.Errorf("decrypt attachment: %w", err)
		}
	}
	att := &commands.Attachment{Image: msg.MsgType == event.MsgImage, Data: data}
	att.Name = msg.FileName
	if att.Name == "" {
		att.Name = msg.Body
	}
	if len(att.Name) > 255 {
		att.Name = att.Name[:255]
	}
	if msg.Info != nil {
		att.MIME = msg.Info.MimeType
	}
	return att, nil
}

// send renders and sends one reply to user in room, then schedules its
// expiry. A reply that carries a code is threaded to replyTo, the request
// it answers. Its buttons become the numbered options user may answer.
func (b *Bot) send(ctx context.Context, room id.RoomID, user id.UserID, r commands.Reply, replyTo id.EventID) {
	// Second lock: whatever the handler said, nothing sensitive leaves a
	// private chat. Membership is checked again, now, as it may have changed.
	if r.Sensitive && b.chatKind(ctx, room, user) != commands.Private {
		b.log.Warn("matrix: held back a sensitive reply outside a private chat", "room", room)
		b.sendText(ctx, room, printerIn(ctx).T("matrix.private_only"))
		return
	}
	var textEvent id.EventID
	if content := renderIn(printerIn(ctx), r); content != nil {
		if hasCode(r) {
			asReplyTo(content, replyTo)
		}
		textEvent = b.sendTracked(ctx, room, r, true, func() (id.EventID, error) { return b.sendContent(ctx, room, content) })
	}
	var data []string
	for _, btn := range choiceButtons(r) {
		data = append(data, btn.Data)
	}
	if r.Parts != nil || len(data) > 0 {
		// Only the newest options count: a reply without buttons clears them.
		b.choices.offer(room, user, textEvent, data, b.cfg.Clock.Now())
	}
	for _, f := range []*commands.File{r.Image, r.File} {
		if f == nil {
			continue
		}
		b.sendTracked(ctx, room, r, false, func() (id.EventID, error) { return b.sendFile(ctx, room, f, f == r.Image) })
	}
}

// sendTracked sends one event for r, stores its lifecycle and returns its
// id ("" when it was not sent). The lifecycle: the expiry
// edit of a code reply and its redaction at ExpiresAt. A reply that
// expires and is not a code (an export, an invite) is announced to the
// outbox before it is sent (Expect), so a kill -9 between the homeserver's
// answer and the write still leaves a trace: the next start tells the room
// to remove what it cannot name.
func (b *Bot) sendTracked(ctx context.Context, room id.RoomID, r commands.Reply, text bool, send func() (id.EventID, error)) id.EventID {
	store := context.WithoutCancel(ctx) // the event may be out already
	now := b.cfg.Clock.Now()
	var ticket outbox.Ticket
	expect := !r.ExpiresAt.IsZero() && r.CodeValidUntil.IsZero()
	if expect {
		t, err := b.outbox.Expect(store, outbox.Job{Chat: string(room), At: r.ExpiresAt, Sent: now, Tag: r.Tag})
		if err != nil {
			b.log.Error("matrix: could not store when to remove a reply", "room", room, "err", err)
			expect = false
		}
		ticket = t
	}
	evtID, err := send()
	switch {
	case err != nil && expect:
		b.outbox.Cancel(store, ticket)
		return ""
	case err != nil:
		return ""
	case expect:
		if err := b.outbox.Resolve(store, ticket, string(evtID)); err != nil {
			b.log.Error("matrix: could not store when to remove a reply", "room", room, "err", err)
		}
		return evtID
	}
	var jobs []outbox.Job
	if text && !r.CodeValidUntil.IsZero() && (r.ExpiresAt.IsZero() || r.CodeValidUntil.Before(r.ExpiresAt)) {
		jobs = append(jobs, outbox.Job{Action: outbox.Edit, Chat: string(room), Message: string(evtID), At: r.CodeValidUntil, Sent: now})
	}
	if !r.ExpiresAt.IsZero() {
		jobs = append(jobs, outbox.Job{Action: outbox.Delete, Chat: string(room), Message: string(evtID), At: r.ExpiresAt, Sent: now, Tag: r.Tag})
	}
	if err := b.outbox.Add(store, jobs...); err != nil {
		b.log.Error("matrix: could not store when to remove a reply; it stays in the room", "room", room, "err", err)
	}
	return evtID
}

func (b *Bot) sendText(ctx context.Context, room id.RoomID, text string) {
	_, _ = b.sendContent(ctx, room, renderText(commands.Reply{Parts: []commands.Part{{Text: text}}}))
}

// sendContent sends an m.room.message; mautrix encrypts it when the room is
// encrypted, so replies follow the room's encryption state.
func (b *Bot) sendContent(ctx context.Context, room id.RoomID, content *event.MessageEventContent) (id.EventID, error) {
	resp, err := b.cli.SendMessageEvent(ctx, room, event.EventMessage, content)
	if err != nil {
		b.log.Warn("matrix: could not send a reply", "room", room, "err", err)
		return "", err
	}
	return resp.EventID, nil
}

// sendFile uploads f and posts it as m.image or m.file. In an encrypted
// room the upload is encrypted (AES-CTR with a fresh key that travels in
// the encrypted event), so the media store never sees the QR code.
func (b *Bot) sendFile(ctx context.Context, room id.RoomID, f *commands.File, image bool) (id.EventID, error) {
	encrypted, err := b.cli.StateStore.IsEncrypted(ctx, room)
	if err != nil {
		b.log.Warn("matrix: room encryption state unknown, not sending a file", "room", room, "err", err)
		return "", err
	}
	content := &event.MessageEventContent{
		MsgType:  event.MsgFile,
		Body:     f.Name,
		FileName: f.Name,
		Info:     &event.FileInfo{MimeType: f.MIME, Size: len(f.Data)},
	}
	if image {
		content.MsgType = event.MsgImage
	}
	if f.Caption != "" {
		content.Body = f.Caption
	}
	data, mime := f.Data, f.MIME
	var ef *attachment.EncryptedFile
	if encrypted {
		ef = attachment.NewEncryptedFile()
		// On a copy: the caller's bytes stay as they are.
		data = append([]byte(nil), f.Data...)
		ef.EncryptInPlace(data)
		mime = "application/octet-stream"
	}
	up, err := b.cli.UploadBytes(ctx, data, mime)
	if err != nil {
		b.log.Warn("matrix: could not upload a file", "room", room, "err", err)
		return "", err
	}
	if ef != nil {
		content.File = &event.EncryptedFileInfo{EncryptedFile: *ef, URL: up.ContentURI.CUString()}
	} else {
		content.URL = up.ContentURI.CUString()
	}
	return b.sendContent(ctx, room, content)
}

// runJob carries out one outbox job: redact an expired reply or a
// secret-bearing message, or edit a code reply to say the code expired.
func (b *Bot) runJob(ctx context.Context, j outbox.Job) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	room, evt := id.RoomID(j.Chat), id.EventID(j.Message)
	var err error
	switch j.Action {
	case outbox.Delete:
		if evt == "" { // an Expect a crash left unresolved: the room is told
			// to remove what the bot cannot name
			text := b.roomPrinter(ctx, room).T("matrix.unnamed_notice")
			_, err = b.sendContent(ctx, room, renderText(commands.Reply{Parts: []commands.Part{{Text: text}}}))
			break
		}
		_, err = b.cli.RedactEvent(ctx, room, evt, mautrix.ReqRedact{Reason: b.roomPrinter(ctx, room).T("matrix.redact_reason_expired")})
	case outbox.DeleteSecret:
		_, err = b.cli.RedactEvent(ctx, room, evt, mautrix.ReqRedact{Reason: b.roomPrinter(ctx, room).T("matrix.redact_reason_secret")})
	case outbox.Edit:
		_, err = b.cli.SendMessageEvent(ctx, room, event.EventMessage, expiredEditIn(b.roomPrinter(ctx, room), evt))
	default:
		return &outbox.PermanentError{Reason: "malformed", Err: fmt.Errorf("matrix: unknown job action %d", j.Action)}
	}
	return jobError(err)
}

// jobError sorts a homeserver error for the outbox: a forbidden or unknown
// event will not get better; a rate limit says when to come back; the rest
// (a homeserver away, 5xx) may pass.
func jobError(err error) error {
	var httpErr mautrix.HTTPError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mautrix.MNotFound):
		return fmt.Errorf("matrix: %w: %w", err, outbox.ErrGone)
	case errors.Is(err, mautrix.MForbidden):
		return &outbox.PermanentError{Reason: "forbidden", Err: err}
	case errors.Is(err, mautrix.MLimitExceeded):
		after := 5 * time.Second
		if errors.As(err, &httpErr) && httpErr.RespError != nil {
			if ms, ok := httpErr.RespError.ExtraData["retry_after_ms"].(float64); ok && ms > 0 {
				after = time.Duration(ms) * time.Millisecond
			}
		}
		return &outbox.RetryError{After: after, Err: err}
	}
	return err
}
