package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/emulator"
	"github.com/oppimport/oppimport/state"
)

// undoMapping maps every kind of field an undo must put back: text, a contact, a stage, a
// bid type by name, a decimal, a probability, a date or a date-time, a custom field.
const undoMapping = `version: 1
key: ["Deal ID"]
fields:
  title:              { column: Title }
  description:        { column: Notes }
  contactid:          { column: Contact }
  responsibleid:      { value: 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41 }
  stageid:            { column: Stage }
  bidType:            { column: Billing }
  bidValue:           { column: Amount }
  bidCurrencyAbbr:    { value: EUR }
  successProbability: { column: Probability }
  expectedCloseDate:  { column: Close, format: ["YYYY-MM-DD HH:mm", "YYYY-MM-DD"] }
custom_fields:
  - { id: 11, column: Region }
`

const undoHeader = "Deal ID,Title,Notes,Contact,Stage,Billing,Amount,Probability,Close,Region\n"

// undoRun1 is the first import; undoRun2 the sync after it: D2 and D5 changed, D3 renamed,
// D4 given a region it had none of (the portal cannot clear it again), D7 new.
const undoRun1 = undoHeader +
	"D1,Deal one,first notes,1,6,FixedBid,1000.50,40,2025-03-31,North\n" +
	"D2,Deal two,,2,5,PerHour,200,50,2025-06-01 15:30,\n" +
	"D3,Deal three,n3,,1,,300,,,\n" +
	"D4,Deal four,,3,6,PerMonth,400,10,2025-12-01,\n" +
	"D5,Deal five,five,1,7,PerYear,0.25,90,2026-01-15,East\n" +
	"D6,Deal six,,,2,,600,,,\n"

const undoRun2 = undoHeader +
	"D1,Deal one,first notes,1,6,FixedBid,1000.50,40,2025-03-31,North\n" +
	"D2,Deal two,now with notes,3,5,PerDay,250,60,2025-07-01 09:00,\n" +
	"D3,Deal three (renamed),n3,,7,,300,,,\n" +
	"D4,Deal four,,3,6,PerMonth,400,10,2025-12-01,South\n" +
	"D5,Deal five,,1,8,FixedBid,5,100,,West\n" +
	"D6,Deal six,,,2,,600,,,\n" +
	"D7,Deal seven,,,1,,700,,,\n"

// undoSetup is a portal in a zone of its own, a mapping and a place for inputs and reports.
type undoSetup struct {
	t        *testing.T
	srv      *emulator.Server
	url, dir string
	mapping  string
}

func newUndoSetup(t *testing.T, opts emulator.Options) *undoSetup {
	t.Helper()
	if opts.Location == nil {
		// Not UTC, so that dates come back in the portal's own zone and offset.
		opts.Location = time.FixedZone("portal", 2*3600)
	}
	srv, url := startEmulator(t, opts)
	dir := t.TempDir()
	return &undoSetup{t: t, srv: srv, url: url, dir: dir, mapping: writeFile(t, dir, "deals.yaml", undoMapping)}
}

// importCSV imports content with mode and wants exit 0; it returns the report's ids by key.
func (s *undoSetup) importCSV(mode, content string, extra ...string) map[string]string {
	s.t.Helper()
	in := writeFile(s.t, s.dir, "deals.csv", content)
	rep := filepath.Join(s.dir, "import.report.csv")
	args := append([]string{"import", "--mapping", s.mapping, "--url", s.url, "--token", s.srv.Token(),
		"--mode", mode, "--rate", "1000", "--progress", "never", "--report", rep}, extra...)
	res := runCmd(s.t, append(args, in)...)
	if res.code != exitOK {
		s.t.Fatalf("import --mode %s: got exit %d, want 0:\n%s", mode, res.code, res.stderr)
	}
	ids := map[string]string{}
	for _, r := range readReport(s.t, rep)[1:] {
		ids[r[1]] = r[3]
	}
	return ids
}

