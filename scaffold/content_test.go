package scaffold

import (
	"strings"
	"testing"
)

// Columns no export table names are found by what they hold.
func TestByContent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		header  []string
		rows    [][]string
		want    []string
		notWant []string
	}{
		{"owner e-mails that repeat, under a name no table lists",
			[]string{"Deal Name", "Verkäufer", "Kunde E-Mail"},
			[][]string{{"A", "anna@example.com", "x1@corp.example"}, {"B", "bob@example.com", "x2@corp.example"}, {"C", "anna@example.com", "x3@corp.example"}, {"D", "anna@example.com", "x4@corp.example"}},
			[]string{`responsibleid: { column: "Verkäufer", lookup: user }`, `contactid: { column: "Kunde E-Mail", lookup: contact }`},
			[]string{"TODO: check: no owner column"}},
		{"who created or changed a deal is not its owner",
			[]string{"Deal Name", "Created By", "Geändert von"},
			[][]string{{"A", "anna@example.com", "bob@example.com"}, {"B", "anna@example.com", "bob@example.com"}},
			[]string{"TODO: check: no owner column"}, nil},
		{"a contact's e-mails, each different, are not the owner",
			[]string{"Deal Name", "Mail"},
			[][]string{{"A", "a@x.example"}, {"B", "b@x.example"}, {"C", "c@x.example"}, {"D", "d@x.example"}},
			[]string{"TODO: check: no owner column", `#   "Mail"`}, nil},
		{"owner e-mail by its name",
			[]string{"Deal Name", "Owner Email"},
			[][]string{{"A", "anna@example.com"}, {"B", "anna@example.com"}},
			[]string{`responsibleid: { column: "Owner Email", lookup: user }`}, nil},
		{"a key column by content, its name saying id",
			[]string{"Employees", "Deal Name", "Amount", "Nr.", "Legacy"},
			[][]string{{"10", "A", "100", "D-1001", "x"}, {"12", "B", "200", "D-1002", "x"}, {"14", "C", "300", "D-1003", "y"}},
			[]string{`key: ["Nr."]`, "found by its content", `key_field: "Legacy ID"`}, nil},
		{"the leftmost unique id-like column without a hint",
			[]string{"Deal Name", "Kennung", "Amount"},
			[][]string{{"A", "77001", "100"}, {"B", "77002", "100"}},
			[]string{`key: ["Kennung"]`}, nil},
		{"a column named like an id that repeats is the key, marked",
			[]string{"Deal Name", "ID"},
			[][]string{{"A", "7"}, {"B", "7"}},
			[]string{`key: ["ID"]`, `holds "7" more than once; TODO: check`}, nil},
		{"no key from repeated or partly empty values",
			[]string{"Deal Name", "Code", "Ref"},
			[][]string{{"A", "7", "1"}, {"B", "7", ""}, {"C", "8", "3"}},
			[]string{`# key: ["ID"]  # TODO: decide`}, []string{"key_field"}},
		{"dates under an unknown name are not tags",
			[]string{"Deal Name", "Tag der Erstellung"},
			[][]string{{"A", "15.03.2024"}, {"B", "16.03.2024"}},
			nil, []string{"tags:"}},
		{"no currency column in a Russian export: roubles",
			[]string{"Название сделки", "Сумма"},
			[][]string{{"A", "150000"}},
			[]string{"bidCurrencyAbbr: { value: RUB }"}, nil},
		{"tags cut at the separator the sample uses",
			[]string{"Deal Name", "Schlagwörter"},
			[][]string{{"A", "vip; hot"}, {"B", "cold"}},
			[]string{`tags: { column: "Schlagwörter", split: ";" }`}, nil},
		{"currency symbols and names to codes, and one it cannot tell",
			[]string{"Deal Name", "Currency"},
			[][]string{{"A", "€"}, {"B", "руб."}, {"C", "US Dollar"}, {"D", "Pesos de oro"}, {"E", "usd"}},
			[]string{`"€": EUR`, `"руб.": RUB`, `"US Dollar": USD`, `"usd": USD`, `# "Pesos de oro": ""  # TODO: decide`}, nil},
		{"a dotted date column that fits both orders follows the file's other dates",
			[]string{"Deal Name", "Close Date", "Created"},
			[][]string{{"A", "25.03.2024", "01.02.2024 10:00"}, {"B", "30.04.2024", "03.02.2024 11:00"}},
			[]string{`column: "Created", format: "D.M.YYYY H:mm"`}, []string{"fits both"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := propose(t, "csv", tt.header, tt.rows, nil)
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Errorf("the proposal lacks %s:\n%s", want, out)
				}
			}
			for _, not := range tt.notWant {
				if strings.Contains(out, not) {
					t.Errorf("the proposal holds %s:\n%s", not, out)
				}
			}
		})
	}
}

// With the portal known: currencies it lacks are flagged, its own names are matched, and
// a custom field named like the key column is the key_field.
func TestWithPortal(t *testing.T) {
	t.Parallel()
	portal := &Portal{
		Currencies: []Currency{{Code: "EGP", Title: "Egyptian Pound", Symbol: "£"}, {Code: "EUR", Title: "Euro", Symbol: "€"}, {Code: "GBP", Title: "British Pound", Symbol: "£"},
			{Code: "KZT", Title: "Kazakhstani Tenge", Symbol: "₸"}, {Code: "MNT", Title: "Mongolian Tögrög", Symbol: "₮"}, {Code: "USD", Title: "US Dollar", Symbol: "$"}},
		CustomFields: []string{"Region", "Old CRM ID"},
	}
	out := propose(t, "csv", []string{"Old CRM ID", "Deal Name", "Currency", "Region"},
		[][]string{{"1", "A", "Kazakhstani Tenge"}, {"2", "B", "CHF"}, {"3", "C", "€"}, {"4", "D", "£"}, {"5", "E", "₮"}}, portal)
	for _, want := range []string{`"Kazakhstani Tenge": KZT`, `"€": EUR`, `"CHF": CHF`, `"£": GBP`, `"₮": MNT`, "the portal has no currency CHF", `key_field: "Old CRM ID"`,
		`- { label: "Region", column: "Region" }`} {
		if !strings.Contains(out, want) {
			t.Errorf("the proposal lacks %s:\n%s", want, out)
		}
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, field string }{
		{"Date de clôture", "expectedCloseDate"},
		{"date de cloture", "expectedCloseDate"},
		{"DEAL - TITLE", "title"},
		{"Сделка - Название", "title"},
		{"Affaire - Valeur", "bidValue"},
		{"(Do Not Modify) Opportunity", ""},
		{"Ответственный", "responsibleid"},
		{"Дата создания", "created"},
		{"Erstellt am", "created"},
		{"Create Date", "created"},
		{"Created Time", "created"},
		{"Labels", "tags"},
		{"Теги", "tags"},
		{"Schlagwörter", "tags"},
		{"Type", "tags"},
		{"Something else", ""},
	}
	for _, tt := range tests {
		if got := fieldOf(tt.name); got != tt.field {
			t.Errorf("fieldOf(%q) = %q, want %q", tt.name, got, tt.field)
		}
	}
	for _, tt := range []struct{ name, field string }{
		{"Owner E-Mail (Sales)", "responsibleid"},
		{"Expected closing", "expectedCloseDate"},
		{"Potential revenue in EUR", "bidValue"},
		{"Created by", "created"}, // fits() then refuses it unless it holds dates
		{"Nothing", ""},
	} {
		if got := fieldByKeyword(tt.name); got != tt.field {
			t.Errorf("fieldByKeyword(%q) = %q, want %q", tt.name, got, tt.field)
		}
	}
}
