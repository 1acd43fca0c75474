package engine_test

import (
	"testing"

	"github.com/cronrelay/cronrelay/internal/testkit/scenario"
)

// TestScenarios runs the engine's scenarios in testdata/script through the
// real CLI, in-process (internal/testkit/scenario). They live here, not in
// cmd/cronrelay, so that they count as the engine package's own tests: for
// coverage and for mutation testing (scripts/mutation.sh).
func TestScenarios(t *testing.T) {
	t.Parallel()
	scenario.Run(t, "testdata/script")
}
