//go:build goolm

package matrix

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mau.fi/util/jsontime"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/verificationhelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/authbot/authbot/bots/matrix/matrixtest"
	"github.com/authbot/authbot/core/seal"
)

// TestBotIsCrossSigned: on its first start the bot publishes cross-signing
// keys and signs its device, so another client sees the device as
// cross-signed by its owner (no red shield); a restart reuses the sealed
// keys; and a person can verify the bot by emoji.
func TestBotIsCrossSigned(t *testing.T) {
	h := needHomeserver(t)
	t.Parallel()
	alice := matrixtest.NewPerson(t, h, "alice")
	cfg := botConfig(t, h, new(fakeHandler).serve(alice.ID(), "alice"))
	bot := startBot(t, cfg)
	ctx := context.Background()

	master := publishedMaster(t, alice.Cli, bot.id())
	if master == "" {
		t.Fatal("the bot published no cross-signing master key")
	}
	trust := deviceTrust(t, alice, bot.id(), bot.bot.cli.DeviceID)
	if trust < id.TrustStateCrossSignedUntrusted {
		t.Fatalf("alice sees the bot's device as %s, want it cross-signed by its owner", trust)
	}
	sealed, err := os.ReadFile(filepath.Join(cfg.StateDir, crossSigningFile))
	if err != nil {
		t.Fatal(err)
	}
	if seeds := bot.bot.helper.Machine().ExportCrossSigningKeys(); strings.Contains(string(sealed), string(seeds.MasterKey)) {
		t.Fatal("the cross-signing seed is stored in the clear")
	}

	// Restart: same master key (the sealed one), device still signed.
	bot.stop()
	bot = startBot(t, cfg)
	if got := publishedMaster(t, alice.Cli, bot.id()); got != master {
		t.Errorf("master key after restart = %s, want %s", got, master)
	}
	// A state dir without the file (a standby elsewhere, a lost dir) gets
	// the same identity back from the sealed copy in account data.
	bot.stop()
	if err := os.Remove(filepath.Join(cfg.StateDir, crossSigningFile)); err != nil {
		t.Fatal(err)
	}
	bot = startBot(t, cfg)
	if got := publishedMaster(t, alice.Cli, bot.id()); got != master {
		t.Errorf("master key after losing the sealed file = %s, want %s", got, master)
	}

	// A master key rotation changes the sealing key: the next start opens
	// both copies with the previous key once, seals them again under the
	// new one, and only then lets authbot forget the old key. Afterwards
	// the new key alone opens the file and the account data.
	want := bot.bot.helper.Machine().ExportCrossSigningKeys().MasterKey
	holds := func(when string) {
		t.Helper()
		if bot.bot.helper.Machine().CrossSigningKeys == nil {
			t.Fatalf("%s the bot holds no cross-signing keys", when)
		}
		if got := bot.bot.helper.Machine().ExportCrossSigningKeys().MasterKey; len(want) == 0 || !bytes.Equal(got, want) {
			t.Errorf("%s the bot does not hold its cross-signing keys", when)
		}
	}
	bot.stop()
	newKey := make([]byte, seal.KeySize)
	if _, err := rand.Read(newKey); err != nil {
		t.Fatal(err)
	}
	rekeyed := 0
	cfg.PrevCrossSigningKey, cfg.CrossSigningKey = cfg.CrossSigningKey, newKey
	cfg.CrossSigningRekeyed = func(context.Context) error { rekeyed++; return nil }
	bot = startBot(t, cfg)
	if got := publishedMaster(t, alice.Cli, bot.id()); got != master {
		t.Errorf("master key after a rotation = %s, want %s", got, master)
	}
	holds("after a rotation")
	if rekeyed != 1 {
		t.Fatalf("the old cross-signing key was forgotten %d times, want once after re-sealing", rekeyed)
	}
	bot.stop()
	cfg.PrevCrossSigningKey, cfg.CrossSigningRekeyed = nil, nil
	if err := os.Remove(filepath.Join(cfg.StateDir, crossSigningFile)); err != nil {
		t.Fatal(err)
	}
	bot = startBot(t, cfg) // only the account data is left, and only the new key
	if got := publishedMaster(t, alice.Cli, bot.id()); got != master {
		t.Errorf("master key from account data after a rotation = %s, want %s", got, master)
	}
	holds("from account data after a rotation")

	// Emoji verification from alice's side, as Element does it in the DM.
	room := alice.Room(true, "trusted_private_chat", bot.id())
	alice.WaitJoined(room, bot.id())
	cb := newSASPerson()
	store := &lockedStore{inner: verificationhelper.NewInMemoryVerificationStore()}
	vh := verificationhelper.NewVerificationHelper(alice.Cli, alice.Machine(), store, cb, false, false, true)
	if err := initVerification(ctx, alice.Cli, alice.Cli.Syncer.(mautrix.ExtensibleSyncer), vh); err != nil {
		t.Fatal(err)
	}
	// alice needs cross-signing keys of her own to trust the bot's identity.
	// mautrix v0.32 resets its cache of the user's own cross-signing keys
	// from the sync goroutine (FetchKeys) without a lock while a send reads
	// it, which the race detector reports; so alice sends only after her
	// sync has taken in her own new keys (sync handlers run in order, this
	// one after the crypto machine's).
	ownKeys := make(chan struct{}, 1)
	alice.Cli.Syncer.(mautrix.ExtensibleSyncer).OnSync(func(_ context.Context, resp *mautrix.RespSync, _ string) bool {
		if slices.Contains(resp.DeviceLists.Changed, alice.ID()) {
			select {
			case ownKeys <- struct{}{}:
			default:
			}
		}
		return true
	})
	if _, _, err := alice.Machine().GenerateAndUploadCrossSigningKeysWithPassword(ctx, matrixtest.PersonPassword, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ownKeys:
	case <-time.After(15 * time.Second):
		t.Log("no device list change for alice's own keys within 15 s; going on")
	}
	since := time.Now()
	txn := startInRoomVerification(t, alice, store, room, bot.id())
	cb.wait(t, "ready", cb.ready)
	if err := vh.StartSAS(ctx, txn); err != nil {
		t.Fatal(err)
	}
	emojis := cb.wait(t, "the emoji", cb.sas)
	shown := alice.Wait("the bot's emoji message", func(evt *event.Event) bool {
		return replyFrom(room, bot.id(), since)(evt) && strings.HasPrefix(evt.Content.AsMessage().Body, "Verifying")
	})
	if !strings.Contains(shown.Content.AsMessage().Body, emojis) {
		t.Fatalf("the bot showed %q, alice's side computed %q", shown.Content.AsMessage().Body, emojis)
	}
	if err := vh.ConfirmSAS(ctx, txn); err != nil {
		t.Fatal(err)
	}
	cb.wait(t, "done", cb.done)
	trusted, err := alice.Machine().IsUserTrusted(ctx, bot.id())
	if err != nil || !trusted {
		t.Errorf("after verification alice does not trust the bot: %v %v", trusted, err)
	}
}