// undo runs oppimport undo with args and returns its result and its report by key.
func (s *undoSetup) undo(args ...string) (cmdResult, map[string][]string) {
	s.t.Helper()
	rep := filepath.Join(s.dir, "undo.report.csv")
	all := append([]string{"undo", "--mapping", s.mapping, "--rate", "1000", "--progress", "never", "--report", rep}, args...)
	res := runCmd(s.t, all...)
	byKey := map[string][]string{}
	rows := readReport(s.t, rep)
	if want := "row,key,status,opportunity_id,attempts,http_status,error,title,url"; strings.Join(rows[0], ",") != want {
		s.t.Errorf("undo report header: got %q, want %q", strings.Join(rows[0], ","), want)
	}
	for _, r := range rows[1:] {
		byKey[r[1]] = r
	}
	return res, byKey
}

func (s *undoSetup) live() []string { return []string{"--url", s.url, "--token", s.srv.Token()} }

// portal is the portal's opportunities by id.
func (s *undoSetup) portal() map[int]emulator.Opportunity {
	out := map[int]emulator.Opportunity{}
	for _, o := range s.srv.Opportunities() {
		out[o.ID] = o
	}
	return out
}

// changes counts the requests that change an opportunity.
func changes(st emulator.Stats) int {
	return st.ByRoute["DELETE crm/opportunity/{id}"] + st.ByRoute["PUT crm/opportunity/{id}"] +
		st.ByRoute["PUT crm/opportunity"] + st.ByRoute["POST crm/opportunity"]
}

// editByHand changes opportunity id on the portal as a person would, behind the import's back.
func editByHand(t *testing.T, s *undoSetup, id string, body map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPut, s.url+"/api/2.0/crm/opportunity/"+id, bytes.NewReader(b))
	req.Header.Set("Authorization", s.srv.Token())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("editing %s by hand: HTTP %d", id, resp.StatusCode)
	}
}

func oppID(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("id %q: %v", s, err)
	}
	return n
}

