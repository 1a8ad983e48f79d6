package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/emulator"
)

// holdProxy stands in front of the emulator and holds back one request (hold) until need
// requests that after says have been answered: the answers come back out of input order.
type holdProxy struct {
	proxy *httputil.ReverseProxy

	mu      sync.Mutex
	hold    func(r *http.Request, body []byte) bool
	after   func(r *http.Request) bool
	need    int
	release chan struct{}
	held    int // requests held so far
}

func newHoldProxy(t *testing.T, target string) (*holdProxy, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &holdProxy{proxy: httputil.NewSingleHostReverseProxy(u)}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

// set arms the proxy for the next run.
func (p *holdProxy) set(hold func(*http.Request, []byte) bool, after func(*http.Request) bool, need int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold, p.after, p.need, p.release, p.held = hold, after, need, make(chan struct{}), 0
}

// check fails the test unless the run had one request held back and answered after the others.
func (p *holdProxy) check(t *testing.T, what string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held != 1 || p.need > 0 {
		t.Errorf("%s: %d requests held, %d others still awaited; want 1 held after all the others", what, p.held, p.need)
	}
}

func (p *holdProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	p.mu.Lock()
	hold, after, release := p.hold, p.after, p.release
	held := hold != nil && hold(r, body)
	if held {
		p.held++
	}
	p.mu.Unlock()
	if held {
		// A deadline, not a pause: the test fails on the order if the others never come.
		select {
		case <-release:
		case <-time.After(20 * time.Second):
		}
	}
	p.proxy.ServeHTTP(w, r)
	if after != nil && after(r) {
		p.mu.Lock()
		if p.need--; p.need == 0 {
			close(p.release)
		}
		p.mu.Unlock()
	}
}

const orderMapping = `version: 1
key: [Deal ID]
fields:
  title:           { template: "Deal {Name} ({Deal ID})" }
  responsibleid:   { value: 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41 }
  stageid:         { value: 1 }
  bidCurrencyAbbr: { value: EUR }
`

// A run whose first row is answered last, and an undo whose first row is taken back last,
// list their rows in input order with the row number and the title as sent (made by a
// template); the import report's title is that title too.
func TestRowsListedInInputOrder(t *testing.T) {
	t.Parallel()
	srv, emu := startEmulator(t, emulator.Options{})
	proxy, purl := newHoldProxy(t, emu)
	dir := t.TempDir()
	mp := writeFile(t, dir, "m.yaml", orderMapping)
	in := writeFile(t, dir, "deals.csv", "Deal ID,Name\nD1,Alpha\nD2,Beta\nD3,Gamma\nD4,Delta\n")
	live := []string{"--mapping", mp, "--url", purl, "--token", srv.Token(), "--progress", "never", "--concurrency", "4"}

	// Row 2 (D1) is created last: its POST waits for the three others' answers.
	creates := func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/crm/opportunity")
	}
	proxy.set(func(r *http.Request, body []byte) bool {
		return creates(r) && bytes.Contains(body, []byte("Deal Alpha (D1)"))
	}, creates, 3)
	rep := filepath.Join(dir, "import.csv")
	res := runCmd(t, append([]string{"import", "--report", rep}, append(live, in)...)...)
	if res.code != exitOK {
		t.Fatalf("import: exit %d:\n%s", res.code, res.stderr)
	}
	proxy.check(t, "import")

	wantRows := []orderLine{
		{2, "D1", "created", "Deal Alpha (D1)"},
		{3, "D2", "created", "Deal Beta (D2)"},
		{4, "D3", "created", "Deal Gamma (D3)"},
		{5, "D4", "created", "Deal Delta (D4)"},
	}
	if diff := cmp.Diff(wantRows, reportLines(t, rep)); diff != "" {
		t.Errorf("import report (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantRows, statusLines(t, mp, "1")); diff != "" {
		t.Errorf("status --run 1 --json (-want +got):\n%s", diff)
	}
	text := runCmd(t, "status", "--mapping", mp, "--run", "1").out
	if i, j := strings.Index(text, "Deal Alpha (D1)"), strings.Index(text, "Deal Delta (D4)"); i < 0 || j < i ||
		!strings.Contains(text, "row  key") {
		t.Errorf("status --run 1 does not list the rows in input order with their row and title:\n%s", text)
	}

	// The undo takes D1 back last: its look at the deal waits for the three others' deletes.
	var id1 string
	for _, o := range srv.Opportunities() {
		if o.Title == "Deal Alpha (D1)" {
			id1 = "/crm/opportunity/" + strconv.Itoa(o.ID)
		}
	}
	deletes := func(r *http.Request) bool { return r.Method == http.MethodDelete }
	proxy.set(func(r *http.Request, _ []byte) bool {
		return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, id1)
	}, deletes, 3)
	urep := filepath.Join(dir, "undo.csv")
	res = runCmd(t, append([]string{"undo", "--run", "1", "--report", urep}, live...)...)
	if res.code != exitOK || len(srv.Opportunities()) != 0 {
		t.Fatalf("undo: exit %d, %d deals left:\n%s", res.code, len(srv.Opportunities()), res.stderr)
	}
	proxy.check(t, "undo")
	wantUndo := []orderLine{
		{1, "D1", "deleted", "Deal Alpha (D1)"},
		{2, "D2", "deleted", "Deal Beta (D2)"},
		{3, "D3", "deleted", "Deal Gamma (D3)"},
		{4, "D4", "deleted", "Deal Delta (D4)"},
	}
	if diff := cmp.Diff(wantUndo, reportLines(t, urep)); diff != "" {
		t.Errorf("undo report (-want +got):\n%s", diff)
	}
	// The undo's own run lists its rows as the run it took back: by input row.
	wantUndoRun := []orderLine{
		{2, "D1", "deleted", "Deal Alpha (D1)"},
		{3, "D2", "deleted", "Deal Beta (D2)"},
		{4, "D3", "deleted", "Deal Gamma (D3)"},
		{5, "D4", "deleted", "Deal Delta (D4)"},
	}
	if diff := cmp.Diff(wantUndoRun, statusLines(t, mp, "2")); diff != "" {
		t.Errorf("status --run 2 --json (-want +got):\n%s", diff)
	}
}

type orderLine struct {
	Row     int
	Key     string
	Outcome string
	Title   string
}

func reportLines(t *testing.T, path string) []orderLine {
	t.Helper()
	rows := readReport(t, path)
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var out []orderLine
	for _, r := range rows[1:] {
		out = append(out, orderLine{atoi(r[col["row"]]), r[col["key"]], r[col["status"]], r[col["title"]]})
	}
	return out
}

func statusLines(t *testing.T, mp, run string) []orderLine {
	t.Helper()
	st := runCmd(t, "status", "--mapping", mp, "--run", run, "--json")
	var got struct {
		Rows []runRowJSON `json:"rows"`
	}
	if err := json.Unmarshal([]byte(st.out), &got); err != nil {
		t.Fatalf("status --run %s --json: %v:\n%s", run, err, st.out)
	}
	var out []orderLine
	for _, r := range got.Rows {
		n := 0
		if r.Row != nil {
			n = *r.Row
		}
		out = append(out, orderLine{n, r.Key, r.Outcome, r.Title})
	}
	return out
}
