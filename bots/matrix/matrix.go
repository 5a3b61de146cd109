//go:build goolm

// Package matrix is authbot's Matrix adapter: an end-to-end-encrypted bot
// over maunium.net/go/mautrix. It is transport only. It logs in, keeps its
// device and olm/megolm state in a SQLite file, joins the DMs that configured
// people open with it, hands every message to the command handler and
// renders the replies as Matrix messages.
//
// Crypto is mautrix's pure-Go olm ("goolm" build tag) and the SQLite driver is
// modernc.org/sqlite, so the package builds with CGO_ENABLED=0. Every file
// here carries the goolm tag: without it mautrix would need libolm via cgo.
package matrix

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	_ "modernc.org/sqlite" // pure-Go SQLite, registers database/sql driver "sqlite"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/outbox"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/storage/datadir"
)

// Platform is the Request.Platform this adapter sets.
const Platform = "matrix"

// Handler is what the adapter needs from bots/commands.
type Handler interface {
	Handle(ctx context.Context, req commands.Request) []commands.Reply
}

// Config is everything the bot needs. Who a Matrix user is comes from the
// Handler's people directory (commands.Directory), never from here: the
// person it names becomes Request.Person, so a person with both a Telegram
// and a Matrix identity sees the same accounts.
type Config struct {
	Homeserver string
	UserID     id.UserID
	// Password logs in at every start, reusing the device id kept in the
	// crypto store. AccessToken (with DeviceID, or looked up by whoami) is
	// the alternative. Neither is ever written to disk by the adapter.
	Password    string
	AccessToken string
	DeviceID    id.DeviceID
	// StateDir holds crypto.db (olm account, sessions, device lists, sync
	// token, room state). A pending.json left there by an older version
	// (replies still to be redacted) is moved into the outbox at start-up.
	StateDir string
	// CryptoDB, if set, opens the crypto store instead of StateDir's
	// crypto.db: with storage.driver postgres authbot keeps it in the same
	// database, so a standby on another machine takes over as the same
	// device with the same keys.
	CryptoDB func() (*dbutil.Database, error)
	// PickleKey encrypts the olm and megolm pickles in crypto.db. It must
	// stay the same across restarts; authbot derives it from the master key.
	PickleKey []byte
	// CrossSigningKey (32 bytes) seals the bot's cross-signing private keys
	// in StateDir (crosssign.go); authbot derives it from the master key.
	// Without it the bot is not cross-signed (Element shows a red shield).
	// With an access token only, Password may still be set: it is then used
	// only for the one upload of the cross-signing keys.
	CrossSigningKey []byte
	// PrevCrossSigningKey is the key CrossSigningKey replaced at a master
	// key rotation, while the sealed copies may still be under it: they
	// are opened with it once, sealed again under CrossSigningKey (file and
	// account data), and then CrossSigningRekeyed lets authbot forget it.
	PrevCrossSigningKey []byte
	CrossSigningRekeyed func(context.Context) error
	// Elsewhere, if set, is asked to deliver a reply for a person with no
	// Matrix identity (an approval request for an admin who is only on
	// Telegram); it reports whether it did.
	Elsewhere func(ctx context.Context, r commands.Reply) bool
	// Handler answers requests; when it is also a commands.Directory (as
	// *commands.Handler is), it says who every sender is: config users and
	// people added at runtime. A Handler that is no Directory serves nobody.
	Handler Handler
	// Outbox keeps the scheduled redactions and edits and the redaction
	// of secret-bearing messages (required; Platform "matrix").
	Outbox *outbox.Outbox
	Log    *slog.Logger
	Clock  core.Clock
	// Metrics, if set, counts the messages the bot could not decrypt.
	Metrics DecryptObserver
	// Health, if set, is told when a sync worked or failed (/healthz:
	// Matrix syncing, and when).
	Health HealthReporter
	// Skew, if set, gets every new message's origin_server_ts to compare
	// the server's clock with the homeserver's.
	Skew ClockSampler
	// DeviceName is shown to people in their device lists.
	DeviceName string
	// RetryMin and RetryMax bound the back-off between failed syncs and
	// failed start-ups (defaults 1 s and 30 s).
	RetryMin, RetryMax time.Duration
}

// Errors a person running the bot must be told about.
var (
	// ErrMismatchedDevice means the crypto store belongs to another device
	// than the access token's: use the device id the store was made with,
	// or move the store away to start over as a new device.
	ErrMismatchedDevice = errors.New("the access token is for another device than the stored Matrix crypto state")
)

