package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oppimport/oppimport/emulator"
)

// flakyPortal serves an emulator through a listener of its own that a test can take down
// and bring back on the same address, and through a handler that can slow answers down.
type flakyPortal struct {
	emu  *emulator.Server
	addr string
	// slow, when set, says which requests to hold back for holdFor before they are handled:
	// the portal still acts on them after the client gave up, as a real one would.
	slow    func(r *http.Request) bool
	holdFor time.Duration
	// refuse, when set, says which requests the portal refuses as its rate limit does, with
	// refuseStatus (0 = 503).
	refuse       func(r *http.Request) bool
	refuseStatus int

	mu  sync.Mutex
	srv *http.Server
}

func newFlakyPortal(t *testing.T, opts emulator.Options) *flakyPortal {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &flakyPortal{emu: emulator.New(opts), addr: l.Addr().String()}
	f.serve(l)
	t.Cleanup(f.down)
	return f
}

func (f *flakyPortal) url() string { return "http://" + f.addr }

func (f *flakyPortal) serve(l net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.refuse != nil && f.refuse(r) {
			f.emu.Refuse(w, r, f.refuseStatus)
			return
		}
		if f.slow != nil && f.slow(r) {
			time.Sleep(f.holdFor)
			r = r.WithContext(context.WithoutCancel(r.Context()))
		}
		f.emu.Handler().ServeHTTP(w, r)
	})}
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
	go srv.Serve(l)
}

// down closes the listener and every connection: requests in flight get no answer.
func (f *flakyPortal) down() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.srv != nil {
		f.srv.Close()
		f.srv = nil
	}
}

// up listens again on the same address.
func (f *flakyPortal) up(t *testing.T) {
	for i := 0; ; i++ {
		l, err := net.Listen("tcp", f.addr)
		if err == nil {
			f.serve(l)
			return
		}
		if i == 100 {
			t.Errorf("listening again on %s: %v", f.addr, err)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFaults runs an import through each fault, then again if it did not finish, and holds
// the outcome to the promise: every row created exactly once, or reported, and the report
// matching the portal. The faults the importer meets alone (500s, answers lost after the
// portal acted, a gateway's or a login page's answers) are importer's TestRunThroughFaults;
// these are the ones whose handling is the command's: a timeout's settle bound, the portal
// gone, the token expired, and the summary of refusals. Where the portal's refusals are
// retried, the report counts each row's attempts and the summary the retries, which are
// logged at the debug level only.
//
// The timeouts are short (--timeout 500ms, so a lost answer is settled after 1 s) to keep
// the waiting short, except where answers are held past the timeout on purpose; a request
// that times out on a loaded machine is settled like any other lost answer.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault injection takes a while")
	}
	t.Parallel()
	const rows = 60
	tests := []struct {
		name string
		opts emulator.Options
		// setup prepares the portal; during runs once the portal holds some opportunities.
		setup     func(t *testing.T, f *flakyPortal)
		during    func(t *testing.T, f *flakyPortal)
		firstExit []int // allowed exit codes of the first run
		retried   bool  // the portal refuses or fails some requests, and they are retried
		// throttled says the portal refuses over its rate: the summary counts the refusals
		// and the rate the pace came down to (pace's tests prove the adapting itself).
		throttled bool
		extra     []string // flags of the first run
	}{
		{name: "503 with Retry-After", opts: emulator.Options{RateLimit: 60}, setup: refuseSome(0), firstExit: []int{exitOK},
			retried: true, throttled: true, extra: []string{"--concurrency", "auto"}},
		{name: "429 from a proxy", opts: emulator.Options{RateLimit: 60, RateLimitStatus: 429}, setup: refuseSome(429),
			firstExit: []int{exitOK}, retried: true, throttled: true},
		{
			name: "answers slower than --timeout",
			setup: func(t *testing.T, f *flakyPortal) {
				var n atomic.Int64
				// Past --timeout 1s, well before the settle bound (2s) even on a loaded
				// machine: at 500ms and 600ms, with a load average of 20, a create held
				// was acted on after its settle had looked, and was made twice.
				f.holdFor = 1200 * time.Millisecond
				f.slow = func(r *http.Request) bool {
					return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "crm/opportunity") && n.Add(1)%7 == 0
				}
			},
			firstExit: []int{exitOK},
			extra:     []string{"--timeout", "1s"},
		},
		{
			name: "the portal goes away mid-run and comes back",
			during: func(t *testing.T, f *flakyPortal) {
				f.down()
				time.Sleep(600 * time.Millisecond)
				f.up(t)
			},
			firstExit: []int{exitOK, exitRows},
		},
		{
			name:      "the token expires mid-run",
			during:    func(t *testing.T, f *flakyPortal) { f.emu.ExpireToken() },
			firstExit: []int{exitStopped},
		},
	}
	// The faults run at once in this test's goroutines, not as parallel subtests: those wait
	// for a free test slot behind every other test of the package, and these, waiting out
	// holds, outages and settles, then ended the package.
	var wg sync.WaitGroup
	for _, tt := range tests {
		tt.opts.Token = "secret-token-" + fmt.Sprint(rand.Int())
		f := newFlakyPortal(t, tt.opts)
		dir := t.TempDir()
		in := writeFile(t, dir, "deals.csv", dealsCSV(rows, func(i int) int { return i }))
		mp := writeFile(t, dir, "deals.yaml", stateMapping)
		rep := filepath.Join(dir, "r.csv")
		args := func(extra ...string) []string {
			return append(append([]string{"import", "--mapping", mp, "--url", f.url(), "--token", f.emu.Token(), "--rate", "100",
				"--timeout", "500ms", "--retries", "8", "--progress", "never", "--report", rep}, extra...), in)
		}
		if tt.setup != nil {
			tt.setup(t, f)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(format string, a ...any) { t.Errorf(tt.name+": "+format, a...) }
			done := make(chan struct{})
			if tt.during != nil {
				go func() {
					defer close(done)
					waitFor(t, 30*time.Second, func() bool { return len(f.emu.Opportunities()) >= rows/3 })
					tt.during(t, f)
				}()
			} else {
				close(done)
			}
			res := runCmd(t, args(tt.extra...)...)
			<-done
			if !containsInt(tt.firstExit, res.code) {
				fail("first run: got exit %d, want one of %v:\n%s", res.code, tt.firstExit, res.stderr)
				return
			}
			if strings.Contains(res.stderr, f.emu.Token()) {
				fail("the token shows on stderr")
			}
			checkReportMatchesPortal(fail, rep, f.emu, res.code == exitOK)
			if tt.retried {
				checkRetries(fail, f.emu, rep, res.stderr)
			}
			if want := regexp.MustCompile(`\d+ refused \(429/503\), rate adapted to [\d.]+/s \(of 100\)`); tt.throttled && !want.MatchString(res.stderr) {
				fail("the summary does not match %q:\n%s", want, res.stderr)
			}
			if res.code != exitOK {
				f.emu.SetToken(tt.opts.Token + "-renewed")
				again := runCmd(t, args()...)
				if again.code != exitOK {
					fail("the run after: got exit %d, want 0:\n%s", again.code, again.stderr)
					return
				}
				checkReportMatchesPortal(fail, rep, f.emu, true)
			}
			counts := titleCounts(f.emu)
			for i := 1; i <= rows; i++ {
				if n := counts[fmt.Sprintf("Deal number %d", i)]; n != 1 {
					fail("deal %d is on the portal %d times, want once", i, n)
				}
			}
		}()
	}
	wg.Wait()
}

