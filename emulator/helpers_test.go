package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "test-token"

// anna is the first seeded user, owner of the test token; a few real ids for bodies.
const (
	anna     = "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41"
	maria    = "8a1d4e7b-2c3f-4a5b-8c9d-0e1f2a3b4c5d"
	nobodyID = "11111111-2222-3333-4444-555555555555"
)

func newTest(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	s := New(opts)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts.URL
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// env decodes a JSON answer into a generic map.
func (a answer) env(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", a.status, err, a.body)
	}
	return m
}

// message is the error message of an error envelope.
func (a answer) message(t *testing.T) string {
	t.Helper()
	e, _ := a.env(t)["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

func (a answer) response(t *testing.T) map[string]any {
	t.Helper()
	r, _ := a.env(t)["response"].(map[string]any)
	return r
}

type req struct {
	method, path string
	body         string // JSON unless ctype says otherwise
	ctype        string
	auth         string // Authorization header; "" = the test token, "-" = none
}

func do(t *testing.T, base string, r req) answer {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, base+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	switch r.auth {
	case "":
		hr.Header.Set("Authorization", testToken)
	case "-":
	default:
		hr.Header.Set("Authorization", r.auth)
	}
	if r.body != "" {
		ct := r.ctype
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

// deal builds a JSON body: the four required fields, valid, overridden or removed by kv
// (a nil value removes the key).
func deal(kv ...any) string {
	m := map[string]any{"title": "Deal", "responsibleid": anna, "stageid": 1, "bidCurrencyAbbr": "EUR"}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(m, k)
			continue
		}
		m[k] = kv[i+1]
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(m)
	return buf.String()
}

func post(t *testing.T, base, body string) answer {
	t.Helper()
	return do(t, base, req{method: "POST", path: "/api/2.0/crm/opportunity", body: body})
}

// mustCreate posts a valid body and returns the new id.
func mustCreate(t *testing.T, base, body string) int {
	t.Helper()
	a := post(t, base, body)
	if a.status != 201 {
		t.Fatalf("create: got %d %s, want 201", a.status, a.body)
	}
	return int(a.response(t)["id"].(float64))
}

// john is John Smith (john.smith), an ordinary user.
const john = "b5c6d7e8-f9a0-4b1c-8d2e-3f4a5b6c7d8e"

// mustToken is a token for a seeded user.
func mustToken(t *testing.T, s *Server, login string) string {
	t.Helper()
	tok, err := s.TokenFor(login)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// mustCreateAs creates a deal with the token tok and returns its id.
func mustCreateAs(t *testing.T, base, tok, body string) int {
	t.Helper()
	a := do(t, base, req{method: "POST", path: "/api/2.0/crm/opportunity", body: body, auth: tok})
	if a.status != 201 {
		t.Fatalf("create: got %d %s, want 201", a.status, a.body)
	}
	return int(a.response(t)["id"].(float64))
}

// dealByID is the stored opportunity id.
func dealByID(t *testing.T, s *Server, id int) Opportunity {
	t.Helper()
	for _, o := range s.Opportunities() {
		if o.ID == id {
			return o
		}
	}
	t.Fatalf("no opportunity %d in the store", id)
	return Opportunity{}
}
