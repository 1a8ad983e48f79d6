package emulator

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCreationDate(t *testing.T) {
	zone := time.FixedZone("portal", 2*3600)
	tests := []struct {
		name    string
		path    string // after /api/2.0/crm/opportunity/{id}
		body    string
		status  int
		message string
		created string // as GET and the list show it
	}{
		{"date only, in the portal's zone", "/creationdate", `{"creationDate":"2020-05-17"}`, 200, "", "2020-05-17T00:00:00.0000000+02:00"},
		{"UTC", "/creationdate", `{"creationDate":"2020-05-17T10:30:00Z"}`, 200, "", "2020-05-17T12:30:00.0000000+02:00"},
		{"an offset", "/creationdate", `{"creationDate":"2020-05-17T10:30:00+05:00"}`, 200, "", "2020-05-17T07:30:00.0000000+02:00"},
		{"no zone", "/creationdate", `{"creationDate":"2020-05-17T10:30:00"}`, 200, "", "2020-05-17T10:30:00.0000000+02:00"},
		{"the URL form in the query", "/creationdate?creationDate=2020-05-17T10-30-00.000Z", "", 200, "", "2020-05-17T12:30:00.0000000+02:00"},
		{"seven fraction digits", "/creationdate", `{"creationDate":"2020-05-17T10:30:00.1234567Z"}`, 200, "", "2020-05-17T12:30:00.1234567+02:00"},
		{"a JSON body's rewritten fraction", "/creationdate", `{"creationDate":"2020-05-17T10:30:00.120Z"}`, 400,
			"invalid date time format: 2020-05-17T10:30:00.12Z", ""},
		{"not a date", "/creationdate", `{"creationDate":"17.05.2020"}`, 400, "invalid date time format: 17.05.2020", ""},
		{"omitted", "/creationdate", `{}`, 400, msgArgument, ""},
		{"the last modification date", "/lastmodifeddate", `{"lastModifedDate":"2021-01-02T03:04:05Z"}`, 200, "", ""},
		{"the last modification date, bad", "/lastmodifeddate", `{"lastModifedDate":"2021-13-02"}`, 400, "invalid date time format: 2021-13-02", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, base := newTest(t, Options{Location: zone})
			id := mustCreate(t, base, deal())
			before := dealByID(t, s, id).CreatedAt
			a := do(t, base, req{method: "PUT", path: fmt.Sprintf("/api/2.0/crm/opportunity/%d%s", id, tt.path), body: tt.body})
			if a.status != tt.status {
				t.Fatalf("got %d %s, want %d", a.status, a.body, tt.status)
			}
			if tt.status != 200 {
				if got := a.message(t); got != tt.message {
					t.Errorf("message: got %q, want %q", got, tt.message)
				}
				if got := dealByID(t, s, id).CreatedAt; !got.Equal(before) {
					t.Errorf("created: got %v, want unchanged", got)
				}
				return
			}
			if env := a.env(t); env["status"] != float64(0) || env["response"] != nil {
				t.Errorf("answer: got %s, want the envelope without a response", a.body)
			}
			if strings.HasSuffix(tt.path, "lastmodifeddate") {
				if got, _ := s.LastModified(id); !got.Equal(time.Date(2021, 1, 2, 3, 4, 5, 0, time.UTC)) {
					t.Errorf("LastModified: got %v", got)
				}
				if got := dealByID(t, s, id).CreatedAt; !got.Equal(before) {
					t.Errorf("created: got %v, want unchanged", got)
				}
				return
			}
			if got := do(t, base, req{method: "GET", path: fmt.Sprintf("/api/2.0/crm/opportunity/%d", id)}).response(t)["created"]; got != tt.created {
				t.Errorf("GET created: got %v, want %s", got, tt.created)
			}
			list := do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/filter"}).env(t)["response"].([]any)
			if got := list[0].(map[string]any)["created"]; got != tt.created {
				t.Errorf("listed created: got %v, want %s", got, tt.created)
			}
		})
	}
	_, base := newTest(t, Options{})
	if a := do(t, base, req{method: "PUT", path: "/api/2.0/crm/opportunity/5/creationdate", body: `{"creationDate":"2020-01-01"}`}); a.status != 404 {
		t.Errorf("unknown deal: got %d, want 404", a.status)
	}
}

