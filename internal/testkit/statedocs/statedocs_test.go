package statedocs

import (
	"testing"

	"github.com/cronrelay/cronrelay/internal/state"
)

// TestDocumentsDecode: a fixture the state reader refuses would test
// nothing but the refusal.
func TestDocumentsDecode(t *testing.T) {
	t.Parallel()
	d, err := state.Decode("Waiting", []byte(Waiting))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Open) != 2 {
		t.Errorf("Waiting has %d open occurrences, want 2", len(d.Open))
	}
}
