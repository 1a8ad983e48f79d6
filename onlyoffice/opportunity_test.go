package onlyoffice

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/oppimport/oppimport/emulator"
)

func TestOpportunitiesReadsEveryPage(t *testing.T) {
	emu := emulator.New(emulator.Options{})
	deals := make([]emulator.Opportunity, 2500)
	for i := range deals {
		deals[i] = emulator.Opportunity{Title: "deal", ResponsibleID: "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", StageID: 1,
			BidCurrency: "EUR", CustomFields: map[int]string{11: "North"}}
	}
	emu.Insert(deals...)
	srv := httptest.NewServer(emu.Handler())
	defer srv.Close()
	c, err := NewClient(Config{BaseURL: srv.URL, Token: emu.Token()})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	attempts, err := c.Opportunities(context.Background(), func(o StoredOpportunity) error {
		if len(o.CustomFields) != 1 || o.CustomFields[0].Value != "North" || o.CreatedBy == "" {
			t.Fatalf("opportunity %d: got custom fields %v, created by %q; want the whole record", o.ID, o.CustomFields, o.CreatedBy)
		}
		ids = append(ids, o.ID)
		return nil
	})
	if err != nil || attempts != 3 || len(ids) != 2500 {
		t.Fatalf("got %d opportunities in %d requests, %v; want 2500 in 3", len(ids), attempts, err)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("ids out of order at %d: %d after %d", i, ids[i], ids[i-1])
		}
	}

	stop := errors.New("enough")
	n := 0
	attempts, err = c.Opportunities(context.Background(), func(StoredOpportunity) error {
		if n++; n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || attempts != 1 {
		t.Errorf("an error from fn: got %v after %d requests, want it back after 1", err, attempts)
	}
}