func TestEncodeTitles(t *testing.T) {
	const title = `Tom & Jerry's "Ünïcode" <deal>`
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"as sent by default", Options{}, title},
		{"encoded when the option is on", Options{EncodeTitles: true}, "Tom &amp; Jerry&#39;s &quot;&#220;n&#239;code&quot; &lt;deal&gt;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, base := newTest(t, tt.opts)
			a := post(t, base, deal("title", title))
			id := int(a.response(t)["id"].(float64))
			path := fmt.Sprintf("/api/2.0/crm/opportunity/%d", id)
			echoes := map[string]any{
				"create": a.response(t)["title"],
				"GET":    do(t, base, req{method: "GET", path: path}).response(t)["title"],
				"PUT":    do(t, base, req{method: "PUT", path: path, body: deal("title", title)}).response(t)["title"],
				"list":   do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/filter"}).env(t)["response"].([]any)[0].(map[string]any)["title"],
			}
			for where, got := range echoes {
				if got != tt.want {
					t.Errorf("%s: got %v, want %q", where, got, tt.want)
				}
			}
			if got := dealByID(t, s, id).Title; got != title {
				t.Errorf("stored: got %q, want %q", got, title)
			}
		})
	}
}

// Lists carry whole records: contact, members, stage, the access list of private deals and
// every custom field value, as GET does.
func TestListCarriesWholeRecords(t *testing.T) {
	_, base := newTest(t, Options{})
	priv := mustCreate(t, base, deal("title", "Private", "contactid", 4, "members", []any{5}, "stageid", 3,
		"isPrivate", true, "accessList", []any{maria},
		"customFieldList", []any{map[string]any{"key": 11, "value": "North"}, map[string]any{"key": 14, "value": "2025-01-01"}}))
	pub := mustCreate(t, base, deal("title", "Public"))
	list := do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/filter?sortBy=id"}).env(t)["response"].([]any)
	byID := map[int]map[string]any{}
	for _, r := range list {
		m := r.(map[string]any)
		byID[int(m["id"].(float64))] = m
	}
	p := byID[priv]
	single := do(t, base, req{method: "GET", path: fmt.Sprintf("/api/2.0/crm/opportunity/%d", priv)}).response(t)
	if d := cmp.Diff(single, p); d != "" {
		t.Errorf("listed private deal differs from its GET (-GET +list):\n%s", d)
	}
	if p["contact"].(map[string]any)["id"] != float64(4) || len(p["members"].([]any)) != 2 || p["stage"].(map[string]any)["id"] != float64(3) {
		t.Errorf("contact, members, stage: got %v %v %v", p["contact"], p["members"], p["stage"])
	}
	var access []string
	for _, u := range p["accessList"].([]any) {
		access = append(access, u.(map[string]any)["id"].(string))
	}
	if d := cmp.Diff([]string{maria, anna}, access); d != "" {
		t.Errorf("access list (-want +got):\n%s", d)
	}
	var fields []string
	for _, f := range p["customFields"].([]any) {
		m := f.(map[string]any)
		fields = append(fields, fmt.Sprint(m["id"], " ", m["label"], " ", m["fieldValue"], " ", m["entityId"]))
	}
	if d := cmp.Diff([]string{"11 Region North " + fmt.Sprint(priv), "14 Renewal date 2025-01-01 " + fmt.Sprint(priv)}, fields); d != "" {
		t.Errorf("custom fields (-want +got):\n%s", d)
	}
	if _, ok := byID[pub]["accessList"]; ok {
		t.Errorf("public deal in a list: got accessList %v, want it left out", byID[pub]["accessList"])
	}
	if got := do(t, base, req{method: "GET", path: fmt.Sprintf("/api/2.0/crm/opportunity/%d", pub)}).response(t)["accessList"]; !cmp.Equal(got, []any{}) {
		t.Errorf("public deal's GET: got accessList %v, want []", got)
	}
}