// refuseSome has the portal refuse, beside its rate limit, the 50th to 54th creates with
// status: a client too slow to reach the limit (the race detector, a loaded machine) meets
// refusals all the same, after the pace has seen a while of the run's own speed.
func refuseSome(status int) func(t *testing.T, f *flakyPortal) {
	return func(t *testing.T, f *flakyPortal) {
		var n atomic.Int64
		f.refuseStatus = status
		f.refuse = func(r *http.Request) bool {
			if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "crm/opportunity") {
				return false
			}
			i := n.Add(1)
			return i >= 50 && i < 55
		}
	}
}

// checkRetries holds a run through refusals or failures to its report and its summary: the
// portal refused or failed something, some row took more than one attempt, the summary
// counts the retries, and none of them is logged at the default level.
func checkRetries(fail func(string, ...any), emu *emulator.Server, rep, stderr string) {
	if st := emu.Stats(); st.Refused+st.Failed == 0 {
		fail("the emulator refused or failed nothing: the test proves nothing")
	}
	retried, retries := 0, 0
	for _, r := range reportRows(fail, rep) {
		if r[4] != "1" {
			retried++
			retries += atoi(r[4]) - 1
		}
	}
	if retried == 0 {
		fail("no row took more than one attempt")
	}
	if want := fmt.Sprintf("; %d retries", retries); retries > 1 && !strings.Contains(stderr, want) {
		fail("the summary does not say %q:\n%s", want, stderr)
	}
	if strings.Contains(stderr, "retrying") {
		fail("retries logged at the default level:\n%s", stderr)
	}
}

// checkReportMatchesPortal holds the report to the portal: every id the report gives is on
// the portal with that row's title, and every opportunity on the portal is in the report
// (when complete) or at least never twice.
func checkReportMatchesPortal(fail func(string, ...any), rep string, emu *emulator.Server, complete bool) {
	onPortal := map[string]string{}
	for _, o := range emu.Opportunities() {
		onPortal[fmt.Sprint(o.ID)] = o.Title
	}
	var reported []string
	for _, r := range reportRows(fail, rep) {
		switch r[2] {
		case "created", "skipped":
			title, ok := onPortal[r[3]]
			want := "Deal number " + strings.TrimPrefix(r[1], "D")
			if !ok || title != want {
				fail("row %s: the report gives id %s, the portal holds %q under it, want %q", r[0], r[3], title, want)
			}
			reported = append(reported, r[3])
		case "failed":
			if r[6] == "" {
				fail("row %s failed without a reason", r[0])
			}
		default:
			fail("row %s: unexpected status %s", r[0], r[2])
		}
	}
	if complete {
		var all []string
		for id := range onPortal {
			all = append(all, id)
		}
		sort.Strings(all)
		sort.Strings(reported)
		if strings.Join(all, ",") != strings.Join(reported, ",") {
			fail("the report's ids %v differ from the portal's %v", reported, all)
		}
	}
}

// reportRows is readReport's rows under the header for a test's goroutine: a report that
// cannot be read is a failure told to fail, and no rows.
func reportRows(fail func(string, ...any), path string) [][]string {
	f, err := os.Open(path)
	if err != nil {
		fail("%v", err)
		return nil
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) == 0 {
		fail("report %s: %v (%d lines)", path, err, len(rows))
		return nil
	}
	return rows[1:]
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
