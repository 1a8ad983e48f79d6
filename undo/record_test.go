package undo

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

func TestRecord(t *testing.T) {
	p := func(s string) *string { return &s }
	n := func(v int64) *int64 { return &v }
	yes := true
	got, err := Record(onlyoffice.StoredOpportunity{
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
		t.Errorf("Record (-want +got):\n%s", diff)
	}
}

func TestNotRestored(t *testing.T) {
	now := onlyoffice.StoredOpportunity{CustomFields: []onlyoffice.CustomField{{ID: 11, Value: "South"}, {ID: 12, Value: "Web"}}}
	before := onlyoffice.StoredOpportunity{CustomFields: []onlyoffice.CustomField{{ID: 12, Value: "Referral"}}}
	got := notRestored(now, before)
	want := []string{`custom field 11 ("South", empty before)`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notRestored (-want +got):\n%s", diff)
	}
}
