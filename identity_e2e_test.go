package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oppimport/oppimport/emulator"
	"github.com/oppimport/oppimport/onlyoffice"
)

// The mapping of stateMapping with the key written into the portal.
const keyedMapping = stateMapping + "key_field: Legacy ID\n"

// keyCounts counts the portal's deals by the key they hold in the key field.
func keyCounts(t *testing.T, srv *emulator.Server) map[string]int {
	t.Helper()
	f, ok := srv.CustomFieldByLabel("Legacy ID")
	if !ok {
		t.Fatal("the portal has no custom field Legacy ID")
	}
	return srv.CountByField(f.ID)
}

// eachKeyOnce fails unless the portal holds each of keys D1..Dn exactly once, and nothing else.
func eachKeyOnce(t *testing.T, srv *emulator.Server, n int) {
	t.Helper()
	got := keyCounts(t, srv)
	for i := 1; i <= n; i++ {
		if c := got[fmt.Sprintf("D%d", i)]; c != 1 {
			t.Errorf("key D%d is on the portal %d times, want once", i, c)
		}
	}
	if len(srv.Opportunities()) != n {
		t.Errorf("the portal holds %d opportunities, want %d", len(srv.Opportunities()), n)
	}
}

// importArgs are an import of in with mapping mp into the emulator, with extra flags.
func importArgs(srv *emulator.Server, url, mp, in, report string, extra ...string) []string {
	args := []string{"import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--rate", "1000",
		"--timeout", "500ms", "--progress", "never", "--report", report}
	return append(append(args, extra...), in)
}

// Whatever becomes of the state database, the portal says which rows it holds: a second
// run creates nothing.
func TestKeyFieldSurvivesTheStateDatabase(t *testing.T) {
	t.Parallel()
	const rows = 10
	tests := []struct {
		name string
		// lose does something to the state database (or the mapping) of the first run in
		// dir, and returns the mapping and the extra flags of the second run.
		lose func(t *testing.T, dir, mp string) (string, []string)
	}{
		{"deleted", func(t *testing.T, dir, mp string) (string, []string) {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(filepath.Join(dir, "deals.state.db"+suffix))
			}
			return mp, nil
		}},
		{"copied without its -wal", func(t *testing.T, dir, mp string) (string, []string) {
			data, err := os.ReadFile(filepath.Join(dir, "deals.state.db"))
			if err != nil {
				t.Fatal(err)
			}
			return mp, []string{"--state", writeFile(t, t.TempDir(), "copy.state.db", string(data))}
		}},
		{"moved with the mapping to another folder", func(t *testing.T, dir, mp string) (string, []string) {
			data, _ := os.ReadFile(mp)
			return writeFile(t, t.TempDir(), "deals.yaml", string(data)), nil
		}},
		{"replaced by a fresh one", func(t *testing.T, dir, mp string) (string, []string) {
			return mp, []string{"--state", filepath.Join(t.TempDir(), "fresh.state.db")}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, url := startEmulator(t, emulator.Options{})
			dir := t.TempDir()
			in := writeFile(t, dir, "deals.csv", dealsCSV(rows, func(i int) int { return i }))
			mp := writeFile(t, dir, "deals.yaml", keyedMapping)
			res := runCmd(t, importArgs(srv, url, mp, in, filepath.Join(dir, "r1.csv"))...)
			if res.code != exitOK {
				t.Fatalf("first run: exit %d, want 0:\n%s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, "created the opportunity custom field") {
				t.Errorf("first run: stderr does not say the key field was created:\n%s", res.stderr)
			}
			mp2, extra := tt.lose(t, dir, mp)
			rep := filepath.Join(dir, "r2.csv")
			res = runCmd(t, importArgs(srv, url, mp2, in, rep, extra...)...)
			if res.code != exitOK {
				t.Fatalf("second run: exit %d, want 0:\n%s", res.code, res.stderr)
			}
			for _, r := range readReport(t, rep)[1:] {
				if r[2] != "skipped" || r[3] == "" {
					t.Errorf("second run, row %s: %s with id %q, want skipped with the id on the portal", r[0], r[2], r[3])
				}
			}
			if n := srv.Requests("POST", "crm/opportunity"); n != rows {
				t.Errorf("creates sent in all: %d, want %d", n, rows)
			}
			eachKeyOnce(t, srv, rows)
		})
	}
}

