package request

import "strings"

// suggest returns the candidate closest to word, if one is close enough to
// be a likely typo: an edit distance (with transpositions, ignoring case) of
// at most a third of the word's length, and at least 1. Ties go to the
// earlier candidate.
func suggest(word string, candidates []string) (string, bool) {
	if len(word) > 200 {
		return "", false // not a typo of anything we accept; skip the quadratic work
	}
	limit := max(1, len([]rune(word))/3)
	best, bestDist := "", limit+1
	lw := strings.ToLower(word)
	for _, c := range candidates {
		if d := distance(lw, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best, best != ""
}

// distance is the optimal string alignment distance between a and b: the
// edits (insert, delete, substitute, swap two neighbours) that turn one into
// the other, counted in runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows suffice: the current one, the previous one and the one
	// before it (for transpositions).
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
