// Package scaffold proposes a starting mapping for an input: a field for each column it
// recognises (by name, and by the column names Salesforce, HubSpot, Pipedrive, Zoho and
// ONLYOFFICE's own export use), date patterns, the decimal separator and look-ups guessed
// from a sample of rows, and comments marking what it could not decide. It reads nothing
// itself: the caller gives the header, the sample and, optionally, the portal's reference
// data.
package scaffold

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/source"
)

// Input is what the caller read of the file.
type Input struct {
	Name      string // the file's name, for the comments
	Kind      string // "csv" or "xlsx"
	Sheet     string // XLSX: the sheet read
	Delimiter rune   // CSV: the delimiter in use
	Encoding  string // CSV: "" for UTF-8, else the encoding to name in the mapping
	// OtherEncodings are the encodings the file may be in besides Encoding, likeliest first.
	OtherEncodings []string
	HeaderRow      int        // the row of the column names, when not 1
	Header         []string   // the column names
	Rows           [][]string // a sample of data rows, each len(Header) cells
}

// Portal is the portal's reference data, when known: it makes look-ups and value maps
// concrete. The zero value means no portal.
type Portal struct {
	Stages       []Stage
	Users        []User
	CustomFields []string // labels of the opportunity custom fields
	Currencies   []Currency
}

// Stage is one of the portal's stages. Type: 0 open, 1 won, 2 lost.
type Stage struct {
	ID    int64
	Title string
	Type  int
}

// User is one of the portal's users.
type User struct {
	ID, UserName, DisplayName, Email string
}

// GuessEncoding names the encoding of a CSV file's first bytes: "" for UTF-8 (with or
// without BOM) and UTF-16 with a BOM, which the reader finds itself; else the likeliest
// of source.GuessEncodings, the legacy code page the text reads best in.
func GuessEncoding(head []byte) string {
	if bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) {
		return ""
	}
	// A multi-byte character cut at the end of head is not evidence.
	for i := 0; i < utf8.UTFMax && len(head) > 0 && !utf8.Valid(head); i++ {
		head = head[:len(head)-1]
	}
	if utf8.Valid(head) {
		return ""
	}
	return source.GuessEncodings(head)[0]
}

// column is what the sample says of one column.
type column struct {
	name   string
	index  int
	values []string // the non-empty sample values, trimmed
}

type proposal struct {
	in       Input
	portal   *Portal
	cols     []column
	fields   map[string][]string // field -> YAML lines (the first is "  field: ..." )
	order    []string
	used     map[int]bool
	key      string
	keyNote  string   // why the key column was taken, when by its content
	keyField string   // the key_field label to propose; "" = none
	top      []string // top-level lines after fields: (tags:, created:)
	locale   string   // the language of month names in the dates, when not English
	customs  []string
	unmapped []string
}

// Write writes the proposed mapping, commented YAML that validate accepts, to w. portal
// may be nil.
func Write(w io.Writer, in Input, portal *Portal) error {
	p := &proposal{in: in, portal: portal, fields: map[string][]string{}, used: map[int]bool{}}
	for i, h := range in.Header {
		c := column{name: h, index: i}
		for _, r := range in.Rows {
			if i < len(r) {
				if v := strings.TrimSpace(r[i]); v != "" {
					c.values = append(c.values, v)
				}
			}
		}
		p.cols = append(p.cols, c)
	}
	p.propose()
	_, err := io.WriteString(w, p.render())
	return err
}

func (p *proposal) set(field string, lines ...string) {
	if _, ok := p.fields[field]; !ok {
		p.order = append(p.order, field)
	}
	p.fields[field] = lines
}

func q(s string) string { return strconv.Quote(s) }

