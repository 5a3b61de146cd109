package commands

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/authbot/authbot/lang"
)

// Languages.
//
// Every reply is written in the person's language: the one they chose with
// /language (stored sealed in core, per person), else the one their chat
// app reports (Request.Lang: Telegram's language_code, the terminal's
// locale on the console), else English. authbot chat --lang wins over both
// for its session (Request.LangForced). Codes, names and secrets are never
// translated; only the sentences around them.

// langCache keeps each person's stored choice in memory: the choice is
// read on every message, and only /language (through this handler)
// changes it.
type langCache struct {
	mu sync.Mutex
	m  map[string]string // person → stored tag, "" for none
}

func (c *langCache) get(person string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[person]
	return t, ok
}

func (c *langCache) set(person, tag string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]string{}
	}
	c.m[person] = tag
}

//lint:ignore U1000 the catalogue conversion (issue 18) is under way and uses it
func (c *langCache) drop(person string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, person)
}

// Language is the language replies to req are written in.
func (h *Handler) Language(ctx context.Context, req Request) lang.Tag {
	if req.LangForced {
		if t, ok := lang.Parse(req.Lang); ok {
			return t
		}
	}
	return lang.Match(h.storedLanguage(ctx, req.Person), req.Lang)
}

// LanguageOf is the language of a person the bot writes to unasked (an
// approval request to a vault admin): their stored choice, else what
// their platform last reported is unknown here, so English.
func (h *Handler) LanguageOf(ctx context.Context, person string) lang.Tag {
	return lang.Match(h.storedLanguage(ctx, person))
}

// to is a request from nobody to person, for replies the bot addresses to
// them (Reply.To): worded in their language.
func (h *Handler) to(ctx context.Context, person string) Request {
	return Request{Person: person, pr: h.cat.Printer(h.LanguageOf(ctx, person))}
}

func (h *Handler) storedLanguage(ctx context.Context, person string) string {
	if person == "" {
		return ""
	}
	if t, ok := h.langs.get(person); ok {
		return t
	}
	s, err := h.svc.SettingsOf(ctx, person)
	if err != nil {
		// The person still gets an answer, in their app's language.
		h.opts.Log.Warn("language choice unreadable", "err", err)
		return ""
	}
	h.langs.set(person, s.Language)
	return s.Language
}

// printer is the printer for req (set by Handle; the zero Request, as
// welcome texts build it, gets English).
func (h *Handler) printer(req Request) *lang.Printer { return req.printer() }

func (r Request) printer() *lang.Printer {
	if r.pr != nil {
		return r.pr
	}
	return lang.MustLoad().Printer(lang.English)
}

// say is one catalogue message as reply parts, lang.Code values as code
// spans wherever the language puts them.
func say(p *lang.Printer, id string, args ...any) []Part {
	return segmentsToParts(p.Segments(id, args...))
}

// sayN is say for a message worded by a count.
//
//lint:ignore U1000 the catalogue conversion (issue 18) is under way and uses it
func sayN(p *lang.Printer, id string, n int, args ...any) []Part {
	return segmentsToParts(p.NSegments(id, n, args...))
}

func segmentsToParts(segs []lang.Segment) []Part {
	out := make([]Part, len(segs))
	for i, s := range segs {
		out[i] = Part{Text: s.Text, Code: s.Code}
	}
	return out
}

// cmdLanguage: /language shows the language and the codes to choose from;
// /language CODE sets it; /language auto goes back to the app's.
func (h *Handler) cmdLanguage(ctx context.Context, req Request, args string) []Reply {
	p := h.printer(req)
	code := strings.TrimSpace(args)
	cmd := lang.Code("/language CODE")
	switch {
	case code == "":
		stored := h.storedLanguage(ctx, req.Person)
		id := "lang.current"
		if stored == "" {
			id = "lang.auto"
		}
		return []Reply{{Parts: append(say(p, id, "Language", p.Tag().Name(), "Command", cmd), languageList(p)...)}}
	case strings.EqualFold(code, "auto"):
		if err := h.svc.SetLanguage(ctx, req.Person, ""); err != nil {
			return h.fail(req, err)
		}
		h.langs.set(req.Person, "")
		t := lang.Match(req.Lang)
		return []Reply{{Parts: say(h.cat.Printer(t), "lang.reset", "Language", t.Name())}}
	}
	t, ok := lang.Parse(code)
	if !ok {
		if r := []rune(code); len(r) > 32 {
			code = string(r[:32]) + "…"
		}
		return []Reply{{Parts: append(say(p, "lang.unknown", "Code", code, "Command", cmd), languageList(p)...), refused: true}}
	}
	if err := h.svc.SetLanguage(ctx, req.Person, string(t)); err != nil {
		return h.fail(req, err)
	}
	h.langs.set(req.Person, string(t))
	// Said in the new language: the person sees at once that it worked.
	return []Reply{{Parts: say(h.cat.Printer(t), "lang.set", "Language", t.Name())}}
}

// languageList is the codes /language takes, each with the language's own
// name, and auto.
func languageList(p *lang.Printer) []Part {
	var out []Part
	for _, t := range lang.All() {
		out = append(out, Part{Text: "\n• "}, Part{Text: string(t), Code: true}, Part{Text: " " + t.Name()})
	}
	return append(out, Part{Text: "\n• "}, Part{Text: "auto", Code: true}, Part{Text: " " + p.T("lang.auto_item")})
}

// dateIn writes a UTC time the way the language reads it without month
// names to translate: "Jan 2 15:04" in English, ISO dates elsewhere.
func dateIn(p *lang.Printer, t time.Time) string {
	if p.Tag() == lang.English {
		return t.UTC().Format("Jan 2 15:04")
	}
	return t.UTC().Format("2006-01-02 15:04")
}
