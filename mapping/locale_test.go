package mapping

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestLocales(t *testing.T) {
	money := func(s string) Record { return rec(func(r *Record) { r.BidValue = ptr(s) }) }
	prob := func(n int64) Record { return rec(func(r *Record) { r.SuccessProbability = ptr(n) }) }
	date := func(s string) Record { return rec(func(r *Record) { r.ExpectedCloseDate = s }) }
	notify := func(b bool) Record { return rec(func(r *Record) { r.IsNotify = ptr(b) }) }
	const comma = "  bidValue: { column: V, decimal: \",\" }\n"
	const dot = "  bidValue: { column: V }\n"
	tests := []struct {
		name, rules, v string
		want           Record
		err            string
	}{
		// numbers
		{"German thousands", comma, "1.234,50", money("1234.5"), ""},
		{"German with euro sign", comma, "1.234,50 €", money("1234.5"), ""},
		{"German with code first", comma, "EUR 1.234.567,89", money("1234567.89"), ""},
		{"French space groups", comma, "1 234,50", money("1234.5"), ""},
		{"French no-break space groups", comma, "1\u00a0234,50", money("1234.5"), ""},
		{"French narrow no-break space", comma, "1\u202f234\u202f567,5\u00a0€", money("1234567.5"), ""},
		{"Swiss apostrophe", dot, "CHF 1'234.50", money("1234.5"), ""},
		{"English thousands", dot, "1,234.50", money("1234.5"), ""},
		{"dollar", dot, "$1,234.50", money("1234.5"), ""},
		{"pound after", dot, "1234.50 GBP", money("1234.5"), ""},
		{"German amount read as English", dot, "1.234,50", Record{}, `column "V" (bidValue): "1.234,50" is not a number (decimal separator "."; set decimal: "," for 1.234,50)`},
		{"English amount read as German", comma, "1,234.50", Record{}, `column "V" (bidValue): "1,234.50" is not a number (decimal separator ","; set decimal: "." for 1,234.50)`},
		{"ambiguous group refused", dot, "1,5", Record{}, `column "V" (bidValue): "1,5" is not a number (decimal separator "."; set decimal: "," for 1.234,50)`},
		// percentages
		{"percent sign", "  successProbability: { column: V }\n", "65%", prob(65), ""},
		{"percent sign after a space", "  successProbability: { column: V }\n", "65 %", prob(65), ""},
		{"percent sign after a no-break space", "  successProbability: { column: V }\n", "65\u00a0%", prob(65), ""},
		{"fraction", "  successProbability: { column: V, percent: fraction }\n", "0.65", prob(65), ""},
		{"fraction Excel stores inexactly", "  successProbability: { column: V, percent: fraction }\n", "0.56999999999999995", prob(57), ""},
		{"fraction one", "  successProbability: { column: V, percent: fraction }\n", "1", prob(100), ""},
		{"fraction rule still reads a percent sign", "  successProbability: { column: V, percent: fraction }\n", "65 %", prob(65), ""},
		{"fraction rule, a whole number", "  successProbability: { column: V, percent: fraction }\n", "65", Record{}, `column "V" (successProbability): "65" is over 1 (percent: fraction reads 0.65 as 65%)`},
		{"fraction rule, a part of a percent", "  successProbability: { column: V, percent: fraction }\n", "0.655", Record{}, `column "V" (successProbability): "0.655" is not a whole number`},
		{"German percent", "  successProbability: { column: V, decimal: \",\" }\n", "65 %", prob(65), ""},
		// booleans
		{"yes", "  isNotify: { column: V }\n", "Yes", notify(true), ""},
		{"ja", "  isNotify: { column: V }\n", "JA", notify(true), ""},
		{"nein", "  isNotify: { column: V }\n", "nein", notify(false), ""},
		{"oui", "  isNotify: { column: V }\n", "Oui", notify(true), ""},
		{"non", "  isNotify: { column: V }\n", "non", notify(false), ""},
		{"sí", "  isNotify: { column: V }\n", "Sí", notify(true), ""},
		{"si", "  isNotify: { column: V }\n", "si", notify(true), ""},
		{"x", "  isNotify: { column: V }\n", "x", notify(true), ""},
		{"1", "  isNotify: { column: V }\n", "1", notify(true), ""},
		{"0", "  isNotify: { column: V }\n", "0", notify(false), ""},
		{"wahr", "  isNotify: { column: V }\n", "WAHR", notify(true), ""},
		{"falsch", "  isNotify: { column: V }\n", "Falsch", notify(false), ""},
		{"FALSE", "  isNotify: { column: V }\n", "FALSE", notify(false), ""},
		// dates
		{"English month name without a format", "  expectedCloseDate: { column: V }\n", "15 March 2024", date("2024-03-15"), ""},
		{"English US order without a format", "  expectedCloseDate: { column: V }\n", "March 15, 2024", date("2024-03-15"), ""},
		{"English abbreviation without a format", "  expectedCloseDate: { column: V }\n", "15-Mar-2024", date("2024-03-15"), ""},
		{"German month name", "  expectedCloseDate: { column: V }\nlocale: de\n", "15. März 2024", date("2024-03-15"), ""},
		{"German month with a format", "  expectedCloseDate: { column: V, format: D. MMMM YYYY }\nlocale: de\n", "1. Dezember 2024", date("2024-12-01"), ""},
		{"German abbreviation with a dot", "  expectedCloseDate: { column: V, format: DD MMM YYYY }\nlocale: de\n", "03 Okt. 2024", date("2024-10-03"), ""},
		{"French month name", "  expectedCloseDate: { column: V, format: D MMMM YYYY }\nlocale: fr\n", "3 août 2024", date("2024-08-03"), ""},
		{"French abbreviation", "  expectedCloseDate: { column: V, format: D MMM YYYY }\nlocale: fr\n", "3 juil. 2024", date("2024-07-03"), ""},
		{"French upper case", "  expectedCloseDate: { column: V }\nlocale: fr\n", "3 DÉCEMBRE 2024", date("2024-12-03"), ""},
		{"Spanish", "  expectedCloseDate: { column: V, format: D-MMM-YYYY }\nlocale: es\n", "3-dic-2024", date("2024-12-03"), ""},
		{"Italian", "  expectedCloseDate: { column: V }\nlocale: it\n", "3 maggio 2024", date("2024-05-03"), ""},
		{"Dutch", "  expectedCloseDate: { column: V, format: D MMM YYYY }\nlocale: nl\n", "3 mrt 2024", date("2024-03-03"), ""},
		{"Portuguese", "  expectedCloseDate: { column: V }\nlocale: pt\n", "3 março 2024", date("2024-03-03"), ""},
		{"German month without the locale", "  expectedCloseDate: { column: V }\n", "15. März 2024", Record{},
			`column "V" (expectedCloseDate): "15. März 2024" is not a date (want YYYY-MM-DD or YYYY-MM-DDTHH:mm:ss)`},
		{"a month name runs on", "  expectedCloseDate: { column: V, format: D MMM YYYY }\nlocale: de\n", "3 Main 2024", Record{},
			`column "V" (expectedCloseDate): "3 Main 2024" is not a date (want D MMM YYYY)`},
		{"ambiguous decided by format: day first", "  expectedCloseDate: { column: V, format: DD/MM/YYYY }\n", "01/02/2024", date("2024-02-01"), ""},
		{"ambiguous decided by format: month first", "  expectedCloseDate: { column: V, format: MM/DD/YYYY }\n", "01/02/2024", date("2024-01-02"), ""},
		{"format decides, no guessing per row", "  expectedCloseDate: { column: V, format: MM/DD/YYYY }\n", "13/02/2024", Record{},
			`column "V" (expectedCloseDate): "13/02/2024" is not a date (want MM/DD/YYYY)`},
		{"date-time in the mapping's zone", "  expectedCloseDate: { column: V, format: DD.MM.YYYY HH:mm }\ntimezone: Europe/Berlin\n", "31.12.2024 10:00", date("2024-12-31T09:00:00Z"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan(t, tt.rules, BindOptions{})
			got, errs := applied(t, p, []string{"deal", owner, tt.v, ""})
			if tt.err != "" {
				if len(errs) != 1 || errs[0].Error() != tt.err {
					t.Fatalf("errors %v, want %q", errs, tt.err)
				}
				return
			}
			if errs != nil {
				t.Fatalf("errors %v, want none", errs)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMonthLocale(t *testing.T) {
	for in, want := range map[string]string{
		"15. März 2024": "de", "3 Okt. 2024": "", "3 Dezember 2024": "de", "12 juillet 2024": "fr", "15 March 2024": "",
		"2024-03-15": "", "1 abril 2024": "", "10 dezembro 2024": "pt", "": "",
	} {
		if got := MonthLocale(in); got != want {
			t.Errorf("MonthLocale(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLanguageTable reads every month name and every yes and no of every language of the
// table as a date field and a boolean field do, in lower case, capitalised and in capitals,
// and with an abbreviation's dot.
func TestLanguageTable(t *testing.T) {
	t.Parallel()
	for lang, l := range languages {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			p, err := compileDate("D MMMM YYYY")
			if err != nil {
				t.Fatal(err)
			}
			c := conv{kind: kDate, formats: []datePattern{p}, months: monthTableFor(lang), tz: time.UTC}
			c.setReasons()
			for m, names := range l.months {
				if len(names) == 0 {
					t.Errorf("month %d has no name", m+1)
				}
				for _, name := range names {
					want := fmt.Sprintf("2024-%02d-05", m+1)
					for _, v := range []string{name, upperFirst(name), strings.ToUpper(name), name + "."} {
						if got, reason := c.date("5 "+v+" 2024", true); got != want {
							t.Errorf("date(%q) = %q, %q; want %s", "5 "+v+" 2024", got, reason, want)
						}
					}
				}
			}
			if len(l.yes) == 0 || len(l.no) == 0 {
				t.Errorf("yes %q, no %q: want words for both", l.yes, l.no)
			}
			for _, want := range []bool{true, false} {
				words := l.no
				if want {
					words = l.yes
				}
				for _, w := range words {
					for _, v := range []string{w, upperFirst(w), strings.ToUpper(w), " " + w + " "} {
						if got, ok := Boolean(v); !ok || got != want {
							t.Errorf("Boolean(%q) = %v, %v; want %v", v, got, ok, want)
						}
					}
				}
			}
		})
	}
}

// TestLanguageWordsAgree checks that no word is yes in one language and no in another.
func TestLanguageWordsAgree(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for lang, l := range languages {
		for _, w := range l.yes {
			seen[strings.ToLower(w)] = lang
		}
	}
	for lang, l := range languages {
		for _, w := range l.no {
			if other, ok := seen[strings.ToLower(w)]; ok {
				t.Errorf("%q is no in %s and yes in %s", w, lang, other)
			}
		}
	}
}

func TestRussianDates(t *testing.T) {
	t.Parallel()
	date := func(s string) Record { return rec(func(r *Record) { r.ExpectedCloseDate = s }) }
	tests := []struct {
		rules, v string
		want     Record
	}{
		{"  expectedCloseDate: { column: V, format: \"D MMMM YYYY\" }\nlocale: ru\n", "15 марта 2024", date("2024-03-15")},
		{"  expectedCloseDate: { column: V, format: \"D MMMM YYYY\" }\nlocale: ru\n", "1 мая 2024", date("2024-05-01")},
		{"  expectedCloseDate: { column: V, format: \"D MMM YYYY\" }\nlocale: ru\n", "3 янв. 2024", date("2024-01-03")},
		{"  expectedCloseDate: { column: V, format: \"D MMM YYYY\" }\nlocale: ru\n", "3 нояб. 2024", date("2024-11-03")},
		{"  expectedCloseDate: { column: V, format: \"MMMM YYYY, D\" }\nlocale: ru\n", "Сентябрь 2024, 9", date("2024-09-09")},
		{"  expectedCloseDate: { column: V }\nlocale: uk\n", "15 березня 2024", date("2024-03-15")},
		{"  expectedCloseDate: { column: V }\nlocale: pl\n", "15 października 2024", date("2024-10-15")},
		{"  expectedCloseDate: { column: V }\nlocale: cs\n", "15. července 2024", date("2024-07-15")},
		{"  expectedCloseDate: { column: V }\nlocale: cs\n", "15. června 2024", date("2024-06-15")},
		{"  expectedCloseDate: { column: V }\nlocale: fi\n", "15. maaliskuuta 2024", date("2024-03-15")},
		{"  expectedCloseDate: { column: V }\nlocale: el\n", "15 Μαρτίου 2024", date("2024-03-15")},
		{"  expectedCloseDate: { column: V }\nlocale: vi\n", "15 tháng 12 2024", date("2024-12-15")},
		{"  expectedCloseDate: { column: V }\nlocale: vi\n", "15 tháng 1 2024", date("2024-01-15")},
		{"  expectedCloseDate: { column: V, format: \"YYYY年MMMMD日\" }\nlocale: ja\n", "2024年3月15日", date("2024-03-15")},
		{"  expectedCloseDate: { column: V, format: \"YYYY年MMMMD日\" }\nlocale: zh\n", "2024年十一月5日", date("2024-11-05")},
	}
	for _, tt := range tests {
		p := plan(t, tt.rules, BindOptions{})
		got, errs := applied(t, p, []string{"deal", owner, tt.v, ""})
		if len(errs) > 0 {
			t.Errorf("%q: %v", tt.v, errs)
			continue
		}
		if diff := cmp.Diff(tt.want.ExpectedCloseDate, got.ExpectedCloseDate); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.v, diff)
		}
	}
}

func upperFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}
