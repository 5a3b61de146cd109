package config

import "testing"

// FuzzParse: any bytes give a config or an error, never a panic or a hang.
func FuzzParse(f *testing.F) {
	f.Add([]byte("data_dir: ./data\nlog: {level: info}\n"))
	f.Add([]byte("telegram: {token: \"1:x\"}\nusers: [{name: a, telegram: 1}]\n"))
	f.Add([]byte("backup: {dir: /b, every: 24h, keep: 3, recipient: age1x}\nmetrics: {listen: ':9090'}\n"))
	f.Add([]byte("users: [{name: a, matrix: \"@a:b\"}, {name: A, matrix: \"@a:b\"}]"))
	f.Add([]byte("codes: {delete_after: -1s}\n&a [*a, *a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		c, err := Parse(data, nil)
		if err == nil {
			if err := c.Validate(); err != nil {
				t.Fatalf("Parse accepted a config Validate refuses: %v", err)
			}
			_ = c.String()
		}
	})
}
