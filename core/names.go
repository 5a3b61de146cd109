package core

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/mtibben/confusables"
)

// Account labels within one vault must be told apart by eye: no two may be
// equal ignoring case, and none may differ from another only
// by confusable characters ("paypal" with a Cyrillic "а", "Ι" for "I"),
// judged by the skeletons of Unicode TS #39 (confusables.txt, through
// github.com/mtibben/confusables: the generated Unicode table and the
// skeleton algorithm, which golang.org/x/text does not offer — its precis
// profiles normalise width and case but know nothing of look-alikes).
// CleanLabel already drops format characters (zero-width, bidi controls).

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

// foldKey is a string's case-folded form: equal keys iff strings.EqualFold
// (each rune becomes the smallest of its simple-fold orbit).
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}

// lookKey is what a label looks like: its TS #39 skeleton, case-folded.
func lookKey(s string) string { return foldKey(confusables.Skeleton(s)) }

// labelIndex holds a vault's labels and fingerprints as sets, so adding n
// accounts (an import) is linear instead of the quadratic-to-cubic scans
// of comparing each label with the whole index.
type labelIndex struct {
	fps   map[string]string // fingerprint → label
	names map[string]string // foldKey → label
	looks map[string]string // lookKey → label
	next  map[string]int    // foldKey(base) → next suffix to try
}

// newLabelIndex indexes v's entries, leaving out exceptID (a rename).
func newLabelIndex(v *vault, exceptID string) *labelIndex {
	li := &labelIndex{fps: make(map[string]string, len(v.index)), names: make(map[string]string, len(v.index)),
		looks: make(map[string]string, len(v.index)), next: map[string]int{}}
	for _, e := range v.index {
		if e.ID == exceptID {
			continue
		}
		li.fps[e.Fingerprint] = e.Label
		li.put(e.Label)
	}
	return li
}

func (li *labelIndex) put(label string) {
	li.names[foldKey(label)] = label
	li.looks[lookKey(label)] = label
}

// check refuses a label taken (any case) or confusable with another.
func (li *labelIndex) check(label string) error {
	if _, ok := li.names[foldKey(label)]; ok {
		return &NameTakenError{Label: label}
	}
	if other, ok := li.looks[lookKey(label)]; ok {
		return &ConfusableError{Label: label, Other: other}
	}
	return nil
}

// unique returns base, or base-2, base-3, … the first that passes check.
func (li *labelIndex) unique(base string) string {
	if li.check(base) == nil {
		return base
	}
	k := foldKey(base)
	i := max(li.next[k], 2)
	for ; ; i++ {
		l := fmt.Sprintf("%s-%d", base, i)
		if li.check(l) == nil {
			li.next[k] = i + 1
			return l
		}
	}
}
