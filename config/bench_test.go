package config

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParse1000 is serve's config at start-up with 1,000 people
// (issue 21, item 4: the config was 21-34 ms of a start).
//
//	go test -tags goolm -run '^$' -bench Parse1000 -benchmem -cpu 1 ./config
func BenchmarkParse1000(b *testing.B) {
	data := []byte(usersConfig(1000))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// usersConfig is a Telegram config for n people, one block per person as
// an operator writes it.
func usersConfig(n int) string {
	var sb strings.Builder
	sb.WriteString("data_dir: /var/lib/authbot\nlog:\n  level: info\ntelegram:\n  token: \"123:abc\"\nusers:\n")
	for i := range n {
		fmt.Fprintf(&sb, "  - name: p%d\n    telegram: %d\n", i, 2001+i)
		if i%10 == 0 {
			fmt.Fprintf(&sb, "    matrix: \"@p%d:example.org\"\n    admin: true\n", i)
		}
	}
	return sb.String()
}
