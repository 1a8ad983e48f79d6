package emulator

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCreateChecksInOrder(t *testing.T) {
	const generic = "Value does not fall within the expected range."
	tests := []struct {
		name    string
		body    string
		status  int
		message string
	}{
		{"title missing", deal("title", nil), 400, generic},
		{"title empty", deal("title", ""), 400, generic},
		{"responsible missing", deal("responsibleid", nil), 400, generic},
		{"responsible empty guid", deal("responsibleid", "00000000-0000-0000-0000-000000000000"), 400, generic},
		{"stage missing", deal("stageid", nil), 400, generic},
		{"stage zero", deal("stageid", 0), 400, generic},
		{"stage negative", deal("stageid", -3), 400, generic},
		{"currency missing", deal("bidCurrencyAbbr", nil), 400, generic},
		{"currency null", deal("bidCurrencyAbbr", "null-placeholder"), 400, generic},
		{"unknown stage", deal("stageid", 99), 400, "Deal milestone is not found"},
		{"unknown stage after empty currency", deal("stageid", 99, "bidCurrencyAbbr", ""), 400, generic},
		{"unknown stage before unknown contact", deal("stageid", 99, "contactid", 999), 400, "Deal milestone is not found"},
		{"unknown contact", deal("contactid", 999), 400, generic},
		{"negative contact", deal("contactid", -5), 400, generic},
		{"private contact", deal("contactid", 10), 403, "Access Denied"},
		{"private contact before unknown currency", deal("contactid", 10, "bidCurrencyAbbr", "XYZ"), 403, "Access Denied"},
		{"unknown currency", deal("bidCurrencyAbbr", "XYZ"), 400, generic},
		{"lower-case currency", deal("bidCurrencyAbbr", "usd"), 201, ""},
		{"contact zero means none", deal("contactid", 0), 201, ""},
		{"int as string", deal("stageid", "5"), 201, ""},
		{"int with fraction", deal("stageid", "5.0"), 400, "5.0 is not a valid value for Int32."},
		{"int as JSON fraction", deal("stageid", 5.5), 400, "5.5 is not a valid value for Int32."},
		{"int as bool", deal("stageid", true), 400, "true is not a valid value for Int32."},
		{"decimal comma", deal("bidValue", "1,5"), 400, "1,5 is not a valid value for Decimal."},
		{"decimal thousands", deal("bidValue", "1,234.5"), 400, "1,234.5 is not a valid value for Decimal."},
		{"decimal string", deal("bidValue", "1234.50"), 201, ""},
		{"bool yes", deal("isPrivate", "yes"), 400, "yes is not a valid value for Boolean."},
		{"bool 1", deal("isPrivate", 1), 400, "1 is not a valid value for Boolean."},
		{"bool string", deal("isPrivate", "TRUE"), 201, ""},
		{"guid short", deal("responsibleid", "abc"), 400, "abc is not a valid value for Guid."},
		{"bid type unknown name", deal("bidType", "Hourly"), 400, "Hourly is not a valid value for BidType."},
		{"bid type any case", deal("bidType", "perhour"), 201, ""},
		{"bad date", deal("expectedCloseDate", "31.12.2024"), 400, "invalid date time format: 31.12.2024"},
		{"conversion before checks", deal("title", "", "stageid", "x"), 400, "x is not a valid value for Int32."},
		{"members not ints", deal("members", []any{"a"}), 400, "a is not a valid value for Int32."},
		{"access list not guids", deal("isPrivate", true, "accessList", []any{"nope"}), 400, "nope is not a valid value for Guid."},
	}
	_, base := newTest(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.Replace(tt.body, `"null-placeholder"`, "null", 1)
			a := post(t, base, body)
			if a.status != tt.status {
				t.Fatalf("status: got %d (%s), want %d", a.status, a.body, tt.status)
			}
			if tt.status >= 400 {
				if got := a.message(t); got != tt.message {
					t.Errorf("message: got %q, want %q", got, tt.message)
				}
				env := a.env(t)
				e := env["error"].(map[string]any)
				if tt.status == 400 && e["hresult"] != float64(-2147024809) {
					t.Errorf("hresult: got %v, want -2147024809", e["hresult"])
				}
				if env["status"] != float64(1) || env["statusCode"] != float64(tt.status) {
					t.Errorf("envelope: got status %v statusCode %v", env["status"], env["statusCode"])
				}
			}
		})
	}
}

