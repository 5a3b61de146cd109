package config

import (
	"strings"
	"testing"
	"time"
)

func TestLockAndRateLimits(t *testing.T) {
	c, err := Parse([]byte("users: [{name: a, telegram: 1}]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Lock.UnlockFor.D() != 15*time.Minute {
		t.Errorf("default lock.unlock_for = %v, want 15m", c.Lock.UnlockFor.D())
	}
	if c.RateLimits.Off || c.RateLimits.Code != nil {
		t.Errorf("rate limits should default to built-ins: %+v", c.RateLimits)
	}
	c, err = Parse([]byte("lock: {unlock_for: 5m}\nrate_limits:\n  code: {per_minute: 600, burst: 100}\n  other: {per_minute: 0}\nusers: [{name: a, telegram: 1}]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Lock.UnlockFor.D() != 5*time.Minute || c.RateLimits.Code == nil || c.RateLimits.Code.PerMinute != 600 ||
		c.RateLimits.Code.Burst != 100 || c.RateLimits.Other == nil || c.RateLimits.Other.PerMinute != 0 {
		t.Errorf("parsed %+v %+v", c.Lock, c.RateLimits)
	}
	c, err = Parse([]byte("rate_limits: {off: true}\nusers: [{name: a, telegram: 1}]\n"), nil)
	if err != nil || !c.RateLimits.Off {
		t.Fatalf("off: %v %+v", err, c)
	}
}

func TestLockAndRateLimitErrorsNameTheKey(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unlock too short", "lock: {unlock_for: 10s}\n", "lock.unlock_for"},
		{"unlock too long", "lock: {unlock_for: 48h}\n", "lock.unlock_for"},
		{"negative rate", "rate_limits: {code: {per_minute: -1, burst: 1}}\n", "rate_limits.code.per_minute"},
		{"no burst", "rate_limits: {write: {per_minute: 5}}\n", "rate_limits.write.burst"},
		{"negative burst", "rate_limits: {lock: {per_minute: 0, burst: -2}}\n", "rate_limits.lock.burst"},
		{"unknown class", "rate_limits: {codes: {per_minute: 5, burst: 5}}\n", "codes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml+"users: [{name: a, telegram: 1}]\n"), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one naming %q", err, tt.want)
			}
		})
	}
}
