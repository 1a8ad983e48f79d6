package emulator

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The definitions count the deals holding a value of each field.
func TestCustomFieldDefinitionsCount(t *testing.T) {
	t.Parallel()
	_, base := newTest(t, Options{})
	for _, fields := range [][]any{
		{map[string]any{"key": 11, "value": "North"}},
		{map[string]any{"key": 11, "value": "South"}, map[string]any{"key": 12, "value": "Web"}},
		{},
	} {
		mustCreate(t, base, deal("customFieldList", fields))
	}
	defs := do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/customfield/definitions"}).env(t)["response"].([]any)
	got := map[float64]float64{}
	for _, d := range defs {
		d := d.(map[string]any)
		got[d["id"].(float64)] = d["relativeItemsCount"].(float64)
	}
	want := map[float64]float64{11: 2, 12: 1, 13: 0, 14: 0, 15: 0, 16: 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deals per field (-want +got):\n%s", diff)
	}
}