// Bot is one running Matrix bot. Create it with New and start it with Run.
type Bot struct {
	cfg Config
	log *slog.Logger
	// xsUnderPrev: the cross-signing keys just opened were sealed under
	// Config.PrevCrossSigningKey (setupCrossSigning seals them again).
	xsUnderPrev bool

	cli     *mautrix.Client
	helper  *cryptohelper.CryptoHelper
	outbox  *outbox.Outbox
	sync    *syncer
	choices *choices
	notices *noticeLimiter
	started time.Time // wall time of Run: older undecryptable events get no notice

	workCtx context.Context // outlives Run's ctx for a grace period, so in-flight replies finish
	// handleEvent serves one message: b.handle (tests put in their own).
	handleEvent func(ctx context.Context, evt *event.Event)

	qmu      sync.Mutex
	queues   map[id.RoomID]chan *event.Event
	stopping chan struct{}
	stopped  bool
	workers  sync.WaitGroup
	joinOnce sync.Map // room id -> struct{}: joins/leaves in flight
	// dmMu serialises finding or creating direct chats (people.go), so two
	// replies for one person at once do not open two rooms.
	dmMu sync.Mutex

	ready     chan struct{} // closed after the first successful sync
	readyOnce sync.Once
}

// New checks cfg and prepares a bot; it does no I/O.
func New(cfg Config) (*Bot, error) {
	switch {
	case cfg.Homeserver == "":
		return nil, errors.New("matrix: homeserver is required")
	case cfg.UserID == "":
		return nil, errors.New("matrix: user id is required")
	case cfg.Password == "" && cfg.AccessToken == "":
		return nil, errors.New("matrix: a password or an access token is required")
	case cfg.StateDir == "":
		return nil, errors.New("matrix: state dir is required")
	case len(cfg.PickleKey) < 16:
		return nil, errors.New("matrix: pickle key must be at least 16 bytes")
	case cfg.Handler == nil:
		return nil, errors.New("matrix: handler is required")
	case cfg.Outbox == nil:
		return nil, errors.New("matrix: outbox is required")
	}
	if _, _, err := cfg.UserID.Parse(); err != nil {
		return nil, fmt.Errorf("matrix: user id %q: %w", cfg.UserID, err)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = core.SystemClock{}
	}
	if cfg.DeviceName == "" {
		cfg.DeviceName = "authbot"
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = time.Second
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(30*time.Second, cfg.RetryMin)
	}
	b := &Bot{
		cfg:      cfg,
		log:      cfg.Log,
		outbox:   cfg.Outbox,
		queues:   map[id.RoomID]chan *event.Event{},
		choices:  newChoices(),
		notices:  newNoticeLimiter(),
		stopping: make(chan struct{}),
		ready:    make(chan struct{}),
	}
	b.handleEvent = b.handle
	return b, nil
}

// shutdownGrace is how long in-flight replies may take after Run's context
// is done before their requests are cancelled too.
const shutdownGrace = 15 * time.Second

// Run logs in, syncs and serves until ctx is done, then finishes in-flight
// work and closes the crypto store. It retries start-up and sync with
// back-off while the homeserver cannot be reached; it returns an error for
// what retrying cannot fix (wrong password, mismatched device, bad store).
func (b *Bot) Run(ctx context.Context) error {
	if err := os.MkdirAll(b.cfg.StateDir, 0o700); err != nil {
		return fmt.Errorf("matrix: create state dir: %w", err)
	}
	// The directory may predate us with looser rights; the crypto DB inside
	// holds room state and device lists in plaintext.
	if err := os.Chmod(b.cfg.StateDir, 0o700); err != nil {
		return fmt.Errorf("matrix: protect state dir: %w", err)
	}
	b.started = time.Now()
	// An older version kept its redactions in pending.json: move them
	// into the outbox once, before anything else, so an upgrade loses none.
	if err := migratePending(ctx, filepath.Join(b.cfg.StateDir, pendingFile), b.outbox, b.log); err != nil {
		return err
	}
	if err := b.start(ctx); err != nil {
		return err
	}
	defer b.helper.Close()

	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	b.workCtx = workCtx

	// The outbox stops with ctx; what has not run stays stored.
	schedDone := make(chan struct{})
	go func() {
		defer close(schedDone)
		b.outbox.Run(ctx, b.runJob)
	}()

	syncErr := b.syncLoop(ctx)

	// Shutdown: no new work, let the running work finish (bounded).
	b.qmu.Lock()
	b.stopped = true
	close(b.stopping)
	b.qmu.Unlock()
	done := make(chan struct{})
	go func() { b.workers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(shutdownGrace):
		cancelWork()
		<-done
	}
	<-schedDone
	if syncErr != nil && !errors.Is(syncErr, context.Canceled) {
		return syncErr
	}
	return nil
}

