package lang

import (
	"strconv"
	"strings"
)

// Code marks a placeholder value that is shown as a code span (monospace,
// one tap copies it on Telegram): a command to send, a code, a name typed
// back. The translation decides where it goes in the sentence; the value
// itself is never translated.
type Code string

// Segment is a run of a printed message: plain text, or a Code value.
type Segment struct {
	Text string
	Code bool
}

// Private-use characters no translation contains: they mark where a Code
// value went while the template runs, so the sentence can be cut into
// segments after the language has ordered its words.
const (
	markOpen  = '\uE000'
	markClose = '\uE001'
)

// Segments is T cut into plain and code runs, the Code values of args
// being the code runs wherever the language puts them.
func (p *Printer) Segments(id string, args ...any) []Segment {
	return p.segments(id, nil, args)
}

// NSegments is N cut into plain and code runs.
func (p *Printer) NSegments(id string, count int, args ...any) []Segment {
	return p.segments(id, count, append(args, "Count", count))
}

func (p *Printer) segments(id string, count any, args []any) []Segment {
	var codes []string
	marked := make([]any, len(args))
	copy(marked, args)
	for i := 1; i < len(marked); i += 2 {
		if c, ok := marked[i].(Code); ok {
			marked[i] = string(markOpen) + strconv.Itoa(len(codes)) + string(markClose)
			codes = append(codes, string(c))
		}
	}
	s := p.localize(id, count, marked)
	if len(codes) == 0 {
		return []Segment{{Text: s}}
	}
	var out []Segment
	for s != "" {
		i := strings.IndexRune(s, markOpen)
		if i < 0 {
			out = append(out, Segment{Text: s})
			break
		}
		j := strings.IndexRune(s[i:], markClose)
		n, err := strconv.Atoi(s[i+len(string(markOpen)) : i+max(j, 0)])
		if j < 0 || err != nil || n < 0 || n >= len(codes) {
			out = append(out, Segment{Text: s}) // cannot happen: the marks are ours
			break
		}
		if i > 0 {
			out = append(out, Segment{Text: s[:i]})
		}
		out = append(out, Segment{Text: codes[n], Code: true})
		s = s[i+j+len(string(markClose)):]
	}
	return out
}

// Text joins segments into plain text.
func Text(segs []Segment) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteString(s.Text)
	}
	return b.String()
}
