package source

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// The legacy encoding of a file that is not UTF-8 is guessed from evidence rather than
// assumed: the bytes are decoded with each candidate and the text scored as a reader
// would judge it. A word (a run of letters) that holds letters outside ASCII scores when
// it is plausible: one script (no Latin mixed with Cyrillic), cased as words are (all
// lower, all upper or capitalised), and, for a Latin encoding, mostly ASCII letters (Western
// languages write most letters in ASCII; a Cyrillic or Greek text read as Latin-1 is all
// accents). A symbol wedged between letters ("£ód¼"), a control character or an unmapped
// byte counts against. This needs no model and no dependency beyond x/text's charmaps; the
// Go detectors on offer (ports of ICU's or Mozilla's, unmaintained for years) would add a
// module for a choice between a dozen tables. East Asian double-byte encodings are scored
// on their bytes: how many pairs fall in the rows of the common characters.

type candidate struct {
	name string
	cm   *charmap.Charmap // nil: a double-byte encoding scored by cjkScore
}

// candidates, in the order ties are broken: the legacy encodings of spreadsheet exports.
var candidates = []candidate{
	{"windows-1251", charmap.Windows1251},
	{"windows-1252", charmap.Windows1252},
	{"macintosh", charmap.Macintosh},
	{"iso-8859-2", charmap.ISO8859_2},
	{"windows-1250", charmap.Windows1250},
	{"koi8-r", charmap.KOI8R},
	{"ibm866", charmap.CodePage866},
	{"windows-1253", charmap.Windows1253},
	{"windows-1254", charmap.Windows1254},
	{"windows-1257", charmap.Windows1257},
	{"shift_jis", nil},
	{"gbk", nil},
	{"euc-kr", nil},
}

// GuessEncodings returns the encodings sample (the start of a file that is not UTF-8, or
// the row where it stops being UTF-8) most likely is in, most likely first: at most three,
// and none that the text argues against. It never returns nothing: windows-1252 is the
// fallback of spreadsheet exports.
func GuessEncodings(sample []byte) []string {
	if len(sample) > 1<<18 {
		sample = sample[:1<<18]
	}
	type scored struct {
		name  string
		score float64
		order int
	}
	var all []scored
	for i, c := range candidates {
		var s float64
		if c.cm != nil {
			s = textScore(decodeCharmap(c.cm, sample), c.cm == charmap.Windows1251 || c.cm == charmap.KOI8R || c.cm == charmap.CodePage866 || c.cm == charmap.Windows1253)
		} else {
			s = cjkScore(c.name, sample)
		}
		all = append(all, scored{c.name, s, i})
	}
	slices.SortStableFunc(all, func(a, b scored) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return a.order - b.order
	})
	var out []string
	for _, s := range all {
		if len(out) == 3 || s.score <= 0 && len(out) > 0 {
			break
		}
		out = append(out, s.name)
	}
	return out
}

func decodeCharmap(cm *charmap.Charmap, b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/2)
	for _, c := range b {
		sb.WriteRune(cm.DecodeByte(c))
	}
	return sb.String()
}

// textScore scores decoded text; nonLatin says the encoding is for a non-Latin script,
// whose words are written wholly outside ASCII.
func textScore(text string, nonLatin bool) float64 {
	var score float64
	var word []rune
	flush := func() {
		if len(word) > 0 {
			score += wordScore(word, nonLatin)
			word = word[:0]
		}
	}
	prevLetter := false
	runes := []rune(text)
	upper, lower := 0, 0 // letters outside ASCII
	for i, r := range runes {
		switch {
		case unicode.IsLetter(r):
			word = append(word, r)
			prevLetter = true
			if r > 0x7f && unicode.IsUpper(r) {
				upper++
			} else if r > 0x7f && unicode.IsLower(r) {
				lower++
			}
			if strings.ContainsRune(rareLetters, r) {
				score -= 0.5
			}
			continue
		case r == utf8.RuneError || r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r >= 0x7f && r < 0xa0:
			score -= 5 // unmapped byte or a control character
		case r > 0x7f && prevLetter && i+1 < len(runes) && unicode.IsLetter(runes[i+1]) && r != 0xa0 && r != '’' && r != '\u00ad':
			score -= 2 // a symbol inside a word
		case r > 0x7f && !strings.ContainsRune(commonSymbols, r):
			score-- // a symbol rarely written in a table
		}
		prevLetter = false
		flush()
	}
	flush()
	// Text is mostly lower case: a table whose letters are mostly capitals is more likely
	// another encoding with the cases swapped (KOI8-R read as windows-1251).
	if upper > lower {
		score -= float64(upper-lower) / 4
	}
	return score
}

