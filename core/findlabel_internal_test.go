package core

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// TestFindLabelMatchesTheScan: the binary search over an index as
// saveIndex writes it finds what comparing with every entry finds, for
// exact labels in any case, prefixes, issuers and misses; an index that
// is unsorted or holds a non-ASCII label is never searched that way.
func TestFindLabelMatchesTheScan(t *testing.T) {
	sorted := func(labels ...string) []indexEntry {
		var es []indexEntry
		for i, l := range labels {
			es = append(es, indexEntry{Summary: Summary{ID: fmt.Sprint(i), Label: l, Issuer: "Iss" + l}})
		}
		sort.SliceStable(es, func(i, j int) bool { return strings.ToLower(es[i].Label) < strings.ToLower(es[j].Label) })
		return es
	}
	r := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		const letters = "abAB-z9"
		b := make([]byte, 1+r.IntN(4))
		for i := range b {
			b[i] = letters[r.IntN(len(letters))]
		}
		return string(b)
	}
	cases := [][]indexEntry{
		sorted(),
		sorted("aws"),
		sorted("account00", "account37", "Account38", "account49", "b"),
		sorted("GitHub", "github-work", "gitlab", "Git"),
	}
	for range 200 {
		var ls []string
		for range r.IntN(12) {
			ls = append(ls, word())
		}
		cases = append(cases, sorted(ls...))
	}
	queries := []string{"aws", "AWS", "account37", "ACCOUNT38", "account", "git", "github", "Iss", "zz", "a", "b", "-", "9"}
	for range 20 {
		queries = append(queries, word())
	}
	for ci, es := range cases {
		if !labelsSorted(es) {
			t.Fatalf("case %d: labelsSorted false for a sorted ASCII index", ci)
		}
		for _, q := range queries {
			fast := &vault{index: es, labelsSorted: true}
			scan := &vault{index: es}
			fv, fe, ferr := (&spaces{own: fast}).find(q)
			sv, se, serr := (&spaces{own: scan}).find(q)
			if (fv == nil) != (sv == nil) || fe != se || !sameFindErr(ferr, serr) {
				t.Fatalf("case %d query %q: search %v %v, scan %v %v", ci, q, fe, ferr, se, serr)
			}
		}
	}

	for _, tc := range []struct {
		name   string
		labels []string
		want   bool
	}{
		{"empty", nil, true},
		{"sorted any case", []string{"a", "B", "c"}, true},
		{"unsorted", []string{"b", "a"}, false},
		{"Kelvin sign", []string{"\u212Aey"}, false}, // EqualFold("Key", "key") with K = U+212A
		{"accented", []string{"café"}, false},
	} {
		var es []indexEntry
		for _, l := range tc.labels {
			es = append(es, indexEntry{Summary: Summary{Label: l}})
		}
		if got := labelsSorted(es); got != tc.want {
			t.Errorf("%s: labelsSorted = %v, want %v", tc.name, got, tc.want)
		}
	}

	v := &vault{index: sorted("a", "b"), labelsSorted: true, indexShared: true}
	v.mutableIndex()
	if v.labelsSorted {
		t.Error("an index about to change is still taken as sorted")
	}
}

func sameFindErr(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	var am, bm *AmbiguousError
	if errors.As(a, &am) != errors.As(b, &bm) {
		return false
	}
	return a.Error() == b.Error()
}