func TestUndoTakesBackEachRun(t *testing.T) {
	t.Parallel()
	s := newUndoSetup(t, emulator.Options{})
	ids := s.importCSV("create", undoRun1) // run 1
	afterRun1 := s.portal()
	ids2 := s.importCSV("sync", undoRun2) // run 2
	for k, id := range ids {
		if ids2[k] != id {
			t.Fatalf("sync gave %s id %s, want %s", k, ids2[k], id)
		}
	}
	afterRun2 := s.portal()
	d3, d4, d7 := oppID(t, ids["D3"]), oppID(t, ids["D4"]), oppID(t, ids2["D7"])
	if afterRun2[d4].CustomFields[11] != "South" || afterRun2[d3].Title != "Deal three (renamed)" {
		t.Fatalf("run 2 did not update D3 and D4: %+v %+v", afterRun2[d3], afterRun2[d4])
	}

	// Someone edits D3 on the portal after run 2: the undo must leave it alone.
	editByHand(t, s, ids["D3"], map[string]any{"title": "Edited by hand", "responsibleid": "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41",
		"stageid": 7, "bidCurrencyAbbr": "EUR", "bidValue": 300, "description": "n3"})
	edited := s.portal()[d3]

	// Undo run 2 (run 3).
	before := s.srv.Stats()
	res, rep := s.undo(append(s.live(), "--run", "2")...)
	if res.code != exitRows {
		t.Fatalf("undo of run 2: got exit %d, want 1 (D3 left alone):\n%s", res.code, res.stderr)
	}
	wantStatus := map[string]string{"D1": "skipped", "D2": "restored", "D3": "failed", "D4": "restored", "D5": "restored", "D6": "skipped", "D7": "deleted"}
	gotStatus := map[string]string{}
	for k, r := range rep {
		gotStatus[k] = r[2]
	}
	if diff := cmp.Diff(wantStatus, gotStatus); diff != "" {
		t.Errorf("undo of run 2 statuses (-want +got):\n%s", diff)
	}
	if e := rep["D3"][6]; !strings.Contains(e, "changed on the portal since run 2: title") || !strings.Contains(e, "--force") {
		t.Errorf("D3: got error %q, want it to name the changed title and --force", e)
	}
	if e := rep["D4"][6]; !strings.Contains(e, "not restored: custom field 11") || !strings.Contains(e, "South") {
		t.Errorf("D4: got error %q, want the custom field 11 listed as not restored", e)
	}
	if rep["D7"][3] != ids2["D7"] || rep["D2"][3] != ids["D2"] {
		t.Errorf("the undo report does not carry the ids: D7 %q, D2 %q", rep["D7"][3], rep["D2"][3])
	}
	for _, s := range []string{"run 3 (undo of run 2)", "1 deleted", "3 restored", "1 failed", "2 skipped"} {
		if !strings.Contains(res.stderr, s) {
			t.Errorf("the undo's summary does not say %q:\n%s", s, res.stderr)
		}
	}
	after := s.srv.Stats()
	if n := after.ByRoute["PUT crm/opportunity"] - before.ByRoute["PUT crm/opportunity"]; n != 0 {
		t.Errorf("the undo sent %d PUTs without an id (a bulk delete)", n)
	}
	if n := after.ByRoute["DELETE crm/opportunity/{id}"] - before.ByRoute["DELETE crm/opportunity/{id}"]; n != 1 {
		t.Errorf("the undo sent %d DELETEs, want 1 (D7)", n)
	}
	if n := after.ByRoute["PUT crm/opportunity/{id}"] - before.ByRoute["PUT crm/opportunity/{id}"]; n != 3 {
		t.Errorf("the undo sent %d PUTs, want 3 (D2, D4, D5)", n)
	}

	// The portal is as before run 2, but for D3 (edited since) and D4's custom field.
	want := map[int]emulator.Opportunity{}
	for id, o := range afterRun1 {
		want[id] = o
	}
	want[d3] = edited
	d4want := want[d4]
	d4want.CustomFields = map[int]string{11: "South"} // it had none: the portal cannot clear it again
	want[d4] = d4want
	if diff := cmp.Diff(want, s.portal()); diff != "" {
		t.Errorf("after the undo of run 2 the portal holds (-want +got):\n%s", diff)
	}
	if _, ok := s.portal()[d7]; ok {
		t.Errorf("D7 (%d), created by run 2, is still on the portal", d7)
	}

	// status shows the undo as a run, and what it did.
	st := runCmd(t, "status", "--mapping", s.mapping)
	if !strings.Contains(st.out, "undo") || !strings.Contains(st.out, "run 2") || !strings.Contains(st.out, "1 deleted, 3 restored") {
		t.Errorf("status does not show run 3 as the undo of run 2:\n%s", st.out)
	}
	st = runCmd(t, "status", "--mapping", s.mapping, "--run", "3")
	for _, line := range [][]string{{"D7", "deleted", ids2["D7"]}, {"D2", "restored", ids["D2"]}, {"D3", "failed"}} {
		found := false
		for _, l := range strings.Split(st.out, "\n") {
			f := strings.Fields(l)
			if len(f) > 0 {
				if _, err := strconv.Atoi(f[0]); err == nil {
					f = f[1:] // the input row
				}
			}
			if len(f) >= len(line) && cmp.Equal(f[:len(line)], line) {
				found = true
			}
		}
		if !found {
			t.Errorf("status --run 3 has no line %q:\n%s", line, st.out)
		}
	}

	// Undo run 2 again (run 4): nothing is sent but D3's look; D3 is still left alone.
	before = s.srv.Stats()
	res, rep = s.undo(append(s.live(), "--run", "2")...)
	if res.code != exitRows {
		t.Errorf("second undo of run 2: got exit %d, want 1 (D3 still left alone):\n%s", res.code, res.stderr)
	}
	if n := changes(s.srv.Stats()) - changes(before); n != 0 {
		t.Errorf("the second undo sent %d changes, want none", n)
	}
	if n := s.srv.Stats().ByRoute["GET crm/opportunity/{id}"] - before.ByRoute["GET crm/opportunity/{id}"]; n != 1 {
		t.Errorf("the second undo read %d opportunities, want 1 (D3, not undone yet)", n)
	}
	for _, k := range []string{"D2", "D4", "D5", "D7"} {
		if rep[k][2] != "skipped" || !strings.Contains(rep[k][6], "undone already by run 3") {
			t.Errorf("second undo, %s: got %s %q, want skipped, undone already by run 3", k, rep[k][2], rep[k][6])
		}
	}

	// --force takes D3 back too (run 5).
	res, rep = s.undo(append(s.live(), "--run", "2", "--force")...)
	if res.code != exitOK || rep["D3"][2] != "restored" || !strings.Contains(rep["D3"][6], "--force") {
		t.Fatalf("undo --force of run 2: got exit %d, D3 %v:\n%s", res.code, rep["D3"], res.stderr)
	}
	want[d3] = afterRun1[d3]
	if diff := cmp.Diff(want, s.portal()); diff != "" {
		t.Errorf("after undo --force of run 2 the portal holds (-want +got):\n%s", diff)
	}

	// Undo run 1 (run 6): the portal is empty again, as before the migration.
	res, rep = s.undo(append(s.live(), "--run", "1")...)
	if res.code != exitOK {
		t.Fatalf("undo of run 1: got exit %d, want 0:\n%s", res.code, res.stderr)
	}
	for k, r := range rep {
		if r[2] != "deleted" {
			t.Errorf("undo of run 1, %s: got %s %q, want deleted", k, r[2], r[6])
		}
	}
	if n := len(s.srv.Opportunities()); n != 0 {
		t.Errorf("after undoing both runs the portal holds %d opportunities, want none", n)
	}

	// The state forgot the deleted ids: importing again creates every row again.
	posts := s.srv.Stats().ByRoute["POST crm/opportunity"]
	s.importCSV("create", undoRun1)
	if n := s.srv.Stats().ByRoute["POST crm/opportunity"] - posts; n != 6 || len(s.srv.Opportunities()) != 6 {
		t.Errorf("importing after the undo: %d creates, %d on the portal, want 6 and 6", n, len(s.srv.Opportunities()))
	}
}

func TestUndoDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	s := newUndoSetup(t, emulator.Options{})
	ids := s.importCSV("create", undoRun1)
	s.importCSV("sync", undoRun2)
	editByHand(t, s, ids["D3"], map[string]any{"title": "Edited by hand", "responsibleid": "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41",
		"stageid": 7, "bidCurrencyAbbr": "EUR"})
	portal, stats := s.portal(), s.srv.Stats()
	status := runCmd(t, "status", "--mapping", s.mapping).out

	res, rep := s.undo(append(s.live(), "--run", "2", "--dry-run")...)
	if res.code != exitRows {
		t.Errorf("dry run: got exit %d, want 1 (D3 would be left alone):\n%s", res.code, res.stderr)
	}
	want := map[string]string{"D1": "skipped", "D2": "would-restore", "D3": "failed", "D4": "would-restore",
		"D5": "would-restore", "D6": "skipped", "D7": "would-delete"}
	got := map[string]string{}
	for k, r := range rep {
		got[k] = r[2]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dry run statuses (-want +got):\n%s", diff)
	}
	if !strings.Contains(rep["D4"][6], "not restored: custom field 11") {
		t.Errorf("dry run, D4: got %q, want the custom field it cannot restore", rep["D4"][6])
	}
	if !strings.Contains(res.stderr, "dry run of the undo of run 2") {
		t.Errorf("the dry run's summary does not say it is one:\n%s", res.stderr)
	}
	if n := changes(s.srv.Stats()) - changes(stats); n != 0 {
		t.Errorf("the dry run sent %d changes, want none", n)
	}
	if diff := cmp.Diff(portal, s.portal()); diff != "" {
		t.Errorf("the dry run changed the portal (-before +after):\n%s", diff)
	}
	if after := runCmd(t, "status", "--mapping", s.mapping).out; after != status {
		t.Errorf("the dry run changed the state:\nbefore:\n%s\nafter:\n%s", status, after)
	}

	// Without --url: from the state alone, and said so.
	reads := s.srv.Stats().ByRoute["GET crm/opportunity/{id}"]
	res, rep = s.undo("--run", "2", "--dry-run")
	if res.code != exitOK || !strings.Contains(res.stderr, "no --url") {
		t.Errorf("dry run without --url: got exit %d, want 0 and a word that nothing was compared:\n%s", res.code, res.stderr)
	}
	if rep["D7"][2] != "would-delete" || rep["D3"][2] != "would-restore" || !strings.Contains(rep["D3"][6], "not compared") {
		t.Errorf("dry run without --url: got D7 %v, D3 %v", rep["D7"], rep["D3"])
	}
	if n := s.srv.Stats().ByRoute["GET crm/opportunity/{id}"] - reads; n != 0 {
		t.Errorf("the dry run without --url read %d opportunities from the portal", n)
	}
}