// Two spellings of one portal are one portal, key_field or not.
func TestOnePortalOneIdentity(t *testing.T) {
	t.Parallel()
	const rows = 5
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	in := writeFile(t, dir, "deals.csv", dealsCSV(rows, func(i int) int { return i }))
	mp := writeFile(t, dir, "deals.yaml", stateMapping)
	if res := runCmd(t, importArgs(srv, url, mp, in, filepath.Join(dir, "r1.csv"))...); res.code != exitOK {
		t.Fatalf("first run: exit %d:\n%s", res.code, res.stderr)
	}
	port := url[strings.LastIndex(url, ":")+1:]
	for _, spelling := range []string{"http://localhost:" + port + "/api/2.0", "HTTP://LocalHost:" + port + "/", "http://[::1]:" + port} {
		if spelling == "http://[::1]:"+port {
			continue // the emulator listens on 127.0.0.1 only: the name is tested in state.Portal
		}
		rep := filepath.Join(dir, "r2.csv")
		res := runCmd(t, importArgs(srv, spelling, mp, in, rep)...)
		if res.code != exitOK {
			t.Fatalf("%s: exit %d, want 0:\n%s", spelling, res.code, res.stderr)
		}
		for _, r := range readReport(t, rep)[1:] {
			if r[2] != "skipped" {
				t.Errorf("%s, row %s: %s, want skipped", spelling, r[0], r[2])
			}
		}
		if strings.HasSuffix(spelling, "/api/2.0") && !strings.Contains(res.stderr, "ends in /api/2.0") {
			t.Errorf("%s: no warning about the pasted /api/2.0:\n%s", spelling, res.stderr)
		}
	}
	if got := len(srv.Opportunities()); got != rows {
		t.Errorf("the portal holds %d opportunities, want %d", got, rows)
	}
}

// A key change between runs stops the run before anything is posted.
func TestKeyChangeStopsBeforePosting(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	in := writeFile(t, dir, "deals.csv", dealsCSV(5, func(i int) int { return i }))
	mp := writeFile(t, dir, "deals.yaml", keyedMapping)
	if res := runCmd(t, importArgs(srv, url, mp, in, filepath.Join(dir, "r1.csv"))...); res.code != exitOK {
		t.Fatalf("first run: exit %d:\n%s", res.code, res.stderr)
	}
	writeFile(t, dir, "deals.yaml", strings.Replace(keyedMapping, `key: ["Deal ID"]`, `key: ["Title"]`, 1))
	in = writeFile(t, dir, "deals.csv", dealsCSV(8, func(i int) int { return i }))
	before := srv.Stats().ByRoute
	res := runCmd(t, importArgs(srv, url, mp, in, filepath.Join(dir, "r2.csv"))...)
	if res.code != exitNothing {
		t.Errorf("exit %d, want %d:\n%s", res.code, exitNothing, res.stderr)
	}
	for _, want := range []string{`key: ["Deal ID"] with key_field: "Legacy ID"`, `key: ["Title"] with key_field: "Legacy ID"`, "--state", "nothing was posted"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
		}
	}
	after := srv.Stats().ByRoute
	for _, route := range []string{"POST crm/opportunity", "PUT crm/opportunity/{id}"} {
		if after[route] != before[route] {
			t.Errorf("%s: %d requests before, %d after, want none sent", route, before[route], after[route])
		}
	}
	// The refused run left no run behind.
	st := runCmd(t, "status", "--mapping", mp)
	if strings.Contains(st.out, "\n2 ") || strings.Contains(st.out, "died") {
		t.Errorf("status after a refused run lists a second run:\n%s", st.out)
	}
}

