//go:build goolm

package matrix

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// waitFor bounds every wait in the integration tests.
const waitFor = 45 * time.Second

// person is a second, independent Matrix client with E2EE that plays the
// human side: it creates rooms, sends (encrypted) messages and records
// everything it sees.
type person struct {
	t      testing.TB
	cli    *mautrix.Client
	helper *cryptohelper.CryptoHelper
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	events []*event.Event
	notify chan struct{}
}

const personPassword = "person-password-1"

// newPerson registers a fresh user named like base and logs it in.
func newPerson(t testing.TB, h *homeserver, base string) *person {
	t.Helper()
	local := h.Register(t, base, personPassword)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	cli, err := mautrix.NewClient(h.URL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	cli.Log = zerolog.Nop()
	p := &person{t: t, cli: cli, notify: make(chan struct{}, 1), done: make(chan struct{})}
	syncer := &personSyncer{DefaultSyncer: mautrix.NewDefaultSyncer()}
	cli.Syncer = syncer
	record := func(ctx context.Context, evt *event.Event) {
		// Runs on the sync goroutine: never block here.
		if isInitialSync(ctx) {
			return
		}
		p.mu.Lock()
		p.events = append(p.events, evt)
		p.mu.Unlock()
		select {
		case p.notify <- struct{}{}:
		default:
		}
	}
	syncer.OnEventType(event.EventMessage, record)
	syncer.OnEventType(event.EventRedaction, record)
	syncer.OnEventType(event.StateMember, record)
	firstSync := make(chan struct{})
	var once sync.Once
	syncer.OnSync(func(context.Context, *mautrix.RespSync, string) bool {
		once.Do(func() { close(firstSync) })
		return true
	})
	db, err := openCryptoDB(filepath.Join(t.TempDir(), "person.db"))
	if err != nil {
		t.Fatal(err)
	}
	helper, err := cryptohelper.NewCryptoHelper(cli, []byte("person pickle key"), db)
	if err != nil {
		t.Fatal(err)
	}
	helper.LoginAs = &mautrix.ReqLogin{
		Type:       mautrix.AuthTypePassword,
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: local},
		Password:   personPassword,
	}
	if err := helper.Init(ctx); err != nil {
		t.Fatalf("person %s: crypto init: %v", local, err)
	}
	cli.Crypto = helper
	p.helper = helper
	syncCtx, stop := context.WithCancel(context.Background())
	p.cancel = stop
	go func() {
		defer close(p.done)
		_ = cli.SyncWithContext(syncCtx)
	}()
	t.Cleanup(p.close)
	// Rooms made after the first sync show up in later syncs, which are
	// recorded (the first one is skipped as history).
	select {
	case <-firstSync:
	case <-time.After(waitFor):
		t.Fatalf("person %s: first sync did not finish", local)
	}
	return p
}

// personSyncer retries quickly, so the person survives a homeserver restart
// as fast as the bot does.
type personSyncer struct{ *mautrix.DefaultSyncer }

func (personSyncer) OnFailedSync(_ *mautrix.RespSync, err error) (time.Duration, error) {
	if errors.Is(err, mautrix.MUnknownToken) {
		return 0, err
	}
	return 300 * time.Millisecond, nil
}

func (p *person) close() {
	p.cancel()
	<-p.done
	p.helper.Close()
}

func (p *person) id() id.UserID { return p.cli.UserID }

// room creates a room and invites the others. trusted_private_chat gives
// invitees power level 100, which the bot needs to redact messages.
func (p *person) room(encrypted bool, preset string, invite ...id.UserID) id.RoomID {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	req := &mautrix.ReqCreateRoom{Preset: preset, IsDirect: len(invite) == 1, Invite: invite}
	if encrypted {
		req.InitialState = []*event.Event{{
			Type:    event.StateEncryption,
			Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}},
		}}
	}
	resp, err := p.cli.CreateRoom(ctx, req)
	if err != nil {
		p.t.Fatalf("create room: %v", err)
	}
	return resp.RoomID
}

// waitJoined waits until who has joined room, as this person's client sees it.
func (p *person) waitJoined(room id.RoomID, who id.UserID) {
	p.t.Helper()
	p.waitMembership(room, who, event.MembershipJoin)
}

func (p *person) waitMembership(room id.RoomID, who id.UserID, want event.Membership) {
	p.t.Helper()
	p.wait("membership "+string(want)+" of "+who.String(), func(evt *event.Event) bool {
		return evt.RoomID == room && evt.Type == event.StateMember && evt.GetStateKey() == who.String() &&
			evt.Content.AsMember().Membership == want
	})
}

func (p *person) send(room id.RoomID, text string) id.EventID {
	p.t.Helper()
	return p.sendContent(room, &event.MessageEventContent{MsgType: event.MsgText, Body: text})
}

func (p *person) sendContent(room id.RoomID, content *event.MessageEventContent) id.EventID {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	resp, err := p.cli.SendMessageEvent(ctx, room, event.EventMessage, content)
	if err != nil {
		p.t.Fatalf("send: %v", err)
	}
	return resp.EventID
}

// wait returns the first recorded event that matches, waiting up to waitFor.
func (p *person) wait(what string, match func(*event.Event) bool) *event.Event {
	p.t.Helper()
	deadline := time.After(waitFor)
	for {
		p.mu.Lock()
		i := slices.IndexFunc(p.events, match)
		var evt *event.Event
		if i >= 0 {
			evt = p.events[i]
		}
		p.mu.Unlock()
		if evt != nil {
			return evt
		}
		select {
		case <-p.notify:
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			p.t.Fatalf("%s: timed out waiting for %s", p.id(), what)
		}
	}
}

// seen returns the recorded events that match, without waiting.
func (p *person) seen(match func(*event.Event) bool) []*event.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*event.Event
	for _, e := range p.events {
		if match(e) {
			out = append(out, e)
		}
	}
	return out
}

// replyFrom matches messages from sender in room, sent after the event after
// (so earlier replies do not count).
func replyFrom(room id.RoomID, sender id.UserID, since time.Time) func(*event.Event) bool {
	return func(evt *event.Event) bool {
		if evt.RoomID != room || evt.Sender != sender || evt.Type != event.EventMessage {
			return false
		}
		msg := evt.Content.AsMessage()
		if msg.RelatesTo != nil && msg.RelatesTo.Type == event.RelReplace {
			return false
		}
		return evt.Timestamp >= since.UnixMilli()-1000
	}
}

// redactionOf matches the redaction of target in room.
func redactionOf(room id.RoomID, target id.EventID) func(*event.Event) bool {
	return func(evt *event.Event) bool {
		return evt.RoomID == room && evt.Type == event.EventRedaction &&
			(evt.Redacts == target || evt.Content.AsRedaction().Redacts == target)
	}
}

func decrypted(evt *event.Event) bool { return evt.Mautrix.EventSource&event.SourceDecrypted != 0 }
