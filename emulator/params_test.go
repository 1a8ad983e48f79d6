package emulator

import (
	"testing"
	"time"
)

func TestParseAPIDate(t *testing.T) {
	portal := time.FixedZone("portal", 3*3600)
	tests := []struct {
		in   string
		want time.Time // zero = rejected
	}{
		{"2024-03-15", time.Date(2024, 3, 15, 0, 0, 0, 0, portal)},
		{"2024-03-15T10:20:30", time.Date(2024, 3, 15, 10, 20, 30, 0, portal)},
		{"2024-03-15T10:20:30Z", time.Date(2024, 3, 15, 10, 20, 30, 0, time.UTC)},
		{"2024-03-15T10:20:30+02:00", time.Date(2024, 3, 15, 8, 20, 30, 0, time.UTC)},
		{"2024-03-15T10:20:30-05:30", time.Date(2024, 3, 15, 15, 50, 30, 0, time.UTC)},
		{"2024-03-15T10:20:30.123Z", time.Date(2024, 3, 15, 10, 20, 30, 123_000_000, time.UTC)},
		{"2024-03-15T10:20:30.1234567Z", time.Date(2024, 3, 15, 10, 20, 30, 123_456_700, time.UTC)},
		{"2024-03-15T10:20:30.120Z", time.Date(2024, 3, 15, 10, 20, 30, 120_000_000, time.UTC)}, // outside JSON: fine
		{"2008-04-10T06-30-00.000Z", time.Date(2008, 4, 10, 6, 30, 0, 0, time.UTC)},
		{"2008-04-10T06-30-00", time.Date(2008, 4, 10, 6, 30, 0, 0, portal)},
		{"2024-02-29", time.Date(2024, 2, 29, 0, 0, 0, 0, portal)},
		{"2024-03-15T10:20:30.12Z", time.Time{}},
		{"2024-03-15T10:20:30.12345Z", time.Time{}},
		{"2024-03-15T10:20:30.Z", time.Time{}},
		{"2024-03-15T10:20-30Z", time.Time{}},
		{"2024-03-15T10:20", time.Time{}},
		{"2024-03-15 10:20:30", time.Time{}},
		{"2024-03-15T10:20:30+0200", time.Time{}},
		{"2024-03-15T10:20:30+02", time.Time{}},
		{"2024-03-15Z", time.Time{}},
		{"2023-02-29", time.Time{}},
		{"2024-13-01", time.Time{}},
		{"2024-03-15T24:00:00", time.Time{}},
		{"15.03.2024", time.Time{}},
		{"03/15/2024", time.Time{}},
		{"20240315", time.Time{}},
		{"2024-3-15", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseAPIDate(tt.in, portal)
			if tt.want.IsZero() {
				if err == nil {
					t.Fatalf("got %v, want rejected", got)
				}
				if err.Error() != "invalid date time format: "+tt.in {
					t.Errorf("error: got %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if !got.Equal(tt.want) || got.Location() != portal {
				t.Errorf("got %v, want %v in the portal zone", got, tt.want)
			}
		})
	}
}

// TestJSONDateTrap: in a JSON body the server's JSON library rewrites ISO date-times first.
func TestJSONDateTrap(t *testing.T) {
	tests := []struct {
		date    string
		status  int
		message string
	}{
		{"2024-03-15T10:00:00.120Z", 400, "invalid date time format: 2024-03-15T10:00:00.12Z"},
		{"2024-03-15T10:00:00.1234560Z", 400, "invalid date time format: 2024-03-15T10:00:00.123456Z"},
		{"2024-03-15T10:00:00.000Z", 201, ""},
		{"2024-03-15T10:00:00.123Z", 201, ""},
		{"2024-03-15T10:00:00.100+02:00", 400, "invalid date time format: 2024-03-15T10:00:00.1+02:00"},
		{"2008-04-10T06-30-00.000Z", 201, ""}, // the hyphen form is no ISO date to the JSON library
		{"2024-03-15T10:00:00Z", 201, ""},
		{"2024-03-15", 201, ""},
	}
	_, base := newTest(t, Options{})
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			a := post(t, base, deal("expectedCloseDate", tt.date))
			if a.status != tt.status {
				t.Fatalf("got %d %s, want %d", a.status, a.body, tt.status)
			}
			if tt.status == 400 && a.message(t) != tt.message {
				t.Errorf("message: got %q, want %q", a.message(t), tt.message)
			}
		})
	}
	// The same value in the query string is read as it is.
	a := do(t, base, req{method: "POST", path: "/api/2.0/crm/opportunity?expectedCloseDate=2024-03-15T10:00:00.120Z", body: deal()})
	if a.status != 201 {
		t.Errorf("query date: got %d %s, want 201", a.status, a.body)
	}
}

