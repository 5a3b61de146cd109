//go:build goolm

package matrix

import (
	"context"
	"fmt"
	"strings"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/verificationhelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/lang"
)

// Interactive verification (emoji SAS), over mautrix's verificationhelper.
//
// A person opens the bot's profile in Element, picks "Verify" and "Verify
// by emoji". The bot accepts requests from the people it serves only, and
// when the emoji are computed it posts them in the direct chat (and logs
// them, for an operator watching) and confirms its side: a bot cannot look
// at the person's screen, so the comparison is the person's, who presses
// "They match" in Element only if the emoji there are the ones the bot
// posted. Then the person's Element trusts the bot's cross-signing
// identity, and the bot signs the person's master key with its
// user-signing key. QR codes are not offered (the bot has no camera and
// no screen).

// verifier implements verificationhelper's callbacks.
type verifier struct {
	b     *Bot
	vh    *verificationhelper.VerificationHelper
	store verificationhelper.VerificationStore
}

func (b *Bot) startVerification(ctx context.Context) error {
	v := &verifier{b: b, store: verificationhelper.NewInMemoryVerificationStore()}
	v.vh = verificationhelper.NewVerificationHelper(b.cli, b.helper.Machine(), v.store, v, false, false, true)
	if err := initVerification(ctx, b.cli, b.sync, v.vh); err != nil {
		return fmt.Errorf("matrix: verification: %w", err)
	}
	return nil
}

// verificationTypes are the events verificationhelper listens to.
var verificationTypes = []event.Type{
	event.ToDeviceVerificationRequest, event.ToDeviceVerificationReady, event.ToDeviceVerificationStart,
	event.ToDeviceVerificationDone, event.ToDeviceVerificationCancel, event.ToDeviceVerificationAccept,
	event.ToDeviceVerificationKey, event.ToDeviceVerificationMAC,
	event.InRoomVerificationReady, event.InRoomVerificationStart, event.InRoomVerificationDone,
	event.InRoomVerificationCancel, event.InRoomVerificationAccept, event.InRoomVerificationKey,
	event.InRoomVerificationMAC,
}

// initVerification hooks vh up to syncer, mending in-room verification on
// the way. mautrix v0.32's helper looks an in-room event's transaction up
// by the event's own id, where the spec (and Element) use the request's id
// in m.relates_to, so it drops every in-room answer; and it would take the
// echo of its own in-room events for the other side's. So vh listens on a
// private syncer, and the real one forwards the other side's verification
// events to it, in-room ones under the request's id.
func initVerification(ctx context.Context, cli *mautrix.Client, syncer mautrix.ExtensibleSyncer, vh *verificationhelper.VerificationHelper) error {
	private := mautrix.NewDefaultSyncer()
	real := cli.Syncer
	cli.Syncer = private // vh.Init registers on cli.Syncer and keeps no reference
	err := vh.Init(ctx)
	cli.Syncer = real
	if err != nil {
		return err
	}
	forward := func(ctx context.Context, evt *event.Event) {
		if evt.Sender == cli.UserID && evt.RoomID != "" {
			return // our own in-room event, echoed back by the sync
		}
		private.Dispatch(ctx, inRoomTransaction(evt))
	}
	for _, t := range verificationTypes {
		syncer.OnEventType(t, forward)
	}
	syncer.OnEventType(event.EventMessage, func(ctx context.Context, evt *event.Event) {
		if evt.Content.AsMessage().MsgType == event.MsgVerificationRequest {
			forward(ctx, evt)
		}
	})
	return nil
}

// inRoomTransaction returns an in-room verification event (other than the
// request) as one verificationhelper can place: with the request's event id
// (its m.reference relation) where the helper looks for the transaction.
// The content stays as sent: the SAS commitment is computed over it.
func inRoomTransaction(evt *event.Event) *event.Event {
	if evt.RoomID == "" || evt.Type == event.EventMessage {
		return evt
	}
	rel, ok := evt.Content.Parsed.(event.Relatable)
	if !ok || rel.OptionalGetRelatesTo() == nil || rel.OptionalGetRelatesTo().EventID == "" {
		return evt
	}
	fixed := *evt
	fixed.ID = rel.OptionalGetRelatesTo().EventID
	return &fixed
}

