package mapping

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// val is one parsed value; which member holds it depends on the field's kind.
type val struct {
	s    string   // text, GUID, currency, bid type, money, date
	n    int64    // ids, counts, percentages
	b    bool     // booleans
	ids  []int64  // members
	strs []string // accessList
}

// conv reads a field's text. It is built once per rule and read concurrently.
type conv struct {
	kind     kind
	field    fieldID
	list     bool
	split    string
	decimal  byte
	formats  []datePattern
	tz       *time.Location
	serial   bool // a plain number in a date field is an Excel serial
	date1904 bool
	vmap     *valueMap    // nil when the rule has no map
	mapped   []val        // vmap's values read once, by index (Bind); nil: read on each row (look-ups)
	months   *monthTable  // the locale's month names besides English; nil = English only
	fraction bool         // percent: fraction: a plain number is a share of 1 (0.65 is 65%)
	lookup   string       // LookupUser, LookupStage, LookupContact: a name stands for an id
	res      *lookupCache // the plan's resolver; nil = look-ups not checked

	notDate   string // reason for a value that is not a date
	notNumber string // reason for a value that is not a number
}

const (
	maxTitle       = 255
	reasonRequired = "is required"
	reasonGUID     = "is not a GUID"
	reasonZeroGUID = "is the empty GUID"
	reasonID       = "is not a positive id"
	reasonWhole    = "is not a whole number"
	reasonNegative = "is negative"
	reasonPercent  = "is outside 0-100 (the portal would clamp it)"
	reasonMoneyNeg = "is negative (the portal would store a negative amount as given)"
	reasonCurrency = "is not a currency code (want 3 letters such as EUR)"
	reasonBidType  = "is not a bid type (want FixedBid, PerHour, PerDay, PerWeek, PerMonth, PerYear or 0-5)"
	reasonBool     = "is not a boolean (want true/false, yes/no, ja/nein, oui/non, sí/no, да/нет, 1/0 or x)"
	reasonFraction = "is a fraction: if the cells are formatted as percentages, set percent: fraction on the rule"
	reasonYear     = "has a year outside 1900-9999"
	reasonTooLarge = "is too large"
)

var bidTypes = [...]string{"FixedBid", "PerHour", "PerDay", "PerWeek", "PerMonth", "PerYear"}

// parse reads one non-empty, trimmed scalar (a list's item for list fields). reason is ""
// when v is good.
func (c *conv) parse(v string) (out val, reason string) {
	reason = c.parseTo(&out, v, true)
	return out, reason
}

// parseTo is parse for the rows: the value goes into out, of which only the member the
// kind uses is set (the others may hold another field's), and nothing when reason is not
// "". Returning the 80-byte val on the stack, to be copied once more, was a sixth of a
// row's mapping (a store the next loads could not be forwarded). Without want, only the
// verdict is wanted: a date or an amount that is checked and not kept is not written out
// (out.s is then "").
func (c *conv) parseTo(out *val, v string, want bool) (reason string) {
	switch c.kind {
	case kText:
		out.s = v
		return c.checkText(v)
	case kCustom:
		out.s = v
		return ""
	case kCurrency:
		if len(v) != 3 {
			return reasonCurrency
		}
		var b [3]byte
		for i := 0; i < 3; i++ {
			ch := v[i]
			if 'a' <= ch && ch <= 'z' {
				ch -= 'a' - 'A'
			}
			if ch < 'A' || ch > 'Z' {
				return reasonCurrency
			}
			b[i] = ch
		}
		if b[0] == v[0] && b[1] == v[1] && b[2] == v[2] {
			out.s = v
			return ""
		}
		out.s = string(b[:])
		return ""
	case kID:
		n, r := wholeNumber(v)
		if r != "" {
			return c.resolveOr(out, v, r)
		}
		if n <= 0 {
			return reasonID
		}
		out.n = n
		return ""
	case kCount:
		n, r := c.unsigned(v, reasonNegative, true)
		if r != "" {
			return r
		}
		if strings.IndexByte(n, '.') >= 0 {
			return reasonWhole
		}
		i, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return reasonTooLarge
		}
		out.n = i
		return ""
	case kPercent:
		t := v
		if !trimmed(t) || t[len(t)-1] == '%' {
			t = strings.TrimSpace(strings.TrimSuffix(v, "%"))
		}
		n, neg, ok := number(t, c.decimal, true)
		if !ok {
			return c.notNumber
		}
		if c.fraction && t == v && !neg {
			var r string
			*out, r = fractionPercent(n)
			return r
		}
		whole, frac, _ := strings.Cut(n, ".")
		if neg || len(whole) > 3 {
			return reasonPercent
		}
		i, _ := strconv.Atoi(whole)
		if i > 100 || i == 100 && frac != "" {
			return reasonPercent
		}
		if frac != "" {
			if whole == "0" && t == v {
				return reasonFraction
			}
			return reasonWhole
		}
		out.n = int64(i)
		return ""
	case kMoney:
		n, r := c.unsigned(v, reasonMoneyNeg, want)
		if r != "" {
			return r
		}
		out.s = n
		return ""
	case kGUID:
		g, r := guid(v)
		if r != "" {
			return c.resolveOr(out, v, r)
		}
		out.s = g
		return ""
	case kBidType:
		for _, name := range bidTypes {
			if strings.EqualFold(v, name) {
				out.s = name
				return ""
			}
		}
		if n, r := wholeNumber(v); r == "" && n >= 0 && n < int64(len(bidTypes)) {
			out.s = bidTypes[n]
			return ""
		}
		return reasonBidType
	case kBool:
		b, ok := boolean(v)
		if !ok {
			return reasonBool
		}
		out.b = b
		return ""
	case kDate:
		d, r := c.date(v, want)
		out.s = d
		return r
	}
	panic("mapping: unknown kind")
}

