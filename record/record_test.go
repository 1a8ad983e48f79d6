package record

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/onlyoffice"
)

func TestAPIDate(t *testing.T) {
	for _, tc := range []struct{ stored, want string }{
		{"", ""},
		{"0001-01-01T00:00:00.0000000Z", ""},
		{"2025-03-31T00:00:00.0000000+02:00", "2025-03-31"}, // local midnight: a date, read in the portal's zone
		{"2025-06-01T17:30:00.0000000+02:00", "2025-06-01T15:30:00Z"},
		{"2025-12-01T00:00:00.0000000Z", "2025-12-01"},
		{"2025-12-01T23:59:59.0000000-05:00", "2025-12-02T04:59:59Z"},
	} {
		got, err := apiDate(tc.stored)
		if err != nil || got != tc.want {
			t.Errorf("apiDate(%q): got %q, %v, want %q", tc.stored, got, err, tc.want)
		}
	}
	if _, err := apiDate("31.03.2025"); err == nil {
		t.Errorf("apiDate(31.03.2025): got no error, want one")
	}
}

func TestPlainDecimal(t *testing.T) {
	for _, tc := range []struct{ stored, want string }{
		{"", ""}, {"0", ""}, {"0.00", ""}, {"1234.5", "1234.5"}, {"12500.00", "12500.00"},
		{"1E+3", "1000"}, {"1.25e-1", "0.125"}, {"-3", "-3"},
	} {
		got, err := plainDecimal(tc.stored)
		if err != nil || got != tc.want {
			t.Errorf("plainDecimal(%q): got %q, %v, want %q", tc.stored, got, err, tc.want)
		}
	}
}

func TestFromPortal(t *testing.T) {
	p := func(s string) *string { return &s }
	n := func(v int64) *int64 { return &v }
	yes := true
	got, err := FromPortal(onlyoffice.StoredOpportunity{
		ID: 7, Title: "Deal", Description: "notes", ContactID: 3, ResponsibleID: "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41",
		BidType: 4, BidValue: "400.50", BidCurrencyAbbr: "EUR", PerPeriodValue: 12, StageID: 6, SuccessProbability: 10,
		ExpectedCloseDate: "2025-12-01T00:00:00.0000000+02:00", ActualCloseDate: "0001-01-01T00:00:00.0000000Z",
		IsPrivate: true, AccessList: []string{"8a1d4e7b-2c3f-4a5b-8c9d-0e1f2a3b4c5d"},
		CustomFields: []onlyoffice.CustomField{{ID: 11, Value: " North "}, {ID: 12, Value: ""}},
	})
	want := mapping.Record{
		Title: "Deal", Description: p("notes"), ContactID: 3, ResponsibleID: "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41",
		BidType: "PerMonth", BidValue: p("400.50"), BidCurrencyAbbr: "EUR", PerPeriodValue: n(12), StageID: 6,
		SuccessProbability: n(10), ExpectedCloseDate: "2025-12-01", IsPrivate: &yes,
		AccessList:   []string{"8a1d4e7b-2c3f-4a5b-8c9d-0e1f2a3b4c5d"},
		CustomFields: []mapping.CustomValue{{ID: 11, Value: "North"}},
	}
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FromPortal (-want +got):\n%s", diff)
	}
}