// start creates the client and the crypto machinery, retrying while the
// homeserver is unreachable.
func (b *Bot) start(ctx context.Context) error {
	delay := b.cfg.RetryMin
	for {
		err := b.login(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() == nil {
			b.failed("login")
		}
		if !retryable(err) {
			return err
		}
		b.log.Warn("matrix: homeserver not reachable, retrying", "err", err, "in", delay)
		select {
		case <-ctx.Done():
			return fmt.Errorf("matrix: start: %w", ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, b.cfg.RetryMax)
	}
}

func (b *Bot) login(ctx context.Context) (err error) {
	defer func() {
		if err != nil && b.helper != nil { // got as far as opening the DB
			b.helper.Close()
			b.helper = nil
		}
	}()
	cli, err := mautrix.NewClient(b.cfg.Homeserver, "", "")
	if err != nil {
		return fmt.Errorf("matrix: homeserver: %w", err)
	}
	cli.Log = zerologTo(b.log)
	b.sync = newSyncer(b)
	cli.Syncer = b.sync
	b.cli = cli

	if b.cfg.AccessToken != "" {
		cli.UserID = b.cfg.UserID
		cli.AccessToken = b.cfg.AccessToken
		cli.DeviceID = b.cfg.DeviceID
		who, err := cli.Whoami(ctx)
		if err != nil {
			return fmt.Errorf("matrix: check access token: %w", err)
		}
		if who.UserID != b.cfg.UserID {
			return fmt.Errorf("matrix: the access token belongs to %s, not to user_id %s", who.UserID, b.cfg.UserID)
		}
		if cli.DeviceID == "" {
			cli.DeviceID = who.DeviceID
		} else if who.DeviceID != "" && who.DeviceID != cli.DeviceID {
			return fmt.Errorf("matrix: the access token is for device %s, not device_id %s", who.DeviceID, cli.DeviceID)
		}
		if cli.DeviceID == "" {
			return errors.New("matrix: the homeserver did not say which device the access token is for; set matrix.device_id")
		}
	}

	open := func() (*dbutil.Database, error) {
		return openCryptoDB(filepath.Join(b.cfg.StateDir, datadir.CryptoDBName))
	}
	if b.cfg.CryptoDB != nil {
		open = b.cfg.CryptoDB
	}
	db, err := open()
	if err != nil {
		return fmt.Errorf("matrix: open crypto store: %w", err)
	}
	helper, err := cryptohelper.NewCryptoHelper(cli, b.cfg.PickleKey, db)
	if err != nil {
		db.Close()
		return fmt.Errorf("matrix: crypto: %w", err)
	}
	b.helper = helper
	if b.cfg.AccessToken == "" {
		// The helper logs in with the device id found in the crypto store,
		// so every start is the same device with the same keys.
		helper.LoginAs = b.passwordLogin()
	}
	helper.DecryptErrorCallback = b.onUndecryptable
	if err := helper.Init(ctx); err != nil {
		if errors.Is(err, mautrix.MForbidden) {
			return fmt.Errorf("matrix: log in as %s: the homeserver refused the password: %w", b.cfg.UserID, err)
		}
		if b.cfg.AccessToken != "" && isDeviceMismatch(err) {
			return fmt.Errorf("matrix: %w (%v)", ErrMismatchedDevice, err)
		}
		return fmt.Errorf("matrix: crypto init: %w", err)
	}
	cli.Crypto = helper
	if err := b.setupCrossSigning(ctx); err != nil {
		switch {
		case errors.Is(err, ErrCrossSigningNeedsPassword):
			b.log.Warn("matrix: the bot is not cross-signed, so Element marks its messages with a red shield: " +
				"the homeserver wants the account password once to publish the bot's keys; start authbot once with " +
				"matrix.password (or AUTHBOT_MATRIX_PASSWORD) set beside the access token")
		case retryable(err):
			return err
		default:
			b.log.Warn("matrix: the bot is not cross-signed (Element marks its messages with a red shield)", "err", err)
		}
	}
	if err := b.startVerification(ctx); err != nil {
		return err
	}
	if err := protectFiles(b.cfg.StateDir); err != nil {
		return err
	}
	b.log.Info("matrix: logged in", "user", cli.UserID, "device", cli.DeviceID)
	return nil
}

func (b *Bot) passwordLogin() *mautrix.ReqLogin {
	return &mautrix.ReqLogin{
		Type:                     mautrix.AuthTypePassword,
		Identifier:               mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: string(b.cfg.UserID)},
		Password:                 b.cfg.Password,
		InitialDeviceDisplayName: b.cfg.DeviceName,
	}
}

// relogin gets a new access token for the same device after the homeserver
// dropped the old one (M_UNKNOWN_TOKEN).
func (b *Bot) relogin(ctx context.Context) error {
	if b.cfg.Password == "" {
		return errors.New("matrix: the homeserver no longer accepts the access token; set a new one")
	}
	req := b.passwordLogin()
	req.DeviceID = b.cli.DeviceID
	req.StoreCredentials = true
	if _, err := b.cli.Login(ctx, req); err != nil {
		return fmt.Errorf("matrix: log in again: %w", err)
	}
	return nil
}

// openCryptoDB opens the SQLite file that holds all E2EE state. The pragmas
// mirror mautrix's own cgo-only "sqlite3-fk-wal" driver: foreign keys on,
// WAL, a busy timeout and immediate write transactions.
func openCryptoDB(path string) (*dbutil.Database, error) {
	// Create it 0600 before SQLite does (SQLite would use the umask).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	f.Close()
	uri := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)&_txlock=immediate"
	return dbutil.NewWithDialect(uri, "sqlite")
}

// protectFiles makes every file in the state dir (the DB and its WAL and
// shared-memory files) readable by the owner only.
func protectFiles(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("matrix: state dir: %w", err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			if err := os.Chmod(filepath.Join(dir, e.Name()), 0o600); err != nil {
				return fmt.Errorf("matrix: protect %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}
