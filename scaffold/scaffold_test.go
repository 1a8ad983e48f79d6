package scaffold

import (
	"strings"
	"testing"

	"github.com/oppimport/oppimport/mapping"
)

func TestGuessEncoding(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"Title\nMüller\n", ""},
		{"\xEF\xBB\xBFTitle\n", ""},
		{"\xFF\xFET\x00", ""},
		{"Title\nM\xfcller\n", "windows-1252"},
		{"Title\nM\xc3", ""}, // a character cut at the end of the sample
	}
	for _, tt := range tests {
		if got := GuessEncoding([]byte(tt.in)); got != tt.want {
			t.Errorf("GuessEncoding(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDecimal(t *testing.T) {
	tests := []struct {
		values  []string
		sep     string
		decided bool
	}{
		{[]string{"1.234,50", "980,00"}, ",", true},
		{[]string{"1 234,5 €"}, ",", true},
		{[]string{"$12,500.00", "950.00"}, ".", true},
		{[]string{"1.234.567"}, ",", true},
		{[]string{"1,234"}, ".", false},
		{[]string{"15000", "42"}, ".", true},
	}
	for _, tt := range tests {
		sep, decided := decimal(tt.values)
		if sep != tt.sep || decided != tt.decided {
			t.Errorf("decimal(%q) = %q, %v; want %q, %v", tt.values, sep, decided, tt.sep, tt.decided)
		}
	}
}

func TestDateFormats(t *testing.T) {
	tests := []struct {
		values []string
		want   string // in the rule line
		todo   bool
	}{
		{[]string{"31.12.2024", "01.02.2025"}, `format: "D.M.YYYY"`, false},
		{[]string{"12/31/2024", "1/2/2025"}, `format: "M/D/YYYY"`, false},
		{[]string{"31/12/2024"}, `format: "D/M/YYYY"`, false},
		{[]string{"03/04/2025", "05/06/2025"}, `format: "M/D/YYYY"`, true},
		{[]string{"03.04.2025"}, `format: "D.M.YYYY"`, true},
		{[]string{"2024-12-31"}, `{ column: "D" }`, false},
		{[]string{"15 March 2024"}, `{ column: "D" }`, false},
		{[]string{"31.12.24 10:30"}, `format: "D.M.YY H:mm"`, false},
	}
	for _, tt := range tests {
		var rows [][]string
		for _, v := range tt.values {
			rows = append(rows, []string{"deal", v})
		}
		var b strings.Builder
		if err := Write(&b, Input{Name: "x.csv", Kind: "csv", Delimiter: ',', Header: []string{"Deal Name", "D"}, Rows: rows}, nil); err != nil {
			t.Fatal(err)
		}
		// "D" is not a known name: map it by hand through the date guesser.
		p := &proposal{in: Input{Kind: "csv"}, fields: map[string][]string{}}
		p.date("expectedCloseDate", &column{name: "D", values: tt.values})
		lines := strings.Join(p.fields["expectedCloseDate"], "\n")
		if !strings.Contains(lines, tt.want) || strings.Contains(lines, "TODO") != tt.todo {
			t.Errorf("%q: proposed %q, want %s (TODO %v)", tt.values, lines, tt.want, tt.todo)
		}
	}
}

func TestBidTypeMap(t *testing.T) {
	in := Input{Name: "deals.csv", Kind: "csv", Delimiter: ',',
		Header: []string{"Deal Name", "Billing", "Owner", "Stage"},
		Rows: [][]string{
			{"A", "Fixed", "anna@example.com", "1"}, {"B", "Hourly", "anna@example.com", "1"},
			{"C", "Monatlich", "anna@example.com", "1"}, {"D", "Retainer", "anna@example.com", "1"},
			{"E", "PerWeek", "anna@example.com", "1"},
		}}
	var b strings.Builder
	if err := Write(&b, in, nil); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{`"Fixed": FixedBid`, `"Hourly": PerHour`, `"Monatlich": PerMonth`, `"PerWeek": PerWeek`,
		`# "Retainer": FixedBid  # TODO: decide`} {
		if !strings.Contains(out, want) {
			t.Errorf("the proposal lacks %s:\n%s", want, out)
		}
	}
	m, err := mapping.Parse([]byte(out), "proposal.yaml")
	if err != nil {
		t.Fatalf("the proposal does not load: %v\n%s", err, out)
	}
	if _, err := m.Bind(in.Header, mapping.BindOptions{}); err != nil {
		t.Errorf("the proposal does not bind: %v", err)
	}
}

func TestLocaleProposed(t *testing.T) {
	in := Input{Name: "deals.csv", Kind: "csv", Delimiter: ';',
		Header: []string{"Titel", "Abschlussdatum"},
		Rows:   [][]string{{"A", "15. März 2025"}, {"B", "3. Dezember 2025"}}}
	var b strings.Builder
	if err := Write(&b, in, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\nlocale: de") {
		t.Errorf("the proposal does not set locale: de:\n%s", b.String())
	}
	m, err := mapping.Parse([]byte(b.String()), "proposal.yaml")
	if err != nil {
		t.Fatalf("the proposal does not load: %v\n%s", err, b.String())
	}
	if m.Locale != "de" {
		t.Errorf("got locale %q, want de", m.Locale)
	}
}
