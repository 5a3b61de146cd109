//go:build goolm

package matrixtest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/crypto/attachment"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	_ "modernc.org/sqlite" // the person's own crypto store (driver "sqlite")
)

// WaitFor bounds Person.Wait and each call a Person makes to the
// homeserver: long enough for a loaded CI machine, short enough that a
// hang fails the test.
const WaitFor = 45 * time.Second

// Person is the human side of a Matrix test: an independent client with
// its own E2EE device (mautrix's cryptohelper over a SQLite file in the
// test's temp dir) that creates rooms, sends (encrypted) messages and
// records every message, redaction and membership event it sees after its
// first sync, decrypted where it could. bots/matrix's tests and the
// PostgreSQL failover test both talk to the bot through it.
type Person struct {
	t      testing.TB
	Cli    *mautrix.Client
	helper *cryptohelper.CryptoHelper
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	events []*event.Event
	failed []*event.Event // encrypted events its client could not decrypt
	notify chan struct{}
}

// PersonPassword is every Person's account password.
const PersonPassword = "person-password-1"

// NewPerson registers a fresh user named like base (see Register), logs
// it in with a new device and syncs until the test ends.
func NewPerson(t testing.TB, h *Homeserver, base string) *Person {
	t.Helper()
	local := h.Register(t, base, PersonPassword)
	ctx, cancel := context.WithTimeout(context.Background(), WaitFor)
	defer cancel()
	cli, err := mautrix.NewClient(h.URL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	cli.Log = zerolog.Nop()
	p := &Person{t: t, Cli: cli, notify: make(chan struct{}, 1), done: make(chan struct{})}
	syncer := &personSyncer{DefaultSyncer: mautrix.NewDefaultSyncer()}
	cli.Syncer = syncer
	record := func(ctx context.Context, evt *event.Event) {
		// Runs on the sync goroutine: never block here.
		if since, _ := ctx.Value(mautrix.SyncTokenContextKey).(string); since == "" {
			return // the first sync is history
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
	db, err := openDB(filepath.Join(t.TempDir(), "person.db"))
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
		Password:   PersonPassword,
	}
	if err := helper.Init(ctx); err != nil {
		t.Fatalf("person %s: crypto init: %v", local, err)
	}
	helper.DecryptErrorCallback = func(evt *event.Event, _ error) {
		p.mu.Lock()
		p.failed = append(p.failed, evt)
		p.mu.Unlock()
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
	case <-time.After(WaitFor):
		t.Fatalf("person %s: first sync did not finish", local)
	}
	return p
}

// openDB opens the person's crypto store, created 0600 first (SQLite
// would follow the umask).
func openDB(path string) (*dbutil.Database, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	f.Close()
	return dbutil.NewWithDialect("file:"+path+"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_txlock=immediate", "sqlite")
}

// personSyncer retries quickly instead of mautrix's flat 10 s, so the
// person survives a homeserver restart as fast as the bot does.
type personSyncer struct{ *mautrix.DefaultSyncer }

func (personSyncer) OnFailedSync(_ *mautrix.RespSync, err error) (time.Duration, error) {
	if errors.Is(err, mautrix.MUnknownToken) {
		return 0, err
	}
	return 300 * time.Millisecond, nil
}

func (p *Person) close() {
	p.cancel()
	<-p.done
	p.helper.Close()
}

// ID is the person's Matrix user id.
func (p *Person) ID() id.UserID { return p.Cli.UserID }

// Room creates a room and invites the others (a direct chat when there
// is one). trusted_private_chat gives invitees power level 100, which the
// bot needs to redact messages.
func (p *Person) Room(encrypted bool, preset string, invite ...id.UserID) id.RoomID {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitFor)
	defer cancel()
	req := &mautrix.ReqCreateRoom{Preset: preset, IsDirect: len(invite) == 1, Invite: invite}
	if encrypted {
		req.InitialState = []*event.Event{{
			Type:    event.StateEncryption,
			Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}},
		}}
	}
	resp, err := p.Cli.CreateRoom(ctx, req)
	if err != nil {
		p.t.Fatalf("create room: %v", err)
	}
	return resp.RoomID
}

// DirectChat creates an encrypted trusted private chat with who and
// waits until who joined it.
func (p *Person) DirectChat(who id.UserID) id.RoomID {
	p.t.Helper()
	room := p.Room(true, "trusted_private_chat", who)
	p.WaitJoined(room, who)
	return room
}

// InvitedTo waits for an invite from by and joins that room.
func (p *Person) InvitedTo(by id.UserID) id.RoomID {
	p.t.Helper()
	evt := p.Wait("an invite from "+by.String(), func(evt *event.Event) bool {
		return evt.Type == event.StateMember && evt.GetStateKey() == p.ID().String() &&
			evt.Sender == by && evt.Content.AsMember().Membership == event.MembershipInvite
	})
	ctx, cancel := context.WithTimeout(context.Background(), WaitFor)
	defer cancel()
	if _, err := p.Cli.JoinRoomByID(ctx, evt.RoomID); err != nil {
		p.t.Fatalf("join: %v", err)
	}
	return evt.RoomID
}

// WaitJoined waits until who has joined room, as this person's client
// sees it.
func (p *Person) WaitJoined(room id.RoomID, who id.UserID) {
	p.t.Helper()
	p.WaitMembership(room, who, event.MembershipJoin)
}

