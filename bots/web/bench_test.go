package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authbot/authbot/bots/web/webtest"
)

// BenchmarkCodesEndpoint is one POST /api/codes for a person with 50
// accounts, through the whole handler: launch data check, rate limiter,
// core's Codes (50 accounts opened, 50 audit events buffered), JSON. It
// reports the median (p50) besides the mean.
func BenchmarkCodesEndpoint(b *testing.B) {
	r := webtest.New(b, webtest.Options{})
	for i := range 50 {
		r.Add("alice", fmt.Sprintf("account-%02d", i), webtest.TOTP([]byte(fmt.Sprintf("secret number %02d!!", i))), "Issuer")
	}
	h := r.Server.Handler()
	auth := "tma " + r.InitData(1001, r.Clock.Now())
	req := func() *http.Request {
		q := httptest.NewRequest(http.MethodPost, "/api/codes", strings.NewReader("{}"))
		q.Header.Set("Content-Type", "application/json")
		q.Header.Set("Sec-Fetch-Site", "same-origin")
		q.Header.Set("Authorization", auth)
		return q
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req())
	if w.Code != http.StatusOK || strings.Count(w.Body.String(), `"code":`) != 50 {
		b.Fatalf("status %d: %.200s", w.Code, w.Body.String())
	}
	took := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		q := req()
		w := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(w, q)
		took = append(took, time.Since(start))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
}
