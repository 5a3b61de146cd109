package commands

import (
	"log/slog"
	"sync"
	"time"

	"github.com/authbot/authbot/core"
	"github.com/authbot/authbot/core/qr"
	"github.com/authbot/authbot/core/recovery"
	"github.com/authbot/authbot/core/transfer"
	"github.com/authbot/authbot/lang"
)

// Options tune the handler. Zero values get sensible defaults.
type Options struct {
	Clock core.Clock
	Log   *slog.Logger
	// CodeDeleteAfter is how long a code message stays in the chat.
	CodeDeleteAfter time.Duration
	// ExportDeleteAfter is how long an exported secret stays in the chat.
	ExportDeleteAfter time.Duration
	// PendingTimeout is how long "/add" alone waits for the key.
	PendingTimeout time.Duration
	// Observer, if set, is told about every handled message (metrics).
	Observer Observer
	// RateLimits are the per-person budgets; nil means DefaultRateLimits.
	RateLimits *RateLimits
	// TelegramBot is the bot's Telegram username, for invite deep links.
	TelegramBot string
	// TelegramBotName, if set and TelegramBot is empty, returns the
	// username: the Telegram adapter only learns it from getMe once it
	// runs, after the handler was built. "" while unknown.
	TelegramBotName func() string
	// Web, if set, is the web page: /app and /web open it (web.go).
	Web WebPage
}

// Observer learns what was handled: the command word (a known command,
// "text", "file" or "unknown" — never what the person typed), how long it
// took, and whether it failed on the bot's side.
type Observer interface {
	Observe(platform, command string, took time.Duration, failed bool)
}

// MaxMessageBytes bounds what the handler reads of one message: no
// backup key, link or command is anywhere near this long.
const MaxMessageBytes = 16 << 10

// Handler is the command language. It is safe for concurrent use.
type Handler struct {
	svc  *core.Service
	opts Options
	cmds map[string]*command

	// recovery is the /recover knowledge base, parsed on first use: its
	// 8 catalogues are a third of serve's start-up CPU and about a
	// megabyte of heap that a bot nobody asks /recover never needs.
	recovery func() *recovery.Base // nil Base if the embedded file failed to load
	limiter  *limiter
	importer *transfer.Importer // shared, so heavy key derivations run one at a time
	qr       *qr.Decoder        // shared, so pictures are decoded one at a time
	cat      *lang.Catalog      // every reply's words (language.go)
	langs    langCache          // people's stored /language choices

	mu      sync.Mutex
	pending map[string]pending       // by person
	batches map[batchKey]*batchState // Google export parts seen
}

// New returns a handler over svc.
func New(svc *core.Service, opts Options) *Handler {
	if opts.Clock == nil {
		opts.Clock = core.SystemClock{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.CodeDeleteAfter == 0 {
		opts.CodeDeleteAfter = 2 * time.Minute
	}
	if opts.ExportDeleteAfter == 0 {
		opts.ExportDeleteAfter = time.Minute
	}
	if opts.PendingTimeout == 0 {
		opts.PendingTimeout = 5 * time.Minute
	}
	limits := DefaultRateLimits
	if opts.RateLimits != nil {
		limits = *opts.RateLimits
	}
	h := &Handler{svc: svc, opts: opts, pending: map[string]pending{}, batches: map[batchKey]*batchState{}, limiter: newLimiter(limits), importer: transfer.NewImporter(), qr: qr.NewDecoder(), cat: lang.MustLoad()}
	log := opts.Log
	h.recovery = sync.OnceValue(func() *recovery.Base {
		base, err := recovery.Load()
		if err != nil {
			// A test keeps the embedded file valid; should it still
			// fail, the rest of the bot works and /recover says so.
			log.Error("recovery guidance unavailable", "err", err)
		}
		return base
	})
	h.cmds = map[string]*command{}
	for _, c := range commandTable() {
		h.cmds[c.name] = c
		for _, a := range c.aliases {
			h.cmds[a] = c
		}
	}
	return h
}

// lookup is the table entry for a command word or alias, nil for none.
func (h *Handler) lookup(name string) *command { return h.cmds[name] }