func TestPagesOfAThousand(t *testing.T) {
	s, base := newTest(t, Options{})
	for i := range 1005 {
		mustCreate(t, base, deal("title", fmt.Sprint("deal ", i)))
	}
	tests := []struct {
		q            string
		count, total float64
		first        float64
	}{
		{"?sortBy=id", 1000, 1005, 1},
		{"?sortBy=id&count=5000", 1000, 1005, 1},
		{"?sortBy=id&count=1000&startIndex=1000", 5, 1005, 1001},
		{"?sortBy=id&sortOrder=descending&count=10", 10, 1005, 1005},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			env := do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/filter" + tt.q}).env(t)
			rows := env["response"].([]any)
			if env["count"] != tt.count || env["total"] != tt.total || float64(len(rows)) != tt.count ||
				rows[0].(map[string]any)["id"] != tt.first {
				t.Errorf("got count %v total %v, %d rows from %v; want %v %v from %v", env["count"], env["total"], len(rows),
					rows[0].(map[string]any)["id"], tt.count, tt.total, tt.first)
			}
		})
	}
	if got := s.Requests("GET", "crm/opportunity/filter"); got != len(tests) {
		t.Errorf("Requests: got %d, want %d", got, len(tests))
	}
}

func TestActingAsPortalUsers(t *testing.T) {
	s, base := newTest(t, Options{NotAdmin: true})
	if _, err := s.TokenFor("nobody"); err == nil {
		t.Error("TokenFor an unknown login: no error")
	}
	// People show who is an administrator.
	admins := map[string]bool{}
	for _, p := range do(t, base, req{method: "GET", path: "/api/2.0/people"}).env(t)["response"].([]any) {
		m := p.(map[string]any)
		admins[m["userName"].(string)] = m["isAdmin"].(bool)
	}
	if d := cmp.Diff(map[string]bool{"anna.berg": false, "maria.obrien": false, "john.smith": false, "jsmith": false,
		"zoe.dubois": false, "viktor.petrov": true}, admins); d != "" {
		t.Errorf("isAdmin (-want +got):\n%s", d)
	}

	id := mustCreate(t, base, deal("title", "Anna's", "customFieldList", []any{map[string]any{"key": 11, "value": "K-1"}}))
	mustCreate(t, base, deal("title", "Other", "customFieldList", []any{map[string]any{"key": 11, "value": "K-2"}}))
	requests := s.Stats().Total
	tests := []struct {
		name    string
		login   string
		change  func(*Opportunity)
		err     error
		private bool
		access  []string
		title   string
	}{
		{"an ordinary user edits a public deal", "john.smith", func(o *Opportunity) { o.Title = "By John" }, nil, false, nil, "By John"},
		{"but cannot make it private", "john.smith", func(o *Opportunity) { o.IsPrivate, o.AccessList = true, []string{john} },
			nil, false, nil, "By John"},
		{"its creator can, and stays on the list", "anna.berg", func(o *Opportunity) { o.IsPrivate, o.AccessList = true, []string{maria} },
			nil, true, []string{maria, anna}, "By John"},
		{"then John no longer sees it", "john.smith", func(o *Opportunity) { o.Title = "Lost" }, ErrNoDeal, true, []string{maria, anna}, "By John"},
		{"Maria on the list edits it", "maria.obrien", func(o *Opportunity) { o.Title = "By Maria"; o.ID = 99 }, nil, true, []string{maria, anna}, "By Maria"},
		{"and tags it", "maria.obrien", func(o *Opportunity) { o.Tags = append(o.Tags, "Portal tag", "portal TAG") }, nil, true,
			[]string{maria, anna}, "By Maria"},
	}
	for _, tt := range tests {
		err := s.Edit(tt.login, id, tt.change)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.err)
		}
		o := dealByID(t, s, id)
		if o.IsPrivate != tt.private || !cmp.Equal(o.AccessList, tt.access) || o.Title != tt.title {
			t.Errorf("%s: got private %v %v %q, want %v %v %q", tt.name, o.IsPrivate, o.AccessList, o.Title, tt.private, tt.access, tt.title)
		}
	}
	if got := s.Stats().Total; got != requests {
		t.Errorf("requests: got %d after the edits, want %d (they are no requests)", got, requests)
	}
	if d := cmp.Diff(map[string]int{"Portal tag": 1}, s.Tags()); d != "" {
		t.Errorf("tags after the edits (-want +got):\n%s", d)
	}
	// Maria's token sees what the store says.
	tok := mustToken(t, s, "maria.obrien")
	if got := do(t, base, req{method: "GET", path: fmt.Sprintf("/api/2.0/crm/opportunity/%d", id), auth: tok}).response(t)["title"]; got != "By Maria" {
		t.Errorf("GET as Maria: got %v", got)
	}
	if d := cmp.Diff(map[string]int{"K-1": 1, "K-2": 1}, s.CountByField(11)); d != "" {
		t.Errorf("CountByField (-want +got):\n%s", d)
	}
	f := s.AddCustomField("Legacy key", 0, "")
	if got, ok := s.CustomFieldByLabel("LEGACY KEY"); !ok || got != f || f.ID != 17 || f.Position != 7 {
		t.Errorf("AddCustomField: got %+v, found %+v %v", f, got, ok)
	}
	s.Reset()
	if _, ok := s.CustomFieldByLabel("Legacy key"); ok || len(s.Opportunities()) != 0 || len(s.Tags()) != 0 {
		t.Errorf("after Reset: the added field, deals or tags remain")
	}
}

