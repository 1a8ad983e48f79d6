package lookup_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/emulator"
	"github.com/oppimport/oppimport/lookup"
	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/onlyoffice"
)

// portal starts the emulator on loopback and loads its reference data.
func portal(t *testing.T) (*lookup.Portal, *emulator.Server) {
	t.Helper()
	srv := emulator.New(emulator.Options{})
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := onlyoffice.NewClient(onlyoffice.Config{BaseURL: url, Token: srv.Token()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	p, err := lookup.Load(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return p, srv
}

func TestResolve(t *testing.T) {
	t.Parallel()
	p, srv := portal(t)
	tests := []struct {
		kind, name string
		want       string
		err        string
	}{
		{mapping.LookupUser, "anna.berg@example.com", "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", ""},
		{mapping.LookupUser, "ANNA.BERG", "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", ""},
		{mapping.LookupUser, "anna berg", "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", ""},
		{mapping.LookupUser, "Berg, Anna", "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", ""},
		{mapping.LookupUser, "Maria O'Brien", "8a1d4e7b-2c3f-4a5b-8c9d-0e1f2a3b4c5d", ""}, // HTML-encoded by the portal
		{mapping.LookupUser, "zoë dubois", "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f7a", ""},
		{mapping.LookupUser, "j.smith@example.org", "c1d2e3f4-a5b6-4c7d-9e8f-0a1b2c3d4e5f", ""},
		{mapping.LookupUser, "John Smith", "", `matches 2 users: "John Smith" <john.smith@example.com>, "John Smith" <j.smith@example.org>; give one of them by a unique name or e-mail`},
		{mapping.LookupUser, "Anna Bergmann", "", `matches no user on the portal (did you mean "Anna Berg" <anna.berg@example.com>?)`},
		{mapping.LookupUser, "Nobody", "", `matches no user on the portal`},
		{mapping.LookupStage, "proposal", "6", ""},
		{mapping.LookupStage, " Closure/Transaction ", "8", ""},
		{mapping.LookupStage, "Won", "", `matches no stage on the portal (it has "Initial contact", "Application of initial fit criteria", "Suspect", "Need assessment", "Qualified prospect", "Proposal", "Negotiations", "Closure/Transaction", "Unsuccessfully closed")`},
		{mapping.LookupContact, "Acme Corporation", "1", ""},
		{mapping.LookupContact, "hans müller", "8", ""},
		{mapping.LookupContact, "jane.doe@acme.example", "6", ""},
		{mapping.LookupContact, "Jane Doe", "", `matches 2 contacts: "Jane Doe" (id 6, jane.doe@acme.example), "Jane Doe" (id 7, jdoe@globex.example); give one of them by a unique name or e-mail`},
		{mapping.LookupContact, "Secret Holdings", "", `matches no contact on the portal`}, // private: not visible
		{mapping.LookupContact, "Acme", "", `matches no contact on the portal (did you mean "Acme Corporation" (id 1, info@acme.example)?)`},
		{mapping.LookupContact, "acme.example", "", `matches no contact on the portal`},
		{mapping.LookupCustomField, "lead SOURCE", "12", ""},
		{mapping.LookupCustomField, "Budget", "", `matches no custom field on the portal (it has "Region" (id 11), "Lead source" (id 12), "Strategic" (id 13), "Renewal date" (id 14), "Notes" (id 15), "Contract details" (id 16))`},
	}
	for _, tt := range tests {
		t.Run(tt.kind+" "+tt.name, func(t *testing.T) {
			got, err := p.Resolve(context.Background(), tt.kind, tt.name)
			if tt.err != "" {
				var le *mapping.LookupError
				if !errors.As(err, &le) || err.Error() != tt.err {
					t.Fatalf("got %q, %v; want the look-up error %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	// Lists come once; contacts are asked name by name.
	st := srv.Stats()
	for _, route := range []string{"GET people", "GET crm/opportunity/stage", "GET crm/settings/currency", "GET crm/opportunity/customfield/definitions"} {
		if st.ByRoute[route] != 1 {
			t.Errorf("%s requested %d times, want once", route, st.ByRoute[route])
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	p, srv := portal(t)
	const anna = "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41"
	ok := func(f func(r *mapping.Record)) mapping.Record {
		r := mapping.Record{Title: "deal", ResponsibleID: anna, StageID: 1, BidCurrencyAbbr: "EUR"}
		if f != nil {
			f(&r)
		}
		return r
	}
	tests := []struct {
		name string
		rec  mapping.Record
		errs []string
		want []mapping.CustomValue // the custom fields after Check, when no errors
	}{
		{"valid", ok(nil), nil, nil},
		{"unknown stage", ok(func(r *mapping.Record) { r.StageID = 99 }),
			[]string{`stageid: "99" is no stage of the portal (it has 1 "Initial contact", 2 "Application of initial fit criteria", 3 "Suspect", 4 "Need assessment", 5 "Qualified prospect", 6 "Proposal", 7 "Negotiations", 8 "Closure/Transaction", 9 "Unsuccessfully closed")`}, nil},
		{"unknown currency", ok(func(r *mapping.Record) { r.BidCurrencyAbbr = "XBT" }),
			[]string{`bidCurrencyAbbr: "XBT" is not a currency of the portal (see crm/settings/currency)`}, nil},
		{"responsible no user", ok(func(r *mapping.Record) { r.ResponsibleID = "11111111-2222-4333-8444-555555555555" }),
			[]string{`responsibleid: "11111111-2222-4333-8444-555555555555" is no user of the portal (it would assign the deal to a removed profile)`}, nil},
		{"access list no user", ok(func(r *mapping.Record) { r.AccessList = []string{anna, "11111111-2222-4333-8444-555555555555"} }),
			[]string{`accessList: "11111111-2222-4333-8444-555555555555" is no user of the portal (it would grant access to nobody)`}, nil},
		{"contact missing", ok(func(r *mapping.Record) { r.ContactID = 99 }),
			[]string{`contactid: "99" is no contact on the portal`}, nil},
		{"contact hidden", ok(func(r *mapping.Record) { r.ContactID = 10 }),
			[]string{`contactid: "10" is a private contact the token's user may not see (the portal would answer 403 Access Denied)`}, nil},
		{"member missing", ok(func(r *mapping.Record) { r.ContactID = 1; r.Members = []int64{4, 98} }),
			[]string{`members: "98" is no contact on the portal (the portal would drop the member without a word)`}, nil},
		{"custom field missing", ok(func(r *mapping.Record) { r.CustomFields = []mapping.CustomValue{{ID: 99, Value: "x"}} }),
			[]string{`customField:99: "x" goes to custom field 99, which opportunities on the portal do not have (it would drop the value)`}, nil},
		{"heading", ok(func(r *mapping.Record) { r.CustomFields = []mapping.CustomValue{{ID: 16, Value: "x"}} }),
			[]string{`customField:16: "x" goes to "Contract details", a heading, which holds no value (the portal would drop it)`}, nil},
		{"select not an option", ok(func(r *mapping.Record) { r.CustomFields = []mapping.CustomValue{{ID: 12, Value: "Fax"}} }),
			[]string{`customField:12: "Fax" is not an option of "Lead source" (options: "Web", "Referral", "Trade show", "Cold call")`}, nil},
		{"checkbox not a boolean", ok(func(r *mapping.Record) { r.CustomFields = []mapping.CustomValue{{ID: 13, Value: "maybe"}} }),
			[]string{`customField:13: "maybe" is not a boolean for the checkbox "Strategic" (want true/false, yes/no, 1/0 or x)`}, nil},
		{"date not a date", ok(func(r *mapping.Record) { r.CustomFields = []mapping.CustomValue{{ID: 14, Value: "31.02.2024"}} }),
			[]string{`customField:14: "31.02.2024" is not a date for "Renewal date" (want YYYY-MM-DD)`}, nil},
		{"custom values normalised", ok(func(r *mapping.Record) {
			r.CustomFields = []mapping.CustomValue{{ID: 11, Value: "North"}, {ID: 12, Value: "trade SHOW"}, {ID: 13, Value: "ja"}, {ID: 14, Value: "2024-02-29"}}
		}), nil, []mapping.CustomValue{{ID: 11, Value: "North"}, {ID: 12, Value: "Trade show"}, {ID: 13, Value: "true"}, {ID: 14, Value: "2024-02-29"}}},
		{"every problem at once", ok(func(r *mapping.Record) { r.StageID = 1; r.BidCurrencyAbbr = "XBT"; r.ContactID = 99 }),
			[]string{`bidCurrencyAbbr: "XBT" is not a currency of the portal (see crm/settings/currency)`, `contactid: "99" is no contact on the portal`}, nil},
	}
	c := p.Checker(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tt.rec
			before := append([]mapping.CustomValue(nil), rec.CustomFields...)
			var got []string
			for _, e := range c.Check(context.Background(), &rec) {
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tt.errs, got); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, rec.CustomFields); diff != "" {
					t.Errorf("custom fields (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(before, tt.rec.CustomFields); diff != "" {
					t.Errorf("the record's shared slice changed (-before +after):\n%s", diff)
				}
			}
		})
	}
	// Each contact id is asked once, however many rows name it.
	if n := srv.Stats().ByRoute["GET crm/contact/{id}"]; n != 5 {
		t.Errorf("contacts asked %d times, want 5 (99, 10, 1, 4 and 98 once each)", n)
	}
}

// A run's context reaches the look-ups made while rows are mapped: once it is cancelled
// (Ctrl-C twice), a contact look-up and a contact check stop instead of going on.
func TestLookupsStopWithTheRun(t *testing.T) {
	t.Parallel()
	p, srv := portal(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := srv.Stats().Total
	if _, err := p.Resolver(ctx).Resolve(mapping.LookupContact, "Acme Corporation"); !errors.Is(err, context.Canceled) {
		t.Errorf("Resolve with a cancelled run: got error %v, want context.Canceled", err)
	}
	rec := mapping.Record{Title: "deal", ContactID: 1}
	errs := p.Checker(nil).Check(ctx, &rec)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "context canceled") {
		t.Errorf("Check with a cancelled run: got %v, want the contact unchecked for the cancel", errs)
	}
	if got := srv.Stats().Total; got != before {
		t.Errorf("a cancelled run made %d requests, want none", got-before)
	}
}
