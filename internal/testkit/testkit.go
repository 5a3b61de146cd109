// Package testkit is the one test rig of authbot: core's service over a
// real bbolt file in a test's temporary directory with a fresh sealed
// master key, the fake clock, the command handler with options, and the
// chat transcript runner (transcript.go). Before it, eight test packages
// each built the same rig and six declared their own clock.
//
// Only tests import it (and test-helper packages such as bots/web/webtest);
// TestOnlyTestsImportTestkit keeps it that way.
package testkit

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/bots/outbox"
	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/otp"
	"github.com/authbot/authbot/core/seal"
	"github.com/authbot/authbot/internal/testkit/fakeclock"
	"github.com/authbot/authbot/storage/bolt"
)

// Clock is the fake clock (fakeclock.Clock): Now, Set, Advance, After.
type Clock = fakeclock.Clock

// NewClock returns a fake clock that reads t until it is moved.
func NewClock(t time.Time) *Clock { return fakeclock.New(t) }

// DefaultStart is where a kit's clock starts unless Options.Start says
// otherwise: a fixed instant, so codes are the same on every run.
func DefaultStart() time.Time { return time.Unix(1_800_000_000, 0) }

// Key returns a new random master key.
func Key(tb testing.TB) seal.Key {
	tb.Helper()
	key, err := seal.NewKey()
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

// Bolt opens (creating it when absent) the bbolt file at path, "" meaning
// a new authbot.db in tb's temporary directory; it is closed when the
// test ends (closing it earlier, to reopen it, is fine).
func Bolt(tb testing.TB, path string) *bolt.Store {
	tb.Helper()
	if path == "" {
		path = filepath.Join(tb.TempDir(), "authbot.db")
	}
	store, err := bolt.Open(context.Background(), path, bolt.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	return store
}

// NewService is core.NewServiceWith that fails the test on error: for
// tests that reopen a store, or open one under another key.
func NewService(tb testing.TB, store core.Store, key seal.Key, clock core.Clock, opts core.ServiceOptions) *core.Service {
	tb.Helper()
	svc, err := core.NewServiceWith(context.Background(), store, key, clock, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return svc
}

// Options tune Service. The zero value is a fake clock at DefaultStart, a
// new database and a new key.
type Options struct {
	// Start is the fake clock's first time; zero means DefaultStart.
	Start time.Time
	// Clock, if set, is used instead of the fake clock (core.SystemClock{}
	// for tests against real timeouts); Kit.Clock is nil then.
	Clock core.Clock
	// Path is the bbolt file; "" is a new authbot.db in a temporary dir.
	Path string
	// Key, if set, is the master key; nil means a new one.
	Key *seal.Key
	// Service are core's tunables.
	Service core.ServiceOptions
}

// Kit is a service over a real bbolt file.
type Kit struct {
	Dir   string // the directory holding Path
	Path  string // the bbolt file
	Key   seal.Key
	Clock *Clock // the fake clock; nil when Options.Clock was set
	Store *bolt.Store
	Svc   *core.Service

	clock core.Clock // what Svc was built with
}

// Service builds core's service over a real bbolt file with a sealed
// master key; everything is closed when the test ends.
func Service(tb testing.TB, opts Options) *Kit {
	tb.Helper()
	k := &Kit{Path: opts.Path}
	if k.Path == "" {
		k.Path = filepath.Join(tb.TempDir(), "authbot.db")
	}
	k.Dir = filepath.Dir(k.Path)
	if opts.Key != nil {
		k.Key = *opts.Key
	} else {
		k.Key = Key(tb)
	}
	clock := opts.Clock
	if clock == nil {
		start := opts.Start
		if start.IsZero() {
			start = DefaultStart()
		}
		k.Clock = NewClock(start)
		clock = k.Clock
	}
	k.clock = clock
	k.Store = Bolt(tb, k.Path)
	k.Svc = NewService(tb, k.Store, k.Key, clock, opts.Service)
	// Cleanups run last-in first-out: the buffered audit lines reach the
	// file before it closes, as they do when authbot stops.
	tb.Cleanup(func() { _ = k.Svc.FlushAudit(context.Background()) })
	return k
}

// Add adds the account of an otpauth:// URI, labelled label, to person's
// vault, failing the test on error.
func (k *Kit) Add(tb testing.TB, person, label, uri string) core.Summary {
	tb.Helper()
	key, err := otp.ParseURI(uri)
	if err != nil {
		tb.Fatal(err)
	}
	sum, err := k.Svc.Add(context.Background(), person, core.NewAccount{Label: label, Key: key})
	if err != nil {
		tb.Fatal(err)
	}
	return sum
}

// Handler is the command handler over the kit's service. opts.Clock, when
// nil, is the service's clock (the fake one, or Options.Clock).
func (k *Kit) Handler(opts commands.Options) *commands.Handler {
	if opts.Clock == nil {
		opts.Clock = k.clock
	}
	return commands.New(k.Svc, opts)
}

// Handler is Service with the zero Options, and the command handler over
// it built with opts (Clock defaulting to the kit's fake clock).
func Handler(tb testing.TB, opts commands.Options) (*commands.Handler, *Kit) {
	tb.Helper()
	k := Service(tb, Options{})
	return k.Handler(opts), k
}

// Outbox is a bot's outbox in the kit's database under the kit's key, as
// authbot serve wires it.
func (k *Kit) Outbox(tb testing.TB, opts outbox.Options) *outbox.Outbox {
	tb.Helper()
	return OpenOutbox(tb, k.Store, k.Key, opts)
}

// Outbox is an outbox over a bbolt file of its own (outbox.db in tb's
// temporary directory) under a new key: for adapter tests that need no
// service.
func Outbox(tb testing.TB, opts outbox.Options) *outbox.Outbox {
	tb.Helper()
	return OpenOutbox(tb, Bolt(tb, filepath.Join(tb.TempDir(), "outbox.db")), Key(tb), opts)
}

// OpenOutbox is outbox.Open that fails the test on error.
func OpenOutbox(tb testing.TB, store core.Store, key seal.Key, opts outbox.Options) *outbox.Outbox {
	tb.Helper()
	o, err := outbox.Open(context.Background(), store, key, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return o
}
