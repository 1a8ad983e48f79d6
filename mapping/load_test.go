package mapping

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// base maps the four required fields on lines 2-6; cases add lines from 7 on.
const base = `version: 1
fields:
  title:           { column: T }
  responsibleid:   { column: R }
  stageid:         { value: 1 }
  bidCurrencyAbbr: { value: EUR }
`

func TestLoadExample(t *testing.T) {
	m, err := Load("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Input{Sheet: "Deals", HeaderRow: 1, Delimiter: ';', Encoding: "windows-1252"}, m.Input); diff != "" {
		t.Errorf("input (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Deal ID"}, m.Key); diff != "" {
		t.Errorf("key (-want +got):\n%s", diff)
	}
	if got := m.Timezone.String(); got != "Europe/Berlin" {
		t.Errorf("got timezone %s, want Europe/Berlin", got)
	}
	var names []string
	for _, r := range m.Fields {
		names = append(names, r.Field)
	}
	want := []string{"title", "description", "contactid", "responsibleid", "bidType", "bidValue", "bidCurrencyAbbr",
		"perPeriodValue", "stageid", "successProbability", "expectedCloseDate", "isPrivate", "members", "accessList"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	bid := m.Fields[4]
	if bid.Column != "Billing" || *bid.Default != "FixedBid" || bid.Map["Hourly"] != "PerHour" || bid.Line != 23 {
		t.Errorf("got bidType rule %+v, want column Billing, default FixedBid, map Hourly: PerHour, line 23", bid)
	}
	if got := m.Fields[1].Template; got != "{Notes}\nLegacy id: {Deal ID}" {
		t.Errorf("got template %q", got)
	}
	if got := m.Fields[10].Formats; !cmp.Equal(got, []string{"DD.MM.YYYY", "DD.MM.YYYY HH:mm"}) {
		t.Errorf("got formats %q", got)
	}
	if len(m.CustomFields) != 1 || m.CustomFields[0].ID != 14 || m.CustomFields[0].Field != "customField:14" {
		t.Errorf("got custom fields %+v, want id 14 from Region", m.CustomFields)
	}
}

func TestLoadValid(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(m *Mapping) string
	}{
		{"minimal", base, func(m *Mapping) string {
			if m.Timezone.String() != "UTC" || m.Key != nil || m.Input != (Input{}) {
				return "want UTC, no key, default input"
			}
			return ""
		}},
		{"key as a string", base + "key: Deal ID\n", func(m *Mapping) string {
			if !cmp.Equal(m.Key, []string{"Deal ID"}) {
				return "key " + strings.Join(m.Key, ",")
			}
			return ""
		}},
		{"delimiter \\t", base + "input: { delimiter: \"\\t\" }\n", func(m *Mapping) string {
			if m.Input.Delimiter != '\t' {
				return "want tab"
			}
			return ""
		}},
		{"delimiter written \\t in single quotes", base + "input: { delimiter: '\\t' }\n", func(m *Mapping) string {
			if m.Input.Delimiter != '\t' {
				return "want tab"
			}
			return ""
		}},
		{"delimiter tab", base + "input: { delimiter: tab }\n", func(m *Mapping) string {
			if m.Input.Delimiter != '\t' {
				return "want tab"
			}
			return ""
		}},
		{"anchors and aliases", base + "  expectedCloseDate: &date { column: D, format: DD.MM.YYYY }\n  actualCloseDate: *date\n", func(m *Mapping) string {
			if len(m.Fields) != 6 || m.Fields[5].Field != "actualCloseDate" || m.Fields[5].Column != "D" {
				return "want actualCloseDate read like expectedCloseDate"
			}
			return ""
		}},
		{"format list and map with null", base + "  expectedCloseDate: { column: D, format: [DD.MM.YYYY, YYYY-MM-DD] }\n  bidType: { column: B, map: { n/a: ~, Fixed: FixedBid } }\n", func(m *Mapping) string {
			if len(m.Fields) != 6 {
				return "want 6 fields"
			}
			return ""
		}},
		{"custom fields", base + "custom_fields:\n  - { id: 14, column: Region }\n  - id: 15\n    value: Web\n", func(m *Mapping) string {
			if len(m.CustomFields) != 2 || m.CustomFields[1].ID != 15 || *m.CustomFields[1].Value != "Web" {
				return "want custom fields 14 and 15"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.yaml), "m.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(m); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown field", base + "  titel: { column: A }\n",
			[]string{`m.yaml:7: unknown field "titel" (did you mean "title"?)`}},
		{"field in the wrong case", base + "  BidValue: { column: A }\n",
			[]string{`m.yaml:7: unknown field "BidValue" (did you mean "bidValue"?)`}},
		{"unknown field far from any", base + "  budget: { column: A }\n",
			[]string{`m.yaml:7: unknown field "budget"`}},
		{"unknown key in a rule", base + "  bidValue: { colum: A }\n",
			[]string{`m.yaml:7: unknown key "colum" in bidValue (did you mean "column"?); allowed: column, value, template, default, map, format, decimal, split, lookup, percent`}},
		{"unknown top-level key", base + "timezon: UTC\n",
			[]string{`m.yaml:7: unknown key "timezon" (did you mean "timezone"?); allowed: version, input, key, key_field, timezone, locale, fields, custom_fields, tags, created`}},
		{"unknown input key", base + "input:\n  sheet: Deals\n  headerrow: 2\n",
			[]string{`m.yaml:9: unknown key "headerrow" in input (did you mean "header_row"?); allowed: sheet, header_row, delimiter, encoding`}},
		{"header_row not a number", base + "input: { header_row: abc }\n",
			[]string{`m.yaml:7: input.header_row: "abc" is not a whole number`}},
		{"header_row zero", base + "input: { header_row: 0 }\n",
			[]string{`m.yaml:7: input.header_row: 0 is not a row number (rows start at 1)`}},
		{"header_row a list", base + "input:\n  header_row: [1, 2]\n",
			[]string{`m.yaml:8: input.header_row: want a single value, not a list`}},
		{"delimiter of two characters", base + "input: { delimiter: \";;\" }\n",
			[]string{`m.yaml:7: input.delimiter: ";;" is not one character; want one such as ";", ",", "|" or "\t" (tab)`}},
		{"unknown encoding", base + "input: { encoding: latin-9000 }\n",
			[]string{`m.yaml:7: input.encoding: unknown encoding "latin-9000"; want a name such as windows-1252, iso-8859-15 or utf-16le`}},
		{"two sources", base + "  bidValue: { column: A, value: 3 }\n",
			[]string{`m.yaml:7: bidValue has 2 sources (column: at line 7, value: at line 7): give only one of column:, value: and template:`}},
		{"no source", base + "  bidValue:\n    decimal: \",\"\n",
			[]string{`m.yaml:8: bidValue has no source: give column:, value: or template:`}},
		{"rule not a mapping", base + "  bidValue: Amount\n",
			[]string{`m.yaml:7: fields.bidValue: want a rule such as { column: "Deal Name" }, not "Amount"`}},
		{"format on a non-date field", base + "  bidValue: { column: A, format: DD.MM.YYYY }\n",
			[]string{`m.yaml:7: bidValue: format: applies to date fields only (actualCloseDate, expectedCloseDate, and custom fields holding dates)`}},
		{"split on a non-list field", base + "  contactid: { column: A, split: \";\" }\n",
			[]string{`m.yaml:7: contactid: split: applies to list fields only (members, accessList)`}},
		{"decimal on a non-number field", base + "  contactid: { column: A, decimal: \",\" }\n",
			[]string{`m.yaml:7: contactid: decimal: applies to number fields only (bidValue, successProbability, perPeriodValue)`}},
		{"bad decimal", base + "  bidValue: { column: A, decimal: \";\" }\n",
			[]string{`m.yaml:7: bidValue: decimal: ";" is not a decimal separator; want "." or ","`}},
		{"required fields not mapped", "version: 1\nfields:\n  title: { column: T }\n",
			[]string{
				`m.yaml:2: required field "responsibleid" is not mapped (the portal refuses an opportunity without title, responsibleid, stageid and bidCurrencyAbbr)`,
				`m.yaml:2: required field "bidCurrencyAbbr" is not mapped (the portal refuses an opportunity without title, responsibleid, stageid and bidCurrencyAbbr)`,
				`m.yaml:2: required field "stageid" is not mapped (the portal refuses an opportunity without title, responsibleid, stageid and bidCurrencyAbbr)`,
			}},
		{"bad timezone", base + "timezone: Europe/Berln\n",
			[]string{`m.yaml:7: timezone: unknown time zone "Europe/Berln"; want an IANA name such as Europe/Berlin or UTC`}},
		{"date pattern in lower case", base + "  expectedCloseDate: { column: D, format: dd.mm.yyyy }\n",
			[]string{`m.yaml:7: expectedCloseDate: format: bad date pattern "dd.mm.yyyy": the tokens are YYYY YY MM M MMM MMMM DD D HH H mm ss (year, month, day and hour in upper case)`}},
		{"date pattern with minutes for month", base + "  expectedCloseDate: { column: D, format: DD.mm.YYYY }\n",
			[]string{`m.yaml:7: expectedCloseDate: format: bad date pattern "DD.mm.YYYY": it has no month (mm is minutes; the month is MM)`}},
		{"date pattern, the second of a list", base + "  expectedCloseDate:\n    column: D\n    format:\n      - DD.MM.YYYY\n      - DDMYYYY\n",
			[]string{`m.yaml:11: expectedCloseDate: format: bad date pattern "DDMYYYY": a one-digit part (M, D or H) runs into the next number; use MM, DD or HH`}},
		{"unknown lookup", base + "  contactid: { column: C, lookup: company }\n",
			[]string{`m.yaml:7: contactid: lookup: "company" is not a look-up; want user, stage or contact`}},
		{"lookup on the wrong field", base + "  contactid: { column: C, lookup: user }\n",
			[]string{`m.yaml:7: contactid: lookup: user applies to responsibleid and accessList only`}},
		{"lookup on a custom field", base + "custom_fields:\n  - { id: 14, column: C, lookup: user }\n",
			[]string{`m.yaml:8: custom field 14: lookup: does not apply to custom fields; name the field with label: instead of id:`}},
		{"label and id", base + "custom_fields:\n  - { id: 14, label: \"Lead source\", column: Source }\n",
			[]string{`m.yaml:8: custom field "Lead source": give id: or label:, not both`}},
		{"label twice", base + "custom_fields:\n  - { label: \"Lead source\", column: A }\n  - { label: lead SOURCE, column: B }\n",
			[]string{`m.yaml:9: custom field "lead SOURCE" is mapped twice (first at line 8)`}},
		{"unknown locale", base + "locale: xx\n",
			[]string{`m.yaml:7: locale: "xx" has no month names here; want one of ar, az, be, bg, ca, cs, da, de, el, en, es, et, eu, fi, fr, gl, he, hu, hy, id, it, ja, ko, lt, lv, ms, nl, no, pl, pt, ro, ru, sk, sl, sq, sr, sv, tr, uk, vi, zh (English month names are always read)`}},
		{"percent on another field", base + "  bidValue: { column: A, percent: fraction }\n",
			[]string{`m.yaml:7: bidValue: percent: applies to successProbability only`}},
		{"bad percent", base + "  successProbability: { column: A, percent: share }\n",
			[]string{`m.yaml:7: successProbability: percent: "share": want fraction (0.65 is 65%, as percent-formatted Excel cells hold it) or whole (65 is 65%)`}},
		{"version missing", strings.TrimPrefix(base, "version: 1\n"),
			[]string{`m.yaml:1: version: is missing; the file must start with "version: 1"`}},
		{"version 2", strings.Replace(base, "version: 1", "version: 2", 1),
			[]string{`m.yaml:1: version: 2 is not supported; this oppimport reads version: 1`}},
		{"YAML syntax", base + "  bidValue: { column: A\n  bidType: { column: B }\n",
			[]string{`m.yaml:7: YAML syntax: did not find expected ',' or '}'`}},
		{"YAML syntax in a block", base + "  bidValue:\n    column: A\n   decimal: \",\"\n",
			[]string{`m.yaml:9: YAML syntax: did not find expected key`}},
		{"YAML syntax on the first line", "version: 1: 2\n",
			[]string{`m.yaml:1: YAML syntax: mapping values are not allowed in this context`}},
		{"tab in indentation", base + "  bidValue:\n\tcolumn: A\n",
			[]string{`m.yaml:8: a tab in the indentation: YAML indents with spaces only`}},
		{"repeated key", base + "  title: { column: U }\n",
			[]string{`m.yaml:7: fields.title: repeated (first at line 3)`}},
		{"bad constant", strings.Replace(base, "value: EUR", "value: EURO", 1),
			[]string{`m.yaml:6: bidCurrencyAbbr: value "EURO" is not a currency code (want 3 letters such as EUR)`}},
		{"bad default", base + "  perPeriodValue: { column: P, default: none }\n",
			[]string{`m.yaml:7: perPeriodValue: default "none" is not a number (decimal separator "."; set decimal: "," for 1.234,50)`}},
		{"default with value", base + "  isNotify: { value: true, default: false }\n",
			[]string{`m.yaml:7: isNotify: default: is never used with value:, which is never empty`}},
		{"bad map value", base + "  bidType:\n    column: B\n    map:\n      Fixed: FixdBid\n",
			[]string{`m.yaml:10: bidType: map: "Fixed" -> "FixdBid" is not a bid type (want FixedBid, PerHour, PerDay, PerWeek, PerMonth, PerYear or 0-5)`}},
		{"map keys repeated in another case", base + "  bidType: { column: B, map: { Fixed: FixedBid, fixed: PerDay } }\n",
			[]string{`m.yaml:7: bidType: map: key "fixed" repeats "Fixed" (keys are compared ignoring case)`}},
		{"map not a mapping", base + "  bidType: { column: B, map: [a, b] }\n",
			[]string{`m.yaml:7: bidType: map: want pairs such as { Fixed: FixedBid }, not a list`}},
		{"template with an open brace", base + "  description: { template: \"{Notes\" }\n",
			[]string{`m.yaml:7: description: template: a "{" without its "}" (write {{ for a brace)`}},
		{"template without placeholders", base + "  description: { template: \"plain\" }\n",
			[]string{`m.yaml:7: description: template: has no {Column} placeholder; use value: for a constant`}},
		{"custom field id repeated", base + "custom_fields:\n  - { id: 14, column: A }\n  - { id: 14, column: B }\n",
			[]string{`m.yaml:9: custom field 14 is mapped twice (first at line 8)`}},
		{"custom field id not a number", base + "custom_fields:\n  - { id: region, column: A }\n",
			[]string{`m.yaml:8: custom field region: id: "region" is not a whole number`}},
		{"custom field with split", base + "custom_fields:\n  - { id: 14, column: A, split: \",\" }\n",
			[]string{`m.yaml:8: custom field 14: split: applies to list fields only (members, accessList)`}},
		{"fields a list", "version: 1\nfields:\n  - title\n",
			[]string{`m.yaml:3: fields: want API field names with their rules, such as title: { column: "Deal Name" }, not a list`}},
		{"key a mapping", base + "key: { a: 1 }\n",
			[]string{`m.yaml:7: key: want a column name or a list of them, not a set of keys`}},
		{"empty file", "", []string{`m.yaml:1: the mapping is empty: it needs at least "version: 1" and "fields:"`}},
		{"every mistake at once", `version: 1
input:
  header_row: abc
timezone: Nowhere
fields:
  titel: { column: A }
  responsibleid: { column: R, value: x }
  stageid: { column: S, lookup: stage }
  bidCurrencyAbbr: { value: EUR }
  bidValue: {}
`, []string{
			`m.yaml:3: input.header_row: "abc" is not a whole number`,
			`m.yaml:4: timezone: unknown time zone "Nowhere"; want an IANA name such as Europe/Berlin or UTC`,
			`m.yaml:6: unknown field "titel" (did you mean "title"?)`,
			`m.yaml:7: responsibleid has 2 sources (column: at line 7, value: at line 7): give only one of column:, value: and template:`,
			`m.yaml:7: responsibleid: value "x" is not a GUID (for user names or e-mails, add lookup: user)`,
			`m.yaml:10: bidValue has no source: give column:, value: or template:`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.yaml), "m.yaml")
			if err == nil {
				t.Fatalf("got mapping %+v, want errors", m)
			}
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("got %T, want *Errors", err)
			}
			got := strings.Split(err.Error(), "\n")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if len(*errs) != len(tt.want) {
				t.Errorf("got %d errors, want %d", len(*errs), len(tt.want))
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such.yaml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want a not-exist error", err)
	}
}

func TestBindErrors(t *testing.T) {
	yaml := base + `  description: { template: "{Notes} / {Deal ID}" }
custom_fields:
  - { id: 14, column: "Region" }
key: ["Deal ID", Stage]
`
	m, err := Parse([]byte(yaml), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header []string
		want   []string
	}{
		{"all there", []string{"T", "R", "Notes", "Deal ID", "Region", "Stage"}, nil},
		{"missing, with suggestions", []string{"t", "R", " Notes ", "Deal-ID", "Stage"}, []string{
			`m.yaml:3: title: column "T" is not in the input (did you mean "t"?)`,
			`m.yaml:7: description: template: column "Notes" is not in the input (did you mean " Notes "?)`,
			`m.yaml:7: description: template: column "Deal ID" is not in the input (did you mean "Deal-ID"?)`,
			`m.yaml:9: custom field 14: column "Region" is not in the input`,
			`m.yaml:10: key: column "Deal ID" is not in the input (did you mean "Deal-ID"?)`,
			`m.yaml: the input's columns are "t", "R", " Notes ", "Deal-ID", "Stage"`,
		}},
		{"a column twice", []string{"T", "R", "Notes", "Deal ID", "Region", "Stage", "T"}, []string{
			`m.yaml:3: title: column "T" appears 2 times in the input (columns 1, 7); rename all but one`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := m.Bind(tt.header, BindOptions{})
			if tt.want == nil {
				if err != nil || p == nil {
					t.Fatalf("got %v, want a plan", err)
				}
				return
			}
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("got %v (%T), want *Errors", err, err)
			}
			if diff := cmp.Diff(tt.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