// commonSymbols are the symbols outside ASCII that tables of deals do hold.
const commonSymbols = "\u00a0«»„“”‘’‚–—…€£¥§°©®™•·№±×"

// rareLetters are letters that a legacy table maps where another one maps a common letter
// (windows-1252's þ and ý where windows-1254 has ş and ı).
const rareLetters = "ÐðÞþÝý"

func wordScore(word []rune, nonLatin bool) float64 {
	ascii, other := 0, 0
	latin, cyrillic, greek, rest := false, false, false, false
	for _, r := range word {
		if r < utf8.RuneSelf {
			ascii++
		} else {
			other++
		}
		switch {
		case unicode.Is(unicode.Latin, r):
			latin = true
		case unicode.Is(unicode.Cyrillic, r):
			cyrillic = true
		case unicode.Is(unicode.Greek, r):
			greek = true
		default:
			rest = true
		}
	}
	if other == 0 {
		return 0
	}
	scripts := 0
	for _, b := range []bool{latin, cyrillic, greek, rest} {
		if b {
			scripts++
		}
	}
	if scripts > 1 {
		return -3
	}
	// After its first letter a word is all lower or all upper case.
	upper, lower := 0, 0
	for _, r := range word[1:] {
		if unicode.IsUpper(r) {
			upper++
		} else if unicode.IsLower(r) {
			lower++
		}
	}
	if upper > 0 && lower > 0 || upper > 0 && unicode.IsLower(word[0]) {
		return -2
	}
	if latin && !nonLatin && len(word) >= 4 && other*2 > len(word) {
		return -1 // a Latin word of accents only: another script read as Latin
	}
	return 1
}

// cjkScore scores b as a double-byte encoding: a pair in the rows of the common characters
// (GB2312 level 1, JIS level 1 with kana, KS X 1001 Hangul) counts for (a quarter: a word
// is about four characters), a rarer one a little against, an invalid byte much against.
func cjkScore(name string, b []byte) float64 {
	var score float64
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x80 {
			continue
		}
		if name == "shift_jis" && c >= 0xa1 && c <= 0xdf {
			score -= 0.5 // a half-width katakana: rare in text
			continue
		}
		if i+1 >= len(b) {
			break
		}
		t := b[i+1]
		i++
		switch name {
		case "gbk":
			switch {
			case c < 0x81 || c > 0xfe || t < 0x40 || t == 0x7f || t > 0xfe:
				score -= 5
			case c >= 0xb0 && c <= 0xd7 && t >= 0xa1:
				score += 0.25
			default:
				score -= 0.5
			}
		case "shift_jis":
			switch {
			case !(c >= 0x81 && c <= 0x9f || c >= 0xe0 && c <= 0xef) || t < 0x40 || t == 0x7f || t > 0xfc:
				score -= 5
			case c >= 0x81 && c <= 0x83 || c >= 0x88 && c <= 0x9f:
				score += 0.25
			default:
				score -= 0.5
			}
		case "euc-kr":
			switch {
			case c < 0xa1 || c > 0xfe || t < 0xa1 || t > 0xfe:
				score -= 5
			case c >= 0xb0 && c <= 0xc8:
				score += 0.25
			default:
				score -= 0.5
			}
		}
	}
	return score
}