// startInRoomVerification sends the request as Element does. mautrix's own
// StartInRoomVerification encrypts the request and then has SendMessageEvent
// encrypt it again (v0.32), which no client can read.
func startInRoomVerification(t *testing.T, p *person, store verificationhelper.VerificationStore, room id.RoomID, to id.UserID) id.VerificationTransactionID {
	t.Helper()
	ctx := context.Background()
	resp, err := p.Cli.SendMessageEvent(ctx, room, event.EventMessage, &event.MessageEventContent{
		MsgType:    event.MsgVerificationRequest,
		Body:       "verification request",
		FromDevice: p.Cli.DeviceID,
		Methods:    []event.VerificationMethod{event.VerificationMethodSAS},
		To:         to,
	})
	if err != nil {
		t.Fatal(err)
	}
	txn := id.VerificationTransactionID(resp.EventID)
	err = store.SaveVerificationTransaction(ctx, verificationhelper.VerificationTransaction{
		ExpirationTime:    jsontime.UnixMilli{Time: time.Now().Add(10 * time.Minute)},
		RoomID:            room,
		VerificationState: verificationhelper.VerificationStateRequested,
		TransactionID:     txn,
		TheirUserID:       to,
	})
	if err != nil {
		t.Fatal(err)
	}
	return txn
}

