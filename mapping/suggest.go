package mapping

import (
	"strconv"
	"strings"
)

// hint is ` (did you mean "x"?)` for the candidate closest to name, or "" when none is
// close: the same name in another case, a prefix, or a few typing mistakes away.
func hint(name string, candidates []string) string {
	if best := closest(name, candidates); best != "" {
		return " (did you mean " + strconv.Quote(best) + "?)"
	}
	return ""
}

// columnHint suggests the header's closest column, trimmed or in another case first.
func columnHint(name string, header []string) string {
	want := strings.TrimSpace(name)
	for _, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), want) {
			return " (did you mean " + strconv.Quote(h) + "?)"
		}
	}
	return hint(name, header)
}

func closest(name string, candidates []string) string {
	lower := strings.ToLower(name)
	for _, c := range candidates {
		if strings.ToLower(c) == lower {
			return c
		}
	}
	best, bestD := "", len([]rune(name))/3
	if bestD < 1 {
		bestD = 1
	}
	bestD++ // accept distances below this
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if len(lower) >= 4 && (strings.HasPrefix(lc, lower) || strings.HasPrefix(lower, lc) && len(lc) >= 4) {
			return c
		}
		if d := distance(lower, lc); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the optimal string alignment distance: insertions, deletions, substitutions
// and swaps of neighbours each count one.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
