package telegram

import (
	"html"
	"strings"
	"testing"

	"github.com/authbot/authbot/bots/commands"
)

// plain strips our HTML back to the text Telegram would count.
func plain(h string) string {
	h = strings.ReplaceAll(h, "<code>", "")
	h = strings.ReplaceAll(h, "</code>", "")
	return html.UnescapeString(h)
}

func TestRenderChunks(t *testing.T) {
	long := strings.Repeat("x", 5000)
	var list []commands.Part
	for i := range 500 {
		list = append(list, commands.Part{Text: "account-" + strings.Repeat("n", i%40) + " "}, commands.Part{Text: "123 456", Code: true}, commands.Part{Text: "\n"})
	}
	tests := []struct {
		name       string
		parts      []commands.Part
		wantChunks int
		wantFirst  string // exact HTML of the first chunk, if set
	}{
		{"empty", nil, 0, ""},
		{"escaped", []commands.Part{{Text: "a<b & c>"}, {Text: "<1&2>", Code: true}}, 1, "a&lt;b &amp; c&gt;<code>&lt;1&amp;2&gt;</code>"},
		{"quotes", []commands.Part{{Text: `"x" 'y'`}}, 1, "&#34;x&#34; &#39;y&#39;"},
		{"blank only", []commands.Part{{Text: "\n\n  \n"}}, 0, ""},
		{"one long line", []commands.Part{{Text: long}}, 2, ""},
		{"500 accounts", list, 0, ""},
		{"huge code span", []commands.Part{{Text: long, Code: true}}, 2, ""},
		{"emoji counts double", []commands.Part{{Text: strings.Repeat("😀", 3000)}}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := renderChunks(tt.parts, maxMessageLen)
			if tt.wantChunks > 0 && len(got) != tt.wantChunks {
				t.Fatalf("got %d chunks, want %d", len(got), tt.wantChunks)
			}
			if tt.wantChunks == 0 && tt.name != "500 accounts" && len(got) != 0 {
				t.Fatalf("got %d chunks, want none", len(got))
			}
			if tt.wantFirst != "" && got[0].html != tt.wantFirst {
				t.Fatalf("first chunk %q, want %q", got[0].html, tt.wantFirst)
			}
			var all strings.Builder
			for _, c := range got {
				if n := utf16Len(plain(c.html)); n > maxMessageLen {
					t.Errorf("chunk of %d UTF-16 units", n)
				}
				if c.entities > maxEntities {
					t.Errorf("chunk with %d entities", c.entities)
				}
				if strings.Count(c.html, "<code>") != strings.Count(c.html, "</code>") {
					t.Errorf("unbalanced code spans")
				}
				all.WriteString(plain(c.html))
			}
			var want strings.Builder
			for _, p := range tt.parts {
				want.WriteString(p.Text)
			}
			if strings.TrimSpace(want.String()) != "" && all.String() != want.String() {
				t.Errorf("text changed by splitting: %d bytes, want %d", all.Len(), want.Len())
			}
		})
	}
}

func TestRenderChunksNeverCutsSpans(t *testing.T) {
	var parts []commands.Part
	for range 300 {
		parts = append(parts, commands.Part{Text: "name "}, commands.Part{Text: "JBSWY3DPEHPK3PXP", Code: true}, commands.Part{Text: "\n"})
	}
	chunks := renderChunks(parts, 200)
	if len(chunks) < 10 {
		t.Fatalf("want many chunks, got %d", len(chunks))
	}
	for _, c := range chunks {
		if strings.Count(c.html, "<code>JBSWY3DPEHPK3PXP</code>") != strings.Count(c.html, "<code>") {
			t.Fatalf("a code span was cut: %q", c.html)
		}
		if !strings.HasSuffix(c.html, "\n") {
			t.Fatalf("chunk not cut at a line end: %q", c.html)
		}
	}
}

func TestKeyboard(t *testing.T) {
	rows := [][]commands.Button{
		{{Label: "ok", Data: "/code a"}, {Label: "", Data: "/code b"}},
		{{Label: "too long", Data: strings.Repeat("x", 65)}},
	}
	kb, dropped := keyboard(rows, &inlineButton{Text: "open", URL: "https://t.me/x"})
	if dropped != 2 {
		t.Errorf("dropped %d, want 2", dropped)
	}
	if len(kb.InlineKeyboard) != 2 || kb.InlineKeyboard[0][0].CallbackData != "/code a" || kb.InlineKeyboard[1][0].URL == "" {
		t.Errorf("keyboard %+v", kb)
	}
	if kb, _ := keyboard(nil, nil); kb != nil {
		t.Errorf("empty keyboard should be nil")
	}
}

func TestTrackerOffset(t *testing.T) {
	tr := newTracker()
	if tr.offset() != 1 {
		t.Fatalf("fresh offset %d", tr.offset())
	}
	for _, id := range []int64{10, 11, 12} {
		if !tr.start(id) {
			t.Fatalf("start %d", id)
		}
	}
	if tr.start(11) {
		t.Fatal("a resent update was started twice")
	}
	tr.finish(11)
	tr.finish(12)
	if got := tr.offset(); got != 10 {
		t.Fatalf("offset %d, want 10 (10 unfinished)", got)
	}
	tr.finish(10)
	if got := tr.offset(); got != 13 {
		t.Fatalf("offset %d, want 13", got)
	}
}

func TestSafeErr(t *testing.T) {
	for _, tt := range []struct{ in, bad string }{
		{"error decode response body for method sendMessage, {\"text\":\"123456\"}, x", "123456"},
		{"Get \"https://api/file/bot123:ABC-def/x\": EOF", "ABC-def"},
	} {
		if s := safeErr(errorString(tt.in)); strings.Contains(s, tt.bad) {
			t.Errorf("safeErr kept %q: %s", tt.bad, s)
		}
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
