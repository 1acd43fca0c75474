// Package diag holds what every kind of user message shares, so that a
// manifest, a request, a state document and a command line are reported in
// the same form and the same words: the Problem and its format, the one
// grammar for a wrong value (Want: "want X, got Y"), the names of JSON kinds (JSONKind),
// message paths (Key, Index), positions in JSON text, the did-you-mean
// suggester and the truncation of quoted user text.
package diag

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/agnivade/levenshtein"
)

// MaxEdits is the most edits (insertions, deletions, substitutions of a
// character, ignoring case) a word may be from a name for Closest to
// suggest it: two catches a swapped pair ("retyr", "rnu") and one or two
// wrong letters, and no more keeps unrelated words unsuggested.
const MaxEdits = 2

// Closest returns the candidate that s is most likely a typo of, or "" if
// none is: the one at the fewest edits from s, ignoring case, if that is at
// most MaxEdits and fewer than the candidate's length (so "xy" does not
// become "id"). Ties go to the earlier candidate.
func Closest(s string, candidates []string) string {
	if s == "" {
		return ""
	}
	ls, n := strings.ToLower(s), utf8.RuneCountInString(s)
	best, bestDist := "", MaxEdits+1
	for _, c := range candidates {
		m := utf8.RuneCountInString(c)
		if n-m > MaxEdits || m-n > MaxEdits {
			continue // too far apart in length; skips the quadratic work on long input
		}
		lc := strings.ToLower(c)
		d := levenshtein.ComputeDistance(ls, lc)
		if sg := singular(ls); sg != ls {
			// A plural of a name ("retries", "schedules") is meant as it.
			d = min(d, levenshtein.ComputeDistance(sg, lc))
		}
		if d < bestDist && d < m {
			best, bestDist = c, d
		}
	}
	return best
}

// singular strips an English plural ending from a lower-case word, so that
// "retries" finds "retry" and "schedules" finds "schedule".
func singular(s string) string {
	switch {
	case len(s) > 4 && strings.HasSuffix(s, "ies"):
		return s[:len(s)-3] + "y"
	case len(s) > 3 && strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss"):
		return s[:len(s)-1]
	}
	return s
}

// DidYouMean formats Closest's answer as `; did you mean "x"?`, or "".
func DidYouMean(s string, candidates []string) string {
	if c := Closest(s, candidates); c != "" {
		return fmt.Sprintf("; did you mean %q?", c)
	}
	return ""
}

// Truncate returns s cut to at most n characters, with "..." after the cut,
// never splitting a UTF-8 character. It is for quoting user text in a
// message.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for k := 0; k < n; k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + "..."
}