func (p *proposal) propose() {
	byField, extraContacts := p.classify()
	for _, field := range []string{"title", "description", "contactid", "responsibleid", "bidType", "bidValue", "bidCurrencyAbbr",
		"perPeriodValue", "stageid", "successProbability", "actualCloseDate", "expectedCloseDate", "isPrivate"} {
		c := byField[field]
		if c == nil {
			continue
		}
		switch field {
		case "bidValue":
			p.amount(c)
		case "expectedCloseDate", "actualCloseDate":
			p.date(field, c)
		case "stageid":
			p.stage(c)
		case "responsibleid":
			p.owner(c)
		case "contactid":
			rule := "{ column: " + q(c.name) + lookupIfNames(c, "contact", isID) + " }"
			p.set(field, "  contactid: "+rule)
		case "successProbability":
			p.probability(c)
		case "bidType":
			p.bidType(c)
		case "bidCurrencyAbbr":
			p.currency(c)
		default:
			p.set(field, "  "+field+": { column: "+q(c.name)+" }")
		}
	}
	if c := byField["tags"]; c != nil {
		p.tags(c)
	}
	if c := byField["created"]; c != nil {
		p.created(c)
	}
	if len(extraContacts) > 0 {
		c := extraContacts[0]
		p.set("members", "  # The deal's other contacts; the portal adds contactid to them itself.",
			"  members: { column: "+q(c.name)+", split: \";\""+lookupIfNames(c, "contact", isID)+" }")
	}

	// The fields the portal requires.
	if _, ok := p.fields["title"]; !ok {
		first := p.in.Header[0]
		p.set("title", "  # TODO: check: no column looks like the deal's name; this takes the first column.",
			"  title: { column: "+q(first)+" }")
	}
	if _, ok := p.fields["responsibleid"]; !ok {
		owner := "owner@example.com"
		if p.portal != nil && len(p.portal.Users) > 0 {
			owner = p.portal.Users[0].Email
		}
		p.set("responsibleid", "  # TODO: check: no owner column; every deal goes to this user (e-mail, user name or display name).",
			"  responsibleid: { value: "+q(owner)+", lookup: user }")
	}
	if _, ok := p.fields["stageid"]; !ok {
		stage := "1"
		comment := "  # TODO: check: no stage column; every deal gets stage 1 (the first stage of a new portal)."
		if p.portal != nil && len(p.portal.Stages) > 0 {
			stage = q(p.portal.Stages[0].Title)
			comment = "  # TODO: check: no stage column; every deal gets the portal's first stage."
			p.set("stageid", comment, "  stageid: { value: "+stage+", lookup: stage }")
		} else {
			p.set("stageid", comment, "  stageid: { value: "+stage+" }")
		}
	}
	if _, ok := p.fields["bidCurrencyAbbr"]; !ok {
		cur, why := p.currencyGuess(byField["bidValue"])
		p.set("bidCurrencyAbbr", "  # TODO: check: no currency column; "+why,
			"  bidCurrencyAbbr: { value: "+cur+" }")
	}

	// Custom fields by label, when the portal has a field named like a column.
	if p.portal != nil {
		for _, c := range p.cols {
			if p.used[c.index] {
				continue
			}
			for _, label := range p.portal.CustomFields {
				if norm(label) == norm(c.name) {
					p.customs = append(p.customs, "  - { label: "+q(label)+", column: "+q(c.name)+" }")
					p.used[c.index] = true
					break
				}
			}
		}
	}
	for _, c := range p.cols {
		if !p.used[c.index] {
			p.unmapped = append(p.unmapped, c.name)
		}
	}
}

// bidTypeWords tells the API's bid type from the words billing columns use.
var bidTypeWords = []struct{ word, bidType string }{
	{"fix", "FixedBid"}, {"flat", "FixedBid"}, {"one", "FixedBid"}, {"pausch", "FixedBid"}, {"einmal", "FixedBid"}, {"forfait", "FixedBid"},
	{"hour", "PerHour"}, {"stund", "PerHour"}, {"heure", "PerHour"},
	{"day", "PerDay"}, {"dail", "PerDay"}, {"tag", "PerDay"}, {"jour", "PerDay"},
	{"week", "PerWeek"}, {"woche", "PerWeek"}, {"semaine", "PerWeek"},
	{"month", "PerMonth"}, {"monat", "PerMonth"}, {"mois", "PerMonth"}, {"mensuel", "PerMonth"},
	{"year", "PerYear"}, {"annual", "PerYear"}, {"jahr", "PerYear"}, {"anu", "PerYear"},
}

// isBidTypeName tells a lower-case bid type the API takes, by name or number (a switch,
// not a map: a map literal is built by the package's init).
func isBidTypeName(v string) bool {
	switch v {
	case "fixedbid", "perhour", "perday", "perweek", "permonth", "peryear", "0", "1", "2", "3", "4", "5":
		return true
	}
	return false
}

