package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStorage(t *testing.T) {
	dsn := "postgres://authbot:hunter2-pg@db.example:5432/authbot"
	file := filepath.Join(t.TempDir(), "dsn")
	if err := os.WriteFile(file, []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, yaml string
		env        map[string]string
		want       string // error text, or "" for success
		driver     string
	}{
		{"default is bolt", "", nil, "", DriverBolt},
		{"postgres from file", "storage: {driver: postgres, dsn_file: " + file + "}", nil, "", DriverPostgres},
		{"postgres from env", "storage: {driver: postgres}", map[string]string{EnvPostgresDSN: dsn}, "", DriverPostgres},
		{"postgres without dsn", "storage: {driver: postgres}", nil, "storage.dsn_file: required", ""},
		{"missing dsn file", "storage: {driver: postgres, dsn_file: /nonexistent/dsn}", nil, "storage.dsn_file", ""},
		{"bad driver", "storage: {driver: mysql}", nil, "storage.driver", ""},
		{"dsn with bolt", "storage: {dsn_file: " + file + "}", nil, "only used with storage.driver: postgres", ""},
		{"bad lease", "storage: {driver: postgres, dsn_file: " + file + ", lease_ttl: 1s}", nil, "storage.lease_ttl", ""},
		{"dsn in the file itself", "storage: {driver: postgres, dsn: x}", nil, "dsn", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), func(k string) string { return tt.env[k] })
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error = %v, want one containing %q", err, tt.want)
				}
				if err != nil && strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error shows the DSN's password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Storage.Driver != tt.driver {
				t.Fatalf("driver = %q", c.Storage.Driver)
			}
			if tt.driver == DriverPostgres {
				if c.Storage.DSN != dsn {
					t.Fatalf("DSN = %q", c.Storage.DSN)
				}
				if s := c.String(); strings.Contains(s, "hunter2") || strings.Contains(s, "db.example") {
					t.Fatalf("String() shows the DSN:\n%s", s)
				}
			}
		})
	}
}
