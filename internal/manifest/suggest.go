package manifest

import (
	"fmt"
	"strings"
)

// suggest returns the candidate closest to s, if one is close enough to be
// a likely typo: equal ignoring case, or within an edit distance of 2
// (1 for words of up to 4 letters). It returns "" otherwise.
func suggest(s string, candidates []string) string {
	best, bestDist := "", 1<<30
	for _, c := range candidates {
		if strings.EqualFold(s, c) || strings.EqualFold(singular(s), c) {
			return c
		}
		limit := 2
		if len(c) <= 4 {
			limit = 1
		}
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if d <= limit && d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// singular strips an English plural ending, so that "retries" finds
// "retry" and "schedules" finds "schedule".
func singular(s string) string {
	switch {
	case len(s) > 4 && strings.HasSuffix(strings.ToLower(s), "ies"):
		return s[:len(s)-3] + "y"
	case len(s) > 3 && strings.HasSuffix(strings.ToLower(s), "s") && !strings.HasSuffix(strings.ToLower(s), "ss"):
		return s[:len(s)-1]
	}
	return s
}

// didYouMean formats suggest's answer as `; did you mean "x"?`, or "".
func didYouMean(s string, candidates []string) string {
	if c := suggest(s, candidates); c != "" {
		return fmt.Sprintf("; did you mean %q?", c)
	}
	return ""
}

// editDistance is the optimal string alignment distance (Levenshtein plus
// transpositions of neighbours) between a and b, by bytes. Inputs are
// short keys; long ones are cut at 64 bytes to bound the work.
func editDistance(a, b string) int {
	if len(a) > 64 {
		a = a[:64]
	}
	if len(b) > 64 {
		b = b[:64]
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