// Without key_field, a new state database against a portal that already holds deals says
// loudly that identity is local.
func TestLocalIdentityIsWarnedAbout(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	in := writeFile(t, dir, "deals.csv", dealsCSV(3, func(i int) int { return i }))
	mp := writeFile(t, dir, "deals.yaml", stateMapping)
	res := runCmd(t, importArgs(srv, url, mp, in, filepath.Join(dir, "r1.csv"))...)
	if strings.Contains(res.stderr, "IDENTITY IS LOCAL") {
		t.Errorf("first run on an empty portal warns:\n%s", res.stderr)
	}
	res = runCmd(t, importArgs(srv, url, mp, in, filepath.Join(dir, "r2.csv"), "--state", filepath.Join(dir, "other.state.db"))...)
	if !strings.Contains(res.stderr, "IDENTITY IS LOCAL") || !strings.Contains(res.stderr, "key_field") {
		t.Errorf("a new state database against a portal with deals: no warning:\n%s", res.stderr)
	}
	res = runCmd(t, importArgs(srv, url, mp, in, filepath.Join(dir, "r3.csv"))...)
	if strings.Contains(res.stderr, "IDENTITY IS LOCAL") {
		t.Errorf("a state database that imported into this portal before warns:\n%s", res.stderr)
	}
}

// An SSO gateway answering 200 with a login page to a share of the sync's PUTs: every
// update reported done landed (read back by the poster), and the rest is reported failed.
// An undo through the same gateway is undo's TestUndoThroughALoginPage.
func TestHTMLGatewayOnUpdates(t *testing.T) {
	t.Parallel()
	const rows = 30
	srv, url := startEmulator(t, emulator.Options{Seed: 3})
	dir := t.TempDir()
	in := writeFile(t, dir, "deals.csv", dealsCSV(rows, func(i int) int { return i }))
	mp := writeFile(t, dir, "deals.yaml", keyedMapping)
	if res := runCmd(t, importArgs(srv, url, mp, in, filepath.Join(dir, "r1.csv"))...); res.code != exitOK {
		t.Fatalf("import: exit %d:\n%s", res.code, res.stderr)
	}
	srv.SetProxyFaults(0, 0.15)
	in = writeFile(t, dir, "deals.csv", dealsCSV(rows, func(i int) int { return 1000 + i }))
	rep := filepath.Join(dir, "r2.csv")
	res := runCmd(t, importArgs(srv, url, mp, in, rep, "--mode", "sync")...)
	if res.code != exitOK && res.code != exitRows {
		t.Fatalf("sync: exit %d:\n%s", res.code, res.stderr)
	}
	amounts := map[int]string{}
	for _, o := range srv.Opportunities() {
		amounts[o.ID] = o.BidValue
	}
	updated := 0
	for _, r := range readReport(t, rep)[1:] {
		want := fmt.Sprint(1000 + atoi(strings.TrimPrefix(r[1], "D")))
		switch got := amounts[atoi(r[3])]; r[2] {
		case "updated":
			updated++
			if got != want {
				t.Errorf("row %s reported updated: the portal holds %s, want %s", r[0], got, want)
			}
		case "failed":
		default:
			t.Errorf("row %s: %s, want updated or failed", r[0], r[2])
		}
	}
	if updated == 0 {
		t.Error("nothing was updated")
	}
	eachKeyOnce(t, srv, rows)
}

// A deal a portal user made private, hidden from the token's user (404, as the server
// answers for a deleted one), through a sync: reported, never created again, never made
// public, each key once.
func TestHiddenDealThroughSync(t *testing.T) {
	t.Parallel()
	const rows = 10
	srv, url := startEmulator(t, emulator.Options{NotAdmin: true})
	field := srv.AddCustomField("Legacy ID", 0, "")
	dir := t.TempDir()
	in := writeFile(t, dir, "deals.csv", dealsCSV(rows, func(i int) int { return i }))
	mp := writeFile(t, dir, "deals.yaml", keyedMapping)
	rep := filepath.Join(dir, "r1.csv")
	if res := runCmd(t, importArgs(srv, url, mp, in, rep)...); res.code != exitOK {
		t.Fatalf("import: exit %d:\n%s", res.code, res.stderr)
	}
	hidden := atoi(readReport(t, rep)[3][3]) // D3
	maria := srv.Users()[1].ID
	if err := srv.Edit("viktor.petrov", hidden, func(o *emulator.Opportunity) {
		o.IsPrivate, o.AccessList = true, []string{maria}
	}); err != nil {
		t.Fatal(err)
	}
	in = writeFile(t, dir, "deals.csv", dealsCSV(rows, func(i int) int { return 100 + i }))
	rep = filepath.Join(dir, "r2.csv")
	res := runCmd(t, importArgs(srv, url, mp, in, rep, "--mode", "sync")...)
	if res.code != exitRows {
		t.Errorf("sync: exit %d, want %d:\n%s", res.code, exitRows, res.stderr)
	}
	for _, r := range readReport(t, rep)[1:] {
		switch {
		case r[1] == "D3" && (r[2] != "failed" || !strings.Contains(r[6], "deleted or no longer visible to this user")):
			t.Errorf("D3: %s %q, want failed: deleted or no longer visible", r[2], r[6])
		case r[1] != "D3" && r[2] != "updated":
			t.Errorf("%s: %s %q, want updated", r[1], r[2], r[6])
		}
	}
	if got := srv.CountByField(field.ID); len(got) != rows || got["D3"] != 1 {
		t.Errorf("keys on the portal %v, want each of %d once", got, rows)
	}
	for _, o := range srv.Opportunities() {
		if o.ID == hidden && (!o.IsPrivate || !slices.Contains(o.AccessList, maria) || slices.Contains(o.AccessList, srv.Users()[0].ID) || o.BidValue != "3") {
			t.Errorf("the hidden deal became %+v, want it private to Maria (and the admin who hid it) and untouched", o)
		}
	}
}