func TestCreateSilentBehaviours(t *testing.T) {
	long := strings.Repeat("é", 300)
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, o Opportunity, resp map[string]any)
	}{
		{"unknown responsible is stored, shown as the removed user", deal("responsibleid", strings.ToUpper(nobodyID)),
			func(t *testing.T, o Opportunity, resp map[string]any) {
				if o.ResponsibleID != nobodyID {
					t.Errorf("stored responsible: got %q, want %q", o.ResponsibleID, nobodyID)
				}
				r := resp["responsible"].(map[string]any)
				if r["id"] != lostUserID || r["displayName"] != "Profile has been removed" {
					t.Errorf("responsible: got %v, want the lost user", r)
				}
			}},
		{"braced guid", deal("responsibleid", "{"+strings.ToUpper(anna)+"}"),
			func(t *testing.T, o Opportunity, _ map[string]any) {
				if o.ResponsibleID != anna {
					t.Errorf("got %q, want %q", o.ResponsibleID, anna)
				}
			}},
		{"32 hex guid", deal("responsibleid", strings.ReplaceAll(anna, "-", "")),
			func(t *testing.T, o Opportunity, _ map[string]any) {
				if o.ResponsibleID != anna {
					t.Errorf("got %q, want %q", o.ResponsibleID, anna)
				}
			}},
		{"probability over 100 clamped", deal("successProbability", 150), func(t *testing.T, o Opportunity, resp map[string]any) {
			if o.SuccessProbability != 100 || resp["successProbability"] != float64(100) {
				t.Errorf("got %d / %v, want 100", o.SuccessProbability, resp["successProbability"])
			}
		}},
		{"probability negative clamped", deal("successProbability", -5), func(t *testing.T, o Opportunity, resp map[string]any) {
			if _, ok := resp["successProbability"]; ok || o.SuccessProbability != 0 {
				t.Errorf("got %d, shown %v; want 0 and left out", o.SuccessProbability, resp["successProbability"])
			}
		}},
		{"probability omitted is 0, not the stage's", deal("stageid", 5), func(t *testing.T, o Opportunity, _ map[string]any) {
			if o.SuccessProbability != 0 {
				t.Errorf("got %d, want 0", o.SuccessProbability)
			}
		}},
		{"negative bid value stored", deal("bidValue", -10.50), func(t *testing.T, o Opportunity, resp map[string]any) {
			if o.BidValue != "-10.5" || resp["bidValue"] != -10.5 {
				t.Errorf("got %q / %v, want -10.5", o.BidValue, resp["bidValue"])
			}
		}},
		{"bid type number out of range stored", deal("bidType", 7, "perPeriodValue", -2), func(t *testing.T, o Opportunity, resp map[string]any) {
			if o.BidType != 7 || o.PerPeriodValue != -2 {
				t.Errorf("got bidType %d perPeriod %d, want 7 and -2", o.BidType, o.PerPeriodValue)
			}
		}},
		{"zero fields left out", deal(), func(t *testing.T, o Opportunity, resp map[string]any) {
			for _, k := range []string{"bidType", "bidValue", "perPeriodValue", "successProbability", "description", "contact"} {
				if _, ok := resp[k]; ok {
					t.Errorf("%s: present, want left out", k)
				}
			}
			for _, k := range []string{"actualCloseDate", "expectedCloseDate"} {
				if resp[k] != "0001-01-01T00:00:00.0000000Z" {
					t.Errorf("%s: got %v, want the zero date", k, resp[k])
				}
			}
			if o.Description != nil {
				t.Errorf("description: got %q, want none", *o.Description)
			}
		}},
		{"custom fields: unknown and empty skipped, values trimmed, no type check",
			deal("customFieldList", []any{
				map[string]any{"key": 11, "value": "  North  "},
				map[string]any{"Key": 13, "Value": "maybe"},
				map[string]any{"KEY": "14", "VALUE": "not a date"},
				map[string]any{"key": 12, "value": ""},
				map[string]any{"key": 15, "value": "   "},
				map[string]any{"key": 999, "value": "lost"},
			}),
			func(t *testing.T, o Opportunity, resp map[string]any) {
				want := map[int]string{11: "North", 13: "maybe", 14: "not a date"}
				if d := cmp.Diff(want, o.CustomFields); d != "" {
					t.Errorf("custom fields (-want +got):\n%s", d)
				}
				if n := len(resp["customFields"].([]any)); n != 3 {
					t.Errorf("shown custom fields: got %d, want 3", n)
				}
			}},
		{"members: unknown dropped, contact added", deal("contactid", 4, "members", []any{5, 999, 5}),
			func(t *testing.T, o Opportunity, resp map[string]any) {
				if d := cmp.Diff([]int{4, 5}, o.Members); d != "" {
					t.Errorf("members (-want +got):\n%s", d)
				}
				if resp["contact"].(map[string]any)["id"] != float64(4) {
					t.Errorf("contact: got %v", resp["contact"])
				}
			}},
		{"private with empty access list is public", deal("isPrivate", true), func(t *testing.T, o Opportunity, resp map[string]any) {
			if o.IsPrivate || resp["isPrivate"] != false {
				t.Errorf("got private %v, want public", o.IsPrivate)
			}
		}},
		{"private with access list", deal("isPrivate", true, "accessList", []any{maria, anna}), func(t *testing.T, o Opportunity, _ map[string]any) {
			if !o.IsPrivate || len(o.AccessList) != 2 {
				t.Errorf("got private %v %v, want private with 2 users", o.IsPrivate, o.AccessList)
			}
		}},
		{"access list ignored when public", deal("accessList", []any{maria}), func(t *testing.T, o Opportunity, _ map[string]any) {
			if o.IsPrivate || o.AccessList != nil {
				t.Errorf("got %v %v, want public, no list", o.IsPrivate, o.AccessList)
			}
		}},
		{"long title cut to 255 characters", deal("title", long), func(t *testing.T, o Opportunity, _ map[string]any) {
			if got := len([]rune(o.Title)); got != 255 {
				t.Errorf("got %d characters, want 255", got)
			}
		}},
		{"4-byte characters mangled", deal("title", "Deal 🚀 now"), func(t *testing.T, o Opportunity, resp map[string]any) {
			if o.Title != "Deal ? now" || resp["title"] != "Deal ? now" {
				t.Errorf("got %q, want %q", o.Title, "Deal ? now")
			}
		}},
		{"currency stored upper case", deal("bidCurrencyAbbr", "gbp"), func(t *testing.T, o Opportunity, resp map[string]any) {
			if o.BidCurrency != "GBP" || resp["bidCurrency"].(map[string]any)["abbreviation"] != "GBP" {
				t.Errorf("got %q", o.BidCurrency)
			}
		}},
		{"names in any case, first wins", `{"TITLE":"first","title":"second","ResponsibleId":"` + anna + `","STAGEID":1,"bidcurrencyabbr":"EUR"}`,
			func(t *testing.T, o Opportunity, _ map[string]any) {
				if o.Title != "first" {
					t.Errorf("got %q, want first", o.Title)
				}
			}},
		{"empty description is none", deal("description", ""), func(t *testing.T, o Opportunity, _ map[string]any) {
			if o.Description != nil {
				t.Errorf("got %q, want none", *o.Description)
			}
		}},
		{"dates in the portal zone", deal("expectedCloseDate", "2024-03-15", "actualCloseDate", "2024-03-15T10:30:00+02:00"),
			func(t *testing.T, o Opportunity, resp map[string]any) {
				if !o.ExpectedCloseDate.Equal(time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC)) {
					t.Errorf("expected: got %v", o.ExpectedCloseDate)
				}
				if resp["actualCloseDate"] != "2024-03-15T08:30:00.0000000Z" {
					t.Errorf("actual: got %v", resp["actualCloseDate"])
				}
			}},
		{"extra names ignored", deal("unknownThing", 5, "isNotify", true), func(*testing.T, Opportunity, map[string]any) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, base := newTest(t, Options{})
			a := post(t, base, tt.body)
			if a.status != 201 {
				t.Fatalf("got %d %s, want 201", a.status, a.body)
			}
			opps := s.Opportunities()
			if len(opps) != 1 {
				t.Fatalf("store holds %d, want 1", len(opps))
			}
			tt.check(t, opps[0], a.response(t))
		})
	}
}

