package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/emulator"
	"github.com/oppimport/oppimport/state"
)

// TestMain lets a test run the command in a child process of its own (the test binary with
// OPPIMPORT_ARGS set), so that the child can be killed with SIGKILL.
//
// It also runs more of this package's parallel tests at once than go test's default, one
// per core, when -parallel is not given: these tests run the command against an emulator
// and spend most of their time waiting (on a rate limit, a Retry-After, a timeout, a child
// process), not computing: on two cores, 131 s of tests took 66 s at -parallel 2 and 17 s
// at 16, with less CPU in all. Not more: at 32, on a machine loaded by other work, runs
// that must outpace the emulator's rate limit no longer did. Under the race detector the
// tests compute (SQLite compiled to Go is some twenty times slower), so the default stays.
func TestMain(m *testing.M) {
	if args := os.Getenv("OPPIMPORT_ARGS"); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			panic(err)
		}
		os.Exit(run(argv, stdio()))
	}
	flag.Parse()
	if !raceOn && !flagGiven("test.parallel") {
		flag.Set("test.parallel", fmt.Sprint(8*runtime.GOMAXPROCS(0)))
	}
	os.Exit(m.Run())
}

// flagGiven says whether the command line set the flag name.
func flagGiven(name string) bool {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// child starts oppimport args as a separate process.
func child(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return childOf(exe, args...)
}

// childOf is child for the test binary exe, for a goroutine of a test (which may not call
// t.Fatal).
func childOf(exe string, args ...string) *exec.Cmd {
	argv, _ := json.Marshal(args)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "OPPIMPORT_ARGS="+string(argv))
	return cmd
}

const stateMapping = `version: 1
key: ["Deal ID"]
fields:
  title:           { column: Title }
  bidValue:        { column: Amount }
  responsibleid:   { value: 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41 }
  stageid:         { value: 1 }
  bidCurrencyAbbr: { value: EUR }
`

// dealsCSV is n deals with keys D1..Dn; amounts come from amount(i).
func dealsCSV(n int, amount func(i int) int) string {
	var b strings.Builder
	b.WriteString("Deal ID,Title,Amount\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "D%d,Deal number %d,%d\n", i, i, amount(i))
	}
	return b.String()
}

// titleCounts counts the portal's opportunities by title.
func titleCounts(srv *emulator.Server) map[string]int {
	got := map[string]int{}
	for _, o := range srv.Opportunities() {
		got[o.Title]++
	}
	return got
}

func TestKilledRunsResumeExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	t.Parallel()
	const rows = 48
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Four seeds of two kills each (a first run's and a resumed run's): eight kill moments,
	// a chain of three settles (2 x --timeout each) a seed. The seeds run at once in this
	// test's goroutines, not as parallel subtests: those wait for a free test slot behind
	// every other test of the package, and this, the longest chain, then ended the package.
	type seedRun struct {
		seed   uint64
		srv    *emulator.Server
		args   []string
		report string
		res    cmdResult
		err    error
	}
	var runs []*seedRun
	for _, seed := range []uint64{1, 2, 3, 4} {
		srv, url := startEmulator(t, emulator.Options{Latency: 5 * time.Millisecond})
		dir := t.TempDir()
		in := writeFile(t, dir, "deals.csv", dealsCSV(rows, func(i int) int { return i * 10 }))
		mp := writeFile(t, dir, "deals.yaml", stateMapping)
		report := filepath.Join(dir, "r.csv")
		// --timeout 1s: the resume settles a create in flight at the kill after twice
		// that, time enough for a loaded machine's portal to have acted on it (at a
		// load of 20 a held create was acted on 400 ms late; see TestFaults).
		runs = append(runs, &seedRun{seed: seed, srv: srv, report: report, args: []string{"import", "--mapping", mp, "--url", url,
			"--token", srv.Token(), "--rate", "400", "--concurrency", "8", "--timeout", "1s", "--progress", "never", "--report", report, in}})
	}
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(r.seed, 99))
			for kill := range 2 {
				cmd := childOf(exe, r.args...)
				if r.err = cmd.Start(); r.err != nil {
					return
				}
				// Killed at a moment of the seed's choosing: once the portal has been sent that
				// many more creates (a count, where copying the portal's deals every 2ms to count
				// them was a third of the test's own CPU).
				target := min(r.srv.Requests("POST", "crm/opportunity")+rnd.IntN(rows/4), rows)
				waitFor(t, 20*time.Second, func() bool { return r.srv.Requests("POST", "crm/opportunity") >= target })
				cmd.Process.Kill()
				cmd.Wait()
				t.Logf("seed %d, kill %d: the portal holds %d opportunities", r.seed, kill+1, len(r.srv.Opportunities()))
			}
			r.res = runCmd(t, r.args...)
		}()
	}
	wg.Wait()
	for _, r := range runs {
		switch {
		case r.err != nil:
			t.Errorf("seed %d: %v", r.seed, r.err)
			continue
		case r.res.code != exitOK:
			t.Errorf("seed %d: the run after the kills: got exit %d, want 0:\n%s", r.seed, r.res.code, r.res.stderr)
			continue
		}
		got := titleCounts(r.srv)
		for i := 1; i <= rows; i++ {
			if n := got[fmt.Sprintf("Deal number %d", i)]; n != 1 {
				t.Errorf("seed %d: deal %d is on the portal %d times, want once", r.seed, i, n)
			}
		}
		if n := len(r.srv.Opportunities()); n != rows {
			t.Errorf("seed %d: the portal holds %d opportunities, want %d", r.seed, n, rows)
		}
		// Every row of the final report has its id, whichever run created it.
		for _, row := range readReport(t, r.report)[1:] {
			if (row[2] != "created" && row[2] != "skipped") || row[3] == "" {
				t.Errorf("seed %d: row %s: got %s with id %q, want created or skipped with an id", r.seed, row[0], row[2], row[3])
			}
		}
	}
}

