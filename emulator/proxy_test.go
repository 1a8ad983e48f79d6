package emulator

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// What a gateway answers is never the portal's envelope; what it did to the store is the
// point of each fault.
func TestProxyFaults(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		method   string
		path     string
		body     string
		statuses []int  // one of these
		page     string // a text of the HTML page
		stored   int    // opportunities afterwards (2 exist before)
		title    string // the first deal's title afterwards
		auth     string // "" = the test token
	}{
		{"gateway after a create", Options{GatewayRate: 1}, "POST", "/api/2.0/crm/opportunity", deal("title", "New"),
			[]int{502, 504}, "nginx", 3, "One", ""},
		{"gateway after an update", Options{GatewayRate: 1}, "PUT", "/api/2.0/crm/opportunity/1", deal("title", "Changed"),
			[]int{502, 504}, "nginx", 2, "Changed", ""},
		{"gateway after a delete", Options{GatewayRate: 1}, "DELETE", "/api/2.0/crm/opportunity/2", "",
			[]int{502, 504}, "nginx", 1, "One", ""},
		{"gateway after a refused create: nothing to apply", Options{GatewayRate: 1}, "POST", "/api/2.0/crm/opportunity", deal("title", ""),
			[]int{502, 504}, "nginx", 2, "One", ""},
		{"login page instead of a create", Options{HTMLRate: 1}, "POST", "/api/2.0/crm/opportunity", deal("title", "New"),
			[]int{200}, "session has expired", 2, "One", ""},
		{"login page instead of an update", Options{HTMLRate: 1}, "PUT", "/api/2.0/crm/opportunity/1", deal("title", "Changed"),
			[]int{200}, "session has expired", 2, "One", ""},
		{"login page instead of a delete", Options{HTMLRate: 1}, "DELETE", "/api/2.0/crm/opportunity/2", "",
			[]int{200}, "session has expired", 2, "One", ""},
		{"login page instead of a list", Options{HTMLRate: 1}, "GET", "/api/2.0/crm/opportunity/filter", "",
			[]int{200}, "session has expired", 2, "One", ""},
		{"login page before the token is looked at", Options{HTMLRate: 1}, "GET", "/api/2.0/people", "",
			[]int{200}, "session has expired", 2, "One", "not-a-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, base := newTest(t, Options{})
			mustCreate(t, base, deal("title", "One"))
			mustCreate(t, base, deal("title", "Two"))
			s.SetProxyFaults(tt.opts.GatewayRate, tt.opts.HTMLRate)
			a := do(t, base, req{method: tt.method, path: tt.path, body: tt.body, auth: tt.auth})
			if !slices.Contains(tt.statuses, a.status) {
				t.Errorf("status: got %d, want one of %v", a.status, tt.statuses)
			}
			if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type: got %q, want text/html", ct)
			}
			if !strings.Contains(string(a.body), tt.page) || strings.Contains(string(a.body), `"status"`) {
				t.Errorf("body: got %s, want an HTML page with %q", a.body, tt.page)
			}
			opps := s.Opportunities()
			if len(opps) != tt.stored || opps[0].Title != tt.title {
				t.Errorf("store: got %d deals, the first %q; want %d, %q", len(opps), opps[0].Title, tt.stored, tt.title)
			}
			st := s.Stats()
			if st.Gateway+st.HTML != 1 || st.ByStatus[a.status] < 1 {
				t.Errorf("stats: got %+v", st)
			}
		})
	}

	// Logging in goes through: the faults are the API's.
	_, base := newTest(t, Options{HTMLRate: 1, GatewayRate: 1})
	if a := do(t, base, req{method: "POST", path: "/api/2.0/authentication", auth: "-",
		body: `{"userName":"maria.obrien","password":"maria-secret-2"}`}); a.status != 201 {
		t.Errorf("login with faults on: got %d, want 201", a.status)
	}
}

func TestProxyFaultsAreSeeded(t *testing.T) {
	run := func(seed int64) (statuses []int, stored int) {
		s, base := newTest(t, Options{GatewayRate: 0.3, HTMLRate: 0.2, Seed: seed})
		for i := range 40 {
			statuses = append(statuses, post(t, base, deal("title", fmt.Sprint("d", i))).status)
		}
		return statuses, len(s.Opportunities())
	}
	a, na := run(11)
	b, nb := run(11)
	if !slices.Equal(a, b) || na != nb {
		t.Errorf("same seed, different faults: %v (%d stored) and %v (%d stored)", a, na, b, nb)
	}
	count := func(code int) int {
		n := 0
		for _, c := range a {
			if c == code {
				n++
			}
		}
		return n
	}
	for _, code := range []int{200, 201, 502, 504} {
		if count(code) == 0 {
			t.Errorf("40 creates with both faults: no %d in %v", code, a)
		}
	}
	// Every create the login page did not stop reached the store, gateway or not.
	if want := len(a) - count(200); na != want {
		t.Errorf("stored: got %d, want %d (all but the login pages)", na, want)
	}
}

func TestProxyRoutes(t *testing.T) {
	s, base := newTest(t, Options{GatewayRate: 1, HTMLRate: 0, ProxyRoutes: []string{"PUT crm/opportunity/{id}"}})
	if a := post(t, base, deal()); a.status != 201 {
		t.Fatalf("create, not aimed at: got %d, want 201", a.status)
	}
	if a := do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/1"}); a.status != 200 {
		t.Errorf("GET, not aimed at: got %d, want 200", a.status)
	}
	if a := do(t, base, req{method: "PUT", path: "/api/2.0/crm/opportunity/1", body: deal("title", "Changed")}); a.status != 502 && a.status != 504 {
		t.Errorf("PUT, aimed at: got %d, want 502 or 504", a.status)
	}
	if got := s.Opportunities()[0].Title; got != "Changed" {
		t.Errorf("title: got %q, want the PUT applied behind the proxy", got)
	}
	s.SetProxyFaults(0, 1)
	if a := do(t, base, req{method: "PUT", path: "/api/2.0/crm/opportunity/1", body: deal("title", "Lost")}); a.status != 200 ||
		!strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
		t.Errorf("PUT, login page: got %d %s", a.status, a.header.Get("Content-Type"))
	}
	if got := s.Opportunities()[0].Title; got != "Changed" {
		t.Errorf("title: got %q, want the PUT not applied", got)
	}
	if st := s.Stats(); st.Gateway != 1 || st.HTML != 1 {
		t.Errorf("stats: got %+v", st)
	}
}