// checkText applies the portal's limits on text columns: the title is varchar(255) and
// both title and description live in a 3-byte utf8 MySQL table.
// unsigned reads v as a number of c's decimal mark that is not below zero, else the
// reason: not a number, or negative. Without want the number may come back "".
func (c *conv) unsigned(v, negative string, want bool) (string, string) {
	n, neg, ok := number(v, c.decimal, want)
	if !ok {
		return "", c.notNumber
	}
	if neg {
		return "", negative
	}
	return n, ""
}

func (c *conv) checkText(v string) string {
	if c.field == fTitle && len(v) > maxTitle {
		if n := utf8.RuneCountInString(v); n > maxTitle {
			return "is " + strconv.Itoa(n) + " characters long (the portal keeps 255)"
		}
	}
	// Only a character above U+FFFF takes 4 bytes, and its first byte is the only one of
	// 0xF0 or more: text is passed on its bytes, eight at a time while none is 0xF0 or
	// more (ASCII, and the 2- and 3-byte characters of European and Asian text alike).
	const ones, highs, f0s = 0x0101010101010101, 0x8080808080808080, 0xF0F0F0F0F0F0F0F0
	i := 0
	for ; i+8 <= len(v); i += 8 {
		b := v[i : i+8] // one bounds check, and the eight loads made one
		word := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		// x has a zero byte where word has a byte of 0xF0 or more.
		if x := word&f0s ^ f0s; (x-ones)&^x&highs != 0 {
			break
		}
	}
	for ; i < len(v); i++ {
		if v[i] >= 0xF0 {
			if r, _ := utf8.DecodeRuneInString(v[i:]); r > 0xFFFF {
				return "contains " + strconv.QuoteRune(r) + " (U+" + strings.ToUpper(strconv.FormatInt(int64(r), 16)) +
					"), which needs 4 bytes in UTF-8 (the portal stores 3-byte UTF-8 only)"
			}
		}
	}
	return ""
}

// wholeNumber reads an integer as ids are written: digits, or an integral decimal such as
// "5.0" (XLSX raw numbers), with an optional sign.
func wholeNumber(v string) (int64, string) {
	s := v
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		frac := s[i+1:]
		s = s[:i]
		for j := 0; j < len(frac); j++ {
			if frac[j] < '0' || frac[j] > '9' {
				return 0, reasonWhole
			}
			if frac[j] != '0' {
				return 0, reasonWhole
			}
		}
	}
	if s == "" {
		return 0, reasonWhole
	}
	for j := 0; j < len(s); j++ {
		if s[j] < '0' || s[j] > '9' {
			return 0, reasonWhole
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, reasonTooLarge
	}
	if neg {
		n = -n
	}
	return n, ""
}

// boolean reads the ways spreadsheets and people write a yes or no: in English and every
// language of the languages table (да/нет, tak/nie, はい/いいえ, ...), as a check mark, or as 1
// and 0, in any case.
func boolean(v string) (bool, bool) {
	if len(v) == 1 {
		switch v[0] {
		case '1', 'y', 'Y', 'x', 'X', 'j', 'J':
			return true, true
		case '0', 'n', 'N':
			return false, true
		}
		return false, false
	}
	if len(v) > maxBoolWord {
		return false, false
	}
	b, ok := boolWords[strings.ToLower(v)]
	return b, ok
}

// englishBools are the words read as booleans besides the languages' yes and no.
var englishBools = map[string]bool{"true": true, "yes": true, "on": true, "✓": true, "✔": true, "false": false, "no": false, "off": false}

