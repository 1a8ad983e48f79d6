package emulator

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCreateCustomField(t *testing.T) {
	const path = "/api/2.0/crm/opportunity/customfield"
	tests := []struct {
		name    string
		opts    Options
		auth    string // "" = the Options token
		body    string
		status  int
		message string
		want    CustomField // without ID; checked when status is 201
	}{
		{name: "text field", body: `{"label":"Legacy key","fieldType":0,"position":0,"mask":"{\"size\":\"40\"}"}`, status: 201,
			want: CustomField{Label: "Legacy key", FieldType: 0, Position: 7, Mask: `{"size":"40"}`}},
		{name: "position is not honoured", body: `{"label":"Key","fieldType":0,"position":1}`, status: 201,
			want: CustomField{Label: "Key", FieldType: 0, Position: 7}},
		{name: "select with options as a JSON array", body: `{"label":"Tier","fieldType":2,"mask":["Gold","Silver"]}`, status: 201,
			want: CustomField{Label: "Tier", FieldType: 2, Position: 7, Mask: `["Gold","Silver"]`}},
		{name: "select with options as a string", body: `{"label":"Tier","fieldType":"2","mask":"[\"A\"]"}`, status: 201,
			want: CustomField{Label: "Tier", FieldType: 2, Position: 7, Mask: `["A"]`}},
		{name: "checkbox mask dropped", body: `{"label":"Flag","fieldType":3,"mask":"{\"size\":\"40\"}"}`, status: 201,
			want: CustomField{Label: "Flag", FieldType: 3, Position: 7}},
		{name: "form body", body: "label=Date+key&fieldType=5", status: 201,
			want: CustomField{Label: "Date key", FieldType: 5, Position: 7}},
		{name: "select without options", body: `{"label":"Tier","fieldType":2}`, status: 400, message: "Mask is not valid"},
		{name: "select with an object", body: `{"label":"Tier","fieldType":2,"mask":{"a":1}}`, status: 400, message: "Mask is not valid"},
		{name: "empty label", body: `{"label":"","fieldType":0}`, status: 400, message: msgArgument},
		{name: "no label", body: `{"fieldType":0}`, status: 400, message: msgArgument},
		{name: "type out of range", body: `{"label":"X","fieldType":6}`, status: 400, message: msgArgument},
		{name: "type by name", body: `{"label":"X","fieldType":"TextField"}`, status: 400, message: "TextField is not a valid value for Int32."},
		{name: "not an administrator", opts: Options{NotAdmin: true}, body: `{"label":"Key","fieldType":0}`, status: 403, message: "Access Denied"},
		{name: "another ordinary user", auth: "maria.obrien", body: `{"label":"Key","fieldType":0}`, status: 403, message: "Access Denied"},
		{name: "conversion before the security check", opts: Options{NotAdmin: true}, body: `{"label":"Key","fieldType":"x"}`, status: 400,
			message: "x is not a valid value for Int32."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, base := newTest(t, tt.opts)
			r := req{method: "POST", path: path, body: tt.body}
			if tt.body[0] != '{' {
				r.ctype = "application/x-www-form-urlencoded"
			}
			if tt.auth != "" {
				r.auth = mustToken(t, s, tt.auth)
			}
			a := do(t, base, r)
			if a.status != tt.status {
				t.Fatalf("got %d %s, want %d", a.status, a.body, tt.status)
			}
			if tt.status != 201 {
				if got := a.message(t); got != tt.message {
					t.Errorf("message: got %q, want %q", got, tt.message)
				}
				if tt.status == 403 && a.env(t)["error"].(map[string]any)["hresult"] != float64(hresultSecurity) {
					t.Errorf("hresult: got %v, want the security exception's", a.env(t)["error"])
				}
				if n := len(s.CustomFields()); n != 6 {
					t.Errorf("definitions: got %d, want the 6 seeded", n)
				}
				return
			}
			resp := a.response(t)
			id := int(resp["id"].(float64))
			got, ok := s.CustomFieldByLabel(tt.want.Label)
			if !ok {
				t.Fatalf("no field %q after the create", tt.want.Label)
			}
			tt.want.ID = id
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("stored (-want +got):\n%s", d)
			}
			if resp["label"] != tt.want.Label || resp["fieldType"] != float64(tt.want.FieldType) || resp["mask"] != tt.want.Mask ||
				resp["relativeItemsCount"] != float64(0) {
				t.Errorf("answer: got %v", resp)
			}
			// The new field lists last and takes values on create.
			defs := do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/customfield/definitions"}).env(t)["response"].([]any)
			if last := defs[len(defs)-1].(map[string]any); last["id"] != float64(id) {
				t.Errorf("definitions: last is %v, want %d", last, id)
			}
			mustCreate(t, base, deal("customFieldList", []any{map[string]any{"key": id, "value": "K-1"}}))
			if got := s.CountByField(id); !cmp.Equal(got, map[string]int{"K-1": 1}) {
				t.Errorf("values of the new field: got %v", got)
			}
		})
	}
}

func TestSetCustomFieldValue(t *testing.T) {
	s, base := newTest(t, Options{NotAdmin: true})
	id := mustCreate(t, base, deal("customFieldList", []any{map[string]any{"key": 11, "value": "North"}}))
	hidden := mustCreateAs(t, base, mustToken(t, s, "maria.obrien"), deal("isPrivate", true, "accessList", []any{maria}))
	tests := []struct {
		name   string
		deal   int
		field  int
		body   string
		status int
		want   map[int]string // the deal's values afterwards
	}{
		{"set another field, trimmed", id, 15, `{"fieldValue":"  two words "}`, 201, map[int]string{11: "North", 15: "two words"}},
		{"overwrite", id, 11, `{"fieldValue":"South"}`, 201, map[int]string{11: "South", 15: "two words"}},
		{"blank clears", id, 15, `{"fieldValue":"   "}`, 201, map[int]string{11: "South"}},
		{"empty is omitted: null reference", id, 11, `{"fieldValue":""}`, 500, map[int]string{11: "South"}},
		{"omitted: null reference", id, 11, `{}`, 500, map[int]string{11: "South"}},
		{"unknown field: null reference", id, 99, `{"fieldValue":"x"}`, 500, map[int]string{11: "South"}},
		{"unknown deal", 999, 11, `{"fieldValue":"x"}`, 404, map[int]string{11: "South"}},
		{"hidden deal", hidden, 11, `{"fieldValue":"x"}`, 404, map[int]string{11: "South"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, base, req{method: "POST", path: fmt.Sprintf("/api/2.0/crm/opportunity/%d/customfield/%d", tt.deal, tt.field), body: tt.body})
			if a.status != tt.status {
				t.Fatalf("got %d %s, want %d", a.status, a.body, tt.status)
			}
			if tt.status == 201 && (a.response(t)["id"] != float64(tt.field) || a.response(t)["entityId"] != float64(tt.deal)) {
				t.Errorf("answer: got %s", a.body)
			}
			if d := cmp.Diff(tt.want, dealByID(t, s, id).CustomFields); d != "" {
				t.Errorf("values (-want +got):\n%s", d)
			}
		})
	}
	if got := s.Requests("POST", "crm/opportunity/{id}/customfield/{id}"); got != len(tests) {
		t.Errorf("Requests: got %d, want %d", got, len(tests))
	}
}
