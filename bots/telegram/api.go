package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// callTimeout bounds one Bot API request (not getUpdates, which long-polls).
const callTimeout = 30 * time.Second

// errGaveUp wraps the last error once retries are used up.
var errGaveUp = errors.New("gave up after retries")

// permanent reports errors that a retry cannot fix: Telegram understood the
// request and refused it.
func permanent(err error) bool {
	var mig *bot.MigrateError
	return errors.Is(err, bot.ErrorBadRequest) || errors.Is(err, bot.ErrorForbidden) ||
		errors.Is(err, bot.ErrorUnauthorized) || errors.Is(err, bot.ErrorNotFound) ||
		errors.Is(err, bot.ErrorConflict) || errors.As(err, &mig)
}

// do runs one Bot API call with retries: a 429 waits the retry_after the
// server asked for (capped by MaxRetryWait), network errors and 5xx back
// off exponentially; both are bounded by RetryAttempts. fn must build its
// params afresh on every call (upload readers are consumed once).
func (b *Bot) do(ctx context.Context, method string, fn func(ctx context.Context) error) error {
	backoff := 250 * time.Millisecond
	var err error
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		err = fn(cctx)
		cancel()
		if err == nil || permanent(err) || ctx.Err() != nil {
			return err
		}
		if attempt >= b.cfg.RetryAttempts {
			return fmt.Errorf("%s: %w: %w", method, errGaveUp, err)
		}
		wait := backoff
		var tmr *bot.TooManyRequestsError
		if errors.As(err, &tmr) {
			wait = time.Duration(max(tmr.RetryAfter, 1)) * time.Second
			if wait > b.cfg.MaxRetryWait {
				return fmt.Errorf("%s: retry_after %d s is too long: %w", method, tmr.RetryAfter, err)
			}
			b.log.Warn("telegram: rate limited", "method", method, "retry_after", tmr.RetryAfter)
		} else {
			backoff = min(backoff*2, 10*time.Second)
			b.log.Warn("telegram: call failed, retrying", "method", method, "err", safeErr(err), "in", wait)
		}
		if !sleepCtx(ctx, wait) {
			return err
		}
	}
}

var tokenRE = regexp.MustCompile(`bot[0-9]+:[A-Za-z0-9_-]+`)

// safeErr is an error text fit for the log: the library quotes whole
// response bodies (which hold message text) when they do not decode, and
// download links hold the token.
func safeErr(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if i := strings.Index(s, "error decode response"); i >= 0 {
		return s[:i] + "error decode response body (body not logged)"
	}
	s = tokenRE.ReplaceAllString(s, "bot***")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

var commandRE = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// setMenu registers the command menu: the default list (every language
// without its own) and one list per language of Menus.
func (b *Bot) setMenu(ctx context.Context) error {
	if err := b.setMenuFor(ctx, "", b.cfg.Menu); err != nil {
		return err
	}
	menus := b.cfg.Menus
	if b.cfg.LoadMenus != nil {
		menus = b.cfg.LoadMenus()
	}
	codes := make([]string, 0, len(menus))
	for code := range menus {
		codes = append(codes, code)
	}
	sort.Strings(codes) // one order, so restarts send the same calls
	for _, code := range codes {
		if !languageRE.MatchString(code) {
			b.log.Warn("telegram: menu language skipped, Telegram takes two-letter codes only", "language", code)
			continue
		}
		if err := b.setMenuFor(ctx, code, menus[code]); err != nil {
			return err
		}
	}
	return nil
}

var languageRE = regexp.MustCompile(`^[a-z]{2}$`)

func (b *Bot) setMenuFor(ctx context.Context, language string, menu []MenuItem) error {
	var cmds []models.BotCommand
	for _, m := range menu {
		c := strings.TrimPrefix(m.Command, "/")
		d := strings.TrimSpace(m.Description)
		if !commandRE.MatchString(c) || d == "" {
			b.log.Warn("telegram: menu item skipped, Telegram would refuse it", "command", c)
			continue
		}
		if len([]rune(d)) > 256 {
			d = string([]rune(d)[:255]) + "…"
		}
		cmds = append(cmds, models.BotCommand{Command: c, Description: d})
		if len(cmds) == 100 {
			break
		}
	}
	if len(cmds) == 0 {
		return nil
	}
	return b.do(ctx, "setMyCommands", func(ctx context.Context) error {
		_, err := b.api.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: cmds, LanguageCode: language})
		return err
	})
}