// bidType proposes a map from the billing words of the sample to the API's bid types, and
// marks the words it cannot tell.
func (p *proposal) bidType(c *column) {
	values := distinct(c.values)
	var plain, unknown []string
	var pairs []string
	for _, v := range values {
		if isBidTypeName(strings.ToLower(v)) {
			plain = append(plain, v)
			continue
		}
		found := ""
		words := strings.FieldsFunc(strings.ToLower(v), func(r rune) bool { return !unicode.IsLetter(r) })
	find:
		for _, w := range bidTypeWords {
			for _, word := range words {
				if word != "per" && strings.HasPrefix(word, w.word) {
					found = w.bidType
					break find
				}
			}
		}
		if found == "" {
			unknown = append(unknown, v)
			continue
		}
		pairs = append(pairs, "      "+q(v)+": "+found)
	}
	if len(pairs) == 0 && len(unknown) == 0 {
		p.set("bidType", "  bidType: { column: "+q(c.name)+" }")
		return
	}
	lines := []string{"  bidType:", "    column: " + q(c.name), "    map:  # the file's billing words -> the API's bid types"}
	lines = append(lines, pairs...)
	for _, v := range plain {
		lines = append(lines, "      "+q(v)+": "+v)
	}
	for _, v := range unknown {
		lines = append(lines, "      # "+q(v)+": FixedBid  # TODO: decide: FixedBid PerHour PerDay PerWeek PerMonth PerYear")
	}
	p.set("bidType", lines...)
}

func isID(v string) bool {
	_, err := strconv.ParseInt(strings.TrimSuffix(v, ".0"), 10, 64)
	return err == nil
}

// lazyRE is a regular expression compiled on first use: only init-mapping matches these,
// and compiling them all at start-up cost every command. A package-level &lazyRE{...} is
// laid out by the linker (sync.OnceValue would be a call in the package's init): with no
// init to run, a command that never calls init-mapping touches no page of this package.
type lazyRE struct {
	expr string
	once sync.Once
	re   *regexp.Regexp
}

func (l *lazyRE) get() *regexp.Regexp {
	l.once.Do(func() { l.re = regexp.MustCompile(l.expr) })
	return l.re
}

// lazy is a value built on first use by build, laid out by the linker as lazyRE is.
type lazy[T any] struct {
	build func() T
	once  sync.Once
	v     T
}

func (l *lazy[T]) get() T {
	l.once.Do(func() { l.v = l.build() })
	return l.v
}

var guidRE = &lazyRE{expr: `^\{?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\}?$`}

func isGUID(v string) bool { return guidRE.get().MatchString(v) }

// lookupIfNames is ", lookup: KIND" when some sample value is not already an id.
func lookupIfNames(c *column, kind string, isIDValue func(string) bool) string {
	for _, v := range c.values {
		if !isIDValue(v) {
			return ", lookup: " + kind
		}
	}
	if len(c.values) == 0 {
		return ", lookup: " + kind
	}
	return ""
}

func distinct(values []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		k := strings.ToLower(v)
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out
}

func (p *proposal) owner(c *column) {
	lookup := lookupIfNames(c, "user", isGUID)
	lines := []string{}
	if lookup != "" && p.portal != nil {
		var missing, ambiguous []string
		for _, v := range distinct(c.values) {
			switch n := p.userMatches(v); {
			case n == 0:
				missing = append(missing, q(v))
			case n > 1:
				ambiguous = append(ambiguous, q(v))
			}
		}
		if len(missing) > 0 {
			lines = append(lines, "  # TODO: decide: no portal user is named "+strings.Join(missing, ", ")+"; add them on the portal or write their e-mails in the file")
		}
		if len(ambiguous) > 0 {
			lines = append(lines, "  # TODO: decide: several portal users are named "+strings.Join(ambiguous, ", ")+"; write their e-mails in the file")
		}
	}
	if lookup != "" {
		lines = append(lines, "  # Owners by e-mail, user name or display name.")
	}
	p.set("responsibleid", append(lines, "  responsibleid: { column: "+q(c.name)+lookup+" }")...)
}

func (p *proposal) userMatches(name string) int {
	for _, tier := range []func(u User) bool{
		func(u User) bool { return strings.EqualFold(u.Email, name) },
		func(u User) bool { return strings.EqualFold(u.UserName, name) },
		func(u User) bool { return strings.EqualFold(u.DisplayName, name) },
	} {
		n := 0
		for _, u := range p.portal.Users {
			if tier(u) {
				n++
			}
		}
		if n > 0 {
			return n
		}
	}
	return 0
}