// VerificationRequested implements verificationhelper.RequiredCallbacks.
// It runs on the sync goroutine: the answer goes out from a worker.
func (v *verifier) VerificationRequested(ctx context.Context, txn id.VerificationTransactionID, from id.UserID, fromDevice id.DeviceID) {
	v.b.work(func(ctx context.Context) {
		if _, known := v.b.personOf(ctx, from); !known {
			v.b.log.Info("matrix: refused a verification request from someone the bot does not serve")
			_ = v.vh.CancelVerification(ctx, txn, event.VerificationCancelCodeUser, english().T("matrix.verify_refused"))
			return
		}
		if err := v.vh.AcceptVerification(ctx, txn); err != nil {
			v.b.log.Warn("matrix: could not accept a verification request", "err", err)
			return
		}
		v.b.log.Info("matrix: verification requested", "user", from, "device", fromDevice)
	})
}

// VerificationReady implements verificationhelper.RequiredCallbacks. The
// person's Element starts the emoji flow; the bot waits for it.
func (v *verifier) VerificationReady(context.Context, id.VerificationTransactionID, id.DeviceID, bool, bool, *verificationhelper.QRCode) {
}

// VerificationCancelled implements verificationhelper.RequiredCallbacks.
func (v *verifier) VerificationCancelled(_ context.Context, _ id.VerificationTransactionID, code event.VerificationCancelCode, reason string) {
	v.b.log.Info("matrix: verification cancelled", "code", code, "reason", reason)
}

// VerificationDone implements verificationhelper.RequiredCallbacks.
func (v *verifier) VerificationDone(_ context.Context, _ id.VerificationTransactionID, method event.VerificationMethod) {
	v.b.log.Info("matrix: verification done", "method", method)
}

// ShowSAS implements verificationhelper.ShowSASCallbacks. It is called
// with the helper's lock held, so the message and the confirmation go out
// from a worker.
func (v *verifier) ShowSAS(ctx context.Context, txnID id.VerificationTransactionID, emojis []rune, names []string, decimals []int) {
	txn, err := v.store.GetVerificationTransaction(ctx, txnID)
	if err != nil {
		v.b.log.Warn("matrix: verification transaction lost", "err", err)
		return
	}
	text := sasText(english(), emojis, names, decimals)
	v.b.log.Info("matrix: verification emoji", "user", txn.TheirUserID, "sas", strings.ReplaceAll(text, "\n", " "))
	v.b.work(func(ctx context.Context) {
		// Worded here, off the helper's lock: the language is a look-up.
		text := sasText(v.b.userPrinter(ctx, txn.TheirUserID), emojis, names, decimals)
		room := txn.RoomID
		if room == "" {
			r, err := v.b.dmWith(ctx, txn.TheirUserID)
			if err != nil {
				v.b.log.Warn("matrix: no direct chat to show the verification emoji", "err", err)
			}
			room = r
		}
		if room != "" {
			v.b.sendText(ctx, room, text)
		}
		if err := v.vh.ConfirmSAS(ctx, txnID); err != nil {
			v.b.log.Warn("matrix: could not confirm the verification", "err", err)
		}
	})
}

// sasText is what the bot posts while a person verifies it.
func sasText(p *lang.Printer, emojis []rune, names []string, decimals []int) string {
	var b strings.Builder
	if len(emojis) > 0 {
		b.WriteString(p.T("matrix.sas_emoji") + "\n")
		for i, e := range emojis {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteRune(e)
			if i < len(names) {
				b.WriteString(" " + names[i])
			}
		}
	} else {
		b.WriteString(p.T("matrix.sas_numbers") + "\n")
		for i, d := range decimals {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%d", d)
		}
	}
	b.WriteString("\n" + p.T("matrix.sas_confirm"))
	return b.String()
}

// work runs fn off the sync goroutine as tracked work that shutdown waits
// for (bounded by a minute).
func (b *Bot) work(fn func(ctx context.Context)) {
	b.qmu.Lock()
	defer b.qmu.Unlock()
	if b.stopped {
		return
	}
	b.workers.Add(1)
	go func() {
		defer b.workers.Done()
		ctx, cancel := context.WithTimeout(b.workCtx, time.Minute)
		defer cancel()
		fn(ctx)
	}()
}
