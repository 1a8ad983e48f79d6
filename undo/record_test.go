package undo

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/onlyoffice"
)

func TestNotRestored(t *testing.T) {
	now := onlyoffice.StoredOpportunity{CustomFields: []onlyoffice.CustomField{{ID: 11, Value: "South"}, {ID: 12, Value: "Web"}}}
	before := onlyoffice.StoredOpportunity{CustomFields: []onlyoffice.CustomField{{ID: 12, Value: "Referral"}}}
	got := notRestored(now, before)
	want := []string{`custom field 11 ("South", empty before)`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notRestored (-want +got):\n%s", diff)
	}
}
