package mapping

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

const owner = "4f1b0a3c-2d5e-4a6f-8b7c-9d0e1f2a3b4c"

// plan binds base plus extra rules to the columns T, R, V, W; a field in extra replaces
// base's rule for it.
func plan(t testing.TB, extra string, opts BindOptions) *Plan {
	t.Helper()
	var yaml strings.Builder
	for _, line := range strings.SplitAfter(base, "\n") {
		if name, _, ok := strings.Cut(line, ":"); ok && strings.HasPrefix(name, "  ") && strings.Contains("\n"+extra, "\n"+name+":") {
			continue
		}
		yaml.WriteString(line)
	}
	yaml.WriteString(extra)
	m, err := Parse([]byte(yaml.String()), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Bind([]string{"T", "R", "V", "W"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// applied is p.Apply(cells), checked against p.Validate: the same errors, the same title.
func applied(t testing.TB, p *Plan, cells []string) (Record, []FieldError) {
	t.Helper()
	rec, errs := p.Apply(cells)
	title, verrs := p.Validate(cells)
	if title != rec.Title {
		t.Errorf("Validate: got title %q, Apply %q", title, rec.Title)
	}
	if diff := cmp.Diff(errs, verrs); diff != "" {
		t.Errorf("Validate's errors differ from Apply's (-Apply +Validate):\n%s", diff)
	}
	return rec, errs
}

// rec is the record of the base fields with title "deal", changed by f.
func rec(f func(r *Record)) Record {
	r := Record{Title: "deal", ResponsibleID: owner, StageID: 1, BidCurrencyAbbr: "EUR"}
	if f != nil {
		f(&r)
	}
	return r
}

func ptr[T any](v T) *T { return &v }

func TestApply(t *testing.T) {
	tests := []struct {
		name  string
		rules string // under fields:, or custom_fields: and the rest
		opts  BindOptions
		v, w  string // the cells V and W
		want  Record
		errs  []string // FieldError texts; want is not checked when set
	}{
		// text
		{name: "title trimmed", v: "", want: rec(nil)},
		{name: "title of 255 characters", rules: "  description: { column: V }\n", v: strings.Repeat("é", 300),
			want: rec(func(r *Record) { r.Description = ptr(strings.Repeat("é", 300)) })},
		{name: "description with an emoji", rules: "  description: { column: V }\n", v: "great 🚀 deal",
			errs: []string{`column "V" (description): "great 🚀 deal" contains '🚀' (U+1F680), which needs 4 bytes in UTF-8 (the portal stores 3-byte UTF-8 only)`}},
		{name: "description with CJK", rules: "  description: { column: V }\n", v: "交易",
			want: rec(func(r *Record) { r.Description = ptr("交易") })},
		{name: "template", rules: "  description: { template: \"{V} {{id}}: {W}\" }\n", v: "note", w: "D1",
			want: rec(func(r *Record) { r.Description = ptr("note {id}: D1") })},
		{name: "template left empty", rules: "  description: { template: \"{V}{W}\" }\n", want: rec(nil)},
		{name: "template of spaces between empty cells", rules: "  description: { template: \"{V}  {W}\" }\n", want: rec(nil)},
		{name: "template with a literal", rules: "  description: { template: \"id: {V}{W}\" }\n",
			want: rec(func(r *Record) { r.Description = ptr("id:") })},
		{name: "template with an emoji among its literals", rules: "  description: { template: \"🚀 {V}\" }\n", v: "x",
			errs: []string{`description: "🚀 x" contains '🚀' (U+1F680), which needs 4 bytes in UTF-8 (the portal stores 3-byte UTF-8 only)`}},
		{name: "template with an emoji in a cell", rules: "  description: { template: \"note: {V}\" }\n", v: "🚀",
			errs: []string{`description: "note: 🚀" contains '🚀' (U+1F680), which needs 4 bytes in UTF-8 (the portal stores 3-byte UTF-8 only)`}},
		// currency
		{name: "currency upper-cased", rules: "  bidCurrencyAbbr: { column: V }\n", v: " usd ",
			want: rec(func(r *Record) { r.BidCurrencyAbbr = "USD" })},
		{name: "currency of 2 letters", rules: "  bidCurrencyAbbr: { column: V }\n", v: "US",
			errs: []string{`column "V" (bidCurrencyAbbr): "US" is not a currency code (want 3 letters such as EUR)`}},
		{name: "currency missing", rules: "  bidCurrencyAbbr: { column: V }\n", v: "  ",
			errs: []string{`column "V" (bidCurrencyAbbr): "  " is required`}},
		// ids
		{name: "contactid", rules: "  contactid: { column: V }\n", v: "5", want: rec(func(r *Record) { r.ContactID = 5 })},
		{name: "contactid from XLSX", rules: "  contactid: { column: V }\n", v: "5.0", want: rec(func(r *Record) { r.ContactID = 5 })},
		{name: "contactid fractional", rules: "  contactid: { column: V }\n", v: "5.5",
			errs: []string{`column "V" (contactid): "5.5" is not a whole number`}},
		{name: "contactid zero", rules: "  contactid: { column: V }\n", v: "0",
			errs: []string{`column "V" (contactid): "0" is not a positive id`}},
		{name: "contactid negative", rules: "  contactid: { column: V }\n", v: "-3",
			errs: []string{`column "V" (contactid): "-3" is not a positive id`}},
		{name: "stageid from a column", rules: "  stageid: { column: V }\n", v: "7", want: rec(func(r *Record) { r.StageID = 7 })},
		{name: "stageid by map", rules: "  stageid: { column: V, map: { Won: 8, lost: 9 } }\n", v: "LOST", want: rec(func(r *Record) { r.StageID = 9 })},
		{name: "stageid not in map", rules: "  stageid: { column: V, map: { Won: 8, lost: 9 } }\n", v: "Open",
			errs: []string{`column "V" (stageid): "Open" is not listed in map (allowed: "Won", "lost")`}},
		{name: "contactid mapped to nothing", rules: "  contactid: { column: V, map: { Acme: 5, Walk-in: \"\" } }\n", v: "walk-in", want: rec(nil)},
		{name: "bidType mapped to nothing, its default", rules: "  bidType: { column: V, map: { Fixed: FixedBid, None: \"\" }, default: PerHour }\n", v: "None",
			want: rec(func(r *Record) { r.BidType = "PerHour" })},
		{name: "stageid mapped to nothing, required", rules: "  stageid: { column: V, map: { Won: 8, Open: \"\" } }\n", v: "Open",
			errs: []string{`column "V" (stageid): "Open" is required`}},
		{name: "stageid too large", rules: "  stageid: { column: V }\n", v: "99999999999999999999",
			errs: []string{`column "V" (stageid): "99999999999999999999" is too large`}},
		// lists
		{name: "members", rules: "  members: { column: V, split: \";\" }\n", v: "1; 2;;3 ;",
			want: rec(func(r *Record) { r.Members = []int64{1, 2, 3} })},
		{name: "members without split", rules: "  members: { column: V }\n", v: "4", want: rec(func(r *Record) { r.Members = []int64{4} })},
		{name: "members with bad items", rules: "  members: { column: V, split: \",\" }\n", v: "1,x,0",
			errs: []string{`column "V" (members): "1,x,0" has "x", which is not a whole number (for contact names or e-mails, add lookup: contact)`, `column "V" (members): "1,x,0" has "0", which is not a positive id`}},
		{name: "members only separators", rules: "  members: { column: V, split: \",\" }\n", v: ", ,", want: rec(nil)},
		{name: "members by map", rules: "  members: { column: V, split: \",\", map: { Ann: 11, Bob: 12 } }\n", v: "ann, BOB",
			want: rec(func(r *Record) { r.Members = []int64{11, 12} })},
		{name: "accessList", rules: "  accessList: { column: V, split: \",\" }\n", v: "{4F1B0A3C-2D5E-4A6F-8B7C-9D0E1F2A3B4C}, 0123456789abcdef0123456789ABCDEF",
			want: rec(func(r *Record) { r.AccessList = []string{owner, "01234567-89ab-cdef-0123-456789abcdef"} })},
		// counts and percentages
		{name: "perPeriodValue", rules: "  perPeriodValue: { column: V }\n", v: "12", want: rec(func(r *Record) { r.PerPeriodValue = ptr(int64(12)) })},
		{name: "perPeriodValue zero", rules: "  perPeriodValue: { column: V }\n", v: "0", want: rec(func(r *Record) { r.PerPeriodValue = ptr(int64(0)) })},
		{name: "perPeriodValue default", rules: "  perPeriodValue: { column: V, default: 0 }\n", v: "", want: rec(func(r *Record) { r.PerPeriodValue = ptr(int64(0)) })},
		{name: "perPeriodValue negative", rules: "  perPeriodValue: { column: V }\n", v: "-1",
			errs: []string{`column "V" (perPeriodValue): "-1" is negative`}},
		{name: "perPeriodValue fractional", rules: "  perPeriodValue: { column: V }\n", v: "2.5",
			errs: []string{`column "V" (perPeriodValue): "2.5" is not a whole number`}},
		{name: "probability", rules: "  successProbability: { column: V }\n", v: "65", want: rec(func(r *Record) { r.SuccessProbability = ptr(int64(65)) })},
		{name: "probability with %", rules: "  successProbability: { column: V }\n", v: "65%", want: rec(func(r *Record) { r.SuccessProbability = ptr(int64(65)) })},
		{name: "probability with space %", rules: "  successProbability: { column: V }\n", v: "100 %", want: rec(func(r *Record) { r.SuccessProbability = ptr(int64(100)) })},
		{name: "probability as a fraction", rules: "  successProbability: { column: V }\n", v: "0.65",
			errs: []string{`column "V" (successProbability): "0.65" is a fraction: if the cells are formatted as percentages, set percent: fraction on the rule`}},
		{name: "probability over 100", rules: "  successProbability: { column: V }\n", v: "101",
			errs: []string{`column "V" (successProbability): "101" is outside 0-100 (the portal would clamp it)`}},
		{name: "probability negative", rules: "  successProbability: { column: V }\n", v: "-5",
			errs: []string{`column "V" (successProbability): "-5" is outside 0-100 (the portal would clamp it)`}},
		{name: "probability text", rules: "  successProbability: { column: V }\n", v: "high",
			errs: []string{`column "V" (successProbability): "high" is not a number (decimal separator "."; set decimal: "," for 1.234,50)`}},
		// money
		{name: "bidValue plain", rules: "  bidValue: { column: V }\n", v: "1234.50", want: rec(func(r *Record) { r.BidValue = ptr("1234.5") })},
		{name: "bidValue grouped", rules: "  bidValue: { column: V }\n", v: "1,250.50", want: rec(func(r *Record) { r.BidValue = ptr("1250.5") })},
		{name: "bidValue decimal comma", rules: "  bidValue: { column: V, decimal: \",\" }\n", v: "1.234,50", want: rec(func(r *Record) { r.BidValue = ptr("1234.5") })},
		{name: "bidValue with currency", rules: "  bidValue: { column: V, decimal: \",\" }\n", v: "€ 1 234,00 EUR", want: rec(func(r *Record) { r.BidValue = ptr("1234") })},
		{name: "bidValue with a code", rules: "  bidValue: { column: V }\n", v: "USD 2,000", want: rec(func(r *Record) { r.BidValue = ptr("2000") })},
		{name: "bidValue large", rules: "  bidValue: { column: V }\n", v: "1000000", want: rec(func(r *Record) { r.BidValue = ptr("1000000") })},
		{name: "bidValue exponent from XLSX", rules: "  bidValue: { column: V }\n", v: "1.5E+6", want: rec(func(r *Record) { r.BidValue = ptr("1500000") })},
		{name: "bidValue small exponent", rules: "  bidValue: { column: V }\n", v: "1E-3", want: rec(func(r *Record) { r.BidValue = ptr("0.001") })},
		{name: "bidValue zero", rules: "  bidValue: { column: V }\n", v: "0.00", want: rec(func(r *Record) { r.BidValue = ptr("0") })},
		{name: "bidValue leading point", rules: "  bidValue: { column: V }\n", v: ".5", want: rec(func(r *Record) { r.BidValue = ptr("0.5") })},
		{name: "bidValue wrong separator", rules: "  bidValue: { column: V }\n", v: "1,5",
			errs: []string{`column "V" (bidValue): "1,5" is not a number (decimal separator "."; set decimal: "," for 1.234,50)`}},
		{name: "bidValue two decimal points", rules: "  bidValue: { column: V, decimal: \",\" }\n", v: "1,234.50",
			errs: []string{`column "V" (bidValue): "1,234.50" is not a number (decimal separator ","; set decimal: "." for 1,234.50)`}},
		{name: "bidValue negative", rules: "  bidValue: { column: V }\n", v: "-5",
			errs: []string{`column "V" (bidValue): "-5" is negative (the portal would store a negative amount as given)`}},
		{name: "bidValue in parentheses", rules: "  bidValue: { column: V }\n", v: "(5.00)",
			errs: []string{`column "V" (bidValue): "(5.00)" is negative (the portal would store a negative amount as given)`}},
		// GUIDs
		{name: "responsibleid braced", v: "", want: rec(nil)},
		{name: "responsibleid empty GUID", rules: "  responsibleid: { column: V }\n", v: "00000000-0000-0000-0000-000000000000",
			errs: []string{`column "V" (responsibleid): "00000000-0000-0000-0000-000000000000" is the empty GUID`}},
		{name: "responsibleid a name", rules: "  responsibleid: { column: V }\n", v: "Ann Smith",
			errs: []string{`column "V" (responsibleid): "Ann Smith" is not a GUID (for user names or e-mails, add lookup: user)`}},
		// bidType
		{name: "bidType any case", rules: "  bidType: { column: V }\n", v: "perhour", want: rec(func(r *Record) { r.BidType = "PerHour" })},
		{name: "bidType number", rules: "  bidType: { column: V }\n", v: "3", want: rec(func(r *Record) { r.BidType = "PerWeek" })},
		{name: "bidType number out of range", rules: "  bidType: { column: V }\n", v: "6",
			errs: []string{`column "V" (bidType): "6" is not a bid type (want FixedBid, PerHour, PerDay, PerWeek, PerMonth, PerYear or 0-5)`}},
		{name: "bidType map and default", rules: "  bidType: { column: V, map: { Fixed: FixedBid, Hourly: PerHour }, default: FixedBid }\n", v: "",
			want: rec(func(r *Record) { r.BidType = "FixedBid" })},
		{name: "bidType map to nothing", rules: "  bidType: { column: V, map: { n/a: \"\", Hourly: PerHour } }\n", v: "N/A", want: rec(nil)},
		// booleans
		{name: "isNotify y", rules: "  isNotify: { column: V }\n", v: "Y", want: rec(func(r *Record) { r.IsNotify = ptr(true) })},
		{name: "isNotify 0", rules: "  isNotify: { column: V }\n", v: "0", want: rec(func(r *Record) { r.IsNotify = ptr(false) })},
		{name: "isNotify maybe", rules: "  isNotify: { column: V }\n", v: "maybe",
			errs: []string{`column "V" (isNotify): "maybe" is not a boolean (want true/false, yes/no, ja/nein, oui/non, sí/no, да/нет, 1/0 or x)`}},
		{name: "isPrivate with access", rules: "  isPrivate: { column: V }\n  accessList: { column: W }\n", v: "x", w: owner,
			want: rec(func(r *Record) { r.IsPrivate = ptr(true); r.AccessList = []string{owner} })},
		{name: "isPrivate without access", rules: "  isPrivate: { column: V }\n  accessList: { column: W }\n", v: "Yes",
			errs: []string{`column "V" (isPrivate): "Yes" is true, but accessList is empty (the portal would make the deal public)`}},
		{name: "isPrivate constant without access", rules: "  isPrivate: { value: true }\n",
			errs: []string{`isPrivate: "true" is true, but accessList is empty (the portal would make the deal public)`}},
		{name: "isPrivate false without access", rules: "  isPrivate: { column: V }\n  accessList: { column: W }\n", v: "no",
			want: rec(func(r *Record) { r.IsPrivate = ptr(false) })},
		// dates
		{name: "ISO date", rules: "  expectedCloseDate: { column: V }\n", v: "2024-03-15", want: rec(func(r *Record) { r.ExpectedCloseDate = "2024-03-15" })},
		{name: "ISO date-time in the mapping's zone", rules: "  expectedCloseDate: { column: V }\ntimezone: Europe/Berlin\n", v: "2024-03-15T13:30",
			want: rec(func(r *Record) { r.ExpectedCloseDate = "2024-03-15T12:30:00Z" })},
		{name: "ISO date-time in summer", rules: "  actualCloseDate: { column: V }\ntimezone: Europe/Berlin\n", v: "2024-07-01T00:30:15",
			want: rec(func(r *Record) { r.ActualCloseDate = "2024-06-30T22:30:15Z" })},
		{name: "ISO date-time with its zone", rules: "  expectedCloseDate: { column: V }\ntimezone: Europe/Berlin\n", v: "2024-03-15T13:30:00-05:00",
			want: rec(func(r *Record) { r.ExpectedCloseDate = "2024-03-15T18:30:00Z" })},
		{name: "ISO date never shifted", rules: "  expectedCloseDate: { column: V }\ntimezone: Pacific/Kiritimati\n", v: "2024-03-15",
			want: rec(func(r *Record) { r.ExpectedCloseDate = "2024-03-15" })},
		{name: "XLSX date-time cell in the mapping's zone", rules: "  expectedCloseDate: { column: V }\ntimezone: Europe/Berlin\n", v: "2024-03-15 13:30",
			want: rec(func(r *Record) { r.ExpectedCloseDate = "2024-03-15T12:30:00Z" })},
		{name: "XLSX date cell under a format", rules: "  expectedCloseDate: { column: V, format: DD.MM.YYYY }\n", v: "2024-03-15",
			want: rec(func(r *Record) { r.ExpectedCloseDate = "2024-03-15" })},
		{name: "XLSX percent cell", rules: "  successProbability: { column: V }\n", v: "65%", want: rec(func(r *Record) { r.SuccessProbability = ptr(int64(65)) })},
		{name: "XLSX percent cell 100", rules: "  successProbability: { column: V, percent: fraction }\n", v: "100%", want: rec(func(r *Record) { r.SuccessProbability = ptr(int64(100)) })},
		{name: "not ISO", rules: "  expectedCloseDate: { column: V }\n", v: "15.03.2024",
			errs: []string{`column "V" (expectedCloseDate): "15.03.2024" is not a date (want YYYY-MM-DD or YYYY-MM-DDTHH:mm:ss)`}},
		{name: "pattern", rules: "  expectedCloseDate: { column: V, format: DD.MM.YYYY }\n", v: "29.02.2024", want: rec(func(r *Record) { r.ExpectedCloseDate = "2024-02-29" })},
		{name: "impossible date", rules: "  expectedCloseDate: { column: V, format: DD.MM.YYYY }\n", v: "31.02.2024",
			errs: []string{`column "V" (expectedCloseDate): "31.02.2024" is not a date (want DD.MM.YYYY)`}},
		{name: "not a leap year", rules: "  expectedCloseDate: { column: V, format: DD.MM.YYYY }\n", v: "29.02.2023",
			errs: []string{`column "V" (expectedCloseDate): "29.02.2023" is not a date (want DD.MM.YYYY)`}},
		{name: "year out of range", rules: "  expectedCloseDate: { column: V, format: DD.MM.YYYY }\n", v: "15.03.1899",
			errs: []string{`column "V" (expectedCloseDate): "15.03.1899" has a year outside 1900-9999`}},
		{name: "second pattern", rules: "  expectedCloseDate: { column: V, format: [DD.MM.YYYY, D.M.YYYY H:mm] }\n", v: "5.3.2024 9:05",
			want: rec(func(r *Record) { r.ExpectedCloseDate = "2024-03-05T09:05:00Z" })},
		{name: "month name", rules: "  expectedCloseDate: { column: V, format: \"MMMM D, YYYY\" }\n", v: "march 5, 2024",
			want: rec(func(r *Record) { r.ExpectedCloseDate = "2024-03-05" })},
		{name: "month abbreviation", rules: "  expectedCloseDate: { column: V, format: DD-MMM-YY }\n", v: "05-Mar-24",
			want: rec(func(r *Record) { r.ExpectedCloseDate = "2024-03-05" })},
		{name: "two-digit year of the last century", rules: "  expectedCloseDate: { column: V, format: DD/MM/YY }\n", v: "05/03/95",
			want: rec(func(r *Record) { r.ExpectedCloseDate = "1995-03-05" })},
		{name: "pattern with seconds", rules: "  expectedCloseDate: { column: V, format: YYYYMMDDHHmmss }\n", v: "20240305235960",
			errs: []string{`column "V" (expectedCloseDate): "20240305235960" is not a date (want YYYYMMDDHHmmss)`}},
		{name: "serial date", rules: "  expectedCloseDate: { column: V }\n", opts: BindOptions{SerialDates: true}, v: "45366",
			want: rec(func(r *Record) { r.ExpectedCloseDate = "2024-03-15" })},
		{name: "serial date-time", rules: "  expectedCloseDate: { column: V }\ntimezone: Europe/Berlin\n", opts: BindOptions{SerialDates: true}, v: "45366.5",
			want: rec(func(r *Record) { r.ExpectedCloseDate = "2024-03-15T11:00:00Z" })},
		{name: "serial date 1904", rules: "  expectedCloseDate: { column: V }\n", opts: BindOptions{SerialDates: true, Date1904: true}, v: "45366",
			want: rec(func(r *Record) { r.ExpectedCloseDate = "2028-03-16" })},
		{name: "serial date with a pattern", rules: "  expectedCloseDate: { column: V, format: DD.MM.YYYY }\n", opts: BindOptions{SerialDates: true}, v: "45366.0",
			want: rec(func(r *Record) { r.ExpectedCloseDate = "2024-03-15" })},
		{name: "serial in a CSV", rules: "  expectedCloseDate: { column: V }\n", v: "45366",
			errs: []string{`column "V" (expectedCloseDate): "45366" is not a date (want YYYY-MM-DD or YYYY-MM-DDTHH:mm:ss)`}},
		// custom fields
		{name: "custom fields", rules: "custom_fields:\n  - { id: 14, column: V }\n  - { id: 15, column: W }\n  - { id: 16, value: web }\n", v: "  North ", w: "",
			want: rec(func(r *Record) { r.CustomFields = []CustomValue{{14, "North"}, {16, "web"}} })},
		{name: "custom field with a map", rules: "custom_fields:\n  - { id: 14, column: V, map: { N: North } }\n", v: "S",
			errs: []string{`column "V" (customField:14): "S" is not listed in map (allowed: "N")`}},
		// several problems
		{name: "every problem at once", rules: "  stageid: { column: V }\n  bidValue: { column: W }\n", v: "x", w: "-1",
			errs: []string{`column "V" (stageid): "x" is not a whole number (for stage names, add lookup: stage)`, `column "W" (bidValue): "-1" is negative (the portal would store a negative amount as given)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan(t, tt.rules, tt.opts)
			r := "{" + strings.ToUpper(owner) + "}"
			got, errs := applied(t, p, []string{" deal ", r, tt.v, tt.w})
			var texts []string
			for _, e := range errs {
				texts = append(texts, e.Error())
			}
			if diff := cmp.Diff(tt.errs, texts); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
			if tt.errs == nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("record (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestApplyTitle(t *testing.T) {
	p := plan(t, "", BindOptions{})
	tests := []struct {
		title string
		want  string // the error, "" for none
	}{
		{strings.Repeat("ü", 255), ""},
		{strings.Repeat("ü", 256), `column "T" (title): "` + strings.Repeat("ü", 80) + `…" is 256 characters long (the portal keeps 255)`},
		{"deal 😀", `column "T" (title): "deal 😀" contains '😀' (U+1F600), which needs 4 bytes in UTF-8 (the portal stores 3-byte UTF-8 only)`},
		{"", `column "T" (title): is required`},
	}
	for _, tt := range tests {
		_, errs := applied(t, p, []string{tt.title, owner, "", ""})
		got := ""
		if len(errs) > 0 {
			got = errs[0].Error()
		}
		if got != tt.want {
			t.Errorf("title of %d runes: got %q, want %q", len([]rune(tt.title)), got, tt.want)
		}
	}
}

func TestFieldError(t *testing.T) {
	m, err := Parse([]byte(base+"  expectedCloseDate: { column: Close Date, format: DD.MM.YYYY }\n  description: { template: \"{T}: {V}\" }\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Bind([]string{"T", "R", "V", "Close Date"}, BindOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, errs := applied(t, p, []string{"", "x", "🙂", "31.02.2024"})
	want := []FieldError{
		{Field: "title", Column: "T", Col: 0, Value: "", Reason: "is required"},
		{Field: "responsibleid", Column: "R", Col: 1, Value: "x", Reason: "is not a GUID (for user names or e-mails, add lookup: user)"},
		{Field: "expectedCloseDate", Column: "Close Date", Col: 3, Value: "31.02.2024", Reason: "is not a date (want DD.MM.YYYY)"},
		{Field: "description", Column: "", Col: -1, Value: ": 🙂", Reason: "contains '🙂' (U+1F642), which needs 4 bytes in UTF-8 (the portal stores 3-byte UTF-8 only)"},
	}
	if diff := cmp.Diff(want, errs); diff != "" {
		t.Fatalf("errors (-want +got):\n%s", diff)
	}
	if got, want := errs[2].Error(), `column "Close Date" (expectedCloseDate): "31.02.2024" is not a date (want DD.MM.YYYY)`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := errs[3].Error(), `description: ": 🙂" contains '🙂' (U+1F642), which needs 4 bytes in UTF-8 (the portal stores 3-byte UTF-8 only)`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestKeyAndColumn(t *testing.T) {
	m, err := Parse([]byte(base+"key: [V, W]\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Bind([]string{"T", "R", "V", "W"}, BindOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cells []string
		want  string
	}{
		{[]string{"t", "r", " D1 ", "2024"}, "D1\x1f2024"},
		{[]string{"t", "r", "D1", ""}, "D1\x1f"},
		{[]string{"t", "r", "", " "}, ""},
		{[]string{"t", "r"}, ""}, // short row
	}
	for _, tt := range tests {
		if got := p.Key(tt.cells); got != tt.want {
			t.Errorf("Key(%q): got %q, want %q", tt.cells, got, tt.want)
		}
	}
	if got := plan(t, "", BindOptions{}).Key([]string{"a", "b", "c", "d"}); got != "" {
		t.Errorf("no key: got %q, want \"\"", got)
	}
	if name, col, ok := p.Column("responsibleid"); name != "R" || col != 1 || !ok {
		t.Errorf("Column(responsibleid): got %q %d %v, want R 1 true", name, col, ok)
	}
	if _, _, ok := p.Column("stageid"); ok {
		t.Errorf("Column(stageid): got ok, want false for a value:")
	}
}

func TestApplyConcurrent(t *testing.T) {
	p := plan(t, "  members: { column: V, split: \";\" }\n  bidValue: { column: W, decimal: \",\" }\n", BindOptions{})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				r, errs := p.Apply([]string{"deal", owner, "1;2", "1.234,5"})
				if len(errs) > 0 || *r.BidValue != "1234.5" || len(r.Members) != 2 {
					t.Errorf("got %+v %v", r, errs)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkApply(b *testing.B) {
	m, err := Load("testdata/example.yaml")
	if err != nil {
		b.Fatal(err)
	}
	header := []string{"Deal ID", "Deal Name", "Notes", "Contact ID", "Owner", "Billing", "Amount", "Periods", "Stage",
		"Probability (%)", "Close Date", "Participants", "Shared With", "Region", "Source"}
	p, err := m.Bind(header, BindOptions{})
	if err != nil {
		b.Fatal(err)
	}
	row := []string{"D-1042", "Renewal 2024, ACME GmbH", "Call back in Q2", "1187", owner, "Hourly", "12.500,00",
		"12", "Proposal", "75 %", "15.03.2024", "1187;1190", "", "North", "Fair"}
	if _, errs := p.Apply(row); len(errs) > 0 {
		b.Fatal(errs)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Apply(row)
	}
}

func TestUnquote(t *testing.T) {
	for in, want := range map[string]string{
		"'=1+1": "=1+1", "'-3": "-3", "'+49 30 1": "+49 30 1", "'@x": "@x", "'\tx": "\tx",
		"'80s deal": "'80s deal", "'": "'", "": "", "plain": "plain", "''=x": "''=x",
	} {
		if got := unquote(in); got != want {
			t.Errorf("unquote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCustomFieldDates(t *testing.T) {
	m, err := Parse([]byte(`version: 1
fields:
  title:           { column: Title }
  responsibleid:   { value: 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41 }
  stageid:         { value: 1 }
  bidCurrencyAbbr: { value: EUR }
custom_fields:
  - { id: 14, column: Renewal, format: "DD.MM.YYYY" }
  - { id: 11, column: Region }
`), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Bind([]string{"Title", "Renewal", "Region"}, BindOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec, errs := p.Apply([]string{"A", "31.12.2025", "31.12.2025"})
	if len(errs) > 0 {
		t.Fatalf("got errors %v", errs)
	}
	want := []CustomValue{{ID: 14, Value: "2025-12-31"}, {ID: 11, Value: "31.12.2025"}}
	if diff := cmp.Diff(want, rec.CustomFields); diff != "" {
		t.Errorf("custom fields (-want +got):\n%s", diff)
	}
	if _, errs := p.Apply([]string{"A", "31.02.2025", "x"}); len(errs) != 1 || errs[0].Field != "customField:14" {
		t.Errorf("got errors %v, want the impossible date of custom field 14", errs)
	}
}

// key_field: Apply writes the row's key, as a person reads it and trimmed, into the key
// custom field; without the field's id (a dry run) it writes nothing.
func TestKeyField(t *testing.T) {
	m, err := Parse([]byte(base+"key: [V, W]\nkey_field: Legacy ID\ncustom_fields:\n  - { id: 14, column: R }\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if m.KeyField != "Legacy ID" {
		t.Errorf("KeyField = %q, want Legacy ID", m.KeyField)
	}
	tests := []struct {
		id    int64
		cells []string
		want  []CustomValue
	}{
		{id: 99, cells: []string{"deal", owner, " D1 ", "2024"}, want: []CustomValue{{14, owner}, {99, "D1 | 2024"}}},
		{id: 99, cells: []string{"deal", owner, "D1", ""}, want: []CustomValue{{14, owner}, {99, "D1 |"}}},
		{id: 99, cells: []string{"deal", owner, "", ""}, want: []CustomValue{{14, owner}}},
		{id: 0, cells: []string{"deal", owner, "D1", "2024"}, want: []CustomValue{{14, owner}}},
	}
	for _, tt := range tests {
		p, err := m.Bind([]string{"T", "R", "V", "W"}, BindOptions{KeyFieldID: tt.id})
		if err != nil {
			t.Fatal(err)
		}
		got, errs := applied(t, p, tt.cells)
		if len(errs) > 0 {
			t.Fatalf("Apply(%q): %v", tt.cells, errs)
		}
		if diff := cmp.Diff(tt.want, got.CustomFields); diff != "" {
			t.Errorf("Apply(%q) with key field %d: custom fields (-want +got):\n%s", tt.cells, tt.id, diff)
		}
	}

	// The key field mapped as a custom field too would hold two values.
	_, err = m.Bind([]string{"T", "R", "V", "W"}, BindOptions{KeyFieldID: 14})
	if err == nil || !strings.Contains(err.Error(), `custom field 14: is the key_field "Legacy ID", which holds the row's key: map it nowhere else`) {
		t.Errorf("Bind with the key field mapped: %v, want an error naming it", err)
	}
	// key_field without key: a mapping error with its line.
	_, err = Parse([]byte(base+"key_field: Legacy ID\n"), "m.yaml")
	if err == nil || !strings.Contains(err.Error(), `key_field: "Legacy ID" holds the row's key, but the mapping has no key`) {
		t.Errorf("key_field without key: %v, want an error", err)
	}
}

// BenchmarkApplyBench maps rows of the bench's 15-column deals with the bench's mapping
// (testdata/bench.yaml is bench/gen.go's): look-up maps, a template, a date, grouped
// money, a GUID, a custom field; one row in ten has a two-line note.
func BenchmarkApplyBench(b *testing.B) {
	m, err := Load("testdata/bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	header := []string{"Deal ID", "Deal Name", "Account", "Owner", "Stage", "Amount", "Currency", "Probability (%)",
		"Close Date", "Billing", "Periods", "Region", "Notes", "Source", "Created"}
	p, err := m.Bind(header, BindOptions{})
	if err != nil {
		b.Fatal(err)
	}
	rows := [][]string{
		{"D-0000001", "Licences for Globex Ltd 1", "Globex Ltd", "Maria O'Brien", "Needs Analysis", "3.67", "USD", "1",
			"02.01.2024", "Hourly", "2", "South", "Met at the fair in week 2.", "Referral", "2023-12-31"},
		{"D-0123450", "Licences for Hans Müller 123450", "Hans Müller", "Zoë Dubois", "Closed Won", "391,336.50", "EUR", "28",
			"19.05.2025", "Yearly", "19", "West", "Follow up in Q3, \"priority\" client.\nSecond line.", "Web", "2023-06-02"},
	}
	for _, row := range rows {
		if _, errs := p.Apply(row); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
	b.Run("Apply", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p.Apply(rows[i&1])
			i++
		}
	})
	b.Run("Validate", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p.Validate(rows[i&1])
			i++
		}
	})
}

// TestCheckText holds checkText's scan, eight bytes at a time, to a look at each byte: the
// first character above U+FFFF is named wherever it falls, among 1- to 3-byte characters
// and bytes of 0xF0 or more that start none.
func TestCheckText(t *testing.T) {
	t.Parallel()
	pieces := []string{"a", "é", "€", "交", "😀", "𝄞", "\xF0", "\xF4\x90\x80\x80", "\xFF", "abcdefg"}
	c := &conv{kind: kText, field: fDescription}
	r := rand.New(rand.NewPCG(1, 5))
	for range 20_000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		v := b.String()
		want := ""
		for i := 0; i < len(v); i++ {
			if v[i] >= 0xF0 {
				if ch, _ := utf8.DecodeRuneInString(v[i:]); ch > 0xFFFF {
					want = "contains " + strconv.QuoteRune(ch) + " (U+" + strings.ToUpper(strconv.FormatInt(int64(ch), 16)) +
						"), which needs 4 bytes in UTF-8 (the portal stores 3-byte UTF-8 only)"
					break
				}
			}
		}
		if got := c.checkText(v); got != want {
			t.Fatalf("checkText(%q) = %q, want %q", v, got, want)
		}
	}
}