func TestFraming(t *testing.T) {
	s, base := newTest(t, Options{})
	q := "?title=from-query&responsibleid=" + anna + "&stageid=1&bidCurrencyAbbr=EUR"
	tests := []struct {
		name   string
		r      req
		status int
		title  string
	}{
		{"query before body", req{method: "POST", path: "/api/2.0/crm/opportunity" + q, body: deal("title", "from-body")}, 201, "from-query"},
		{".json suffix", req{method: "POST", path: "/api/2.0/crm/opportunity.json", body: deal("title", "json")}, 201, "json"},
		{"charset ok", req{method: "POST", path: "/api/2.0/crm/opportunity", body: deal("title", "cs"), ctype: "application/json; charset=utf-8"}, 201, "cs"},
		{"text/plain body ignored", req{method: "POST", path: "/api/2.0/crm/opportunity", body: deal(), ctype: "text/plain"}, 400, ""},
		{"form body", req{method: "POST", path: "/api/2.0/crm/opportunity", ctype: "application/x-www-form-urlencoded",
			body: "title=form&responsibleid=" + anna + "&stageid=1&bidCurrencyAbbr=EUR&members=4&members=5"}, 201, "form"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, base, tt.r)
			if a.status != tt.status {
				t.Fatalf("got %d %s, want %d", a.status, a.body, tt.status)
			}
			if tt.status == 201 {
				if got := a.response(t)["title"]; got != tt.title {
					t.Errorf("title: got %v, want %q", got, tt.title)
				}
			}
		})
	}
	if st := s.Stats(); st.ByRoute["POST crm/opportunity"] != len(tests) {
		t.Errorf("stats: got %v, want %d creates", st.ByRoute, len(tests))
	}
}

