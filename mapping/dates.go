package mapping

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// A datePattern is a compiled "format:" pattern such as "DD.MM.YYYY HH:mm".
type datePattern struct {
	text    string
	toks    []dateTok
	hasTime bool
	// size is the length of every date the pattern reads when all its parts have a width
	// of their own (DD.MM.YYYY: digits of fixed width and literals without letters), 0
	// otherwise: such a date is read at its offsets (fixed).
	size int
}

type tokKind int

const (
	tLit       tokKind = iota // lit, matched exactly (ASCII letters in any case)
	tSpace                    // one or more spaces
	tYear4                    // YYYY
	tYear2                    // YY: 00-29 are 2000-2029, 30-99 are 1930-1999, as Excel reads them
	tMonth                    // M or MM
	tMonthAbbr                // MMM: Jan
	tMonthName                // MMMM: January
	tDay                      // D or DD
	tHour                     // H or HH
	tMinute                   // mm
	tSecond                   // ss
)

type dateTok struct {
	kind  tokKind
	width int // digits: 2 exactly, or 1 for "one or two"
	lit   string
}

// dateTokens are the tokens of a pattern, each with its kind and its width.
var dateTokens = map[string]dateTok{
	"YYYY": {kind: tYear4, width: 4},
	"YY":   {kind: tYear2, width: 2},
	"M":    {kind: tMonth, width: 1},
	"MM":   {kind: tMonth, width: 2},
	"MMM":  {kind: tMonthAbbr},
	"MMMM": {kind: tMonthName},
	"D":    {kind: tDay, width: 1},
	"DD":   {kind: tDay, width: 2},
	"H":    {kind: tHour, width: 1},
	"HH":   {kind: tHour, width: 2},
	"mm":   {kind: tMinute, width: 2},
	"ss":   {kind: tSecond, width: 2},
}

// tokenRule says, for a run of a token's letter that is no token (YYY, DDD, m), which
// runs of it are.
var tokenRule = map[byte]string{
	'Y': "the year is YYYY or YY",
	'M': "the month is M, MM, MMM or MMMM",
	'D': "the day is D or DD, the hour H or HH",
	'H': "the day is D or DD, the hour H or HH",
	'm': "minutes are mm, seconds ss",
	's': "minutes are mm, seconds ss",
}

// compileDate compiles a pattern of the tokens YYYY YY MM M MMM MMMM DD D HH H mm ss; any
// other character stands for itself.
func compileDate(p string) (datePattern, error) {
	dp := datePattern{text: p}
	seen := map[tokKind]bool{}
	add := func(t dateTok) error {
		group := t.kind
		switch t.kind {
		case tYear2:
			group = tYear4
		case tMonthAbbr, tMonthName:
			group = tMonth
		}
		if seen[group] {
			return errors.New("it has the same part twice")
		}
		seen[group] = true
		dp.toks = append(dp.toks, t)
		return nil
	}
	for i := 0; i < len(p); {
		c := p[i]
		n := 1
		for i+n < len(p) && p[i+n] == c {
			n++
		}
		var err error
		switch tok, ok := dateTokens[p[i:i+n]]; {
		case ok:
			err = add(tok)
		case tokenRule[c] != "":
			err = errors.New(tokenRule[c])
		case c == 'y' || c == 'd' || c == 'h' || c == 'S':
			err = errors.New("the tokens are YYYY YY MM M MMM MMMM DD D HH H mm ss (year, month, day and hour in upper case)")
		case c == ' ':
			dp.toks = append(dp.toks, dateTok{kind: tSpace})
		default:
			if last := len(dp.toks) - 1; last >= 0 && dp.toks[last].kind == tLit {
				dp.toks[last].lit += p[i : i+n]
			} else {
				dp.toks = append(dp.toks, dateTok{kind: tLit, lit: p[i : i+n]})
			}
		}
		if err != nil {
			return dp, err
		}
		i += n
	}
	switch {
	case !seen[tYear4] || !seen[tMonth] || !seen[tDay]:
		if seen[tMinute] && !seen[tMonth] {
			return dp, errors.New("it has no month (mm is minutes; the month is MM)")
		}
		return dp, errors.New("it needs a year, a month and a day")
	case seen[tMinute] && !seen[tHour]:
		return dp, errors.New("it has minutes (mm) but no hour (HH)")
	case seen[tSecond] && !seen[tMinute]:
		return dp, errors.New("it has seconds (ss) but no minutes (mm)")
	}
	for i := 0; i+1 < len(dp.toks); i++ {
		if dp.toks[i].width == 1 && dp.toks[i+1].kind >= tYear4 && dp.toks[i+1].kind != tMonthAbbr && dp.toks[i+1].kind != tMonthName {
			return dp, errors.New("a one-digit part (M, D or H) runs into the next number; use MM, DD or HH")
		}
	}
	dp.hasTime = seen[tHour]
	size := 0
	for _, t := range dp.toks {
		switch {
		case t.kind == tLit && !hasLetterOrWide(t.lit):
			size += len(t.lit)
		case t.kind >= tYear4 && t.kind != tMonthAbbr && t.kind != tMonthName && t.width >= 2:
			size += t.width
		default:
			return dp, nil // a space, a name, a part of one or two digits: size 0
		}
	}
	dp.size = size
	return dp, nil
}

