package emulator

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// A private deal the caller may not see answers exactly as a deleted one, everywhere.
func TestHiddenDealIsNotFound(t *testing.T) {
	s, base := newTest(t, Options{NotAdmin: true})
	asMaria := mustToken(t, s, "maria.obrien")
	hidden := mustCreateAs(t, base, asMaria, deal("title", "Hidden", "isPrivate", true, "accessList", []any{john}))
	public := mustCreateAs(t, base, asMaria, deal("title", "Public"))
	gone := mustCreateAs(t, base, asMaria, deal("title", "Gone"))
	if a := do(t, base, req{method: "DELETE", path: fmt.Sprintf("/api/2.0/crm/opportunity/%d", gone)}); a.status != 200 {
		t.Fatalf("delete: got %d", a.status)
	}
	if a := do(t, base, req{method: "POST", path: fmt.Sprintf("/api/2.0/crm/opportunity/%d/tag", hidden), body: `{"tagName":"vip"}`, auth: asMaria}); a.status != 201 {
		t.Fatalf("tag as maria: got %d %s", a.status, a.body)
	}
	if got := dealByID(t, s, hidden).AccessList; !cmp.Equal(got, []string{john, maria}) {
		t.Fatalf("access list: got %v, want John and the creator", got)
	}

	tests := []struct {
		method, path, body string
	}{
		{"GET", "/api/2.0/crm/opportunity/%d", ""},
		{"PUT", "/api/2.0/crm/opportunity/%d", deal("title", "Taken")},
		{"DELETE", "/api/2.0/crm/opportunity/%d", ""},
		{"POST", "/api/2.0/crm/opportunity/%d/tag", `{"tagName":"mine"}`},
		{"DELETE", "/api/2.0/crm/opportunity/%d/tag?tagName=vip", ""},
		{"GET", "/api/2.0/crm/opportunity/tag/%d", ""},
		{"PUT", "/api/2.0/crm/opportunity/%d/creationdate", `{"creationDate":"2020-01-01"}`},
		{"PUT", "/api/2.0/crm/opportunity/%d/lastmodifeddate", `{"lastModifedDate":"2020-01-01"}`},
		{"POST", "/api/2.0/crm/opportunity/%d/customfield/11", `{"fieldValue":"x"}`},
		{"POST", "/api/2.0/crm/opportunity/taglist", `{"entityid":[%d],"tagName":"mine"}`},
	}
	before := dealByID(t, s, hidden)
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var answers [2]answer
			for i, id := range []int{hidden, gone} {
				path, body := tt.path, tt.body
				if path == "/api/2.0/crm/opportunity/taglist" {
					body = fmt.Sprintf(body, id)
				} else {
					path = fmt.Sprintf(path, id)
				}
				answers[i] = do(t, base, req{method: tt.method, path: path, body: body})
			}
			if answers[0].status != 404 {
				t.Errorf("hidden: got %d %s, want 404", answers[0].status, answers[0].body)
			}
			if string(answers[0].body) != string(answers[1].body) || answers[0].status != answers[1].status {
				t.Errorf("hidden %d %s, deleted %d %s: want the same answer", answers[0].status, answers[0].body, answers[1].status, answers[1].body)
			}
		})
	}
	if d := cmp.Diff(before, dealByID(t, s, hidden)); d != "" {
		t.Errorf("the hidden deal changed (-before +after):\n%s", d)
	}

	a := do(t, base, req{method: "PUT", path: "/api/2.0/crm/opportunity", body: fmt.Sprintf(`{"opportunityids":[%d]}`, hidden)})
	if a.status != 200 || a.env(t)["count"] != nil {
		t.Errorf("bulk delete of the hidden deal: got %d %s, want 200 and nothing deleted", a.status, a.body)
	}

	ids := func(tok string, q string) []int {
		env := do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/filter?sortBy=id" + q, auth: tok}).env(t)
		var out []int
		for _, r := range env["response"].([]any) {
			out = append(out, int(r.(map[string]any)["id"].(float64)))
		}
		return out
	}
	views := []struct {
		who, tok string
		want     []int
	}{
		{"anna, not an administrator", "", []int{public}},
		{"john, on the access list", mustToken(t, s, "john.smith"), []int{hidden, public}},
		{"maria, the creator", asMaria, []int{hidden, public}},
		{"viktor, an administrator", mustToken(t, s, "viktor.petrov"), []int{hidden, public}},
		{"jsmith, another user", mustToken(t, s, "jsmith"), []int{public}},
	}
	for _, v := range views {
		t.Run("list as "+v.who, func(t *testing.T) {
			if d := cmp.Diff(v.want, ids(v.tok, "")); d != "" {
				t.Errorf("ids (-want +got):\n%s", d)
			}
			if d := cmp.Diff(v.want[:len(v.want)-1], ids(v.tok, "&tags=VIP"), cmpopts.EquateEmpty()); d != "" {
				t.Errorf("ids tagged vip (-want +got):\n%s", d)
			}
			path := fmt.Sprintf("/api/2.0/crm/opportunity/%d", hidden)
			want := 404
			if len(v.want) == 2 {
				want = 200
			}
			if a := do(t, base, req{method: "GET", path: path, auth: v.tok}); a.status != want {
				t.Errorf("GET the hidden deal: got %d, want %d", a.status, want)
			}
		})
	}

	// With the default options the token's user is an administrator and sees it.
	s2, base2 := newTest(t, Options{})
	id := mustCreateAs(t, base2, mustToken(t, s2, "maria.obrien"), deal("isPrivate", true, "accessList", []any{john}))
	if a := do(t, base2, req{method: "GET", path: fmt.Sprintf("/api/2.0/crm/opportunity/%d", id)}); a.status != 200 {
		t.Errorf("administrator: got %d, want 200", a.status)
	}
}