// WaitMembership waits until who's membership of room is want.
func (p *Person) WaitMembership(room id.RoomID, who id.UserID, want event.Membership) {
	p.t.Helper()
	p.Wait("membership "+string(want)+" of "+who.String(), func(evt *event.Event) bool {
		return evt.RoomID == room && evt.Type == event.StateMember && evt.GetStateKey() == who.String() &&
			evt.Content.AsMember().Membership == want
	})
}

// Send sends a text message (encrypted when the room is).
func (p *Person) Send(room id.RoomID, text string) id.EventID {
	p.t.Helper()
	return p.SendContent(room, &event.MessageEventContent{MsgType: event.MsgText, Body: text})
}

// SendContent sends a message event (encrypted when the room is).
func (p *Person) SendContent(room id.RoomID, content *event.MessageEventContent) id.EventID {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitFor)
	defer cancel()
	resp, err := p.Cli.SendMessageEvent(ctx, room, event.EventMessage, content)
	if err != nil {
		p.t.Fatalf("send: %v", err)
	}
	return resp.EventID
}

// SendImage sends image (PNG bytes) as an end-to-end encrypted file named
// name, as Element sends a screenshot to an encrypted room.
func (p *Person) SendImage(room id.RoomID, name string, image []byte) id.EventID {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitFor)
	defer cancel()
	ef := attachment.NewEncryptedFile()
	sealed := append([]byte(nil), image...)
	ef.EncryptInPlace(sealed)
	up, err := p.Cli.UploadBytes(ctx, sealed, "application/octet-stream")
	if err != nil {
		p.t.Fatalf("upload: %v", err)
	}
	return p.SendContent(room, &event.MessageEventContent{
		MsgType: event.MsgImage, Body: name, FileName: name,
		Info: &event.FileInfo{MimeType: "image/png", Size: len(image)},
		File: &event.EncryptedFileInfo{EncryptedFile: *ef, URL: up.ContentURI.CUString()},
	})
}

// Wait returns the first recorded event that matches, failing the test
// (saying it waited for what) after WaitFor.
func (p *Person) Wait(what string, match func(*event.Event) bool) *event.Event {
	p.t.Helper()
	evt, ok := p.WaitUpTo(WaitFor, match)
	if !ok {
		p.t.Fatalf("%s: timed out waiting for %s", p.ID(), what)
	}
	return evt
}

// WaitUpTo returns the first recorded event that matches, waiting up to
// timeout; ok is false when none came.
func (p *Person) WaitUpTo(timeout time.Duration, match func(*event.Event) bool) (evt *event.Event, ok bool) {
	return p.waitIn(timeout, func(events []*event.Event) *event.Event {
		if i := slices.IndexFunc(events, match); i >= 0 {
			return events[i]
		}
		return nil
	})
}

// After returns the first recorded event past the one with id after that
// matches, failing the test after WaitFor: the answer to that message,
// not to an earlier one.
func (p *Person) After(what string, after id.EventID, match func(*event.Event) bool) *event.Event {
	p.t.Helper()
	evt, ok := p.waitIn(WaitFor, func(events []*event.Event) *event.Event {
		i := slices.IndexFunc(events, func(e *event.Event) bool { return e.ID == after })
		if i < 0 {
			return nil
		}
		if j := slices.IndexFunc(events[i+1:], match); j >= 0 {
			return events[i+1+j]
		}
		return nil
	})
	if !ok {
		p.t.Fatalf("%s: timed out waiting for %s", p.ID(), what)
	}
	return evt
}

// waitIn waits up to timeout until find picks an event from what was
// recorded so far (in the order seen).
func (p *Person) waitIn(timeout time.Duration, find func([]*event.Event) *event.Event) (*event.Event, bool) {
	deadline := time.After(timeout)
	for {
		if evt := find(p.recorded()); evt != nil {
			return evt, true
		}
		select {
		case <-p.notify:
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			return nil, false
		}
	}
}

// recorded is a copy of the events recorded so far.
func (p *Person) recorded() []*event.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.events)
}

// Seen returns the recorded events that match, without waiting.
func (p *Person) Seen(match func(*event.Event) bool) []*event.Event {
	return slices.DeleteFunc(p.recorded(), func(e *event.Event) bool { return !match(e) })
}

// Machine is the person's E2EE machine (cross-signing, trust, key
// sharing rules).
func (p *Person) Machine() *crypto.OlmMachine { return p.helper.Machine() }

// NewMegolmSession makes the person's next message in room start a new
// megolm session, which its client shares with the bot's device over olm:
// the bot can read it only with the olm state of that same device.
func (p *Person) NewMegolmSession(room id.RoomID) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.helper.Machine().CryptoStore.RemoveOutboundGroupSession(ctx, room); err != nil {
		p.t.Fatal(err)
	}
}

// Undecryptable returns the encrypted events the person's client could
// not decrypt.
func (p *Person) Undecryptable() []*event.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.failed)
}

// Decrypted reports whether evt reached the client end-to-end encrypted
// (and was decrypted).
func Decrypted(evt *event.Event) bool { return evt.Mautrix.EventSource&event.SourceDecrypted != 0 }