// stage proposes lookup: stage for names, and with a portal a map from the sample's values
// to the portal's stages: the same name, or a won or lost stage for values saying so.
func (p *proposal) stage(c *column) {
	lookup := lookupIfNames(c, "stage", isID)
	if lookup == "" || p.portal == nil || len(p.portal.Stages) == 0 {
		p.set("stageid", "  stageid: { column: "+q(c.name)+lookup+" }")
		return
	}
	lines := []string{"  stageid:", "    column: " + q(c.name), "    lookup: stage"}
	var entries, open []string
	for _, v := range distinct(c.values) {
		target := ""
		for _, s := range p.portal.Stages {
			if strings.EqualFold(strings.TrimSpace(s.Title), v) {
				target = s.Title
			}
		}
		if target == "" {
			words := strings.Fields(strings.ToLower(v))
			for _, s := range p.portal.Stages {
				if s.Type == 1 && slices.Contains(words, "won") || s.Type == 2 && slices.Contains(words, "lost") {
					target = s.Title
				}
			}
		}
		if target == "" {
			open = append(open, v)
			continue
		}
		entries = append(entries, "      "+q(v)+": "+q(target))
	}
	titles := make([]string, len(p.portal.Stages))
	for i, s := range p.portal.Stages {
		titles[i] = q(s.Title)
	}
	if len(entries)+len(open) > 0 {
		lines = append(lines, "    map:  # the file's stages -> the portal's")
		lines = append(lines, entries...)
		for _, v := range open {
			lines = append(lines, "      # "+q(v)+": \"\"  # TODO: decide: which stage? The portal has "+strings.Join(titles, ", "))
		}
	}
	p.set("stageid", lines...)
}

var (
	commaDecimal = &lazyRE{expr: `(^|[^\d.,])\d{1,3}(\.\d{3})*,\d{1,2}($|[^\d.,])|(^|[^\d.,])\d+,\d{1,2}($|[^\d.,])`}
	dotDecimal   = &lazyRE{expr: `(^|[^\d.,])\d{1,3}(,\d{3})*\.\d{1,2}($|[^\d.,])|(^|[^\d.,])\d+\.\d{1,2}($|[^\d.,])|\d\.\d{4,}`}
	commaGroups  = &lazyRE{expr: `\d,\d{3}($|[^\d])`}
	dotGroups    = &lazyRE{expr: `\d\.\d{3}($|[^\d])`}
)

// decimal guesses the decimal separator of number samples: "," or "." when the sample
// shows it, "" when it cannot tell.
func decimal(values []string) (sep string, decided bool) {
	comma, dot := 0, 0
	for _, v := range values {
		switch {
		case commaDecimal.get().MatchString(v):
			comma++
		case dotDecimal.get().MatchString(v):
			dot++
		case dotGroups.get().MatchString(v) && !commaGroups.get().MatchString(v):
			// 1.234 alone is ambiguous; 1.234.567 is not.
			if strings.Count(v, ".") > 1 {
				comma++
			}
		case commaGroups.get().MatchString(v) && !dotGroups.get().MatchString(v):
			if strings.Count(v, ",") > 1 {
				dot++
			}
		}
	}
	switch {
	case comma > 0 && dot == 0:
		return ",", true
	case dot > 0 && comma == 0:
		return ".", true
	case comma == 0 && dot == 0:
		for _, v := range values {
			if strings.ContainsAny(v, ".,") {
				return ".", false
			}
		}
		return ".", true // whole numbers only
	}
	return ".", false
}

func (p *proposal) amount(c *column) {
	sep, decided := decimal(c.values)
	rule := "  bidValue: { column: " + q(c.name)
	if sep == "," {
		rule += `, decimal: ","`
	}
	rule += " }"
	if !decided {
		p.set("bidValue", "  # TODO: decide: the sample does not show whether \",\" or \".\" is the decimal separator (1,234 or 1.234); set decimal: to match the file.", rule)
		return
	}
	p.set("bidValue", rule)
}

var currencySymbols = []struct{ sym, code string }{{"€", "EUR"}, {"£", "GBP"}, {"CHF", "CHF"}, {"¥", "JPY"}, {"₽", "RUB"}, {"zł", "PLN"}, {"$", "USD"}}

