package outbox

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestEnqueueKeepsOrder checks the merge against a full sort: new jobs that
// all fall due later (the common case), earlier, among the waiting ones,
// with equal due times (sequence breaks the tie), and into an empty queue.
func TestEnqueueKeepsOrder(t *testing.T) {
	base := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		waiting, adds int
		spread        func(r *rand.Rand, i int) time.Duration
	}{
		{"later", 50, 3, func(_ *rand.Rand, i int) time.Duration { return time.Duration(100+i) * time.Second }},
		{"earlier", 50, 3, func(_ *rand.Rand, i int) time.Duration { return -time.Duration(i+1) * time.Second }},
		{"among", 50, 7, func(r *rand.Rand, _ int) time.Duration { return time.Duration(r.IntN(60)) * time.Second }},
		{"ties", 20, 20, func(r *rand.Rand, _ int) time.Duration { return time.Duration(r.IntN(3)) * time.Second }},
		{"empty", 0, 5, func(r *rand.Rand, _ int) time.Duration { return time.Duration(r.IntN(9)) * time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var o Outbox
			seq := uint64(0)
			for i := 0; i < tt.waiting; i++ {
				seq++
				o.jobs = append(o.jobs, Job{At: base.Add(time.Duration(r.IntN(60)) * time.Second), seq: seq})
			}
			o.sort()
			for round := 0; round < 4; round++ {
				var add []Job
				for i := 0; i < tt.adds; i++ {
					seq++
					add = append(add, Job{At: base.Add(tt.spread(r, i)), seq: seq})
				}
				want := append(slices.Clone(o.jobs), add...)
				slices.SortFunc(want, compareJobs)
				o.enqueue(add...)
				if !slices.EqualFunc(o.jobs, want, func(a, b Job) bool { return a.seq == b.seq }) {
					t.Fatalf("round %d: queue out of order:\n got %v\nwant %v", round, seqs(o.jobs), seqs(want))
				}
			}
		})
	}
}

func seqs(jobs []Job) []uint64 {
	out := make([]uint64, len(jobs))
	for i, j := range jobs {
		out[i] = j.seq
	}
	return out
}
