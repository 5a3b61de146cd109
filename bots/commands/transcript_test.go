package commands_test

import (
	"testing"

	"github.com/authbot/authbot/internal/testkit"
)

// TestTranscripts runs the main conversations in testdata/transcripts
// (start, add with every kind of bad key, codes, list/rename/delete,
// recover, a group chat) through the console over a real handler and
// bbolt file, and compares every answer with the file. They double as the
// documentation of what the bot says; -update rewrites them (check the
// diff).
func TestTranscripts(t *testing.T) {
	testkit.Transcripts(t, "testdata/transcripts/*.txt", testkit.TranscriptOptions{})
}
