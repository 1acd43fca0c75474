package manifest

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a 1-based line and column in the manifest file.
type Pos struct{ Line, Col int }

// Diagnostic is one problem found in a manifest.
type Diagnostic struct {
	// Path is the manifest path as given to Parse.
	Path string
	// Pos is where the problem is.
	Pos Pos
	// Warning is true for problems that do not stop the manifest from
	// being used.
	Warning bool
	// Msg names the key path and says what is wrong and what would be
	// right, e.g. `jobs.cleanup.method: method "FETCH" is not one of ...`.
	Msg string
}

// String formats d as "FILE:LINE:COL: msg", with "warning: " before the
// message for warnings.
func (d Diagnostic) String() string {
	if d.Warning {
		return fmt.Sprintf("%s:%d:%d: warning: %s", d.Path, d.Pos.Line, d.Pos.Col, d.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", d.Path, d.Pos.Line, d.Pos.Col, d.Msg)
}

// Diagnostics is every problem found in a manifest, sorted by position. It
// implements error so that callers may return it as one.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error, not a warning.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if !d.Warning {
			return true
		}
	}
	return false
}

// Error returns the diagnostics one a line.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// sortDedupe sorts by position (keeping the order of discovery for equal
// positions) and drops exact repeats, which arise when several jobs inherit
// the same faulty default.
func (ds Diagnostics) sortDedupe() Diagnostics {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Pos, ds[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	out := ds[:0]
	seen := make(map[Diagnostic]bool, len(ds))
	for _, d := range ds {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}