func TestEnvelope(t *testing.T) {
	_, base := newTest(t, Options{})
	a := do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/filter"})
	env := a.env(t)
	if a.status != 200 || env["statusCode"] != float64(200) || env["status"] != float64(0) {
		t.Errorf("got %d %v, want 200", a.status, env)
	}
	for _, k := range []string{"count", "startIndex", "total", "nextIndex"} {
		if _, ok := env[k]; ok {
			t.Errorf("%s present on an empty list, want left out", k)
		}
	}
	if got := string(a.body); !strings.Contains(got, `"response":[]`) {
		t.Errorf("body %s: want an empty response list", got)
	}
	a = post(t, base, deal())
	env = a.env(t)
	if a.status != 201 || env["statusCode"] != float64(201) || env["count"] != float64(1) {
		t.Errorf("create: got %d %v, want 201 with count 1", a.status, env)
	}
	a = do(t, base, req{method: "GET", path: "/api/2.0/no/such/thing"})
	if a.status != 404 || !strings.Contains(string(a.body), `"data":{}`) {
		t.Errorf("unknown route: got %d %s, want the 404 envelope", a.status, a.body)
	}
	a = do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/12345"})
	if a.status != 404 {
		t.Errorf("missing deal: got %d, want 404", a.status)
	}
}