// boolWords are all the words read as booleans, lower case; maxBoolWord the longest's
// length in bytes.
var boolWords, maxBoolWord = func() (map[string]bool, int) {
	words := map[string]bool{}
	for w, b := range englishBools {
		words[w] = b
	}
	for _, l := range languages {
		// A word is also read as written in capitals: "YANLIŞ" lowers to "yanliş".
		for _, w := range l.yes {
			words[strings.ToLower(w)] = true
			words[strings.ToLower(strings.ToUpper(w))] = true
		}
		for _, w := range l.no {
			words[strings.ToLower(w)] = false
			words[strings.ToLower(strings.ToUpper(w))] = false
		}
	}
	longest := 0
	for w := range words {
		longest = max(longest, len(w))
	}
	return words, longest
}()

// Boolean reads a yes or no as a mapping reads boolean fields (true/false, yes/no, ja/nein,
// oui/non, sí/no, да/нет, 1/0, x, and yes and no in every language of the table); ok is false for anything else. For checking custom checkbox
// fields.
func Boolean(v string) (b, ok bool) { return boolean(strings.TrimSpace(v)) }

// fractionPercent reads a share of 1 (n in invariant form, not negative) as a whole
// percentage. Excel stores 57% as 0.56999999999999995, so the nearest whole percent is taken
// when the value is that close to it.
func fractionPercent(n string) (val, string) {
	f, err := strconv.ParseFloat(n, 64)
	if err != nil || f > 1 {
		return val{}, "is over 1 (percent: fraction reads 0.65 as 65%)"
	}
	p := f * 100
	r := math.Round(p)
	if math.Abs(p-r) > 1e-6 {
		return val{}, reasonWhole
	}
	return val{n: int64(r)}, ""
}

// guid reads a GUID written dashed, braced or as 32 hex digits and returns it dashed and in
// lower case.
func guid(v string) (string, string) {
	s := v
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	var hex [32]byte
	n := 0
	switch len(s) {
	case 36:
		for i := 0; i < 36; i++ {
			if i == 8 || i == 13 || i == 18 || i == 23 {
				if s[i] != '-' {
					return "", reasonGUID
				}
				continue
			}
			hex[n] = s[i]
			n++
		}
	case 32:
		copy(hex[:], s)
	default:
		return "", reasonGUID
	}
	var out [36]byte
	lower, zero := true, true
	j := 0
	for i, ch := range hex {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			out[j] = '-'
			j++
		}
		switch {
		case '0' <= ch && ch <= '9', 'a' <= ch && ch <= 'f':
		case 'A' <= ch && ch <= 'F':
			ch += 'a' - 'A'
			lower = false
		default:
			return "", reasonGUID
		}
		if ch != '0' {
			zero = false
		}
		out[j] = ch
		j++
	}
	if zero {
		return "", reasonZeroGUID
	}
	if lower && len(v) == 36 {
		return v, ""
	}
	return string(out[:]), ""
}