// A user who may not create custom fields, on a portal without the key field: exit 2,
// saying how to get it, before anything is posted.
func TestKeyFieldMissingAndNotAdmin(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{NotAdmin: true})
	dir := t.TempDir()
	in := writeFile(t, dir, "deals.csv", dealsCSV(3, func(i int) int { return i }))
	mp := writeFile(t, dir, "deals.yaml", keyedMapping)
	res := runCmd(t, importArgs(srv, url, mp, in, filepath.Join(dir, "r.csv"))...)
	if res.code != exitNothing {
		t.Errorf("exit %d, want %d:\n%s", res.code, exitNothing, res.stderr)
	}
	for _, want := range []string{`custom field "Legacy ID"`, "administrator", "Text field", "nothing was posted"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
		}
	}
	if n := len(srv.Opportunities()); n != 0 {
		t.Errorf("the portal holds %d opportunities, want none", n)
	}
	// validate says an import would create it, and creates nothing.
	res = runCmd(t, "validate", "--mapping", mp, "--url", url, "--token", srv.Token(), "--progress", "never",
		"--report", filepath.Join(dir, "v.csv"), in)
	if !strings.Contains(res.stderr, "an import would create it") {
		t.Errorf("validate does not say the field would be created:\n%s", res.stderr)
	}
	if _, ok := srv.CustomFieldByLabel("Legacy ID"); ok {
		t.Error("validate created the custom field")
	}
}

// kill -9 in the middle of a run, then a portal user edits the deals it made (titles
// echoed HTML-encoded), then the run again: each key exactly once.
func TestKilledThenEditedThenResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process")
	}
	t.Parallel()
	// 32 rows answered after 80ms each, 8 at a time: the kill at a third comes some 200ms
	// before the run would end, as with 120 rows at 20ms, for a quarter of the rows' work.
	const rows = 32
	srv, url := startEmulator(t, emulator.Options{Latency: 80 * time.Millisecond, EncodeTitles: true})
	dir := t.TempDir()
	in := writeFile(t, dir, "deals.csv", dealsCSV(rows, func(i int) int { return i }))
	mp := writeFile(t, dir, "deals.yaml", keyedMapping)
	args := importArgs(srv, url, mp, in, filepath.Join(dir, "r.csv"), "--concurrency", "8", "--timeout", "1s")
	cmd := child(t, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(srv.Opportunities()) < rows/3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	made := srv.Opportunities()
	if len(made) == 0 || len(made) == rows {
		t.Fatalf("the killed run made %d deals, want some but not all", len(made))
	}
	for _, o := range made {
		if err := srv.Edit("anna.berg", o.ID, func(o *emulator.Opportunity) {
			o.Title += " & Co's"
			o.StageID = 2
		}); err != nil {
			t.Fatal(err)
		}
	}
	st := runCmd(t, "status", "--mapping", mp)
	if !strings.Contains(st.out, "died") {
		t.Errorf("status after the kill does not say the run died:\n%s", st.out)
	}
	if !strings.Contains(st.out, " created") {
		t.Errorf("status after the kill does not count what the died run created:\n%s", st.out)
	}
	if !strings.Contains(st.stderr, "-wal") || !strings.Contains(st.stderr, "no run holding it") {
		t.Errorf("status after the kill does not warn about the -wal left behind:\n%s", st.stderr)
	}
	res := runCmd(t, args...)
	if res.code != exitOK {
		t.Fatalf("the run after the kill: exit %d, want 0:\n%s", res.code, res.stderr)
	}
	eachKeyOnce(t, srv, rows)
}

