package telegram

import (
	"html"
	"strings"
	"unicode/utf8"

	"github.com/authbot/authbot/bots/commands"
	"github.com/authbot/authbot/lang"
)

// Telegram's limits, from the Bot API docs. Lengths count UTF-16 code units
// of the text after entity parsing.
const (
	maxMessageLen  = 4096
	maxCaptionLen  = 1024
	maxEntities    = 100 // more formatting entities than this are not kept
	maxButtons     = 100
	maxCallbackLen = 64
)

// inlineKeyboard and inlineButton are our own reply_markup types: the
// library's InlineKeyboardButton always sends "copy_text":{"text":""},
// which Telegram may reject (see notes/telegram-bot.md).
type inlineKeyboard struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

type inlineButton struct {
	Text         string      `json:"text"`
	CallbackData string      `json:"callback_data,omitempty"`
	URL          string      `json:"url,omitempty"`
	WebApp       *webAppInfo `json:"web_app,omitempty"`
}

// webAppInfo opens a Mini App (a web_app button).
type webAppInfo struct {
	URL string `json:"url"`
}

// chunk is the HTML text of one message and how many entities it holds.
type chunk struct {
	html     string
	hasCode  bool
	textLen  int // UTF-16 units after parsing
	entities int
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func renderPart(p commands.Part) string {
	if p.Code {
		return "<code>" + html.EscapeString(p.Text) + "</code>"
	}
	return html.EscapeString(p.Text)
}

// line is a run of parts that must stay in one message: a line of text, with
// any code span that starts on it kept whole.
type line []commands.Part

func (l line) size() (n, ents int) {
	for _, p := range l {
		n += utf16Len(p.Text)
		if p.Code && p.Text != "" {
			ents++
		}
	}
	return n, ents
}

// splitLines cuts parts into lines at newlines outside code spans; each line
// but the last keeps its trailing newline.
func splitLines(parts []commands.Part) []line {
	var out []line
	var cur line
	for _, p := range parts {
		if p.Text == "" {
			continue
		}
		if p.Code {
			cur = append(cur, p)
			continue
		}
		text := p.Text
		for {
			i := strings.IndexByte(text, '\n')
			if i < 0 {
				if text != "" {
					cur = append(cur, commands.Part{Text: text})
				}
				break
			}
			cur = append(cur, commands.Part{Text: text[:i+1]})
			out = append(out, cur)
			cur = nil
			text = text[i+1:]
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// cutLine breaks a line longer than limit into pieces that fit: between
// parts first, then inside plain text at a rune boundary. A single code span
// longer than a whole message is the one case where a span is cut, since
// Telegram would refuse it otherwise.
func cutLine(l line, limit int) []line {
	var out []line
	var cur line
	curLen := 0
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
			cur, curLen = nil, 0
		}
	}
	for _, p := range l {
		n := utf16Len(p.Text)
		if curLen+n <= limit {
			cur = append(cur, p)
			curLen += n
			continue
		}
		if p.Code && n <= limit {
			flush()
			cur, curLen = line{p}, n
			continue
		}
		text := p.Text
		for text != "" {
			room := limit - curLen
			if room <= 0 {
				flush()
				room = limit
			}
			piece := prefixUTF16(text, room)
			if piece == "" { // a rune that does not fit in the room left
				flush()
				continue
			}
			cur = append(cur, commands.Part{Text: piece, Code: p.Code})
			curLen += utf16Len(piece)
			text = text[len(piece):]
		}
	}
	flush()
	return out
}

// prefixUTF16 is the longest prefix of s at most n UTF-16 units long, cut
// at a rune boundary.
func prefixUTF16(s string, n int) string {
	used := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if used+w > n {
			return s[:i]
		}
		used += w
	}
	return s
}

// renderChunks turns parts into one or more HTML messages, each within
// Telegram's length and entity limits, split on line boundaries and never
// inside a code span (unless one span alone exceeds a message).
func renderChunks(parts []commands.Part, limit int) []chunk {
	var out []chunk
	var b strings.Builder
	cur := chunk{}
	flush := func() {
		if cur.textLen > 0 {
			cur.html = b.String()
			out = append(out, cur)
		}
		b.Reset()
		cur = chunk{}
	}
	add := func(l line) {
		n, ents := l.size()
		if cur.textLen+n > limit || cur.entities+ents > maxEntities {
			flush()
		}
		for _, p := range l {
			b.WriteString(renderPart(p))
			if p.Code && p.Text != "" {
				cur.hasCode = true
			}
		}
		cur.textLen += n
		cur.entities += ents
	}
	for _, l := range splitLines(parts) {
		n, ents := l.size()
		if n <= limit && ents <= maxEntities {
			add(l)
			continue
		}
		for _, piece := range cutLine(l, limit) {
			// A piece may still hold more than maxEntities spans only if
			// they are tiny; cut it by entity count as well.
			for len(piece) > 0 {
				k, e := 0, 0
				for k < len(piece) && (e < maxEntities || !piece[k].Code) {
					if piece[k].Code {
						e++
					}
					k++
				}
				add(piece[:k])
				piece = piece[k:]
			}
		}
	}
	flush()
	// Telegram trims leading and trailing whitespace, so a chunk of only
	// blank lines would be an empty message: drop those.
	kept := out[:0]
	for _, c := range out {
		if strings.TrimSpace(html.UnescapeString(c.html)) != "" {
			kept = append(kept, c)
		}
	}
	return kept
}

// keyboard builds the inline keyboard for buttons. Buttons whose data would
// not fit in Telegram's 64 bytes of callback data, or with no label, are
// dropped rather than have Telegram refuse the whole message.
func keyboard(rows [][]commands.Button, extra *inlineButton) (*inlineKeyboard, int) {
	kb := &inlineKeyboard{}
	dropped, total := 0, 0
	for _, row := range rows {
		var r []inlineButton
		for _, b := range row {
			if b.WebApp != "" && b.Label != "" && strings.HasPrefix(b.WebApp, "https://") && total < maxButtons-1 {
				// Telegram opens only https Mini Apps.
				r = append(r, inlineButton{Text: b.Label, WebApp: &webAppInfo{URL: b.WebApp}})
				total++
				continue
			}
			if b.Label == "" || b.Data == "" || len(b.Data) > maxCallbackLen || !utf8.ValidString(b.Data) || total >= maxButtons-1 {
				dropped++
				continue
			}
			r = append(r, inlineButton{Text: b.Label, CallbackData: b.Data})
			total++
		}
		if len(r) > 0 {
			kb.InlineKeyboard = append(kb.InlineKeyboard, r)
		}
	}
	if extra != nil {
		kb.InlineKeyboard = append(kb.InlineKeyboard, []inlineButton{*extra})
	}
	if len(kb.InlineKeyboard) == 0 {
		return nil, dropped
	}
	return kb, dropped
}

// expiredText is what a code message becomes once its code is no longer
// valid, in the reader's language; the buttons (refresh) stay.
func expiredText(p *lang.Printer, hasButtons bool) string {
	if hasButtons {
		return p.T("telegram.expired_button")
	}
	return p.T("telegram.expired")
}

// caption renders a file caption, or returns ok=false when it is too long
// for a caption and must go as its own message.
func caption(text string) (string, bool) {
	if utf16Len(text) > maxCaptionLen {
		return "", false
	}
	return html.EscapeString(text), true
}
