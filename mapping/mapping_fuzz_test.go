package mapping

import (
	"errors"
	"fmt"
	"math/big"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzLoad parses arbitrary text as a mapping file: a *Errors with lines, or a Mapping that
// binds to a header holding every column it names and maps a row, never a panic.
func FuzzLoad(f *testing.F) {
	for _, path := range []string{"testdata/example.yaml", "../samples/mapping.yaml"} {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data)
		}
	}
	for _, seed := range []string{
		"",
		"version: 1\nfields:\n  title: { column: A }\n  responsibleid: { value: 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41 }\n  stageid: { value: 1 }\n  bidCurrencyAbbr: { value: EUR }\n",
		"version: 1\nfields:\n\ttitle: { column: A }\n",
		"version: 1\nfields:\n  title: { column: A, value: b }\n  titel: { column: A }\n",
		"version: [1]\ninput: { header_row: -1, delimiter: \"ab\", encoding: klingon }\nkey: 5\n",
		"version: 1\ntimezone: Mars/Olympus\nlocale: tlh\nfields:\n  expectedCloseDate: { column: D, format: [\"DD.MM.YYYY\", \"QQ\"] }\n",
		"version: 1\nfields:\n  description: { template: \"{A}}{{\" }\n  bidValue: { column: B, decimal: \";\" }\n",
		"a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nversion: *c\nfields: *c\n",
		"version: 1\ncustom_fields:\n  - { id: 14, column: R }\n  - { label: Source, column: S, lookup: user }\n  - 7\n",
		"version: 1\nfields: { title: { column: A }, title: { column: B } }\n",
		"version: 1\nfields:\n  members: { column: M, split: \"\" , map: {a: 1, b: x} }\n",
		"%YAML 1.1\n--- !!map\n? version\n: 1\n",
		"version: 1\n---\nversion: 2\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data, "fuzz.yaml")
		if err != nil {
			var errs *Errors
			if !errors.As(err, &errs) || len(*errs) == 0 {
				t.Fatalf("error %T %q, want a non-empty *Errors", err, err)
			}
			for _, e := range *errs {
				if e.Line < 1 || e.Msg == "" || !strings.HasPrefix(e.Error(), "fuzz.yaml:") {
					t.Fatalf("error %+v: want a line, a message and the file name", e)
				}
			}
			return
		}
		if m == nil {
			t.Fatal("no mapping and no error")
		}
		header := fuzzColumns(m)
		plan, err := m.Bind(header, BindOptions{SerialDates: len(data)%2 == 0})
		if err != nil {
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Bind: error %T %q, want *Errors", err, err)
			}
			return
		}
		for _, cell := range []string{"", "1", "x", "2024-03-15", "1.234,50"} {
			cells := make([]string, len(header))
			for i := range cells {
				cells[i] = cell
			}
			plan.Apply(cells)
			plan.Key(cells)
		}
	})
}

// fuzzColumns is every column a mapping names, once each.
func fuzzColumns(m *Mapping) []string {
	var cols []string
	add := func(c string) {
		for _, x := range cols {
			if x == c {
				return
			}
		}
		cols = append(cols, c)
	}
	for _, rules := range [][]Rule{m.Fields, m.CustomFields} {
		for _, r := range rules {
			if r.Column != "" {
				add(r.Column)
			}
			for _, p := range r.tmpl {
				if p.name != "" {
					add(p.name)
				}
			}
		}
	}
	for _, k := range m.Key {
		add(k)
	}
	return cols
}

var (
	fuzzInvariant = regexp.MustCompile(`^(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$`)
	fuzzPlain     = regexp.MustCompile(`^[0-9]+([.,][0-9]+)?$`)
	fuzzDMY       = regexp.MustCompile(`^([0-9]{2})\.([0-9]{2})\.([0-9]{4})$`)
)