// Two runs at once on two state databases both create every row; dedupe then keeps the
// oldest deal of each key, and is a run that status shows.
func TestConcurrentRunsThenDedupe(t *testing.T) {
	t.Parallel()
	const rows = 20
	srv, url := startEmulator(t, emulator.Options{Latency: 2 * time.Millisecond})
	dir := t.TempDir()
	in := writeFile(t, dir, "deals.csv", dealsCSV(rows, func(i int) int { return i }))
	mp := writeFile(t, dir, "deals.yaml", keyedMapping)
	// The field first, so that the two runs do not both create it.
	srv.AddCustomField("Legacy ID", 0, "")
	// A generous --timeout: two runs that each create every key cannot settle a lost answer
	// (two candidates), and under the race detector on a loaded machine an answer took more
	// than importArgs' 500ms.
	done := make(chan cmdResult, 2)
	for i := range 2 {
		go func() {
			done <- runCmd(t, importArgs(srv, url, mp, in, filepath.Join(dir, fmt.Sprintf("r%d.csv", i)),
				"--state", filepath.Join(dir, fmt.Sprintf("s%d.state.db", i)), "--timeout", "30s")...)
		}()
	}
	for range 2 {
		if res := <-done; res.code != exitOK {
			t.Fatalf("a concurrent run: exit %d:\n%s", res.code, res.stderr)
		}
	}
	if n := len(srv.Opportunities()); n <= rows {
		t.Fatalf("the two runs made %d deals for %d rows: the test proves nothing", n, rows)
	}
	copies := len(srv.Opportunities()) - rows

	res := runCmd(t, "dedupe", "--mapping", mp, "--url", url, "--token", srv.Token(), "--rate", "1000", "--dry-run")
	if res.code != exitOK || !strings.Contains(res.out, fmt.Sprintf("%d later copies to delete", copies)) {
		t.Errorf("dedupe --dry-run: exit %d, want 0 and %d copies listed:\n%s\n%s", res.code, copies, res.out, res.stderr)
	}
	if n := len(srv.Opportunities()); n != rows+copies {
		t.Errorf("after the dry run the portal holds %d deals, want all %d", n, rows+copies)
	}
	oldest := map[string]int{}
	f, _ := srv.CustomFieldByLabel("Legacy ID")
	for _, o := range srv.Opportunities() {
		k := o.CustomFields[f.ID]
		if id, ok := oldest[k]; !ok || o.ID < id {
			oldest[k] = o.ID
		}
	}
	res = runCmd(t, "dedupe", "--mapping", mp, "--url", url, "--token", srv.Token(), "--rate", "1000", "--yes")
	if res.code != exitOK {
		t.Fatalf("dedupe: exit %d:\n%s\n%s", res.code, res.out, res.stderr)
	}
	eachKeyOnce(t, srv, rows)
	for _, o := range srv.Opportunities() {
		if k := o.CustomFields[f.ID]; oldest[k] != o.ID {
			t.Errorf("key %s: deal %d kept, want the oldest, %d", k, o.ID, oldest[k])
		}
	}
	st := runCmd(t, "status", "--mapping", mp)
	if !strings.Contains(st.out, "dedupe") || !strings.Contains(st.out, fmt.Sprintf("%d deleted", copies)) {
		t.Errorf("status does not show the dedupe run with %d deleted:\n%s", copies, st.out)
	}
}