func TestCreateSkipsWhatIsDoneAndSyncUpdatesWhatChanged(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	mp := writeFile(t, dir, "deals.yaml", stateMapping)
	in := writeFile(t, dir, "deals.csv", dealsCSV(6, func(i int) int { return 100 * i }))
	rep := filepath.Join(dir, "r.csv")
	imp := func(mode string, extra ...string) cmdResult {
		return runCmd(t, append(append([]string{"import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--mode", mode,
			"--progress", "never", "--report", rep}, extra...), in)...)
	}
	if res := imp("create"); res.code != exitOK {
		t.Fatalf("first run: got exit %d, want 0:\n%s", res.code, res.stderr)
	}
	ids := map[string]string{}
	for _, r := range readReport(t, rep)[1:] {
		ids[r[1]] = r[3]
	}

	// Run again: nothing is posted twice, every row keeps its id.
	posts := srv.Stats().ByRoute["POST crm/opportunity"]
	if res := imp("create"); res.code != exitOK {
		t.Fatalf("second run: got exit %d, want 0:\n%s", res.code, res.stderr)
	}
	for _, r := range readReport(t, rep)[1:] {
		if r[2] != "skipped" || r[3] != ids[r[1]] {
			t.Errorf("second run, %s: got %s %s, want skipped %s", r[1], r[2], r[3], ids[r[1]])
		}
	}
	if got := srv.Stats().ByRoute["POST crm/opportunity"]; got != posts {
		t.Errorf("the second run posted %d creates, want none", got-posts)
	}

	// Change D2 and D3, delete D4's opportunity on the portal and change it, drop D6, add D7.
	req, _ := http.NewRequest(http.MethodDelete, url+"/api/2.0/crm/opportunity/"+ids["D4"], nil)
	req.Header.Set("Authorization", srv.Token())
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("deleting D4: %v %v", resp, err)
	}
	amount := map[int]int{1: 100, 2: 222, 3: 333, 4: 444, 5: 500, 7: 700}
	var b strings.Builder
	b.WriteString("Deal ID,Title,Amount\n")
	for _, i := range []int{1, 2, 3, 4, 5, 7} {
		fmt.Fprintf(&b, "D%d,Deal number %d,%d\n", i, i, amount[i])
	}
	writeFile(t, dir, "deals.csv", b.String())
	before := srv.Stats()
	// A deal gone from the portal may be hidden, not deleted: created again only when asked.
	res := imp("sync", "--recreate-missing")
	if res.code != exitOK {
		t.Fatalf("sync: got exit %d, want 0:\n%s", res.code, res.stderr)
	}
	var got []string
	for _, r := range readReport(t, rep)[1:] {
		got = append(got, r[1]+":"+r[2])
	}
	want := []string{"D1:unchanged", "D2:updated", "D3:updated", "D4:created", "D5:unchanged", "D7:created"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sync statuses (-want +got):\n%s", diff)
	}
	rows := readReport(t, rep)
	if !strings.Contains(rows[4][6], "no longer on the portal: created again") {
		t.Errorf("D4: got error column %q, want it to say it was created again", rows[4][6])
	}
	after := srv.Stats()
	if n := after.ByRoute["PUT crm/opportunity/{id}"] - before.ByRoute["PUT crm/opportunity/{id}"]; n != 2 {
		t.Errorf("sync sent %d updates, want 2 (D2, D3: the gone D4 is found missing before)", n)
	}
	if n := after.ByRoute["POST crm/opportunity"] - before.ByRoute["POST crm/opportunity"]; n != 2 {
		t.Errorf("sync sent %d creates, want 2 (D4 again and D7)", n)
	}
	gotAmounts := map[string]string{}
	for _, o := range srv.Opportunities() {
		gotAmounts[o.Title] = o.BidValue
	}
	for i, a := range amount {
		if g := gotAmounts[fmt.Sprintf("Deal number %d", i)]; g != fmt.Sprint(a) {
			t.Errorf("deal %d: the portal has amount %s, want %d", i, g, a)
		}
	}
	if !strings.Contains(res.stderr, "D6") || !strings.Contains(res.stderr, "nothing was deleted") {
		t.Errorf("sync does not name the key D6 that left the input:\n%s", res.stderr)
	}

	status := runCmd(t, "status", "--mapping", mp)
	for _, s := range []string{filepath.Join(dir, "deals.state.db"), "6 created", "6 skipped", "2 created, 2 updated, 2 unchanged"} {
		if status.code != exitOK || !strings.Contains(status.out, s) {
			t.Errorf("status does not show %q (exit %d):\n%s%s", s, status.code, status.out, status.stderr)
		}
	}
	status = runCmd(t, "status", "--mapping", mp, "--run", "3")
	if !strings.Contains(status.out, "D2  ") || !strings.Contains(status.out, "updated") {
		t.Errorf("status --run 3 does not list D2 updated:\n%s", status.out)
	}
}