func TestInsert(t *testing.T) {
	s, base := newTest(t, Options{NotAdmin: true})
	mustCreate(t, base, deal("title", "Through the API"))
	ids := s.Insert(
		Opportunity{Title: "Bulk 1", ResponsibleID: anna, BidCurrency: "EUR", StageID: 2, Tags: []string{"bulk", "BULK"},
			CustomFields: map[int]string{11: "K-1"}},
		Opportunity{Title: "Bulk 2", ResponsibleID: maria, BidCurrency: "USD", StageID: 3, IsPrivate: true, AccessList: []string{maria},
			CreatedAt: time.Date(2019, 4, 1, 0, 0, 0, 0, time.UTC)},
	)
	if d := cmp.Diff([]int{2, 3}, ids); d != "" {
		t.Fatalf("ids (-want +got):\n%s", d)
	}
	env := do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/filter?sortBy=id"}).env(t)
	if env["total"] != float64(2) {
		t.Errorf("anna lists %v deals, want 2 (the private one hidden)", env["total"])
	}
	got := do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/2"}).response(t)
	if got["title"] != "Bulk 1" || got["customFields"].([]any)[0].(map[string]any)["fieldValue"] != "K-1" {
		t.Errorf("GET an inserted deal: got %v", got)
	}
	if d := cmp.Diff(map[string]int{"bulk": 1}, s.Tags()); d != "" {
		t.Errorf("tags (-want +got):\n%s", d)
	}
	if o := dealByID(t, s, 3); !o.CreatedAt.Equal(time.Date(2019, 4, 1, 0, 0, 0, 0, time.UTC)) || o.CreatedBy != anna {
		t.Errorf("inserted: got created %v by %s", o.CreatedAt, o.CreatedBy)
	}
	if n := s.Stats().ByRoute["POST crm/opportunity"]; n != 1 {
		t.Errorf("creates counted: got %d, want 1 (Insert is no request)", n)
	}
}

