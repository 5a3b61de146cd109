package config

import (
	"strings"
	"testing"
	"time"
)

func TestWebSection(t *testing.T) {
	env := func(string) string { return "" }
	tests := []struct {
		name, yaml, err string
		on              bool
	}{
		{"off by default", "", "", false},
		{"on", "web:\n  listen: 127.0.0.1:8080\n  public_url: https://codes.example.org\n", "", true},
		{"listen only", "web:\n  listen: 127.0.0.1:8080\n", "web: set both", false},
		{"url only", "web:\n  public_url: https://codes.example.org\n", "web: set both", false},
		{"not a url", "web:\n  listen: :8080\n  public_url: codes.example.org\n", "web.public_url", false},
		{"a path", "web:\n  listen: :8080\n  public_url: https://example.org/codes\n", "web.public_url", false},
		{"window too long", "web:\n  listen: :8080\n  public_url: https://codes.example.org\n  init_data_max_age: 48h\n", "web.init_data_max_age", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), env)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one naming %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Web.Enabled() != tt.on {
				t.Errorf("enabled %v, want %v", c.Web.Enabled(), tt.on)
			}
		})
	}
	c, err := Parse([]byte("web:\n  listen: :8080\n  public_url: https://codes.example.org\n  init_data_max_age: 10m\n"), env)
	if err != nil || c.Web.InitDataMaxAge.D() != 10*time.Minute {
		t.Fatalf("init_data_max_age: %v %v", err, c.Web.InitDataMaxAge)
	}
}