func TestUpdateIsFullReplace(t *testing.T) {
	s, base := newTest(t, Options{})
	id := mustCreate(t, base, deal("title", "Full", "description", "d", "contactid", 4, "successProbability", 40,
		"bidValue", 100, "bidType", "PerDay", "perPeriodValue", 3, "expectedCloseDate", "2025-01-31",
		"isPrivate", true, "accessList", []any{maria},
		"customFieldList", []any{map[string]any{"key": 11, "value": "North"}}))
	path := fmt.Sprintf("/api/2.0/crm/opportunity/%d", id)

	a := do(t, base, req{method: "PUT", path: path, body: deal("title", "Bare", "stageid", 2,
		"customFieldList", []any{map[string]any{"key": 13, "value": "true"}, map[string]any{"key": 11, "value": ""}})})
	if a.status != 200 {
		t.Fatalf("update: got %d %s, want 200", a.status, a.body)
	}
	got := s.Opportunities()[0]
	want := Opportunity{ID: id, Title: "Bare", Members: []int{4}, ResponsibleID: anna, BidValue: "0", BidCurrency: "EUR",
		StageID: 2, CustomFields: map[int]string{11: "North", 13: "true"}, CreatedAt: got.CreatedAt, CreatedBy: anna}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("after PUT (-want +got):\n%s", d)
	}

	tests := []struct {
		name, path, body string
		status           int
	}{
		{"unknown id", "/api/2.0/crm/opportunity/999", deal(), 404},
		{"unknown id before checks", "/api/2.0/crm/opportunity/999", deal("title", ""), 404},
		{"required fields again", path, deal("title", nil), 400},
		{"unknown stage", path, deal("stageid", 42), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a := do(t, base, req{method: "PUT", path: tt.path, body: tt.body}); a.status != tt.status {
				t.Errorf("got %d %s, want %d", a.status, a.body, tt.status)
			}
		})
	}
	if got := s.Opportunities()[0].Title; got != "Bare" {
		t.Errorf("a refused update changed the title to %q", got)
	}
}

func TestDelete(t *testing.T) {
	s, base := newTest(t, Options{})
	for range 3 {
		mustCreate(t, base, deal())
	}
	a := do(t, base, req{method: "DELETE", path: "/api/2.0/crm/opportunity/2"})
	if a.status != 200 || a.response(t)["id"] != float64(2) {
		t.Fatalf("delete: got %d %s, want 200 and the deal", a.status, a.body)
	}
	if a := do(t, base, req{method: "DELETE", path: "/api/2.0/crm/opportunity/2"}); a.status != 404 {
		t.Errorf("delete again: got %d, want 404", a.status)
	}
	if a := do(t, base, req{method: "PUT", path: "/api/2.0/crm/opportunity", body: `{}`}); a.status != 400 {
		t.Errorf("bulk delete without ids: got %d, want 400", a.status)
	}
	a = do(t, base, req{method: "PUT", path: "/api/2.0/crm/opportunity", body: `{"opportunityids":[1,3,77]}`})
	if a.status != 200 || a.env(t)["count"] != float64(2) {
		t.Errorf("bulk delete: got %d %s, want 200 with 2 deals", a.status, a.body)
	}
	if n := len(s.Opportunities()); n != 0 {
		t.Errorf("store holds %d, want 0", n)
	}
}

func TestPrivateDealVisibility(t *testing.T) {
	_, base := newTest(t, Options{})
	id := mustCreate(t, base, deal("isPrivate", true, "accessList", []any{maria}))
	path := fmt.Sprintf("/api/2.0/crm/opportunity/%d", id)
	if a := do(t, base, req{method: "GET", path: path}); a.status != 200 {
		t.Errorf("creator: got %d, want 200", a.status)
	}
	// John Smith logs in: not on the list, not the creator.
	tok := login(t, base, "john.smith", "john-secret-3")
	if a := do(t, base, req{method: "GET", path: path, auth: tok}); a.status != 404 {
		t.Errorf("outsider: got %d, want 404", a.status)
	}
	if a := do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/filter", auth: tok}); a.env(t)["total"] != nil {
		t.Errorf("outsider's filter: got %s, want nothing", a.body)
	}
}

