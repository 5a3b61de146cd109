//go:build goolm

package matrixfailover

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	_ "modernc.org/sqlite" // the person's own crypto store
)

// person is the human side: an independent Matrix client with its own
// E2EE device (mautrix's cryptohelper over a SQLite file) that creates the
// direct chat, sends encrypted messages and records every event it sees,
// decrypted where it could.
type person struct {
	t      testing.TB
	cli    *mautrix.Client
	helper *cryptohelper.CryptoHelper
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	events []*event.Event
	failed []*event.Event // encrypted events its client could not decrypt
	notify chan struct{}
}

const personPassword = "person-password-1"

func newPerson(t testing.TB, h *homeserver, local string) *person {
	t.Helper()
	h.Register(t, local, personPassword)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
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
	syncer.OnEventType(event.StateMember, record)
	firstSync := make(chan struct{})
	var once sync.Once
	syncer.OnSync(func(context.Context, *mautrix.RespSync, string) bool {
		once.Do(func() { close(firstSync) })
		return true
	})
	path := filepath.Join(t.TempDir(), "person.db")
	db, err := dbutil.NewWithDialect("file:"+path+"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_txlock=immediate", "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	helper, err := cryptohelper.NewCryptoHelper(cli, []byte("person pickle key"), db)
	if err != nil {
		t.Fatal(err)
	}
	helper.DecryptErrorCallback = func(evt *event.Event, _ error) {
		p.mu.Lock()
		p.failed = append(p.failed, evt)
		p.mu.Unlock()
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
	select {
	case <-firstSync:
	case <-time.After(time.Minute):
		t.Fatalf("person %s: first sync did not finish", local)
	}
	return p
}

// personSyncer retries quickly instead of mautrix's flat 10 s.
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

// directChat creates an encrypted trusted private chat with who (which
// gives the bot the power level it needs to redact) and waits until it
// joined.
func (p *person) directChat(who id.UserID) id.RoomID {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := p.cli.CreateRoom(ctx, &mautrix.ReqCreateRoom{
		Preset: "trusted_private_chat", IsDirect: true, Invite: []id.UserID{who},
		InitialState: []*event.Event{{
			Type:    event.StateEncryption,
			Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}},
		}},
	})
	if err != nil {
		p.t.Fatalf("create room: %v", err)
	}
	if _, ok := p.wait(time.Minute, func(evt *event.Event) bool {
		return evt.RoomID == resp.RoomID && evt.Type == event.StateMember && evt.GetStateKey() == who.String() &&
			evt.Content.AsMember().Membership == event.MembershipJoin
	}); !ok {
		p.t.Fatalf("%s did not join the direct chat", who)
	}
	return resp.RoomID
}

// send sends an (encrypted, as the room is) text message.
func (p *person) send(room id.RoomID, text string) id.EventID {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := p.cli.SendMessageEvent(ctx, room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: text})
	if err != nil {
		p.t.Fatalf("send: %v", err)
	}
	return resp.EventID
}

// wait returns the first recorded event that matches, waiting up to
// timeout.
func (p *person) wait(timeout time.Duration, match func(*event.Event) bool) (*event.Event, bool) {
	deadline := time.After(timeout)
	for {
		if evts := p.seen(match); len(evts) > 0 {
			return evts[0], true
		}
		select {
		case <-p.notify:
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			return nil, false
		}
	}
}

// seen returns the recorded events that match, without waiting.
func (p *person) seen(match func(*event.Event) bool) []*event.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(p.events), func(e *event.Event) bool { return !match(e) })
}

// newMegolmSession makes the person's next message in room start a new
// megolm session, which its client shares with the bot's device over olm:
// the bot can read it only with the olm state of that same device.
func (p *person) newMegolmSession(room id.RoomID) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.helper.Machine().CryptoStore.RemoveOutboundGroupSession(ctx, room); err != nil {
		p.t.Fatal(err)
	}
}

// undecryptable returns the encrypted events the person's client could
// not decrypt.
func (p *person) undecryptable() []*event.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.failed)
}

func decrypted(evt *event.Event) bool { return evt.Mautrix.EventSource&event.SourceDecrypted != 0 }
