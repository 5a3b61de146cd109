package datadir

import (
	"path/filepath"
	"testing"
)

func TestLayout(t *testing.T) {
	l := At(filepath.Join("srv", "authbot"))
	tests := []struct {
		name, got, want string
	}{
		{"db", l.DB(), filepath.Join("srv", "authbot", "authbot.db")},
		{"key", l.Key(), filepath.Join("srv", "authbot", "master.key")},
		{"new key", l.NewKey(), filepath.Join("srv", "authbot", "master.key.new")},
		{"socket", l.Socket(), filepath.Join("srv", "authbot", "backup.sock")},
		{"matrix", l.Matrix(), filepath.Join("srv", "authbot", "matrix")},
		{"crypto.db", l.MatrixCryptoDB(), filepath.Join("srv", "authbot", "matrix", "crypto.db")},
		{"pending", l.MatrixPending(), filepath.Join("srv", "authbot", "matrix", "pending.json")},
		{"exports", l.Exports(), filepath.Join("srv", "authbot", "exports")},
		// A backup's relative names land where the layout says.
		{"rel crypto.db", l.Rel(RelMatrixCryptoDB), l.MatrixCryptoDB()},
		{"rel pending", l.Rel(RelMatrixPending), l.MatrixPending()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
