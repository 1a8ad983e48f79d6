package mapping

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
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

// maxSuggest bounds the names a suggestion is computed for, in bytes.
const maxSuggest = 256

// closest returns the candidate name most likely meant, "" for none. It costs time linear in
// the candidates' length and memory linear in name's, whatever the candidates hold (a
// header name of 64 MB is passed over at once).
func closest(name string, candidates []string) string {
	for _, c := range candidates {
		if strings.EqualFold(c, name) {
			return c
		}
	}
	if len(name) > maxSuggest {
		return ""
	}
	n := utf8.RuneCountInString(name)
	best, bestD := "", max(n/3, 1)+1 // accept distances below bestD
	for _, c := range candidates {
		if n >= 4 && hasPrefixFold(c, name) {
			return c
		}
		if len(c) > utf8.UTFMax*(n+bestD) {
			continue // more characters than any close name has
		}
		m := utf8.RuneCountInString(c)
		if m >= 4 && m <= n && hasPrefixFold(name, c) {
			return c
		}
		if m-n >= bestD || n-m >= bestD {
			continue
		}
		if d := EditDistance(strings.ToLower(name), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// hasPrefixFold says whether s starts with prefix, ignoring case.
func hasPrefixFold(s, prefix string) bool {
	for _, want := range prefix {
		got, size := utf8.DecodeRuneInString(s)
		if size == 0 || got != want && unicode.ToLower(got) != unicode.ToLower(want) {
			return false
		}
		s = s[size:]
	}
	return true
}

// EditDistance is the optimal string alignment distance of a and b, by characters:
// insertions, deletions, substitutions and swaps of neighbours each count one. It is the
// measure of every did-you-mean: the mapping's here, the command line's flags in main. It
// keeps three rows.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
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
