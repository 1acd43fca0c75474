package manifest

import "github.com/cronrelay/cronrelay/internal/diag"

// Pos is a 1-based line and column in the manifest file.
type Pos = diag.Pos

// Diagnostic is one problem found in a manifest: Source is the manifest
// path as given to Parse, Path the key path ("jobs.cleanup.method"), and
// Message says what is wrong and what would be right. Warnings do not stop
// the manifest from being used. It prints as "FILE:LINE:COL: PATH: MESSAGE".
type Diagnostic = diag.Problem

// Diagnostics is every problem found in a manifest, sorted by position. It
// implements error so that callers may return it as one.
type Diagnostics = diag.Problems
