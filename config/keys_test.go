package config

import (
	"strings"
	"testing"
)

func TestParseNamesTheKey(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"telegram username", "telegram:\n  token: \"1:a\"\nusers:\n  - name: alice\n    telegram: \"@alice\"\n", `users[0].telegram: want a numeric id (ask @userinfobot), not a @username, got "@alice"`},
		{"typo nested", "users:\n  - name: alice\n    telgram: 5\n", "users[0].telgram: unknown key; did you mean telegram?"},
		{"typo top", "data_dri: x\n", "data_dri: unknown key; did you mean data_dir?"},
		{"far off", "frobnicate: 1\n", "frobnicate: unknown key (known here: data_dir"},
		{"bool", "rate_limits:\n  off: maybe\n", `rate_limits.off: want true or false, got "maybe"`},
		{"duration", "codes:\n  delete_after: soon\n", `codes.delete_after: "soon" is not a duration`},
		{"token space", "telegram:\n  token: \"123:abc def\"\nusers: [{name: a, telegram: 1}]\n", "telegram.token: has a space"},
		{"webhook no token", "telegram:\n  webhook: {listen: 127.0.0.1:1, url: https://x.org, secret: aaaaaaaaaaaaaaaaaaaa}\n", "telegram.token: empty; set " + EnvTelegramToken},
		{"bad recipient", "backup: {dir: /b, every: 1h, keep: 1, recipient: age1xyz}\n", "backup.recipient: \"age1xyz\" is not an age public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