// FuzzApply maps one row through every kind of value parser (numbers with either decimal
// separator, dates with a fuzzed format, booleans, percentages) and a template, and checks
// what comes out against what the API accepts, and against simple oracles where the input is
// plain.
func FuzzApply(f *testing.F) {
	type seed struct {
		title, notes, amount string
		comma                bool
		date, format         string
		flag, percent        string
		serial               bool
	}
	for _, s := range []seed{
		{"Deal", "n", "1234.50", false, "15.03.2024", "DD.MM.YYYY", "yes", "65 %", false},
		{"Deal", "", "1.234,50 €", true, "2024-03-15 14:30", "YYYY-MM-DD HH:mm", "nein", "100", false},
		{"=HYPERLINK(\"http://x\",\"y\")", "{A}", "(1,234.5)", false, "45366.57", "DD.MM.YYYY", "x", "0.65", true},
		{strings.Repeat("é", 256), "\U0001F600", "1.5E+3", false, "31.02.2024", "D.M.YY", "✓", "-1", false},
		{"  ", "\t", "1 234 567,89", true, "March 15, 2024", "MMMM D, YYYY", "0", "101", false},
		{"t", "n", "12'345.6", false, "15/03/24", "DD/MM/YY", "wahr", "99.5", false},
		{"t", "n", "1e400", false, "2024-03-15T14:30:00+02:00", "", "on", "50%", true},
		{"t", "n", "−12", false, "9999-12-31T23:59:59-01:00", "", "", "", false},
		{"t", "n", ",5", true, "1.1.1900", "D.M.YYYY", "1", "0", true},
		{"t", "n", "0000.000", false, "2958466", "YYYY", "n", "100.0", true},
	} {
		f.Add(s.title, s.notes, s.amount, s.comma, s.date, s.format, s.flag, s.percent, s.serial)
	}
	f.Fuzz(func(t *testing.T, title, notes, amount string, comma bool, date, format, flag, percent string, serial bool) {
		dec := "."
		if comma {
			dec = ","
		}
		yaml := fmt.Sprintf(`version: 1
timezone: Europe/Berlin
fields:
  title:              { column: Title }
  description:        { template: "{Notes} / {Title} {{x}}" }
  responsibleid:      { value: 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41 }
  stageid:            { value: 1 }
  bidCurrencyAbbr:    { value: eur }
  bidValue:           { column: Amount, decimal: %q }
  perPeriodValue:     { column: Amount, decimal: %q }
  successProbability: { column: Prob }
  expectedCloseDate:  { column: Date, format: %q }
  actualCloseDate:    { column: Date, format: "DD.MM.YYYY" }
  isNotify:           { column: Flag }
custom_fields:
  - { id: 14, column: Notes }
`, dec, dec, format)
		m, err := Parse([]byte(yaml), "fuzz.yaml")
		if err != nil {
			// Only the fuzzed format may be wrong, and it must be the problem named.
			if !strings.Contains(err.Error(), "format") {
				t.Fatalf("the mapping fails for another reason than its format: %v", err)
			}
			return
		}
		header := []string{"Title", "Notes", "Amount", "Date", "Flag", "Prob"}
		plan, err := m.Bind(header, BindOptions{SerialDates: serial})
		if err != nil {
			t.Fatalf("Bind: %v", err)
		}
		cells := []string{title, notes, amount, date, flag, percent}
		rec, errs := plan.Apply(cells)
		rec2, errs2 := plan.Apply(cells)
		if !reflect.DeepEqual(rec, rec2) || !reflect.DeepEqual(errs, errs2) {
			t.Fatal("Apply is not deterministic")
		}
		if title, verrs := plan.Validate(cells); title != rec.Title || !reflect.DeepEqual(verrs, errs) {
			t.Fatalf("Validate says %q, %v; Apply %q, %v", title, verrs, rec.Title, errs)
		}
		failed := map[string]bool{}
		for _, e := range errs {
			if e.Reason == "" || e.Field == "" {
				t.Fatalf("error %+v lacks a field or reason", e)
			}
			if e.Col >= len(header) || e.Column != "" && (e.Col < 0 || header[e.Col] != e.Column) {
				t.Fatalf("error %+v: column %d does not match the header", e, e.Col)
			}
			_ = e.Error()
			failed[e.Field] = true
		}

		if !failed["title"] {
			if strings.TrimSpace(title) != rec.Title || rec.Title == "" {
				t.Fatalf("title %q from %q", rec.Title, title)
			}
			fuzzCheckText(t, "title", rec.Title)
			if utf8.RuneCountInString(rec.Title) > 255 {
				t.Fatalf("title of %d characters accepted", utf8.RuneCountInString(rec.Title))
			}
		}
		if !failed["description"] {
			want := strings.TrimSpace(notes + " / " + title + " {x}")
			if rec.Description == nil || *rec.Description != want {
				t.Fatalf("description %v, want %q", rec.Description, want)
			}
			fuzzCheckText(t, "description", *rec.Description)
		}
		if !failed["bidValue"] && rec.BidValue != nil {
			if !fuzzInvariant.MatchString(*rec.BidValue) {
				t.Fatalf("bidValue %q from %q is not in invariant form", *rec.BidValue, amount)
			}
			if a := strings.TrimSpace(amount); fuzzPlain.MatchString(a) && (comma || !strings.Contains(a, ",")) {
				want, _ := new(big.Rat).SetString(strings.Replace(a, ",", ".", 1))
				got, _ := new(big.Rat).SetString(*rec.BidValue)
				if want.Cmp(got) != 0 {
					t.Fatalf("bidValue %q from %q", *rec.BidValue, amount)
				}
			}
		}
		if failed["bidValue"] && !failed["perPeriodValue"] && rec.PerPeriodValue != nil {
			t.Fatalf("%q is a count (%d) but not an amount", amount, *rec.PerPeriodValue)
		}
		if !failed["perPeriodValue"] && rec.PerPeriodValue != nil && *rec.PerPeriodValue < 0 {
			t.Fatalf("perPeriodValue %d from %q", *rec.PerPeriodValue, amount)
		}
		if !failed["successProbability"] && rec.SuccessProbability != nil {
			p := *rec.SuccessProbability
			if p < 0 || p > 100 {
				t.Fatalf("successProbability %d from %q", p, percent)
			}
			if n, err := strconv.Atoi(strings.TrimSpace(percent)); err == nil && strings.TrimSpace(percent)[0] != '+' && int64(n) != p {
				t.Fatalf("successProbability %d from %q", p, percent)
			}
		}
		for _, d := range []struct{ field, got string }{{"expectedCloseDate", rec.ExpectedCloseDate}, {"actualCloseDate", rec.ActualCloseDate}} {
			if failed[d.field] || d.got == "" {
				continue
			}
			layout := "2006-01-02"
			if len(d.got) > 10 {
				layout = "2006-01-02T15:04:05Z"
			}
			tm, err := time.Parse(layout, d.got)
			if err != nil || tm.Format(layout) != d.got {
				t.Fatalf("%s %q from %q is not a real date (%v)", d.field, d.got, date, err)
			}
			if tm.Year() < 1899 || tm.Year() > 9999 {
				t.Fatalf("%s %q from %q: year out of range", d.field, d.got, date)
			}
		}
		if s := fuzzDMY.FindStringSubmatch(strings.TrimSpace(date)); s != nil && !failed["actualCloseDate"] {
			want := s[3] + "-" + s[2] + "-" + s[1]
			if rec.ActualCloseDate != want {
				t.Fatalf("actualCloseDate %q from %q, want %q", rec.ActualCloseDate, date, want)
			}
		}
		if !failed["isNotify"] && rec.IsNotify != nil {
			switch strings.ToLower(strings.TrimSpace(flag)) {
			case "true", "yes", "1":
				if !*rec.IsNotify {
					t.Fatalf("isNotify false from %q", flag)
				}
			case "false", "no", "0":
				if *rec.IsNotify {
					t.Fatalf("isNotify true from %q", flag)
				}
			}
		}
		if len(errs) == 0 && rec.BidCurrencyAbbr != "EUR" {
			t.Fatalf("currency %q", rec.BidCurrencyAbbr)
		}
	})
}

// fuzzCheckText fails when text the portal would mangle got through.
func fuzzCheckText(t *testing.T, field, s string) {
	t.Helper()
	for _, r := range s {
		if r > 0xFFFF {
			t.Fatalf("%s %q holds a 4-byte character", field, s)
		}
	}
}
