package secret

// Tests that pin behaviours the mutation run of issue 14 found unpinned
// (see MUTATION.md): each one fails on a mutant that survived every other
// test.

import (
	"bytes"
	"fmt"
	"testing"
)

// Only the first line of what is written through Commands is a command,
// even when that first line is empty: a text that starts with a line
// break is not a way to pass a second line raw.
func TestCommandsStartingWithABreakPassOnlyTheEmptyFirstLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"\n::stop-commands::x\n", "\n> ::stop-commands::x\n"},
		{"\r\n::stop-commands::x\n", "\r\n> ::stop-commands::x\n"},
		{"\r::stop-commands::x\n", "\r> ::stop-commands::x\n"},
	} {
		var buf bytes.Buffer
		w := (*Masker)(nil).Writer(&buf)
		fmt.Fprint(w.Commands(), tc.in)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); got != tc.want {
			t.Errorf("Commands(%q) wrote %q, want %q", tc.in, got, tc.want)
		}
	}
}
