package emulator

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestUnauthorized(t *testing.T) {
	_, base := newTest(t, Options{})
	basic := func(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }
	tests := []struct {
		name      string
		auth      string
		cookie    string
		status    int
		challenge string
	}{
		{"no credentials", "-", "", 401, ""},
		{"wrong token", "nope", "", 401, `Basic Realm="127.0.0.1"`},
		{"wrong bearer", "Bearer nope", "", 401, `Basic Realm="127.0.0.1"`},
		{"raw token", testToken, "", 200, ""},
		{"bearer token", "Bearer " + testToken, "", 200, ""},
		{"cookie", "-", testToken, 200, ""},
		{"basic", basic("maria.obrien", "maria-secret-2"), "", 200, ""},
		{"basic by e-mail", basic("MARIA.OBRIEN@example.com", "maria-secret-2"), "", 200, ""},
		{"basic wrong password", basic("maria.obrien", "x"), "", 401, `Basic Realm="127.0.0.1"`},
		{"basic two-factor user", basic("viktor.petrov", "viktor-secret-6"), "", 401, `Basic Realm="127.0.0.1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", base+"/api/2.0/crm/opportunity/stage", nil)
			if tt.auth != "-" {
				r.Header.Set("Authorization", tt.auth)
			}
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: "asc_auth_key", Value: tt.cookie})
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body := make([]byte, 64)
			n, _ := resp.Body.Read(body)
			if resp.StatusCode != tt.status {
				t.Fatalf("got %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate: got %q, want %q", got, tt.challenge)
			}
			if tt.status == 401 {
				if string(body[:n]) != "Unauthorized" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
					t.Errorf("body: got %q (%s), want plain Unauthorized", body[:n], resp.Header.Get("Content-Type"))
				}
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	s, base := newTest(t, Options{})
	clock := &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	s.now = clock.now
	auth := func(user, pass string) answer {
		return do(t, base, req{method: "POST", path: "/api/2.0/authentication", auth: "-",
			body: fmt.Sprintf(`{"userName":%q,"password":%q}`, user, pass)})
	}

	a := auth("anna.berg@EXAMPLE.com", "anna-secret-1")
	r := a.response(t)
	if a.status != 201 || r["expires"] != "2026-06-01T12:00:00.0000000Z" {
		t.Fatalf("login: got %d %s, want 201 expiring in a year", a.status, a.body)
	}
	tok := r["token"].(string)
	if a := do(t, base, req{method: "GET", path: "/api/2.0/people", auth: tok}); a.status != 200 {
		t.Errorf("issued token: got %d, want 200", a.status)
	}

	for i := range 5 {
		a := auth("john.smith", "wrong")
		if a.status != 500 || a.message(t) != "User authentication failed" {
			t.Fatalf("failure %d: got %d %s", i+1, a.status, a.body)
		}
	}
	a = auth("john.smith", "john-secret-3")
	if a.status != 500 || a.message(t) != "Login Fail. Too many attempts" {
		t.Errorf("6th attempt: got %d %s, want the lockout", a.status, a.body)
	}
	if a := auth("jsmith", "john-secret-4"); a.status != 201 {
		t.Errorf("another login: got %d, want 201", a.status)
	}
	clock.add(61 * time.Second)
	if a := auth("john.smith", "john-secret-3"); a.status != 201 {
		t.Errorf("after the block: got %d %s, want 201", a.status, a.body)
	}

	a = auth("viktor.petrov", "viktor-secret-6")
	if a.status != 201 || !strings.Contains(string(a.body), `"token":null`) || a.response(t)["tfa"] != true {
		t.Errorf("two-factor: got %d %s, want 201 with a null token and tfa", a.status, a.body)
	}

	// Authentication takes no faults.
	_, faulty := newTest(t, Options{FailRate: 1, RateLimit: 0.001})
	if a := do(t, faulty, req{method: "POST", path: "/api/2.0/authentication", auth: "-",
		body: `{"userName":"maria.obrien","password":"maria-secret-2"}`}); a.status != 201 {
		t.Errorf("with faults on: got %d, want 201", a.status)
	}
}

func TestExpireToken(t *testing.T) {
	s, base := newTest(t, Options{})
	issued := login(t, base, "anna.berg", "anna-secret-1")
	s.ExpireToken()
	for _, tok := range []string{testToken, issued} {
		if a := do(t, base, req{method: "GET", path: "/api/2.0/people", auth: tok}); a.status != 401 {
			t.Errorf("expired token: got %d, want 401", a.status)
		}
	}
	if tok := login(t, base, "anna.berg", "anna-secret-1"); do(t, base, req{method: "GET", path: "/api/2.0/people", auth: tok}).status != 200 {
		t.Error("a new login after expiry: refused")
	}
	s.SetToken("fresh")
	if a := do(t, base, req{method: "GET", path: "/api/2.0/people", auth: "fresh"}); a.status != 200 {
		t.Errorf("SetToken: got %d, want 200", a.status)
	}
	s.Reset()
	if a := do(t, base, req{method: "GET", path: "/api/2.0/people"}); a.status != 200 || s.Token() != testToken {
		t.Errorf("after Reset: got %d, want the Options token back", a.status)
	}
}

func TestRateLimit(t *testing.T) {
	s, base := newTest(t, Options{RateLimit: 2})
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s.now = clock.now
	var got []int
	for range 3 {
		a := do(t, base, req{method: "GET", path: "/api/2.0/crm/opportunity/stage"})
		got = append(got, a.status)
		if a.status == 503 {
			if ra := a.header.Get("Retry-After"); ra != "1" {
				t.Errorf("Retry-After: got %q, want 1", ra)
			}
			if a.env(t)["statusCode"] != float64(503) {
				t.Errorf("503 body: %s", a.body)
			}
		}
	}
	clock.add(time.Second)
	got = append(got, do(t, base, req{method: "POST", path: "/api/2.0/crm/opportunity", body: deal()}).status)
	if want := []int{200, 200, 503, 201}; !slices.Equal(got, want) {
		t.Errorf("statuses: got %v, want %v", got, want)
	}
	if st := s.Stats(); st.Refused != 1 || st.ByStatus[503] != 1 || st.Total != 4 {
		t.Errorf("stats: got %+v", st)
	}

	s2, base2 := newTest(t, Options{RateLimit: 1, RateLimitStatus: http.StatusTooManyRequests})
	s2.now = clock.now
	do(t, base2, req{method: "GET", path: "/api/2.0/people"})
	if a := do(t, base2, req{method: "GET", path: "/api/2.0/people"}); a.status != 429 || a.header.Get("Retry-After") != "1" {
		t.Errorf("proxy mode: got %d, want 429 with Retry-After", a.status)
	}
}

func TestFailDoesNotApply(t *testing.T) {
	s, base := newTest(t, Options{FailRate: 1})
	a := post(t, base, deal())
	if a.status != 500 || a.env(t)["statusCode"] != float64(500) {
		t.Errorf("got %d %s, want 500", a.status, a.body)
	}
	if n := len(s.Opportunities()); n != 0 {
		t.Errorf("store holds %d, want 0", n)
	}
	if st := s.Stats(); st.Failed != 1 || st.ByStatus[500] != 1 {
		t.Errorf("stats: got %+v", st)
	}
}

func TestDropAppliesThenCloses(t *testing.T) {
	s := New(Options{Token: testToken, DropRate: 1})
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.URL() != base {
		t.Errorf("URL: got %q, want %q", s.URL(), base)
	}
	r, _ := http.NewRequest("POST", base+"/api/2.0/crm/opportunity", strings.NewReader(deal()))
	r.Header.Set("Authorization", testToken)
	r.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(r)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got %d, want the connection dropped", resp.StatusCode)
	}
	if !strings.Contains(err.Error(), "EOF") {
		t.Errorf("error: got %v, want EOF", err)
	}
	if n := len(s.Opportunities()); n != 1 {
		t.Errorf("store holds %d, want the dropped create applied", n)
	}
	// A refused create is answered, not dropped.
	if a := do(t, base, req{method: "POST", path: "/api/2.0/crm/opportunity", body: deal("title", "")}); a.status != 400 {
		t.Errorf("invalid create: got %d, want 400", a.status)
	}
	if st := s.Stats(); st.Dropped != 1 || st.Total != 2 {
		t.Errorf("stats: got %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestLatencyHonoursCancellation(t *testing.T) {
	s := New(Options{Token: testToken, Latency: 10 * time.Second})
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/2.0/people", nil)
	r.Header.Set("Authorization", testToken)
	start := time.Now()
	_, err = http.DefaultClient.Do(r)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want the deadline", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v: latency ignored cancellation", d)
	}
}

func TestLatencyDelays(t *testing.T) {
	_, base := newTest(t, Options{Latency: 30 * time.Millisecond})
	start := time.Now()
	if a := do(t, base, req{method: "GET", path: "/api/2.0/people"}); a.status != 200 {
		t.Fatalf("got %d", a.status)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("answered in %v, want at least 30ms", d)
	}
}

func TestFaultsAreSeeded(t *testing.T) {
	run := func(seed int64) []int {
		_, base := newTest(t, Options{FailRate: 0.5, Seed: seed})
		var out []int
		for range 20 {
			out = append(out, do(t, base, req{method: "GET", path: "/api/2.0/people"}).status)
		}
		return out
	}
	a, b := run(7), run(7)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different faults: %v and %v", a, b)
	}
	if !slices.Contains(a, 500) || !slices.Contains(a, 200) {
		t.Errorf("FailRate 0.5 over 20 requests: got %v", a)
	}
}