// number reads a decimal number as people and spreadsheets write it and returns it in
// invariant form ("1234.5", "0"; no exponent, no trailing fraction zeros) and its sign.
// dec is the decimal separator. Thousands are grouped by the other of '.' and ',', spaces
// or apostrophes, in groups of three (so "1,5" with dec '.' is refused rather than read as
// 15); currency symbols and codes before or after the number are dropped; a leading '-' or
// surrounding parentheses make it negative. An exponent ("1.5E+3", as XLSX stores large
// and small numbers) is taken when dec is '.'. Without want, n may be "" for a good
// number that is not negative (the verdict alone is wanted).
func number(v string, dec byte, want bool) (n string, neg bool, ok bool) {
	s := v
	// Fast path: plain digits with an optional '.' fraction, the usual CSV and XLSX form.
	if dec == '.' && plainDecimal(s) {
		if !want {
			return "", false, true
		}
		return normalize(s), false, true
	}
	if n, ok := groupedNumber(s, dec, want); ok {
		return n, false, true
	}
	if len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' {
		neg = true
		s = s[1 : len(s)-1]
	}
	signed := false
	for s != "" {
		r, size := utf8.DecodeRuneInString(s)
		if r == '-' || r == '+' || r == '\u2212' {
			if signed {
				return "", false, false
			}
			signed = true
			neg = neg || r != '+'
		} else if !unit(r) {
			break
		}
		s = s[size:]
	}
	for s != "" {
		r, size := utf8.DecodeLastRuneInString(s)
		if !unit(r) {
			break
		}
		s = s[:len(s)-size]
	}
	if dec == '.' {
		if mant, exp, found := strings.Cut(s, "e"); found {
			return exponent(mant, exp, neg)
		}
		if mant, exp, found := strings.Cut(s, "E"); found {
			return exponent(mant, exp, neg)
		}
	}
	var arr [40]byte
	buf := arr[:0]
	digits, groupLen, groups := 0, 0, 0
	var groupSep rune
	frac := -1 // index in buf of the decimal point
	for _, r := range s {
		switch {
		case '0' <= r && r <= '9':
			buf = append(buf, byte(r))
			digits++
			groupLen++
		case r == rune(dec):
			if frac >= 0 || groups > 0 && groupLen != 3 {
				return "", false, false
			}
			frac = len(buf)
			buf = append(buf, '.')
		case groupSeparator(r, dec):
			if frac >= 0 || groupLen == 0 || groups == 0 && groupLen > 3 || groups > 0 && groupLen != 3 || groups > 0 && r != groupSep {
				return "", false, false
			}
			groupSep = r
			groups++
			groupLen = 0
		default:
			return "", false, false
		}
	}
	if digits == 0 || frac < 0 && groups > 0 && groupLen != 3 {
		return "", false, false
	}
	n = normalize(string(buf))
	if n == "0" {
		neg = false
	}
	return n, neg, true
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// groupedNumber reads, as number does, the other usual form: ASCII digits grouped in
// threes by the other of '.' and ',', with an optional fraction ("12,345.50"). ok is false
// for anything else, which number reads the long way. Without want, n is "" (nothing is
// allocated).
func groupedNumber(s string, dec byte, want bool) (n string, ok bool) {
	sep := byte(',')
	if dec == ',' {
		sep = '.'
	}
	var arr [40]byte
	if len(s) > len(arr) {
		return "", false
	}
	buf := arr[:0]
	groupLen, groups, frac := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isDigit(c):
			if want {
				buf = append(buf, c)
			}
			groupLen++
		case frac:
			return "", false
		case c == sep && groupLen > 0 && (groupLen == 3 || groups == 0 && groupLen < 3):
			groups++
			groupLen = 0
		case c == dec && groups > 0 && groupLen == 3:
			frac = true
			if want {
				buf = append(buf, '.')
			}
		default:
			return "", false
		}
	}
	if groups == 0 || !frac && groupLen != 3 {
		return "", false
	}
	if !want {
		return "", true
	}
	return normalize(string(buf)), true
}

// plainDecimal says whether s is digits with at most one '.', and at least one digit.
func plainDecimal(s string) bool {
	dot, digits := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case isDigit(s[i]):
			digits++
		case s[i] == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// unit says whether r may stand around a number as a currency or unit: letters, currency
// symbols and spaces.
func unit(r rune) bool {
	if r < utf8.RuneSelf { // the only ASCII currency symbol is $
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '$' || r == ' ' || '\t' <= r && r <= '\r'
	}
	return unicode.IsLetter(r) || unicode.Is(unicode.Sc, r) || unicode.IsSpace(r)
}

func groupSeparator(r rune, dec byte) bool {
	switch r {
	case ' ', '\u00a0', '\u202f', '\'', '\u2019':
		return true
	case ',':
		return dec == '.'
	case '.':
		return dec == ','
	}
	return false
}

// normalize turns digits with an optional '.' into invariant form: no leading zeros in the
// whole part (but at least "0"), no trailing zeros in the fraction, no empty fraction. It
// returns a part of s when it can, so the usual case does not allocate.
func normalize(s string) string {
	i := strings.IndexByte(s, '.')
	if i < 0 {
		i = len(s)
	}
	end := len(s)
	if i < len(s) {
		for end > i+1 && s[end-1] == '0' {
			end--
		}
		if end == i+1 {
			end = i
		}
	}
	if i == 0 {
		return "0" + s[:end]
	}
	start := 0
	for start < i-1 && s[start] == '0' {
		start++
	}
	return s[start:end]
}

// exponent reads mant × 10^exp exactly, by moving the decimal point.
func exponent(mant, exp string, neg bool) (string, bool, bool) {
	if !plainDecimal(mant) || exp == "" {
		return "", false, false
	}
	e, err := strconv.Atoi(exp)
	if err != nil || e > 400 || e < -400 {
		return "", false, false
	}
	whole, frac, _ := strings.Cut(mant, ".")
	digits := whole + frac
	point := len(whole) + e
	switch {
	case point <= 0:
		digits = strings.Repeat("0", 1-point) + digits
		point = 1
	case point > len(digits):
		digits += strings.Repeat("0", point-len(digits))
	}
	n := normalize(digits[:point] + "." + digits[point:])
	if n == "0" {
		neg = false
	}
	return n, neg, true
}
