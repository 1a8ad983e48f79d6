package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"

	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/emulator"
	"github.com/oppimport/oppimport/onlyoffice"
)

const tagsMapping = `version: 1
key: ["Deal ID"]
timezone: Europe/Berlin
fields:
  title:           { column: Title }
  responsibleid:   { value: 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41 }
  stageid:         { value: 1 }
  bidCurrencyAbbr: { value: EUR }
tags:    { column: Labels, split: "," }
created: { column: Created, format: ["DD.MM.YYYY HH:mm", "DD.MM.YYYY"] }
`

// sortedTags is each deal's tags by its title, sorted: batches run at once, in any order.
func sortedTags(srv *emulator.Server) map[string][]string {
	out := map[string][]string{}
	for _, o := range srv.Opportunities() {
		out[o.Title] = slices.Sorted(slices.Values(o.Tags))
	}
	return out
}

// Tags from a column and from --tag land on every created deal; the legacy creation date
// lands exactly, read in the mapping's zone and shown in the portal's.
func TestImportTagsAndCreated(t *testing.T) {
	t.Parallel()
	tokyo := time.FixedZone("portal", 9*3600)
	srv, url := startEmulator(t, emulator.Options{Location: tokyo})
	dir := t.TempDir()
	m := writeFile(t, dir, "deals.yaml", tagsMapping)
	in := writeFile(t, dir, "deals.csv", "Deal ID,Title,Labels,Created\n"+
		"D1,One,\"vip, Q3\",03.02.2019 14:30\n"+
		"D2,Two,,15.07.2018\n"+
		"D3,Three,Q3,\n"+
		"D4,Four,q3,31.02.2019\n")
	rep := filepath.Join(dir, "r.csv")
	res := runCmd(t, "import", "--mapping", m, "--url", url, "--token", srv.Token(), "--progress", "never",
		"--report", rep, "--tag", "migration-2026", "--tag", " legacy ", in)
	if res.code != exitRows {
		t.Fatalf("import: exit %d, want %d (row 5 is invalid):\n%s", res.code, exitRows, res.stderr)
	}
	rows := readReport(t, rep)
	if got := rows[4][2] + ": " + rows[4][6]; !strings.Contains(got, `invalid: column "Created" (created): "31.02.2019" is not a date`) {
		t.Errorf("row 5: %s, want invalid naming the date", got)
	}
	want := map[string][]string{
		"One":   {"Q3", "legacy", "migration-2026", "vip"},
		"Two":   {"legacy", "migration-2026"},
		"Three": {"Q3", "legacy", "migration-2026"},
	}
	if diff := cmp.Diff(want, sortedTags(srv)); diff != "" {
		t.Errorf("tags on the portal (-want +got):\n%s", diff)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	created := map[string]time.Time{}
	for _, o := range srv.Opportunities() {
		created[o.Title] = o.CreatedAt
	}
	for title, want := range map[string]time.Time{
		"One": time.Date(2019, 2, 3, 14, 30, 0, 0, berlin), // a date-time: the instant
		"Two": time.Date(2018, 7, 15, 0, 0, 0, 0, tokyo),   // a date: the portal's own midnight
	} {
		if got := created[title]; !got.Equal(want) || got.Location() != tokyo {
			t.Errorf("deal %s created %v, want %v in the portal's zone", title, got, want.In(tokyo))
		}
	}
	if since := time.Since(created["Three"]); since < 0 || since > time.Hour {
		t.Errorf("deal Three (no created cell) created %v, want now", created["Three"])
	}
	for _, arg := range []string{"", "  ", "tag 🔥"} {
		res := runCmd(t, "import", "--mapping", m, "--url", url, "--token", srv.Token(), "--tag", arg, in)
		if res.code != exitNothing || !strings.Contains(res.stderr, "-tag") {
			t.Errorf("--tag %q: exit %d, want %d naming the flag:\n%s", arg, res.code, exitNothing, res.stderr)
		}
	}
}

// A sync adds the tags the export added and removes the ones it removed, and leaves a portal
// user's tag alone; an undo of the sync takes its tags back, and the next sync starts from
// the tags as they were before it.
func TestSyncAndUndoTags(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	m := writeFile(t, dir, "deals.yaml", tagsMapping)
	imp := func(mode, content string, tags ...string) {
		t.Helper()
		in := writeFile(t, dir, "deals.csv", "Deal ID,Title,Labels,Created\n"+content)
		args := []string{"import", "--mapping", m, "--url", url, "--token", srv.Token(), "--progress", "never",
			"--mode", mode, "--report", filepath.Join(dir, "r.csv")}
		for _, tag := range tags {
			args = append(args, "--tag", tag)
		}
		if res := runCmd(t, append(args, in)...); res.code != exitOK {
			t.Fatalf("import --mode %s: exit %d, want 0:\n%s", mode, res.code, res.stderr)
		}
	}
	check := func(when string, want map[string][]string) {
		t.Helper()
		if diff := cmp.Diff(want, sortedTags(srv)); diff != "" {
			t.Errorf("%s: tags on the portal (-want +got):\n%s", when, diff)
		}
	}

	imp("create", "D1,One,\"a,b\",\nD2,Two,x,\nD3,Three,t1,\n", "run1")
	check("after the create", map[string][]string{"One": {"a", "b", "run1"}, "Two": {"run1", "x"}, "Three": {"run1", "t1"}})
	// A portal user tags deal One.
	one := 0
	for _, o := range srv.Opportunities() {
		if o.Title == "One" {
			one = o.ID
		}
	}
	c, err := onlyoffice.NewClient(onlyoffice.Config{BaseURL: url, Token: srv.Token()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if _, err := c.AddTag(t.Context(), int64(one), "user-tag"); err != nil {
		t.Fatal(err)
	}

	// The preview names what the sync would do to the tags.
	in := writeFile(t, dir, "deals.csv", "Deal ID,Title,Labels,Created\nD1,One,\"B,c\",\nD2,Two,x,\nD3,Three renamed,t2,\n")
	res := runCmd(t, "validate", "--mapping", m, "--url", url, "--token", srv.Token(), "--progress", "never",
		"--mode", "sync", "--report", filepath.Join(dir, "v.csv"), in)
	if res.code != exitOK {
		t.Fatalf("validate --mode sync: exit %d, want 0:\n%s", res.code, res.stderr)
	}
	preview := map[string]string{}
	for _, r := range readReport(t, filepath.Join(dir, "v.csv"))[1:] {
		preview[r[1]] = r[2] + ": " + r[6]
	}
	if diff := cmp.Diff(map[string]string{
		"D1": `would-update: tags: would add "c"; tags: would take off "a"`,
		"D2": "unchanged: ",
		"D3": `would-update: title "Three" -> "Three renamed"; tags: would add "t2"; tags: would take off "t1"`,
	}, preview); diff != "" {
		t.Errorf("validate --mode sync (-want +got):\n%s", diff)
	}
	imp("sync", "D1,One,\"B,c\",\nD2,Two,x,\nD3,Three renamed,t2,\n", "nightly")
	status := map[string]string{}
	for _, r := range readReport(t, filepath.Join(dir, "r.csv"))[1:] {
		status[r[1]] = r[2]
	}
	if diff := cmp.Diff(map[string]string{"D1": "updated", "D2": "unchanged", "D3": "updated"}, status); diff != "" {
		t.Errorf("the sync's statuses (-want +got), D1's tags alone changed:\n%s", diff)
	}
	check("after the sync", map[string][]string{
		"One":           {"b", "c", "nightly", "run1", "user-tag"}, // a removed, c added, B is b
		"Two":           {"run1", "x"},                             // unchanged: not written, not tagged
		"Three renamed": {"nightly", "run1", "t2"},
	})

	res = runCmd(t, "undo", "--mapping", m, "--url", url, "--token", srv.Token(), "--progress", "never",
		"--report", filepath.Join(dir, "u.csv"), "--run", "2", "--dry-run")
	if res.code != exitOK {
		t.Fatalf("undo --run 2 --dry-run: exit %d, want 0:\n%s", res.code, res.stderr)
	}
	dry := map[string]string{}
	for _, r := range readReport(t, filepath.Join(dir, "u.csv"))[1:] {
		dry[r[1]] = r[2] + ": " + r[6]
	}
	if got, want := dry["D1"], `would-restore: would take off tags "c", "nightly"; would put back tags "a"`; got != want {
		t.Errorf("undo --dry-run, D1: %q, want %q", got, want)
	}
	check("after the undo's dry run", map[string][]string{
		"One":           {"b", "c", "nightly", "run1", "user-tag"},
		"Two":           {"run1", "x"},
		"Three renamed": {"nightly", "run1", "t2"},
	})
	res = runCmd(t, "undo", "--mapping", m, "--url", url, "--token", srv.Token(), "--progress", "never",
		"--report", filepath.Join(dir, "u.csv"), "--run", "2")
	if res.code != exitOK {
		t.Fatalf("undo --run 2: exit %d, want 0:\n%s", res.code, res.stderr)
	}
	check("after the undo of the sync", map[string][]string{"One": {"a", "b", "run1", "user-tag"}, "Two": {"run1", "x"}, "Three": {"run1", "t1"}})

	imp("sync", "D1,One,\"b,c\",\nD2,Two,x,\nD3,Three,t1,\n")
	check("after the sync again", map[string][]string{"One": {"b", "c", "run1", "user-tag"}, "Two": {"run1", "x"}, "Three": {"run1", "t1"}})
}

// The client and the participants by name or e-mail: one match each, or the row invalid
// naming the candidates, never a silent first match.
func TestParticipantsByName(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	m := writeFile(t, dir, "deals.yaml", `version: 1
key: ["Deal ID"]
fields:
  title:           { column: Title }
  responsibleid:   { value: 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41 }
  stageid:         { value: 1 }
  bidCurrencyAbbr: { value: EUR }
  contactid:       { column: Client, lookup: contact }
  members:         { column: Participants, split: ";", lookup: contact }
`)
	in := writeFile(t, dir, "deals.csv", "Deal ID,Title,Client,Participants\n"+
		"D1,One,Initech,Peter Gibbons; SAMIR@initech.example\n"+
		"D2,Two,acme corporation,Hans Müller\n"+
		"D3,Three,,Jane Doe\n"+
		"D4,Four,,Nobody Here\n"+
		"D5,Five,Secret Holdings,\n")
	rep := filepath.Join(dir, "r.csv")
	res := runCmd(t, "import", "--mapping", m, "--url", url, "--token", srv.Token(), "--progress", "never", "--report", rep, in)
	if res.code != exitRows {
		t.Fatalf("import: exit %d, want %d:\n%s", res.code, exitRows, res.stderr)
	}
	members := map[string][]int{}
	contact := map[string]int{}
	for _, o := range srv.Opportunities() {
		members[o.Title] = slices.Sorted(slices.Values(o.Members))
		contact[o.Title] = o.ContactID
	}
	if diff := cmp.Diff(map[string][]int{"One": {3, 4, 5}, "Two": {1, 8}}, members); diff != "" {
		t.Errorf("participants on the portal (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"One": 3, "Two": 1}, contact); diff != "" {
		t.Errorf("clients on the portal (-want +got):\n%s", diff)
	}
	rows := readReport(t, rep)
	for i, want := range map[int]string{
		3: `column "Participants" (members): "Jane Doe" has "Jane Doe", which matches 2 contacts: "Jane Doe" (id 6, jane.doe@acme.example), "Jane Doe" (id 7, jdoe@globex.example)`,
		4: `column "Participants" (members): "Nobody Here" has "Nobody Here", which matches no contact on the portal`,
		5: `column "Client" (contactid): "Secret Holdings" matches no contact on the portal`,
	} {
		if got := rows[i][2] + ": " + rows[i][6]; !strings.Contains(got, "invalid: "+want) {
			t.Errorf("row %d: %s\nwant invalid: %s", i+1, got, want)
		}
	}
}

// The report's url opens the deal in the web UI of a portal under a path, however its
// address was typed (a trailing slash, the API's /api/2.0 pasted from its docs).
func TestReportURLUnderAPath(t *testing.T) {
	t.Parallel()
	srv := emulator.New(emulator.Options{})
	// A reverse proxy that serves the portal under /office, as a self-hosted one may be.
	front := httptest.NewServer(http.StripPrefix("/office", srv.Handler()))
	t.Cleanup(front.Close)
	dir := t.TempDir()
	m := writeFile(t, dir, "deals.yaml", tagsMapping)
	for i, typed := range []string{front.URL + "/office/", front.URL + "/office/api/2.0", front.URL + "/office"} {
		in := writeFile(t, dir, "deals.csv", fmt.Sprintf("Deal ID,Title,Labels,Created\nD%d,Deal %d,,\n", i, i))
		rep := filepath.Join(dir, "r.csv")
		res := runCmd(t, "import", "--mapping", m, "--url", typed, "--token", srv.Token(), "--progress", "never",
			"--state", filepath.Join(dir, "s.db"), "--report", rep, in)
		if res.code != exitOK {
			t.Fatalf("import with --url %s: exit %d, want 0:\n%s", typed, res.code, res.stderr)
		}
		rows := readReport(t, rep)
		want := front.URL + "/office/Products/CRM/Deals.aspx?id=" + rows[1][3]
		if got := rows[1][8]; got != want || rows[1][3] == "" {
			t.Errorf("--url %s: the report's url is %q, want %q", typed, got, want)
		}
	}
}

// A create whose answer is lost is searched for among the newest deals, by id, down to the
// first one created before it was sent: the deals created after it, whose creation dates the
// run set into the past, must not end that search, or it would be created twice.
func TestLostCreatesAmongBackdatedDeals(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{DropRate: 0.2, Seed: 9})
	dir := t.TempDir()
	m := writeFile(t, dir, "deals.yaml", tagsMapping)
	var b strings.Builder
	b.WriteString("Deal ID,Title,Labels,Created\n")
	const n = 30 // the seed's dice drop 10 answers (of creates, dates, look-ups) in 30 rows
	for i := range n {
		fmt.Fprintf(&b, "D%d,Deal %d,,03.02.2019\n", i, i)
	}
	in := writeFile(t, dir, "deals.csv", b.String())
	res := runCmd(t, "import", "--mapping", m, "--url", url, "--token", srv.Token(), "--progress", "never",
		"--rate", "1000", "--timeout", "500ms", "--retries", "8", "--report", filepath.Join(dir, "r.csv"), in)
	if res.code != exitOK {
		t.Fatalf("import: exit %d, want 0:\n%s", res.code, res.stderr)
	}
	if srv.Stats().Dropped == 0 {
		t.Fatal("no answer was dropped: the test tests nothing")
	}
	counts := map[string]int{}
	for _, o := range srv.Opportunities() {
		counts[o.Title]++
		if o.CreatedAt.Year() != 2019 {
			t.Errorf("%s (%d) created %v, want 2019-02-03", o.Title, o.ID, o.CreatedAt)
		}
	}
	for i := range n {
		if c := counts[fmt.Sprintf("Deal %d", i)]; c != 1 {
			t.Errorf("Deal %d is on the portal %d times, want once", i, c)
		}
	}
}