func TestFromPortalDecodesHTML(t *testing.T) {
	got, err := FromPortal(onlyoffice.StoredOpportunity{Title: "Smith &amp; Sons&#39; deal", Description: "a &lt; b",
		CustomFields: []onlyoffice.CustomField{{ID: 3, Value: "R&amp;D"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Smith & Sons' deal" || *got.Description != "a < b" || got.CustomFields[0].Value != "R&D" {
		t.Errorf("got %q, %q, %q; want the entities decoded", got.Title, *got.Description, got.CustomFields[0].Value)
	}
}

func TestSameAndDiff(t *testing.T) {
	s := func(v string) *string { return &v }
	n := func(v int64) *int64 { return &v }
	yes, no := true, false
	base := mapping.Record{Title: "Deal", ResponsibleID: "3F2B8C1E-6D4A-4E7B-9A15-2C8D7E6F5A41", StageID: 1, BidCurrencyAbbr: "eur"}
	tests := []struct {
		name   string
		a, b   func(r *mapping.Record)
		differ []string
	}{
		{name: "identical"},
		{name: "case of GUID and currency", a: func(r *mapping.Record) {
			r.ResponsibleID, r.BidCurrencyAbbr = "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", "EUR"
		}},
		{name: "decimals", a: func(r *mapping.Record) { r.BidValue = s("1000.50") }, b: func(r *mapping.Record) { r.BidValue = s("1000.5") }},
		{name: "zero is none", a: func(r *mapping.Record) { r.BidValue, r.SuccessProbability = s("0"), n(0) }},
		{name: "amount", a: func(r *mapping.Record) { r.BidValue = s("1") }, b: func(r *mapping.Record) { r.BidValue = s("2") },
			differ: []string{BidValue}},
		{name: "FixedBid is the default", a: func(r *mapping.Record) { r.BidType = "FixedBid" }},
		{name: "description trimmed", a: func(r *mapping.Record) { r.Description = s(" notes\n") }, b: func(r *mapping.Record) { r.Description = s("notes") }},
		{name: "date-time instants", a: func(r *mapping.Record) { r.ExpectedCloseDate = "2025-06-01T15:30:00Z" },
			b: func(r *mapping.Record) { r.ExpectedCloseDate = "2025-06-01T17:30:00+02:00" }},
		{name: "dates", a: func(r *mapping.Record) { r.ActualCloseDate = "2025-06-01" },
			b: func(r *mapping.Record) { r.ActualCloseDate = "2025-06-02" }, differ: []string{ActualCloseDate}},
		{name: "private without an access list is public", a: func(r *mapping.Record) { r.IsPrivate = &yes }, b: func(r *mapping.Record) { r.IsPrivate = &no }},
		{name: "made private", a: func(r *mapping.Record) { r.IsPrivate, r.AccessList = &yes, []string{"A"} },
			differ: []string{IsPrivate, AccessList}},
		{name: "access list as a set", a: func(r *mapping.Record) { r.IsPrivate, r.AccessList = &yes, []string{"A", "b"} },
			b: func(r *mapping.Record) { r.IsPrivate, r.AccessList = &yes, []string{"B", "a", "a"} }},
		{name: "the contact is a participant", a: func(r *mapping.Record) { r.ContactID, r.Members = 3, []int64{5} },
			b: func(r *mapping.Record) { r.ContactID, r.Members = 3, []int64{5, 3} }},
		{name: "participants", a: func(r *mapping.Record) { r.Members = []int64{5} }, differ: []string{Members}},
		{name: "custom fields", a: func(r *mapping.Record) {
			r.CustomFields = []mapping.CustomValue{{ID: 2, Value: "x"}, {ID: 9, Value: " same "}}
		}, b: func(r *mapping.Record) {
			r.CustomFields = []mapping.CustomValue{{ID: 9, Value: "same"}, {ID: 4, Value: "y"}}
		}, differ: []string{"customField:2", "customField:4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := base, base
			if tt.a != nil {
				tt.a(&a)
			}
			if tt.b != nil {
				tt.b(&b)
			}
			if diff := cmp.Diff(tt.differ, Diff(a, b)); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
			for _, f := range tt.differ {
				if Same(a, b, f) {
					t.Errorf("Same(%s): got true, want false", f)
				}
			}
		})
	}
}

func TestPutAndApplied(t *testing.T) {
	s := func(v string) *string { return &v }
	before := mapping.Record{Title: "old", Description: s("kept?"), Members: []int64{4, 5},
		CustomFields: []mapping.CustomValue{{ID: 1, Value: "a"}, {ID: 2, Value: "b"}}}
	sent := mapping.Record{Title: "new", CustomFields: []mapping.CustomValue{{ID: 2, Value: "B"}, {ID: 3, Value: "c"}}}
	got := Applied(&before, sent)
	want := mapping.Record{Title: "new", Members: []int64{4, 5},
		CustomFields: []mapping.CustomValue{{ID: 1, Value: "a"}, {ID: 2, Value: "B"}, {ID: 3, Value: "c"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Applied (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(sent, Applied(nil, sent)); diff != "" {
		t.Errorf("Applied to nothing (-want +got):\n%s", diff)
	}
	dst := before
	for _, f := range []string{Title, Description, "customField:1", "customField:3"} {
		Put(&dst, sent, f)
	}
	want = mapping.Record{Title: "new", Members: []int64{4, 5},
		CustomFields: []mapping.CustomValue{{ID: 2, Value: "b"}, {ID: 3, Value: "c"}}}
	if diff := cmp.Diff(want, dst); diff != "" {
		t.Errorf("Put (-want +got):\n%s", diff)
	}
	if before.CustomFields[0].Value != "a" || len(before.CustomFields) != 2 {
		t.Errorf("Put changed the record it copied: %+v", before.CustomFields)
	}
	if got := Changes(before, sent, []string{Title, Description}); got != `title "old" -> "new"; description "kept?" -> empty` {
		t.Errorf("Changes: got %s", got)
	}
}

func TestHolds(t *testing.T) {
	stored := onlyoffice.StoredOpportunity{Title: "Deal", ResponsibleID: "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", StageID: 1,
		BidCurrencyAbbr: "EUR", BidValue: "12500.00", ExpectedCloseDate: "2025-12-01T00:00:00.0000000+02:00",
		Members: []int64{3}, CustomFields: []onlyoffice.CustomField{{ID: 1, Value: "set by hand"}}}
	v := "12500"
	sent := mapping.Record{Title: "Deal", ResponsibleID: "3F2B8C1E-6D4A-4E7B-9A15-2C8D7E6F5A41", StageID: 1, BidCurrencyAbbr: "eur",
		BidValue: &v, ExpectedCloseDate: "2025-12-01"}
	if !Holds(stored, sent) {
		t.Errorf("Holds: got false, want true (custom fields and participants are not what tells deals apart)")
	}
	sent.StageID = 2
	if Holds(stored, sent) {
		t.Errorf("Holds with another stage: got true, want false")
	}
	if Holds(onlyoffice.StoredOpportunity{BidValue: "x"}, sent) {
		t.Errorf("Holds of an unreadable record: got true, want false")
	}
}

func TestBody(t *testing.T) {
	v := "1.5"
	got := Body(mapping.Record{Title: "T", BidValue: &v, CustomFields: []mapping.CustomValue{{ID: 4, Value: "x"}}})
	want := onlyoffice.Opportunity{Title: "T", BidValue: &v, CustomFields: []onlyoffice.CustomField{{ID: 4, Value: "x"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Body (-want +got):\n%s", diff)
	}
}

func TestMerge(t *testing.T) {
	s := func(v string) *string { return &v }
	yes := true
	mapped := []string{Title, BidValue, StageID, "customField:11"}
	deal := func(title, amount string, stage int64, region string) mapping.Record {
		r := mapping.Record{Title: title, BidValue: s(amount), StageID: stage, ResponsibleID: "u", BidCurrencyAbbr: "EUR"}
		if region != "" {
			r.CustomFields = []mapping.CustomValue{{ID: 11, Value: region}}
		}
		return r
	}
	// What a person set on the portal besides: a description, privacy, another custom field.
	portal := func(r mapping.Record) mapping.Record {
		r.Description, r.IsPrivate, r.AccessList = s("by hand"), &yes, []string{"a"}
		r.CustomFields = append(r.CustomFields, mapping.CustomValue{ID: 12, Value: "kept"})
		return r
	}
	base := deal("Deal", "100", 1, "North")
	tests := []struct {
		name        string
		base        *mapping.Record
		theirs      mapping.Record
		ours        mapping.Record
		onConflict  string
		wantBody    mapping.Record
		wantChanged []string
		wantNote    string
	}{
		{name: "export changed one field", base: &base, theirs: portal(deal("Deal", "100", 3, "North")),
			ours: deal("Deal", "200", 1, "North"), wantBody: portal(deal("Deal", "200", 3, "North")), wantChanged: []string{BidValue}},
		{name: "nothing changed by the export", base: &base, theirs: portal(deal("Renamed", "100", 3, "North")),
			ours: base, wantBody: portal(deal("Renamed", "100", 3, "North"))},
		{name: "both changed, export wins", base: &base, theirs: portal(deal("Theirs", "100", 1, "North")),
			ours: deal("Ours", "100", 1, "North"), wantBody: portal(deal("Ours", "100", 1, "North")), wantChanged: []string{Title},
			wantNote: `title: both changed, the export's "Ours" replaced the portal's "Theirs"`},
		{name: "both changed, portal wins", base: &base, theirs: portal(deal("Theirs", "100", 1, "North")),
			ours: deal("Ours", "100", 1, "North"), onConflict: PortalWins, wantBody: portal(deal("Theirs", "100", 1, "North")),
			wantNote: `title: both changed, kept the portal's "Theirs" (the export has "Ours")`},
		{name: "both changed alike", base: &base, theirs: portal(deal("Same", "100", 1, "North")),
			ours: deal("Same", "100", 1, "North"), wantBody: portal(deal("Same", "100", 1, "North"))},
		{name: "no base: the export wins where it differs", theirs: portal(deal("Theirs", "100", 1, "North")),
			ours: deal("Ours", "100", 1, "North"), wantBody: portal(deal("Ours", "100", 1, "North")), wantChanged: []string{Title}},
		{name: "custom field emptied", base: &base, theirs: portal(deal("Deal", "100", 1, "North")),
			ours: deal("Deal", "100", 1, ""), wantBody: portal(deal("Deal", "100", 1, "North")),
			wantNote: `customField:11: emptied in the export, still "North": custom fields cannot be cleared on the portal`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Merge(tt.base, tt.theirs, tt.ours, mapped, tt.onConflict)
			if diff := cmp.Diff(tt.wantBody, got.Body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantChanged, got.Changed); diff != "" {
				t.Errorf("changed (-want +got):\n%s", diff)
			}
			if n := Note(got.Notes); n != tt.wantNote {
				t.Errorf("notes: got %q, want %q", n, tt.wantNote)
			}
		})
	}
}

func TestStoredCustom(t *testing.T) {
	o := onlyoffice.StoredOpportunity{CustomFields: []onlyoffice.CustomField{{ID: 3, Value: " R&amp;D-7 "}, {ID: 4, Value: "x"}}}
	for _, tc := range []struct {
		id   int64
		want string
	}{{3, "R&D-7"}, {4, "x"}, {5, ""}} {
		if got := StoredCustom(o, tc.id); got != tc.want {
			t.Errorf("StoredCustom(%d): got %q, want %q", tc.id, got, tc.want)
		}
	}
}

func TestAddNote(t *testing.T) {
	t.Parallel()
	tests := []struct{ note, more, want string }{
		{"", "", ""},
		{"a", "", "a"},
		{"", "b", "b"},
		{"a", "b", "a; b"},
	}
	for _, tt := range tests {
		if got := AddNote(tt.note, tt.more); got != tt.want {
			t.Errorf("AddNote(%q, %q): got %q, want %q", tt.note, tt.more, got, tt.want)
		}
	}
}
