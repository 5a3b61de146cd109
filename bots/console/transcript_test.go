package console_test

import (
	"testing"

	"github.com/authbot/authbot/internal/testkit"
)

// TestTranscripts runs every testdata/transcripts/NAME.txt through the
// console, over a real handler and a real bbolt file, and compares the
// whole conversation with the file (format: testkit.Transcripts; -update
// rewrites the answers).
func TestTranscripts(t *testing.T) {
	testkit.Transcripts(t, "testdata/transcripts/*.txt", testkit.TranscriptOptions{})
}
