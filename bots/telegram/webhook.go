package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// maxWebhookBody bounds one update posted to the webhook.
const maxWebhookBody = 1 << 20

// secretHeader is where Telegram puts the webhook secret.
const secretHeader = "X-Telegram-Bot-Api-Secret-Token"

// WebhookHandler is the HTTP handler of webhook mode (Run serves it on
// Webhook.Listen). Unlike the library's, it refuses what is not Telegram:
// a wrong method is 405, a missing secret 401, a wrong one 403 (compared in
// constant time), a bad body 400. It answers 200 only after the update was
// handled, so Telegram retries what a crash interrupted.
func (b *Bot) WebhookHandler(workCtx context.Context) http.Handler {
	secret := []byte(b.cfg.Webhook.Secret)
	path := "/"
	if u, err := url.Parse(b.cfg.Webhook.URL); err == nil && u.Path != "" {
		path = u.Path
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get(secretHeader)
		if got == "" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if subtle.ConstantTimeCompare([]byte(got), secret) != 1 {
			b.log.Warn("telegram: webhook call with a wrong secret", "remote", r.RemoteAddr)
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err != nil {
			http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
			return
		}
		u := &models.Update{}
		if err := json.Unmarshal(body, u); err != nil || u.ID == 0 {
			http.Error(w, "not an update", http.StatusBadRequest)
			return
		}
		if !b.seenHooks.add(u.ID) {
			w.WriteHeader(http.StatusOK) // Telegram's retry of one we handled
			return
		}
		b.sampleClock(r.Context(), []*models.Update{u})
		if skip, _ := b.prog.begin(r.Context(), []*models.Update{u}, 0); skip[u.ID] { // no span, no solo: no order
			b.skipUpdate(workCtx, u)
			w.WriteHeader(http.StatusOK)
			return
		}
		done := make(chan struct{})
		b.disp.submit(workCtx, chatKey(u), u, func(id int64) { b.prog.finish(id); close(done) })
		select {
		case <-done:
			b.reached("webhook") // Telegram delivers: the bot is reachable
			w.WriteHeader(http.StatusOK)
		case <-r.Context().Done():
			// Telegram gave up waiting and will retry; the update is still
			// being handled and the retry will be recognised as a duplicate.
		}
	})
}

// serveWebhook runs our own HTTP server and registers it with Telegram.
func (b *Bot) serveWebhook(ctx, workCtx context.Context) error {
	w := b.cfg.Webhook
	ln, err := net.Listen("tcp", w.Listen)
	if err != nil {
		return fmt.Errorf("telegram: webhook listen: %w", err)
	}
	b.webhookLn.Store(ln.Addr())
	b.prog = newProgress(ctx, b.cfg.Progress, b.log)
	srv := &http.Server{
		Handler:           b.WebhookHandler(workCtx),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	b.listen()

	err = b.do(ctx, "setWebhook", func(ctx context.Context) error {
		_, err := b.api.SetWebhook(ctx, &bot.SetWebhookParams{
			URL:            w.URL,
			SecretToken:    w.Secret,
			AllowedUpdates: []string{models.AllowedUpdateMessage, models.AllowedUpdateCallbackQuery},
		})
		return err
	})
	switch {
	case err == nil:
		b.reached("setWebhook")
	case ctx.Err() == nil:
		b.failed("setWebhook")
		b.log.Error("telegram: setWebhook failed; Telegram will not deliver updates", "err", safeErr(err))
	}

	select {
	case err := <-errc:
		return fmt.Errorf("telegram: webhook server: %w", err)
	case <-ctx.Done():
	}
	// Shutdown waits for in-flight requests, i.e. updates being handled.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		b.log.Warn("telegram: webhook shutdown", "err", err)
	}
	return nil
}

// recentIDs remembers the last n update ids to drop duplicate deliveries.
type recentIDs struct {
	mu   sync.Mutex
	set  map[int64]struct{}
	ring []int64
	next int
}

func newRecentIDs(n int) *recentIDs {
	return &recentIDs{set: make(map[int64]struct{}, n), ring: make([]int64, n)}
}

// add reports false when id was seen recently.
func (r *recentIDs) add(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.set[id]; ok {
		return false
	}
	if old := r.ring[r.next]; old != 0 {
		delete(r.set, old)
	}
	r.ring[r.next] = id
	r.next = (r.next + 1) % len(r.ring)
	r.set[id] = struct{}{}
	return true
}