// The undo of a dedupe creates the deleted copies again from the records it kept.
func TestUndoOfADedupe(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	in := writeFile(t, dir, "deals.csv", dealsCSV(5, func(i int) int { return 10 * i }))
	mp := writeFile(t, dir, "deals.yaml", keyedMapping)
	for i := range 2 { // two state databases: every deal twice
		if res := runCmd(t, importArgs(srv, url, mp, in, filepath.Join(dir, "r.csv"), "--state", filepath.Join(dir, fmt.Sprintf("s%d.db", i)))...); res.code != exitOK {
			t.Fatalf("import %d: exit %d:\n%s", i, res.code, res.stderr)
		}
	}
	// The second import found the first's deals by their keys: make the copies by hand.
	f, _ := srv.CustomFieldByLabel("Legacy ID")
	if n := len(srv.Opportunities()); n != 5 {
		t.Fatalf("after two imports with key_field the portal holds %d deals, want 5", n)
	}
	c, err := onlyoffice.NewClient(onlyoffice.Config{BaseURL: url, Token: srv.Token()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	for _, o := range srv.Opportunities()[:2] {
		if _, err := c.CreateOpportunity(context.Background(), onlyoffice.Opportunity{Title: o.Title, ResponsibleID: o.ResponsibleID,
			StageID: int64(o.StageID), BidCurrencyAbbr: o.BidCurrency, CustomFields: []onlyoffice.CustomField{{ID: int64(f.ID), Value: o.CustomFields[f.ID]}}}); err != nil {
			t.Fatal(err)
		}
	}
	if res := runCmd(t, "dedupe", "--mapping", mp, "--url", url, "--token", srv.Token(), "--rate", "1000", "--yes"); res.code != exitOK {
		t.Fatalf("dedupe: exit %d:\n%s\n%s", res.code, res.out, res.stderr)
	}
	eachKeyOnce(t, srv, 5)
	res := runCmd(t, "undo", "--mapping", mp, "--run", "1", "--url", url, "--token", srv.Token(), "--progress", "never",
		"--report", filepath.Join(dir, "u.csv"))
	if res.code != exitOK {
		t.Fatalf("undo of the dedupe: exit %d:\n%s", res.code, res.stderr)
	}
	if got := srv.CountByField(f.ID); len(srv.Opportunities()) != 7 || got["D1"]+got["D2"]+got["D3"]+got["D4"]+got["D5"] != 7 {
		t.Errorf("after the undo of the dedupe: %d deals, keys %v; want the 2 copies back (7)", len(srv.Opportunities()), got)
	}
}

// Both proxies at once in front of the creates: a reverse proxy answering 502 or 504 after
// the portal created the deal, and an SSO page passing nothing on. Each row a gateway
// answered is settled by its key, never posted again blindly: each key exactly once, every
// row created and reported with its own id.
func TestProxiesOnCreates(t *testing.T) {
	t.Parallel()
	// 75 rows meet, in six runs, 7 gateway answers (4 to 6 of them on creates) and 10 login
	// pages with the seed's dice.
	const rows = 75
	srv, url := startEmulator(t, emulator.Options{GatewayRate: 0.1, HTMLRate: 0.05, Seed: 11})
	dir := t.TempDir()
	in := writeFile(t, dir, "deals.csv", dealsCSV(rows, func(i int) int { return i }))
	mp := writeFile(t, dir, "deals.yaml", keyedMapping)
	rep := filepath.Join(dir, "r.csv")
	// --timeout 1s: under the race detector on a loaded machine, the settle's reads of the
	// portal timed out at 500ms six times over, leaving a row in doubt.
	res := runCmd(t, importArgs(srv, url, mp, in, rep, "--concurrency", "16", "--timeout", "1s")...)
	if res.code != exitOK {
		t.Errorf("exit %d, want 0:\n%s", res.code, res.stderr)
	}
	lost := 0
	ids := map[int]bool{}
	for _, r := range readReport(t, rep)[1:] {
		if r[2] != "created" || r[3] == "" {
			t.Errorf("row %s: %s %q, want created with an id", r[0], r[2], r[6])
		}
		if strings.Contains(r[6], "found on the portal") {
			lost++
		}
		ids[atoi(r[3])] = true
	}
	if lost == 0 {
		t.Error("no row was settled after a gateway's answer: the test proves nothing")
	}
	if srv.Stats().HTML == 0 {
		t.Error("no request met the SSO page: the test proves nothing")
	}
	if len(ids) != rows {
		t.Errorf("the report names %d distinct ids, want %d", len(ids), rows)
	}
	eachKeyOnce(t, srv, rows)
}
