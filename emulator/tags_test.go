package emulator

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestTags(t *testing.T) {
	s, base := newTest(t, Options{})
	for range 4 {
		mustCreate(t, base, deal())
	}
	type step struct {
		name     string
		method   string
		path     string
		body     string
		status   int
		response any              // the answer's response, when 2xx
		want     map[int][]string // every deal's tags afterwards
	}
	steps := []step{
		{"add", "POST", "/api/2.0/crm/opportunity/1/tag", `{"tagName":"Migration 2024"}`, 201, "Migration 2024",
			map[int][]string{1: {"Migration 2024"}}},
		{"add again: nothing changes", "POST", "/api/2.0/crm/opportunity/1/tag", `{"tagName":"Migration 2024"}`, 201, "Migration 2024",
			map[int][]string{1: {"Migration 2024"}}},
		{"another spelling is the same tag", "POST", "/api/2.0/crm/opportunity/2/tag", `{"tagName":" migration 2024 "}`, 201, " migration 2024 ",
			map[int][]string{1: {"Migration 2024"}, 2: {"Migration 2024"}}},
		{"in the query", "POST", "/api/2.0/crm/opportunity/2/tag?tagName=hot", "", 201, "hot",
			map[int][]string{1: {"Migration 2024"}, 2: {"Migration 2024", "hot"}}},
		{"empty name", "POST", "/api/2.0/crm/opportunity/1/tag", `{"tagName":""}`, 400, nil,
			map[int][]string{1: {"Migration 2024"}, 2: {"Migration 2024", "hot"}}},
		{"unknown deal", "POST", "/api/2.0/crm/opportunity/99/tag", `{"tagName":"x"}`, 404, nil,
			map[int][]string{1: {"Migration 2024"}, 2: {"Migration 2024", "hot"}}},
		{"taglist", "POST", "/api/2.0/crm/opportunity/taglist", `{"entityid":[1,3],"tagName":"EMEA"}`, 201, "EMEA",
			map[int][]string{1: {"Migration 2024", "EMEA"}, 2: {"Migration 2024", "hot"}, 3: {"EMEA"}}},
		{"taglist as a form", "POST", "/api/2.0/crm/opportunity/taglist", "entityid=2&entityid=3&tagName=emea", 201, "emea",
			map[int][]string{1: {"Migration 2024", "EMEA"}, 2: {"Migration 2024", "hot", "EMEA"}, 3: {"EMEA"}}},
		{"taglist stops at an unknown id, the ones before tagged", "POST", "/api/2.0/crm/opportunity/taglist",
			`{"entityid":[3,77,1],"tagName":"partial"}`, 404, nil,
			map[int][]string{1: {"Migration 2024", "EMEA"}, 2: {"Migration 2024", "hot", "EMEA"}, 3: {"EMEA", "partial"}}},
		{"taglist without ids", "POST", "/api/2.0/crm/opportunity/taglist", `{"entityid":[],"tagName":"x"}`, 400, nil,
			map[int][]string{1: {"Migration 2024", "EMEA"}, 2: {"Migration 2024", "hot", "EMEA"}, 3: {"EMEA", "partial"}}},
		{"remove", "DELETE", "/api/2.0/crm/opportunity/2/tag?tagName=HOT", "", 200, "HOT",
			map[int][]string{1: {"Migration 2024", "EMEA"}, 2: {"Migration 2024", "EMEA"}, 3: {"EMEA", "partial"}}},
		{"remove a known tag the deal lacks", "DELETE", "/api/2.0/crm/opportunity/3/tag?tagName=hot", "", 200, "hot",
			map[int][]string{1: {"Migration 2024", "EMEA"}, 2: {"Migration 2024", "EMEA"}, 3: {"EMEA", "partial"}}},
		{"remove an unknown tag", "DELETE", "/api/2.0/crm/opportunity/3/tag?tagName=nope", "", 404, nil,
			map[int][]string{1: {"Migration 2024", "EMEA"}, 2: {"Migration 2024", "EMEA"}, 3: {"EMEA", "partial"}}},
		{"remove without a name", "DELETE", "/api/2.0/crm/opportunity/3/tag", "", 400, nil,
			map[int][]string{1: {"Migration 2024", "EMEA"}, 2: {"Migration 2024", "EMEA"}, 3: {"EMEA", "partial"}}},
		{"a deal's tags", "GET", "/api/2.0/crm/opportunity/tag/1", "", 200, []any{"Migration 2024", "EMEA"},
			map[int][]string{1: {"Migration 2024", "EMEA"}, 2: {"Migration 2024", "EMEA"}, 3: {"EMEA", "partial"}}},
		{"a deal without tags", "GET", "/api/2.0/crm/opportunity/tag/4", "", 200, []any{},
			map[int][]string{1: {"Migration 2024", "EMEA"}, 2: {"Migration 2024", "EMEA"}, 3: {"EMEA", "partial"}}},
		{"all tags with counts, sorted in any case", "GET", "/api/2.0/crm/opportunity/tag", "", 200, []any{
			map[string]any{"title": "EMEA", "relativeItemsCount": float64(3)},
			map[string]any{"title": "hot", "relativeItemsCount": float64(0)},
			map[string]any{"title": "Migration 2024", "relativeItemsCount": float64(2)},
			map[string]any{"title": "partial", "relativeItemsCount": float64(1)},
		}, map[int][]string{1: {"Migration 2024", "EMEA"}, 2: {"Migration 2024", "EMEA"}, 3: {"EMEA", "partial"}}},
	}
	for _, st := range steps {
		r := req{method: st.method, path: st.path, body: st.body}
		if st.body != "" && st.body[0] != '{' {
			r.ctype = "application/x-www-form-urlencoded"
		}
		a := do(t, base, r)
		if a.status != st.status {
			t.Fatalf("%s: got %d %s, want %d", st.name, a.status, a.body, st.status)
		}
		if st.status < 300 {
			if d := cmp.Diff(st.response, a.env(t)["response"]); d != "" {
				t.Errorf("%s: response (-want +got):\n%s", st.name, d)
			}
		}
		got := map[int][]string{}
		for _, o := range s.Opportunities() {
			if o.Tags != nil {
				got[o.ID] = o.Tags
			}
		}
		if d := cmp.Diff(st.want, got); d != "" {
			t.Errorf("%s: tags (-want +got):\n%s", st.name, d)
		}
	}
	if d := cmp.Diff(map[string]int{"EMEA": 3, "hot": 0, "Migration 2024": 2, "partial": 1}, s.Tags()); d != "" {
		t.Errorf("Tags (-want +got):\n%s", d)
	}
	if got := s.Stats().ByRoute["POST crm/opportunity/{id}/tag"]; got != 6 {
		t.Errorf("stats: got %d adds, want 6", got)
	}
}

func TestFilterByTags(t *testing.T) {
	_, base := newTest(t, Options{})
	tagged := map[int][]string{1: {"a", "b"}, 2: {"a"}, 3: {"B"}, 4: nil}
	for id := 1; id <= len(tagged); id++ {
		mustCreate(t, base, deal("title", fmt.Sprint("deal ", id)))
		for _, tag := range tagged[id] {
			do(t, base, req{method: "POST", path: fmt.Sprintf("/api/2.0/crm/opportunity/%d/tag", id), body: fmt.Sprintf(`{"tagName":%q}`, tag)})
		}
	}
	tests := []struct {
		q    string
		want []int
	}{
		{"tags=a", []int{1, 2}},
		{"tags=A&tags=b", []int{1}},
		{"tags[]=b", []int{1, 3}},
		{"tags=a&tags=nope", nil},
		{"", []int{1, 2, 3, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			env := do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/filter?sortBy=id&" + tt.q}).env(t)
			var got []int
			for _, r := range env["response"].([]any) {
				got = append(got, int(r.(map[string]any)["id"].(float64)))
			}
			if d := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