// BenchmarkFilterPage reads one page of 1000 from a portal of 100,000 deals, as an index read
// of a big portal does 100 times.
func BenchmarkFilterPage(b *testing.B) {
	s := New(Options{Token: testToken})
	opps := make([]Opportunity, 100_000)
	for i := range opps {
		opps[i] = Opportunity{Title: fmt.Sprint("Deal ", i), ResponsibleID: anna, BidCurrency: "EUR", StageID: 1 + i%9,
			CustomFields: map[int]string{11: fmt.Sprint("K-", i)}}
	}
	s.Insert(opps...)
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for i := 0; b.Loop(); i++ {
		r, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/2.0/crm/opportunity/filter?sortBy=id&count=1000&startIndex=%d", ts.URL, (i%100)*1000), nil)
		r.Header.Set("Authorization", testToken)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func TestListAfterDeletes(t *testing.T) {
	s, base := newTest(t, Options{})
	opps := make([]Opportunity, 100)
	for i := range opps {
		opps[i] = Opportunity{Title: fmt.Sprint("Deal ", i), ResponsibleID: anna, BidCurrency: "EUR", StageID: 1}
	}
	s.Insert(opps...)
	var gone, want []int
	for id := 1; id <= 100; id++ {
		if id%5 == 0 {
			want = append(want, id)
		} else {
			gone = append(gone, id)
		}
	}
	body := fmt.Sprintf(`{"opportunityids":%s}`, strings.ReplaceAll(fmt.Sprint(gone), " ", ","))
	if a := do(t, base, req{method: "PUT", path: "/api/2.0/crm/opportunity", body: body}); a.status != 200 || a.env(t)["count"] != float64(80) {
		t.Fatalf("bulk delete: got %d %.200s", a.status, a.body)
	}
	mustCreate(t, base, deal("title", "After"))
	want = append(want, 101)
	for _, q := range []string{"?sortBy=id", "?sortBy=title&sortOrder=descending"} {
		var got []int
		for _, r := range do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/filter" + q}).env(t)["response"].([]any) {
			got = append(got, int(r.(map[string]any)["id"].(float64)))
		}
		if q != "?sortBy=id" {
			slices.Sort(got)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: ids (-want +got):\n%s", q, d)
		}
	}
}

func TestHideFromTheToken(t *testing.T) {
	s, base := newTest(t, Options{NotAdmin: true})
	id := mustCreate(t, base, deal())
	err := s.Edit("viktor.petrov", id, func(o *Opportunity) { o.IsPrivate, o.AccessList = true, []string{maria} })
	if err != nil {
		t.Fatal(err)
	}
	if a := do(t, base, req{method: "GET", path: fmt.Sprintf("/api/2.0/crm/opportunity/%d", id)}); a.status != 404 {
		t.Errorf("the token's user: got %d, want 404", a.status)
	}
	if got := dealByID(t, s, id).AccessList; !cmp.Equal(got, []string{maria, "e7f8a9b0-c1d2-4e3f-9a4b-5c6d7e8f9a0b"}) {
		t.Errorf("access list: got %v, want Maria and Viktor", got)
	}
}

func TestCountPaths(t *testing.T) {
	s, base := newTest(t, Options{CountPaths: true})
	id := mustCreate(t, base, deal())
	for _, path := range []string{"/api/2.0/crm/opportunity/%d", "/api/2.0/crm/opportunity/%d.json", "/API/2.0/crm/Opportunity/%d/"} {
		do(t, base, req{method: "PUT", path: fmt.Sprintf(path, id), body: deal()})
	}
	want := map[string]int{"POST crm/opportunity": 1, fmt.Sprintf("PUT crm/opportunity/%d", id): 3}
	if d := cmp.Diff(want, s.Stats().ByPath); d != "" {
		t.Errorf("ByPath (-want +got):\n%s", d)
	}
	s2, base2 := newTest(t, Options{})
	mustCreate(t, base2, deal())
	if n := len(s2.Stats().ByPath); n != 0 {
		t.Errorf("ByPath without CountPaths: got %d entries, want none", n)
	}
}