// apiReply is the Bot API envelope.
type apiReply struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter      int `json:"retry_after"`
		MigrateToChatID int `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// maxUpdatesBody bounds a getUpdates answer: 100 updates of at most a few
// KiB each.
const maxUpdatesBody = 16 << 20

// getUpdates is our own poll call: the library has no public one, and its
// poller confirms updates before they are handled (see the package doc).
// Errors are the library's error types, so do() and permanent() apply.
//
// Updates with an id at or below seen were returned before (they are still
// being handled, so the offset could not confirm them): they are left out
// without being decoded. Under load most of every answer is such updates,
// and decoding them was a quarter of the bot's CPU (perf, BenchmarkLoad).
func (b *Bot) getUpdates(ctx context.Context, offset int64, timeout time.Duration, limit int, seen int64) ([]*models.Update, error) {
	cctx, cancel := context.WithTimeout(ctx, timeout+callTimeout)
	defer cancel()
	raw, err := b.post(cctx, "getUpdates", &getUpdatesReq{Offset: offset, Timeout: int(timeout / time.Second), Limit: limit,
		AllowedUpdates: allowedUpdates}, maxUpdatesBody)
	if err != nil {
		return nil, fmt.Errorf("getUpdates: %s", safeErr(err))
	}
	// The envelope and the list in one decode (each Unmarshal scans the
	// whole answer twice); the updates one by one, so a single update
	// the library's models cannot read does not block the queue forever:
	// it still has an id to skip.
	var r struct {
		apiReply
		Result []json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("getUpdates: undecodable answer")
	}
	if !r.OK {
		return nil, replyError("getUpdates", &r.apiReply)
	}
	items := r.Result
	out := make([]*models.Update, 0, len(items))
	for _, it := range items {
		if id, ok := peekUpdateID(it); ok && id <= seen {
			continue
		}
		u := &models.Update{}
		if err := json.Unmarshal(it, u); err != nil {
			var id struct {
				ID int64 `json:"update_id"`
			}
			if json.Unmarshal(it, &id) != nil || id.ID == 0 {
				continue
			}
			u = &models.Update{ID: id.ID} // handled as "nothing to do"
		}
		out = append(out, u)
	}
	return out, nil
}

// peekUpdateID reads the update_id of one update without decoding the rest.
// The Bot API writes it first; anything else falls back to a decode of just
// that field.
func peekUpdateID(raw json.RawMessage) (int64, bool) {
	rest, ok := bytes.CutPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte(`{"update_id":`))
	if ok {
		n := 0
		for n < len(rest) && n < 19 && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n > 0 && n < len(rest) && (rest[n] == ',' || rest[n] == '}') {
			if id, err := strconv.ParseInt(string(rest[:n]), 10, 64); err == nil {
				return id, true
			}
		}
	}
	var v struct {
		ID int64 `json:"update_id"`
	}
	if json.Unmarshal(raw, &v) != nil || v.ID == 0 {
		return 0, false
	}
	return v.ID, true
}

// setMenuButton makes the bot's menu button (for every private chat) open
// the Mini App at Config.MenuApp.
func (b *Bot) setMenuButton(ctx context.Context) error {
	if b.cfg.MenuApp == "" {
		return nil
	}
	return b.do(ctx, "setChatMenuButton", func(ctx context.Context) error {
		_, err := b.api.SetChatMenuButton(ctx, &bot.SetChatMenuButtonParams{
			MenuButton: models.MenuButtonWebApp{Type: models.MenuButtonTypeWebApp, Text: "Codes", WebApp: models.WebAppInfo{URL: b.cfg.MenuApp}},
		})
		return err
	})
}