func TestDatesInPortalZone(t *testing.T) {
	portal := time.FixedZone("portal", 2*3600)
	s, base := newTest(t, Options{Location: portal})
	a := post(t, base, deal("expectedCloseDate", "2024-03-15", "actualCloseDate", "2024-03-15T10:00:00Z"))
	if a.status != 201 {
		t.Fatalf("got %d %s", a.status, a.body)
	}
	r := a.response(t)
	if r["expectedCloseDate"] != "2024-03-15T00:00:00.0000000+02:00" || r["actualCloseDate"] != "2024-03-15T12:00:00.0000000+02:00" {
		t.Errorf("got %v and %v", r["expectedCloseDate"], r["actualCloseDate"])
	}
	o := s.Opportunities()[0]
	if !o.ExpectedCloseDate.Equal(time.Date(2024, 3, 14, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("stored: got %v", o.ExpectedCloseDate)
	}
}

func TestConversions(t *testing.T) {
	js := func(s string) value { return value{raw: []byte(s), json: true} }
	txt := func(s string) value { return value{texts: []string{s}} }
	ints := []struct {
		v       value
		want    int
		present bool
		bad     bool
	}{
		{js(`5`), 5, true, false},
		{js(`"5"`), 5, true, false},
		{js(`"-7"`), -7, true, false},
		{txt("42"), 42, true, false},
		{js(`null`), 0, false, false},
		{js(`""`), 0, false, false},
		{txt(""), 0, false, false},
		{js(`"5.0"`), 0, false, true},
		{js(`5.0`), 0, false, true},
		{js(`1e2`), 0, false, true},
		{js(`"3000000000"`), 0, false, true},
		{js(`[1]`), 0, false, true},
	}
	for _, tt := range ints {
		got, present, err := tt.v.toInt()
		if got != tt.want || present != tt.present || (err != nil) != tt.bad {
			t.Errorf("toInt(%s%v): got %d %v %v, want %d %v bad=%v", tt.v.raw, tt.v.texts, got, present, err, tt.want, tt.present, tt.bad)
		}
	}
	decs := []struct {
		v    value
		want string
		bad  bool
	}{
		{js(`1.1`), "1.1", false},
		{js(`"1234.50"`), "1234.5", false},
		{js(`"+007"`), "7", false},
		{js(`"-0.0"`), "0", false},
		{js(`".5"`), "0.5", false},
		{js(`1e3`), "1000", false},
		{js(`"1,5"`), "", true},
		{js(`"1,234.5"`), "", true},
		{js(`"1 234"`), "", true},
		{js(`"abc"`), "", true},
		{js(`"."`), "", true},
		{js(`true`), "", true},
	}
	for _, tt := range decs {
		got, _, err := tt.v.toDecimal()
		if got != tt.want || (err != nil) != tt.bad {
			t.Errorf("toDecimal(%s): got %q %v, want %q bad=%v", tt.v.raw, got, err, tt.want, tt.bad)
		}
	}
	guids := []struct {
		in, want string
	}{
		{"3F2B8C1E-6D4A-4E7B-9A15-2C8D7E6F5A41", anna},
		{"{3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41}", anna},
		{"3f2b8c1e6d4a4e7b9a152c8d7e6f5a41", anna},
		{"3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a4", ""},
		{"(3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41)", ""},
		{"3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a4g", ""},
	}
	for _, tt := range guids {
		got, _, err := txt(tt.in).toGUID()
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("toGUID(%q): got %q %v, want %q", tt.in, got, err, tt.want)
		}
	}
	bools := []struct {
		v    value
		want bool
		bad  bool
	}{
		{js(`true`), true, false}, {js(`"False"`), false, false}, {txt("true"), true, false},
		{js(`1`), false, true}, {js(`"yes"`), false, true}, {txt("0"), false, true},
	}
	for _, tt := range bools {
		got, _, err := tt.v.toBool()
		if got != tt.want || (err != nil) != tt.bad {
			t.Errorf("toBool(%s%v): got %v %v, want %v bad=%v", tt.v.raw, tt.v.texts, got, err, tt.want, tt.bad)
		}
	}
}