func (p *proposal) currencyGuess(amount *column) (string, string) {
	if amount != nil {
		for _, v := range amount.values {
			for _, s := range currencySymbols {
				if strings.Contains(v, s.sym) {
					return s.code, fmt.Sprintf("the amounts show %q, taken as %s.", s.sym, s.code)
				}
			}
			if m := currencyCode.get().FindString(v); m != "" {
				return strings.ToUpper(m), "the amounts show " + m + "."
			}
		}
	}
	for _, h := range p.in.Header {
		if strings.ContainsFunc(h, func(r rune) bool { return unicode.Is(unicode.Cyrillic, r) }) {
			return "RUB", "the columns are named in Russian, taken as RUB: check."
		}
	}
	if amount != nil {
		if sep, _ := decimal(amount.values); sep == "," {
			return "EUR", "amounts with a decimal comma, taken as EUR: check."
		}
	}
	return "USD", "every deal gets this currency."
}

var currencyCode = &lazyRE{expr: `\b[A-Z]{3}\b`}

func (p *proposal) probability(c *column) {
	fraction, percent := true, false
	for _, v := range c.values {
		if strings.Contains(v, "%") {
			percent = true
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.ReplaceAll(v, ",", "."), "%")), 64)
		if err != nil || f > 1 {
			fraction = false
		}
	}
	rule := "  successProbability: { column: " + q(c.name)
	if sep, _ := decimal(c.values); sep == "," {
		rule += `, decimal: ","`
	}
	if fraction && !percent && len(c.values) > 0 && slices.ContainsFunc(c.values, func(v string) bool { return strings.ContainsAny(v, ".,") }) {
		p.set("successProbability", "  # Every sample is between 0 and 1: read as shares (0.65 is 65%), as percent-formatted Excel cells hold them.",
			rule+", percent: fraction }")
		return
	}
	p.set("successProbability", rule+" }")
}

var strictISO = &lazyRE{expr: `^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$`}

var numericDate = &lazyRE{expr: `^(\d{1,4})([./-])(\d{1,2})([./-])(\d{2,4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$`}

// date guesses a date column's format from the sample. XLSX date cells and ISO dates need
// none, nor do dates that name their month.
func (p *proposal) date(field string, c *column) {
	plain := "  " + field + ": { column: " + q(c.name) + " }"
	var dayFirst, monthFirst, yearFirst, ambiguous int
	sep, yearLen, withTime, seconds := "", 4, false, false
	allISO := true // YYYY-MM-DD[( |T)HH:mm[:ss]], which the mapping reads under no format
	for _, v := range c.values {
		m := numericDate.get().FindStringSubmatch(v)
		if m == nil {
			if l := mapping.MonthLocale(v); l != "" {
				p.locale = l
			}
			continue
		}
		if p.in.Kind == "xlsx" && isID(v) {
			continue
		}
		sep = m[2]
		withTime = withTime || m[6] != ""
		seconds = seconds || m[8] != ""
		allISO = allISO && strictISO.get().MatchString(v)
		switch order := dateOrder(m); order {
		case 'Y':
			yearFirst++
		case 'D':
			dayFirst++
		case 'M':
			monthFirst++
		default:
			ambiguous++
		}
		yearLen = len(m[5])
	}
	if sep == "" || allISO {
		p.set(field, plain) // ISO, serials, month names: read without a format
		return
	}
	y := "YYYY"
	if yearLen == 2 {
		y = "YY"
	}
	tm := ""
	if withTime {
		tm = " H:mm"
		if seconds {
			tm += ":ss"
		}
	}
	var format, comment string
	switch {
	case yearFirst > 0:
		format = "YYYY" + sep + "M" + sep + "D"
	case dayFirst > 0 && monthFirst > 0:
		format = "D" + sep + "M" + sep + y
		comment = "  # TODO: decide: the sample has both day-first and month-first dates; check the column."
	case dayFirst > 0:
		format = "D" + sep + "M" + sep + y
	case monthFirst > 0:
		format = "M" + sep + "D" + sep + y
	case p.fileOrder(sep) == 'D':
		format = "D" + sep + "M" + sep + y // the file's other date columns say day first
	case p.fileOrder(sep) == 'M':
		format = "M" + sep + "D" + sep + y
	default:
		// Every sample fits both orders: a dot is European, a slash more often American.
		format = "M" + sep + "D" + sep + y
		other := "D" + sep + "M" + sep + y
		if sep == "." {
			format, other = other, format
		}
		comment = "  # TODO: decide: every sample date fits both " + format + " and " + other + " (no day above 12); this takes " + format + "."
	}
	rule := "  " + field + ": { column: " + q(c.name) + ", format: " + q(format+tm) + " }"
	if comment != "" {
		p.set(field, comment, rule)
		return
	}
	p.set(field, rule)
}