// hasLetterOrWide says whether a literal may match text other than itself (EqualFold:
// an ASCII letter, or anything not ASCII).
func hasLetterOrWide(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; 'a' <= c && c <= 'z' || s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// fixed is match for a pattern of fixed size: each part at its offset, none searched for.
func (p *datePattern) fixed(w *wallTime, s string) bool {
	if len(s) != p.size {
		return false
	}
	*w = wallTime{hasTime: p.hasTime}
	off := 0
	for i := range p.toks {
		t := &p.toks[i]
		if t.kind == tLit {
			for j := 0; j < len(t.lit); j++ { // a byte or two: no call to compare them
				if s[off+j] != t.lit[j] {
					return false
				}
			}
			off += len(t.lit)
			continue
		}
		n := 0
		for j := off; j < off+t.width; j++ {
			c := s[j]
			if c < '0' || c > '9' {
				return false
			}
			n = n*10 + int(c-'0')
		}
		off += t.width
		w.set(t.kind, n)
	}
	return true
}

// wallTime is a date, and a time of day when hasTime.
type wallTime struct {
	year, month, day, hour, min, sec int
	hasTime                          bool
	offset                           int  // seconds east of UTC, when zoned
	zoned                            bool // the value named its zone
}

// set puts n, read by a token of kind, in its field (a two-digit year: 1930-2029).
func (w *wallTime) set(kind tokKind, n int) {
	switch kind {
	case tYear4:
		w.year = n
	case tYear2:
		w.year = 1900 + n
		if n < 30 {
			w.year = 2000 + n
		}
	case tMonth:
		w.month = n
	case tDay:
		w.day = n
	case tHour:
		w.hour = n
	case tMinute:
		w.min = n
	case tSecond:
		w.sec = n
	}
}

// match reads s by the pattern into w; false when s has another shape. The fields are not
// range-checked. w is filled in place: a wallTime returned is copied from the stack, a
// tenth of a date's reading.
// MMM and MMMM read full and abbreviated names alike, in English and in locale's language
// (nil = English only), with an optional dot after the name.
func (p *datePattern) match(w *wallTime, s string, locale *monthTable) bool {
	if p.size > 0 {
		return p.fixed(w, s)
	}
	*w = wallTime{hasTime: p.hasTime}
	var ok bool
	for i, t := range p.toks {
		switch t.kind {
		case tLit:
			if len(s) < len(t.lit) || !strings.EqualFold(s[:len(t.lit)], t.lit) {
				return false
			}
			s = s[len(t.lit):]
		case tSpace:
			if s == "" || s[0] != ' ' {
				return false
			}
			s = strings.TrimLeft(s, " ")
		case tMonthAbbr, tMonthName:
			if w.month, s, ok = matchMonth(s, locale); !ok {
				return false
			}
			// "3 janv. 2024": the abbreviation's dot, unless the pattern writes it.
			if strings.HasPrefix(s, ".") && (i+1 == len(p.toks) || p.toks[i+1].kind != tLit || !strings.HasPrefix(p.toks[i+1].lit, ".")) {
				s = s[1:]
			}
		default:
			var n int
			if n, s, ok = digits(s, t.width); !ok {
				return false
			}
			w.set(t.kind, n)
		}
	}
	return s == ""
}

// digits reads exactly width digits, or one or two when width is 1 (or 4 for years).
func digits(s string, width int) (int, string, bool) {
	max := width
	if width == 1 {
		max = 2
	}
	n, i := 0, 0
	for ; i < max && i < len(s) && isDigit(s[i]); i++ {
		n = n*10 + int(s[i]-'0')
	}
	if i < width || i == 0 {
		return 0, s, false
	}
	return n, s[i:], true
}

// valid says whether w is a real calendar date and time.
func (w *wallTime) valid() bool {
	if w.month < 1 || w.month > 12 || w.day < 1 || w.hour > 23 || w.min > 59 || w.sec > 59 {
		return false
	}
	return w.day <= daysIn(w.month, w.year)
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// iso reads YYYY-MM-DD and YYYY-MM-DDTHH:mm[:ss][Z|±hh:mm], with a space for the T as an
// XLSX date-time cell is read ("2024-03-15 13:40").
func iso(s string) (w wallTime, ok bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return w, false
	}
	if w.year, _, ok = digits(s[:4], 4); !ok {
		return w, false
	}
	if w.month, _, ok = digits(s[5:7], 2); !ok {
		return w, false
	}
	if w.day, _, ok = digits(s[8:10], 2); !ok {
		return w, false
	}
	s = s[10:]
	if s == "" {
		return w, true
	}
	if len(s) < 6 || s[0] != 'T' && s[0] != ' ' || s[3] != ':' {
		return w, false
	}
	w.hasTime = true
	if w.hour, _, ok = digits(s[1:3], 2); !ok {
		return w, false
	}
	if w.min, _, ok = digits(s[4:6], 2); !ok {
		return w, false
	}
	s = s[6:]
	if len(s) >= 3 && s[0] == ':' {
		if w.sec, _, ok = digits(s[1:3], 2); !ok {
			return w, false
		}
		s = s[3:]
	}
	switch {
	case s == "":
	case s == "Z":
		w.zoned = true
	case len(s) == 6 && (s[0] == '+' || s[0] == '-') && s[3] == ':':
		h, _, ok1 := digits(s[1:3], 2)
		m, _, ok2 := digits(s[4:6], 2)
		if !ok1 || !ok2 || h > 14 || m > 59 {
			return w, false
		}
		w.zoned = true
		w.offset = h*3600 + m*60
		if s[0] == '-' {
			w.offset = -w.offset
		}
	default:
		return w, false
	}
	return w, true
}

// serial reads an Excel serial date: a plain non-negative number.
func (c *conv) serialDate(s string) (w wallTime, ok bool) {
	if !plainDecimal(s) {
		return w, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return w, false
	}
	t, err := excelize.ExcelDateToTime(f, c.date1904)
	if err != nil {
		return w, false
	}
	y, m, d := t.Date()
	w.year, w.month, w.day = y, int(m), d
	if f != float64(int64(f)) {
		w.hasTime = true
		w.hour, w.min, w.sec = t.Clock()
	}
	return w, true
}

// date reads a date field's value and returns it as the API wants it: "2006-01-02" for a
// date (never shifted), "2006-01-02T15:04:05Z" for a date-time, converted to UTC from the
// zone it names or else the mapping's timezone. Without want, a good date without a time
// comes back "" (the verdict alone is wanted).
func (c *conv) date(s string, want bool) (string, string) {
	var w wallTime
	ok := false
	if len(c.formats) == 0 {
		w, ok = iso(s)
		// Dates that name their month are never ambiguous: read them without a format.
		for i := 0; !ok && i < len(namedMonthPatterns) && hasLetter(s); i++ {
			ok = namedMonthPatterns[i].match(&w, s, c.months)
		}
	}
	for i := range c.formats {
		if ok = c.formats[i].match(&w, s, c.months); ok {
			break
		}
	}
	if !ok && len(c.formats) > 0 {
		// An XLSX date cell reads as YYYY-MM-DD whatever the rule's format, and the form
		// is never ambiguous.
		w, ok = iso(s)
	}
	if !ok && c.serial {
		w, ok = c.serialDate(s)
	}
	if !ok || !w.valid() {
		return "", c.notDate
	}
	if w.year < 1900 || w.year > 9999 {
		return "", reasonYear
	}
	if !w.hasTime && !want {
		return "", ""
	}
	if !w.hasTime {
		var b [10]byte
		put(b[0:4], w.year)
		b[4] = '-'
		put(b[5:7], w.month)
		b[7] = '-'
		put(b[8:10], w.day)
		return string(b[:]), ""
	}
	loc := c.tz
	if w.zoned {
		loc = time.UTC
	}
	t := time.Date(w.year, time.Month(w.month), w.day, w.hour, w.min, w.sec, 0, loc)
	t = t.Add(-time.Duration(w.offset) * time.Second).UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return "", reasonYear
	}
	var b [20]byte
	return string(t.AppendFormat(b[:0], "2006-01-02T15:04:05Z")), ""
}

// namedMonthPatterns are the shapes of dates with a month name read when a rule has no
// format: "15 March 2024", "15. März 2024", "March 15, 2024", "15-Mar-2024", "Mar 15 2024".
var namedMonthPatterns = func() []datePattern {
	var out []datePattern
	for _, p := range []string{"D MMMM YYYY", "D. MMMM YYYY", "MMMM D, YYYY", "MMMM D YYYY", "D-MMMM-YYYY", "D-MMMM-YY", "D MMMM, YYYY"} {
		dp, err := compileDate(p)
		if err != nil {
			panic(err)
		}
		out = append(out, dp)
	}
	return out
}()

func hasLetter(s string) bool {
	for _, r := range s {
		if isLetter(r) {
			return true
		}
	}
	return false
}

// put writes n as len(b) decimal digits.
func put(b []byte, n int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
}
