package emulator

import (
	"slices"
	"strings"
	"testing"
)

func list(t *testing.T, a answer) []map[string]any {
	t.Helper()
	if a.status != 200 {
		t.Fatalf("got %d %s, want 200", a.status, a.body)
	}
	var out []map[string]any
	for _, r := range a.env(t)["response"].([]any) {
		out = append(out, r.(map[string]any))
	}
	return out
}

func field(rows []map[string]any, key string) []any {
	var out []any
	for _, r := range rows {
		out = append(out, r[key])
	}
	return out
}

func TestReferenceLists(t *testing.T) {
	_, base := newTest(t, Options{})
	get := func(path string) []map[string]any {
		return list(t, do(t, base, req{method: "GET", path: "/api/2.0/" + path}))
	}

	stages := get("crm/opportunity/stage")
	if len(stages) != 9 || stages[3]["title"] != "Need assessment" || stages[3]["successProbability"] != float64(20) ||
		stages[7]["stageType"] != float64(1) || stages[8]["stageType"] != float64(2) {
		t.Errorf("stages: got %v", stages)
	}

	cur := get("crm/settings/currency.json")
	abbr := field(cur, "abbreviation")
	if len(cur) != 74 || !slices.IsSortedFunc(abbr, func(a, b any) int { return strings.Compare(a.(string), b.(string)) }) {
		t.Errorf("currencies: got %d, sorted %v", len(cur), abbr)
	}
	var basic []string
	for _, c := range cur {
		if c["isBasic"] == true {
			basic = append(basic, c["abbreviation"].(string))
		}
	}
	if want := []string{"AUD", "CAD", "CHF", "EUR", "GBP", "JPY", "USD"}; !slices.Equal(basic, want) {
		t.Errorf("basic currencies: got %v, want %v", basic, want)
	}

	defs := get("crm/opportunity/customfield/definitions")
	types := field(defs, "fieldType")
	for _, ft := range []float64{0, 1, 2, 3, 4, 5} {
		if !slices.Contains(types, any(ft)) {
			t.Errorf("custom fields: no field of type %v", ft)
		}
	}
	for _, d := range defs {
		if d["label"] == "Lead source" && !strings.HasPrefix(d["mask"].(string), `["Web"`) {
			t.Errorf("select mask: got %v", d["mask"])
		}
	}
}

func TestPeople(t *testing.T) {
	_, base := newTest(t, Options{})
	people := list(t, do(t, base, req{method: "GET", path: "/api/2.0/people"}))
	names := field(people, "displayName")
	for _, want := range []string{"Maria O&#39;Brien", "Zo&#235; Dubois"} {
		if !slices.Contains(names, any(want)) {
			t.Errorf("display names %v: want %q", names, want)
		}
	}
	if n := len(slices.DeleteFunc(slices.Clone(names), func(n any) bool { return n != "John Smith" })); n != 2 {
		t.Errorf("want two users named John Smith, got %d", n)
	}
	if !strings.Contains(string(do(t, base, req{method: "GET", path: "/api/2.0/people"}).body), "O&#39;Brien") {
		t.Error("the body escapes the entity")
	}

	a := do(t, base, req{method: "GET", path: "/api/2.0/people/email?email=MARIA.OBRIEN@example.com"})
	if a.status != 200 || a.response(t)["id"] != maria {
		t.Errorf("by e-mail: got %d %s", a.status, a.body)
	}
	for _, q := range []string{"maria.obrien@example", "nobody@example.com", ""} {
		a := do(t, base, req{method: "GET", path: "/api/2.0/people/email?email=" + q})
		if a.status != 404 || a.message(t) != "User not found" {
			t.Errorf("by e-mail %q: got %d %s, want 404 User not found", q, a.status, a.body)
		}
	}
	found := list(t, do(t, base, req{method: "GET", path: "/api/2.0/people/filter?filterValue=smith"}))
	if len(found) != 2 {
		t.Errorf("filter smith: got %v", field(found, "email"))
	}
}

func TestContacts(t *testing.T) {
	_, base := newTest(t, Options{})
	get := func(path string) answer { return do(t, base, req{method: "GET", path: "/api/2.0/crm/contact/" + path}) }

	tests := []struct {
		q    string
		want []any
	}{
		{"filter?filterValue=jan", []any{float64(6), float64(7)}},
		{"filter?filterValue=doe%20ja", []any{float64(6), float64(7)}},
		{"filter?filterValue=oe", nil},
		{"filter?filterValue=secret", nil}, // private, not visible
		{"filter?filterValue=initech", []any{float64(3)}},
		{"bycontactinfo?infoType=Email&data=INITECH.example", []any{float64(3), float64(4), float64(5)}},
		{"bycontactinfo?infoType=1&data=jdoe@", []any{float64(7)}},
		{"bycontactinfo?infoType=Phone&data=jdoe@", nil},
		{"bycontactinfo?infoType=email&data=secret", nil},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			if got := field(list(t, get(tt.q)), "id"); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	a := get("filter?count=3&startIndex=3")
	env := a.env(t)
	if env["total"] != float64(9) || env["count"] != float64(3) || env["startIndex"] != float64(3) {
		t.Errorf("paging: got %v", env)
	}
	if a := get("4"); a.status != 200 || a.response(t)["displayName"] != "Peter Gibbons" {
		t.Errorf("contact 4: got %d %s", a.status, a.body)
	}
	if a := get("10"); a.status != 403 || a.message(t) != "Access Denied" {
		t.Errorf("private contact: got %d %s, want 403", a.status, a.body)
	}
	if a := get("404"); a.status != 404 {
		t.Errorf("missing contact: got %d, want 404", a.status)
	}
}
