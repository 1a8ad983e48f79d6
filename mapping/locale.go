package mapping

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// monthTable is the names of the months in one language: full names and abbreviations,
// in lower case, index 0 for January. Several spellings may stand for one month.
type monthTable [12][]string

// english is always read, whatever the locale.
var english = monthTable{
	{"january", "jan"}, {"february", "feb"}, {"march", "mar"}, {"april", "apr"}, {"may"}, {"june", "jun"},
	{"july", "jul"}, {"august", "aug"}, {"september", "sept", "sep"}, {"october", "oct"}, {"november", "nov"}, {"december", "dec"},
}

// locales are the languages locale: names. Abbreviations are written without their dot:
// a dot after a month's name is read with it.
var locales = map[string]monthTable{
	"de": {{"januar", "jänner", "jan", "jän"}, {"februar", "feber", "feb"}, {"märz", "maerz", "mär", "mrz"}, {"april", "apr"}, {"mai"}, {"juni", "jun"},
		{"juli", "jul"}, {"august", "aug"}, {"september", "sept", "sep"}, {"oktober", "okt"}, {"november", "nov"}, {"dezember", "dez"}},
	"fr": {{"janvier", "janv", "jan"}, {"février", "fevrier", "févr", "fevr", "fév", "fev"}, {"mars", "mar"}, {"avril", "avr"}, {"mai"}, {"juin"},
		{"juillet", "juil"}, {"août", "aout", "aoû"}, {"septembre", "sept", "sep"}, {"octobre", "oct"}, {"novembre", "nov"}, {"décembre", "decembre", "déc", "dec"}},
	"es": {{"enero", "ene"}, {"febrero", "feb"}, {"marzo", "mar"}, {"abril", "abr"}, {"mayo", "may"}, {"junio", "jun"},
		{"julio", "jul"}, {"agosto", "ago"}, {"septiembre", "setiembre", "sept", "sep", "set"}, {"octubre", "oct"}, {"noviembre", "nov"}, {"diciembre", "dic"}},
	"it": {{"gennaio", "gen"}, {"febbraio", "feb"}, {"marzo", "mar"}, {"aprile", "apr"}, {"maggio", "mag"}, {"giugno", "giu"},
		{"luglio", "lug"}, {"agosto", "ago"}, {"settembre", "set"}, {"ottobre", "ott"}, {"novembre", "nov"}, {"dicembre", "dic"}},
	"nl": {{"januari", "jan"}, {"februari", "feb"}, {"maart", "mrt", "mar"}, {"april", "apr"}, {"mei"}, {"juni", "jun"},
		{"juli", "jul"}, {"augustus", "aug"}, {"september", "sept", "sep"}, {"oktober", "okt"}, {"november", "nov"}, {"december", "dec"}},
	"pt": {{"janeiro", "jan"}, {"fevereiro", "fev"}, {"março", "marco", "mar"}, {"abril", "abr"}, {"maio", "mai"}, {"junho", "jun"},
		{"julho", "jul"}, {"agosto", "ago"}, {"setembro", "set"}, {"outubro", "out"}, {"novembro", "nov"}, {"dezembro", "dez"}},
}

// monthTableFor returns the month names of a locale such as "de" or "de-AT" (the language
// decides), nil when there are none.
func monthTableFor(locale string) *monthTable {
	lang, _, _ := strings.Cut(strings.ToLower(strings.ReplaceAll(locale, "_", "-")), "-")
	if lang == "en" {
		return &english
	}
	if t, ok := locales[lang]; ok {
		return &t
	}
	return nil
}

func localeNames() []string {
	names := []string{"en"}
	for k := range locales {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// matchMonth reads a month's name at the start of s, in English or in the locale's
// language, ignoring case, and a dot after it. The longest name wins ("juillet" over "juil").
func matchMonth(s string, locale *monthTable) (month int, rest string, ok bool) {
	best := 0
	for _, t := range []*monthTable{&english, locale} {
		if t == nil {
			continue
		}
		for m, names := range t {
			for _, name := range names {
				if n := prefixFold(s, name); n > best {
					best, month = n, m+1
				}
			}
		}
	}
	if best == 0 {
		return 0, s, false
	}
	rest = s[best:]
	// A name must end where the letters end: "Mai" is not the start of "Main".
	if r, _ := utf8.DecodeRuneInString(rest); rest != "" && isLetter(r) {
		return 0, s, false
	}
	return month, rest, true
}

// prefixFold returns the length in s of name found at its start ignoring case, 0 when s
// does not start with it.
func prefixFold(s, name string) int {
	i := 0
	for _, want := range name {
		if i >= len(s) {
			return 0
		}
		got, size := utf8.DecodeRuneInString(s[i:])
		if !strings.EqualFold(string(got), string(want)) {
			return 0
		}
		i += size
	}
	return i
}

func isLetter(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 0x7f && r != 0xa0 && r != 0x202f
}

// MonthLocale returns the locale (such as "de") whose month names, and not English ones, a
// date such as "15. März 2024" uses, or "" when it names no month or English ones. A name
// several languages share (apr, nov) decides nothing. init-mapping proposes locale: with it.
func MonthLocale(date string) string {
	found := ""
	for _, word := range strings.FieldsFunc(strings.ToLower(date), func(r rune) bool { return !isLetter(r) }) {
		if inTable(&english, word) {
			continue
		}
		for _, name := range localeNames() {
			if t := monthTableFor(name); t != nil && name != "en" && inTable(t, word) {
				if found != "" && found != name {
					return "" // two languages: undecided
				}
				found = name
			}
		}
	}
	return found
}

func inTable(t *monthTable, word string) bool {
	for _, names := range t {
		if slices.Contains(names, word) {
			return true
		}
	}
	return false
}