// TestUpdateAsTheServerDoes follows "What a PUT really does" for each kind of caller.
func TestUpdateAsTheServerDoes(t *testing.T) {
	type kept struct {
		Title        string
		Description  *string
		ContactID    int
		Members      []int
		IsPrivate    bool
		AccessList   []string
		CustomFields map[int]string
	}
	tests := []struct {
		name   string
		caller string // the login doing the PUT; maria created the deal
		body   string
		want   kept
	}{
		{"creator, bare body: fields reset, members kept, made public, custom fields kept", "maria.obrien", deal(),
			kept{Title: "Deal", Members: []int{4, 5}, CustomFields: map[int]string{11: "North"}}},
		{"creator keeps it private by sending the list: added to it", "maria.obrien",
			deal("title", "Still", "contactid", 4, "isPrivate", true, "accessList", []any{john}),
			kept{Title: "Still", ContactID: 4, Members: []int{4, 5}, IsPrivate: true, AccessList: []string{john, maria},
				CustomFields: map[int]string{11: "North"}}},
		{"creator, private with an empty list: public", "maria.obrien", deal("isPrivate", true, "accessList", []any{}),
			kept{Title: "Deal", Members: []int{4, 5}, CustomFields: map[int]string{11: "North"}}},
		{"administrator sets the list: added to it", "viktor.petrov", deal("isPrivate", true, "accessList", []any{john}),
			kept{Title: "Deal", Members: []int{4, 5}, IsPrivate: true, AccessList: []string{john, "e7f8a9b0-c1d2-4e3f-9a4b-5c6d7e8f9a0b"},
				CustomFields: map[int]string{11: "North"}}},
		{"on the list, neither administrator nor creator: access untouched", "john.smith", deal("title", "By John"),
			kept{Title: "By John", Members: []int{4, 5}, IsPrivate: true, AccessList: []string{john, maria},
				CustomFields: map[int]string{11: "North"}}},
		{"members replaced by a non-empty list, the contact not added", "maria.obrien", deal("contactid", 1, "members", []any{6, 999}),
			kept{Title: "Deal", ContactID: 1, Members: []int{6}, CustomFields: map[int]string{11: "North"}}},
		{"members all unknown: emptied", "maria.obrien", deal("members", []any{999}),
			kept{Title: "Deal", Members: []int{}, CustomFields: map[int]string{11: "North"}}},
		{"members the caller may not see dropped", "maria.obrien", deal("members", []any{10, 6}),
			kept{Title: "Deal", Members: []int{6}, CustomFields: map[int]string{11: "North"}}},
		{"custom fields set; empty and unknown skipped", "maria.obrien", deal("customFieldList", []any{
			map[string]any{"key": 11, "value": ""}, map[string]any{"key": 13, "value": " yes "}, map[string]any{"key": 999, "value": "x"}}),
			kept{Title: "Deal", Members: []int{4, 5}, CustomFields: map[int]string{11: "North", 13: "yes"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, base := newTest(t, Options{NotAdmin: true})
			id := mustCreateAs(t, base, mustToken(t, s, "maria.obrien"), deal("title", "Full", "description", "d", "contactid", 4,
				"members", []any{5}, "successProbability", 40, "isPrivate", true, "accessList", []any{john},
				"customFieldList", []any{map[string]any{"key": 11, "value": "North"}}))
			a := do(t, base, req{method: "PUT", path: fmt.Sprintf("/api/2.0/crm/opportunity/%d", id), body: tt.body,
				auth: mustToken(t, s, tt.caller)})
			if a.status != 200 {
				t.Fatalf("PUT: got %d %s, want 200", a.status, a.body)
			}
			o := dealByID(t, s, id)
			got := kept{o.Title, o.Description, o.ContactID, o.Members, o.IsPrivate, o.AccessList, o.CustomFields}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("after PUT (-want +got):\n%s", d)
			}
			if o.SuccessProbability != 0 {
				t.Errorf("probability: got %d, want reset to 0", o.SuccessProbability)
			}
		})
	}
}