// dateOrder tells from one numeric date's parts which comes first: 'Y' the year, 'D' the
// day (the first part is above 12), 'M' the month (the second is), 0 when both fit.
func dateOrder(m []string) byte {
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[3])
	switch {
	case len(m[1]) == 4:
		return 'Y'
	case a > 12:
		return 'D'
	case b > 12:
		return 'M'
	}
	return 0
}

// fileOrder is what every column of the sample says of dates written with sep: 'D' when
// they put the day first, 'M' the month, 0 when they do not tell or disagree. An export
// writes all its dates one way, so a column whose own dates fit both orders follows it.
func (p *proposal) fileOrder(sep string) byte {
	var day, month int
	for _, c := range p.in.Rows {
		for _, v := range c {
			m := numericDate.get().FindStringSubmatch(strings.TrimSpace(v))
			if m == nil || m[2] != sep {
				continue
			}
			switch dateOrder(m) {
			case 'D':
				day++
			case 'M':
				month++
			}
		}
	}
	switch {
	case day > 0 && month == 0:
		return 'D'
	case month > 0 && day == 0:
		return 'M'
	}
	return 0
}

func (p *proposal) render() string {
	var b strings.Builder
	kind := strings.ToUpper(p.in.Kind)
	fmt.Fprintf(&b, "# A starting mapping for %s (%s, %d sample rows), proposed by oppimport init-mapping.\n", p.in.Name, kind, len(p.in.Rows))
	b.WriteString("# Check it, above all the lines marked TODO, then run: oppimport validate --mapping THIS_FILE INPUT\n")
	b.WriteString("version: 1\n")
	var input []string
	if p.in.Kind == "xlsx" && p.in.Sheet != "" {
		input = append(input, "  sheet: "+q(p.in.Sheet))
	}
	if p.in.HeaderRow > 1 {
		input = append(input, "  header_row: "+strconv.Itoa(p.in.HeaderRow)+"  # the rows above it are a title, notes or blank")
	}
	if p.in.Kind != "xlsx" {
		d := string(p.in.Delimiter)
		if p.in.Delimiter == '\t' {
			d = `\t`
		}
		input = append(input, "  delimiter: "+q(d))
		if p.in.Encoding != "" {
			why := "the file is not UTF-8"
			if len(p.in.OtherEncodings) > 0 {
				why += "; it reads most like " + p.in.Encoding + ", else " + strings.Join(p.in.OtherEncodings, ", ")
			}
			input = append(input, "  encoding: "+p.in.Encoding+"  # "+why+"; TODO: check accented letters in the report")
		}
	}
	if len(input) > 0 {
		b.WriteString("input:\n" + strings.Join(input, "\n") + "\n")
	}
	if p.locale != "" {
		b.WriteString("locale: " + p.locale + "  # the dates name their months in this language\n")
	}
	if p.key != "" {
		if p.keyNote != "" {
			b.WriteString("# The key column was " + p.keyNote + ".\n")
		}
		b.WriteString("key: [" + q(p.key) + "]  # identifies a row across runs\n")
		b.WriteString("# The portal keeps each deal's key in this text custom field, so that a run on a new or lost state\n")
		b.WriteString("# database still finds what was imported; the import creates the field when an administrator runs it.\n")
		b.WriteString("key_field: " + q(p.keyField) + "\n")
	} else {
		b.WriteString("# key: [\"ID\"]  # TODO: decide: no id column found; a key column makes re-runs update instead of duplicate\n")
	}
	b.WriteString("fields:\n")
	for _, f := range p.order {
		for _, line := range p.fields[f] {
			b.WriteString(line + "\n")
		}
	}
	for _, line := range p.top {
		b.WriteString(line + "\n")
	}
	if len(p.customs) > 0 {
		b.WriteString("custom_fields:\n" + strings.Join(p.customs, "\n") + "\n")
	}
	if len(p.unmapped) > 0 {
		b.WriteString("# Columns not mapped (map one to a custom field with - { label: \"...\", column: \"...\" } under custom_fields:):\n")
		for _, u := range p.unmapped {
			b.WriteString("#   " + q(u) + "\n")
		}
	}
	return b.String()
}
