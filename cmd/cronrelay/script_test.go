package main

import (
	"testing"

	"github.com/cronrelay/cronrelay/internal/testkit/scenario"
)

// TestScripts runs the CLI's scenarios in testdata/script (the engine's are
// in internal/engine/testdata/script); internal/testkit/scenario says how.
func TestScripts(t *testing.T) {
	t.Parallel()
	scenario.Run(t, "testdata/script")
}