func TestStateLocks(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	mp := writeFile(t, dir, "deals.yaml", stateMapping)
	in := writeFile(t, dir, "deals.csv", dealsCSV(3, func(i int) int { return i }))
	args := []string{"import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--progress", "never",
		"--timeout", "500ms", "--report", filepath.Join(dir, "r.csv"), in}

	// Another live process holds the state: this run must not start.
	db, err := state.Open(filepath.Join(dir, "deals.state.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Lock(context.Background(), os.Getpid(), "elsewhere"); err != nil {
		t.Fatal(err)
	}
	res := runCmd(t, args...)
	if res.code != exitNothing || !strings.Contains(res.stderr, fmt.Sprint("pid ", os.Getpid())) {
		t.Errorf("a locked state: got exit %d, want 2 naming pid %d:\n%s", res.code, os.Getpid(), res.stderr)
	}
	if len(srv.Opportunities()) != 0 {
		t.Errorf("a locked run posted %d opportunities", len(srv.Opportunities()))
	}
	db.Close()

	// A lock left by a process that died is taken over, with a warning: a run killed while it
	// waits on a slow portal leaves its lock behind. (--burst 6: the five look-ups and the first
	// create go at once, the rest at 2 a second.)
	srv.Reset()
	slow := child(t, "import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--progress", "never",
		"--rate", "2", "--burst", "6", "--report", filepath.Join(dir, "r.csv"), in)
	if err := slow.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return len(srv.Opportunities()) > 0 })
	slow.Process.Kill()
	slow.Wait()

	res = runCmd(t, args...)
	if res.code != exitOK || !strings.Contains(res.stderr, "took over the lock") {
		t.Errorf("a dead lock: got exit %d, want 0 with a warning:\n%s", res.code, res.stderr)
	}
	if got := titleCounts(srv); len(got) != 3 || got["Deal number 1"] != 1 {
		t.Errorf("the portal holds %v, want each of the 3 deals once", got)
	}
}

// TestSecondInterruptAbortsAndStateStaysConsistent: a second Ctrl-C cuts the requests in
// flight short (pool's tests prove they are cancelled), and the state still makes the next
// run create each deal once.
func TestSecondInterruptAbortsAndStateStaysConsistent(t *testing.T) {
	t.Parallel()
	// The portal holds each create 200ms and then acts on it, whether or not the client is
	// still waiting; its other answers are not held, so that the look-ups and the settle's
	// reads of the run after take no more than the settle's bound (2 x --timeout).
	f := newFlakyPortal(t, emulator.Options{})
	f.holdFor = 200 * time.Millisecond
	f.slow = func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "crm/opportunity")
	}
	srv, url := f.emu, f.url()
	dir := t.TempDir()
	mp := writeFile(t, dir, "deals.yaml", stateMapping)
	in := writeFile(t, dir, "deals.csv", dealsCSV(20, func(i int) int { return i }))
	args := []string{"import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--progress", "never",
		"--rate", "100", "--timeout", "1s", "--report", filepath.Join(dir, "r.csv"), in}
	sigs := make(chan os.Signal, 2)
	go func() {
		// Once creates are in flight (each held by the portal), interrupt twice.
		waitFor(t, 20*time.Second, func() bool { return srv.Stats().ByRoute["POST crm/opportunity"] >= 4 })
		sigs <- syscall.SIGINT
		sigs <- syscall.SIGINT
	}()
	res := runCmdSignals(t, sigs, args...)
	if res.code != exitStopped {
		t.Fatalf("got exit %d, want 3:\n%s", res.code, res.stderr)
	}
	// The requests cut off were written: the next run settles them and finishes, each deal once.
	srv2Args := append([]string(nil), args...)
	res = runCmd(t, srv2Args...)
	if res.code != exitOK {
		t.Fatalf("the run after: got exit %d, want 0:\n%s", res.code, res.stderr)
	}
	for title, n := range titleCounts(srv) {
		if n != 1 {
			t.Errorf("%q is on the portal %d times, want once", title, n)
		}
	}
	if got := len(titleCounts(srv)); got != 20 {
		t.Errorf("the portal holds %d deals, want 20", got)
	}
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); {
		if time.Now().After(deadline) {
			t.Errorf("still waiting after %v", timeout)
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}
