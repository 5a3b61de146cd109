package observe

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestClockSkewMedian(t *testing.T) {
	base := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	s := time.Second
	tests := []struct {
		name    string
		samples []time.Duration // local minus remote
		want    time.Duration
		known   bool
		told    int
	}{
		{"too few to say", []time.Duration{30 * s, 30 * s, 30 * s, 30 * s}, 0, false, 0},
		{"right clock, one late message", []time.Duration{1 * s, 0, 2 * s, 90 * s, 1 * s}, 1 * s, true, 0},
		{"ahead", []time.Duration{31 * s, 30 * s, 29 * s, 30 * s, 30 * s, 30 * s}, 30 * s, true, 1},
		{"behind", []time.Duration{-20 * s, -21 * s, -20 * s, -19 * s, -20 * s}, -20 * s, true, 1},
		{"just inside the limit", []time.Duration{10 * s, 10 * s, 10 * s, 10 * s, 10 * s}, 10 * s, true, 0},
		{"a window of 15 forgets the past", append(repeat(60*s, 15), repeat(0, 15)...), 0, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(0)
			told := 0
			m.ClockSkew().OnSkew(nil, func(context.Context, time.Duration) { told++ })
			for _, d := range tt.samples {
				m.ClockSkew().Sample(context.Background(), base.Add(d), base)
			}
			got, known := m.ClockSkew().Skew()
			if got != tt.want || known != tt.known || told != tt.told {
				t.Errorf("skew %v known %v told %d; want %v %v %d", got, known, told, tt.want, tt.known, tt.told)
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestClockSkewGauge(t *testing.T) {
	m := New(0)
	base := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	for range 5 {
		m.ClockSkew().Sample(context.Background(), base.Add(-12*time.Second), base)
	}
	srv := serve(t, m.Handler(nil, nil))
	_, body := get(t, srv+"/metrics")
	if !strings.Contains(body, "authbot_clock_skew_seconds -12") {
		t.Errorf("gauge missing:\n%s", body)
	}
	if !strings.Contains(SkewNotice(-12*time.Second), "12s behind") {
		t.Errorf("notice: %s", SkewNotice(-12*time.Second))
	}
}