func TestFilter(t *testing.T) {
	_, base := newTest(t, Options{})
	titles := []string{"Alpha deal", "beta Deal", "Gamma", "Delta project", "Epsilon", "Zeta roadmap"}
	for i, title := range titles {
		mustCreate(t, base, deal("title", title, "stageid", i+1, "bidValue", (i*7)%5, "responsibleid", []string{anna, maria}[i%2],
			"expectedCloseDate", fmt.Sprintf("2025-0%d-01", i+1), "description", "legacy id L-"+fmt.Sprint(i)))
	}
	mustCreate(t, base, deal("title", "Won one", "stageid", 8))
	type page struct {
		ids                       []int
		total, start, next, count float64
	}
	get := func(t *testing.T, q string) page {
		a := do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/filter" + q})
		if a.status != 200 {
			t.Fatalf("got %d %s", a.status, a.body)
		}
		env := a.env(t)
		var p page
		for _, r := range env["response"].([]any) {
			p.ids = append(p.ids, int(r.(map[string]any)["id"].(float64)))
		}
		p.total, _ = env["total"].(float64)
		p.start, _ = env["startIndex"].(float64)
		p.next, _ = env["nextIndex"].(float64)
		p.count, _ = env["count"].(float64)
		return p
	}
	tests := []struct {
		q    string
		want page
	}{
		{"?sortBy=id&count=2&startIndex=2", page{ids: []int{3, 4}, total: 7, start: 2, next: 5, count: 2}},
		{"?sortBy=id&count=2&startIndex=6", page{ids: []int{7}, total: 7, start: 6, count: 1}},
		{"?sortBy=id&count=5000", page{ids: []int{1, 2, 3, 4, 5, 6, 7}, total: 7, count: 7}},
		{"?sortBy=title&sortOrder=descending&count=3", page{ids: []int{6, 7, 3}, total: 7, next: 4, count: 3}},
		{"?sortBy=bidvalue&stageType=Open", page{ids: []int{1, 6, 4, 2, 5, 3}, total: 6, count: 6}},
		{"?stageType=1", page{ids: []int{7}, total: 1, count: 1}},
		{"?filterValue=DE", page{ids: []int{1, 2, 4}, total: 3, count: 3}},
		{"?filterValue=eal", page{}},
		{"?filterValue=legacy%20L-3", page{ids: []int{4}, total: 1, count: 1}},
		{"?responsibleid=" + maria + "&sortBy=id", page{ids: []int{2, 4, 6}, total: 3, count: 3}},
		{"?opportunityStagesid=3", page{ids: []int{3}, total: 1, count: 1}},
		{"?sortBy=id&fromDate=2025-02-01&toDate=2025-03-31", page{ids: []int{2, 3}, total: 2, count: 2}},
		{"?sortBy=id&fromDate=2025-02-01", page{ids: []int{1, 2, 3, 4, 5, 6, 7}, total: 7, count: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			if d := cmp.Diff(tt.want, get(t, tt.q), cmp.AllowUnexported(page{})); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	// Paging parameters count only in the query.
	a := do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/filter", body: `{"count":1}`})
	if n := a.env(t)["count"]; n != float64(7) {
		t.Errorf("count in the body: got %v rows, want 7", n)
	}
}

func login(t *testing.T, base, user, pass string) string {
	t.Helper()
	a := do(t, base, req{method: "POST", path: "/api/2.0/authentication", auth: "-",
		body: fmt.Sprintf(`{"userName":%q,"password":%q}`, user, pass)})
	if a.status != 201 {
		t.Fatalf("login %s: got %d %s", user, a.status, a.body)
	}
	tok, _ := a.response(t)["token"].(string)
	return tok
}