func publishedMaster(t *testing.T, cli *mautrix.Client, user id.UserID) id.Ed25519 {
	t.Helper()
	resp, err := cli.QueryKeys(context.Background(), &mautrix.ReqQueryKeys{DeviceKeys: mautrix.DeviceKeysRequest{user: mautrix.DeviceIDList{}}})
	if err != nil {
		t.Fatal(err)
	}
	mk := resp.MasterKeys[user]
	return mk.FirstKey()
}

func deviceTrust(t *testing.T, p *person, user id.UserID, device id.DeviceID) id.TrustState {
	t.Helper()
	ctx := context.Background()
	mach := p.Machine()
	if _, err := mach.FetchKeys(ctx, []id.UserID{user}, true); err != nil {
		t.Fatal(err)
	}
	d, err := mach.GetOrFetchDevice(ctx, user, device)
	if err != nil {
		t.Fatal(err)
	}
	trust, err := mach.ResolveTrustContext(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	return trust
}

// sasPerson is the person's side of an emoji verification.
type sasPerson struct {
	ready, sas, done chan string
}

func newSASPerson() *sasPerson {
	return &sasPerson{ready: make(chan string, 1), sas: make(chan string, 1), done: make(chan string, 1)}
}

func (s *sasPerson) wait(t *testing.T, what string, c chan string) string {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(waitFor):
		t.Fatalf("verification: no %s", what)
		return ""
	}
}

func (s *sasPerson) VerificationRequested(context.Context, id.VerificationTransactionID, id.UserID, id.DeviceID) {
}

func (s *sasPerson) VerificationReady(context.Context, id.VerificationTransactionID, id.DeviceID, bool, bool, *verificationhelper.QRCode) {
	s.ready <- "ready"
}

func (s *sasPerson) VerificationCancelled(_ context.Context, _ id.VerificationTransactionID, code event.VerificationCancelCode, reason string) {
	s.done <- "cancelled " + string(code) + ": " + reason
}

func (s *sasPerson) VerificationDone(context.Context, id.VerificationTransactionID, event.VerificationMethod) {
	s.done <- "done"
}

func (s *sasPerson) ShowSAS(_ context.Context, _ id.VerificationTransactionID, emojis []rune, _ []string, _ []int) {
	s.sas <- string(emojis[:1])
}

// lockedStore is the in-memory verification store made safe for the test's
// goroutine beside the sync goroutine (the helper locks only its own calls).
type lockedStore struct {
	mu    sync.Mutex
	inner *verificationhelper.InMemoryVerificationStore
}

func (s *lockedStore) DeleteVerification(ctx context.Context, txn id.VerificationTransactionID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.DeleteVerification(ctx, txn)
}

func (s *lockedStore) GetVerificationTransaction(ctx context.Context, txn id.VerificationTransactionID) (verificationhelper.VerificationTransaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.GetVerificationTransaction(ctx, txn)
}

func (s *lockedStore) SaveVerificationTransaction(ctx context.Context, txn verificationhelper.VerificationTransaction) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.SaveVerificationTransaction(ctx, txn)
}

func (s *lockedStore) FindVerificationTransactionForUserDevice(ctx context.Context, user id.UserID, device id.DeviceID) (verificationhelper.VerificationTransaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.FindVerificationTransactionForUserDevice(ctx, user, device)
}

func (s *lockedStore) GetAllVerificationTransactions(ctx context.Context) ([]verificationhelper.VerificationTransaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.GetAllVerificationTransactions(ctx)
}