func TestUndoKilledMidwayFinishes(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process")
	}
	t.Parallel()
	const rows = 20
	s := newUndoSetup(t, emulator.Options{})
	var b strings.Builder
	b.WriteString(undoHeader)
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&b, "D%d,Deal %d,,,1,,%d,,,\n", i, i, i*10)
	}
	s.importCSV("create", b.String(), "--rate", "400")

	// A slow undo, killed once it has deleted a few.
	slow := child(t, "undo", "--mapping", s.mapping, "--url", s.url, "--token", s.srv.Token(), "--run", "1",
		"--rate", "10", "--concurrency", "2", "--progress", "never", "--report", filepath.Join(s.dir, "killed.csv"))
	var stderr strings.Builder
	slow.Stderr = &stderr
	if err := slow.Start(); err != nil {
		t.Fatal(err)
	}
	// Seven DELETEs sent, two at most still in flight: five done (counted, not by copying
	// the portal's deals every 2ms).
	waitFor(t, 20*time.Second, func() bool { return s.srv.Requests("DELETE", "crm/opportunity/{id}") >= 7 })
	slow.Process.Kill()
	slow.Wait()
	left := len(s.srv.Opportunities())
	if left == 0 || left > rows-5 {
		t.Fatalf("the killed undo left %d of %d opportunities, want it stopped midway:\n%s", left, rows, stderr.String())
	}

	res, rep := s.undo(append(s.live(), "--run", "1")...)
	if res.code != exitOK {
		t.Fatalf("the undo after the kill: got exit %d, want 0:\n%s", res.code, res.stderr)
	}
	if n := len(s.srv.Opportunities()); n != 0 {
		t.Errorf("after the second undo the portal holds %d opportunities, want none", n)
	}
	if n := s.srv.Stats().ByRoute["DELETE crm/opportunity/{id}"]; n != rows {
		t.Errorf("the two undos sent %d DELETEs, want %d: each opportunity once", n, rows)
	}
	done := 0
	for _, r := range rep {
		switch {
		case r[2] == "skipped" && strings.Contains(r[6], "undone already by run 2"):
			done++
		case r[2] != "deleted":
			t.Errorf("the undo after the kill, %s: got %s %q, want deleted or undone already", r[1], r[2], r[6])
		}
	}
	if done == 0 || done == rows {
		t.Errorf("the undo after the kill found %d rows undone by the killed one, want some, not all", done)
	}
	// And once more: nothing left to do, nothing sent.
	before := s.srv.Stats()
	if res, _ := s.undo(append(s.live(), "--run", "1")...); res.code != exitOK {
		t.Errorf("a third undo: got exit %d, want 0:\n%s", res.code, res.stderr)
	}
	if n := changes(s.srv.Stats()) - changes(before); n != 0 {
		t.Errorf("a third undo sent %d changes, want none", n)
	}
}

func TestUndoRefuses(t *testing.T) {
	t.Parallel()
	s := newUndoSetup(t, emulator.Options{})
	s.importCSV("create", undoRun1)
	live := s.live()
	other, otherURL := startEmulator(t, emulator.Options{})
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no run", live, "--run N is required"},
		{"unknown run", append(live, "--run", "9"), "has no run 9"},
		{"no url", []string{"--run", "1"}, "--url"},
		{"another portal", []string{"--run", "1", "--url", otherURL, "--token", other.Token()}, "run 1 was against " + state.Portal(s.url)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stats := s.srv.Stats()
			res := runCmd(t, append([]string{"undo", "--mapping", s.mapping, "--progress", "never",
				"--report", filepath.Join(s.dir, "refused.csv")}, tc.args...)...)
			if res.code != exitNothing {
				t.Errorf("got exit %d, want 2:\n%s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, tc.want) {
				t.Errorf("stderr does not say %q:\n%s", tc.want, res.stderr)
			}
			if n := changes(s.srv.Stats()) - changes(stats); n != 0 {
				t.Errorf("a refused undo sent %d changes", n)
			}
		})
	}
	// An undo of an undo is refused: import again to redo.
	if res, _ := s.undo(append(live, "--run", "1", "--dry-run")...); res.code != exitOK {
		t.Fatalf("dry run: got exit %d:\n%s", res.code, res.stderr)
	}
	if res, _ := s.undo(append(live, "--run", "1")...); res.code != exitOK {
		t.Fatalf("undo of run 1: got exit %d:\n%s", res.code, res.stderr)
	}
	res := runCmd(t, "undo", "--mapping", s.mapping, "--run", "2", "--url", s.url, "--token", s.srv.Token(), "--progress", "never")
	if res.code != exitNothing || !strings.Contains(res.stderr, "itself an undo") {
		t.Errorf("undo of an undo: got exit %d, want 2 saying so:\n%s", res.code, res.stderr)
	}
}

// TestSyncAfterAKilledUndo: an undo killed midway leaves its requests unanswered; the
// nightly sync that runs before the undo is run again leaves those rows alone, saying which
// undo to finish, and the undo run again finishes them.
func TestSyncAfterAKilledUndo(t *testing.T) {
	t.Parallel()
	s := newUndoSetup(t, emulator.Options{})
	ids := s.importCSV("create", undoRun1) // run 1
	s.importCSV("sync", undoRun2)          // run 2
	// An undo of run 2 (run 3) that was killed after its intent for D2, before the answer.
	db, err := state.Open(filepath.Join(s.dir, "deals.state.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	undoRun, err := db.StartRun(ctx, state.Run{Portal: state.Portal(s.url), Mode: "undo", UndoOf: 2})
	if err == nil {
		err = db.Intent(ctx, undoRun, state.Portal(s.url), "D2", state.Request{Method: "PUT", Hash: "x", Body: []byte(`{"Title":"Deal two"}`)})
	}
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	in := writeFile(t, s.dir, "deals.csv", undoRun2)
	rep := filepath.Join(s.dir, "sync.report.csv")
	res := runCmd(t, "import", "--mapping", s.mapping, "--url", s.url, "--token", s.srv.Token(), "--mode", "sync",
		"--progress", "never", "--report", rep, in)
	if res.code != exitRows {
		t.Fatalf("the sync after the killed undo: got exit %d, want 1 (D2 left alone):\n%s", res.code, res.stderr)
	}
	for _, r := range readReport(t, rep)[1:] {
		if r[1] == "D2" && (r[2] != "failed" || !strings.Contains(r[6], fmt.Sprintf("undo run %d was interrupted here: run oppimport undo --run 2 again", undoRun))) {
			t.Errorf("D2 in the sync: %s %q, want failed, naming the undo to run again", r[2], r[6])
		}
	}
	res, byKey := s.undo(append(s.live(), "--run", "2")...)
	if res.code != exitOK || byKey["D2"][2] != "restored" {
		t.Fatalf("the undo run again: exit %d, D2 %v:\n%s", res.code, byKey["D2"], res.stderr)
	}
	if d2 := s.portal()[oppID(t, ids["D2"])]; d2.BidValue != "200" {
		t.Errorf("D2 after the undo: amount %s, want 200 as before run 2", d2.BidValue)
	}
}
