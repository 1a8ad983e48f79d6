package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/xuri/excelize/v2"
	"go.uber.org/goleak"

	"github.com/oppimport/oppimport/emulator"
	"github.com/oppimport/oppimport/samples"
)

// titleMapping maps a Title column and fills the fields the portal requires with constants.
const titleMapping = `version: 1
fields:
  title:           { column: Title }
  responsibleid:   { value: 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41 }
  stageid:         { value: 1 }
  bidCurrencyAbbr: { value: EUR }
`

// keyedTitleMapping is titleMapping with the title as the rows' key.
const keyedTitleMapping = `version: 1
key: [Title]
fields:
  title:           { column: Title }
  responsibleid:   { value: 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41 }
  stageid:         { value: 1 }
  bidCurrencyAbbr: { value: EUR }
`

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cmdResult is one run of the command's own entry point.
type cmdResult struct {
	code        int
	out, stderr string
}

// runCmd runs oppimport with args, as the shell would, and returns its exit code and output.
func runCmd(t *testing.T, args ...string) cmdResult {
	t.Helper()
	return runCmdSignals(t, nil, args...)
}

func runCmdSignals(t *testing.T, sigs <-chan os.Signal, args ...string) cmdResult {
	t.Helper()
	var out, errb syncBuffer
	ch := sigs
	if ch == nil {
		ch = make(chan os.Signal) // never fires: tests do not share the process's signals
	}
	code := run(args, streams{in: strings.NewReader(""), out: &out, err: &errb, signals: ch})
	if strings.Contains(errb.String(), "goroutine ") || strings.Contains(errb.String(), "panic") {
		t.Errorf("stderr shows a panic:\n%s", errb.String())
	}
	return cmdResult{code, out.String(), errb.String()}
}

// startEmulator starts an in-process emulator on a free loopback port.
func startEmulator(t *testing.T, opts emulator.Options) (*emulator.Server, string) {
	t.Helper()
	srv := emulator.New(opts)
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, url
}

// copyTestdata copies testdata/SUB/NAME into dir (so that nothing a run writes beside its
// input lands in testdata) and returns the copy's path.
func copyTestdata(t *testing.T, dir, sub, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", sub, name))
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, string(data))
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// readReport reads a CSV report into rows of cells, header first.
func readReport(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// statuses gives "row:status" for every report row.
func statuses(rows [][]string) []string {
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[0]+":"+r[2])
	}
	return out
}

// A Zoho-style export, not the samples: owners and stages by name, German-free but with the
// quirks real exports have (a BOM, CRLF, quoted commas and newlines, thousands separators,
// empty optional cells, a private deal with an access list).
const zohoExport = "\ufeffDeal Owner,Deal Name,Amount,Closing Date,Stage,Account ID,Probability (%),Type,Description,Private,Visible To,Region\r\n" +
	"Anna Berg,\"Website relaunch, phase 2\",\"12,500.00\",2025-03-31,Proposal,1,75,Fixed,\"Two lines\nof notes\",no,,North\r\n" +
	"Maria O'Brien,Support contract,900,2025-04-30,Qualified,,50,Monthly,,yes,3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41,\r\n" +
	"Anna Berg,Bad date,100,2025-02-30,Proposal,2,10,Fixed,,no,,South\r\n" +
	"Anna Berg,,100,2025-05-01,Proposal,2,10,Fixed,,no,,South\r\n" +
	"Zoë Dubois,Licences,0.5,2026-01-15,Won,3,100,Hourly,,no,,East\r\n"

const zohoMapping = `version: 1
key: ["Deal Name"]
fields:
  title:              { column: "Deal Name" }
  description:        { column: "Description" }
  responsibleid:
    column: "Deal Owner"
    map:
      "Anna Berg": 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41
      "Maria O'Brien": 8a1d4e7b-2c3f-4a5b-8c9d-0e1f2a3b4c5d
      "Zoë Dubois": d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f7a
  stageid:            { column: "Stage", map: { Qualified: 5, Proposal: 6, Won: 8 } }
  bidValue:           { column: "Amount" }
  bidCurrencyAbbr:    { value: USD }
  bidType:            { column: "Type", map: { Fixed: FixedBid, Monthly: PerMonth, Hourly: PerHour } }
  contactid:          { column: "Account ID" }
  successProbability: { column: "Probability (%)" }
  expectedCloseDate:  { column: "Closing Date", format: "YYYY-MM-DD" }
  isPrivate:          { column: "Private" }
  accessList:         { column: "Visible To", split: ";" }
custom_fields:
  - { id: 11, column: "Region" }
`

func ptr[T any](v T) *T { return &v }

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// wantZoho is what the portal must hold after importing zohoExport: exactly the valid rows
// with exactly the mapped values.
var wantZoho = []emulator.Opportunity{
	{Title: "Website relaunch, phase 2", Description: ptr("Two lines\nof notes"), ContactID: 1, Members: []int{1},
		ResponsibleID: "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", BidType: 0, BidValue: "12500", BidCurrency: "USD",
		StageID: 6, SuccessProbability: 75, ExpectedCloseDate: day(2025, 3, 31), CustomFields: map[int]string{11: "North"}},
	{Title: "Support contract", ResponsibleID: "8a1d4e7b-2c3f-4a5b-8c9d-0e1f2a3b4c5d", BidType: 4, BidValue: "900",
		BidCurrency: "USD", StageID: 5, SuccessProbability: 50, ExpectedCloseDate: day(2025, 4, 30), IsPrivate: true,
		AccessList: []string{"3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41"}, CustomFields: map[int]string{}},
	{Title: "Licences", ContactID: 3, Members: []int{3}, ResponsibleID: "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f7a",
		BidType: 1, BidValue: "0.5", BidCurrency: "USD", StageID: 8, SuccessProbability: 100,
		ExpectedCloseDate: day(2026, 1, 15), CustomFields: map[int]string{11: "East"}},
}

// portalDiff compares what the portal holds with want, ignoring ids and bookkeeping.
func portalDiff(srv *emulator.Server, want []emulator.Opportunity) string {
	got := srv.Opportunities()
	return cmp.Diff(want, got,
		cmpopts.IgnoreFields(emulator.Opportunity{}, "ID", "CreatedAt", "CreatedBy"),
		cmpopts.EquateEmpty(),
		cmpopts.SortSlices(func(a, b emulator.Opportunity) bool { return a.Title < b.Title }))
}

func TestImportForeignCSV(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	in := writeFile(t, dir, "zoho.csv", zohoExport)
	m := writeFile(t, dir, "zoho.yaml", zohoMapping)
	rep := filepath.Join(dir, "zoho.report.csv")

	res := runCmd(t, "import", "--mapping", m, "--url", url, "--token", srv.Token(), "--report", rep, "--progress", "never", in)
	if res.code != exitRows {
		t.Fatalf("got exit %d, want %d:\n%s", res.code, exitRows, res.stderr)
	}
	if diff := portalDiff(srv, wantZoho); diff != "" {
		t.Errorf("the portal holds (-want +got):\n%s", diff)
	}
	rows := readReport(t, rep)
	if diff := cmp.Diff([]string{"2:created", "3:created", "4:invalid", "5:invalid", "6:created"}, statuses(rows)); diff != "" {
		t.Errorf("report statuses (-want +got):\n%s", diff)
	}
	for _, r := range rows[1:] {
		if r[2] == "created" && (r[3] == "" || r[4] != "1" || r[5] != "201") {
			t.Errorf("row %s: got id %q attempts %q status %q, want an id, 1, 201", r[0], r[3], r[4], r[5])
		}
	}
	if !strings.Contains(rows[3][6], `"2025-02-30" is not a date`) || !strings.Contains(rows[4][6], "is required") {
		t.Errorf("got errors %q and %q, want the bad date and the missing title named", rows[3][6], rows[4][6])
	}
	// The rejects file holds the bad rows in the input's own columns, ready to fix and re-import.
	rejects := readReport(t, filepath.Join(dir, "zoho.rejects.csv"))
	if len(rejects) != 3 || rejects[0][len(rejects[0])-1] != "error" || rejects[1][1] != "Bad date" {
		t.Fatalf("got rejects %q, want the header plus error and the two invalid rows", rejects)
	}

	// Fixed in place, the rejects file imports with the same mapping.
	rejects[1][3] = "2025-02-28"
	rejects[2][1] = "No longer nameless"
	var fixed bytes.Buffer
	w := csv.NewWriter(&fixed)
	w.WriteAll(rejects)
	in2 := writeFile(t, dir, "zoho.rejects.csv", fixed.String())
	res = runCmd(t, "import", "--mapping", m, "--url", url, "--token", srv.Token(), "--report", rep, "--progress", "never", in2)
	if res.code != exitOK {
		t.Fatalf("importing the fixed rejects: got exit %d, want 0:\n%s", res.code, res.stderr)
	}
	if diff := cmp.Diff([]string{"2:created", "3:created"}, statuses(readReport(t, rep))); diff != "" {
		t.Errorf("fixed rejects statuses (-want +got):\n%s", diff)
	}
	if got := len(srv.Opportunities()); got != 5 {
		t.Errorf("the portal holds %d opportunities, want 5", got)
	}
}

func TestImportXLSX(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	in := filepath.Join(dir, "deals.xlsx")
	f := excelize.NewFile()
	f.SetSheetName("Sheet1", "Export")
	dateStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	for i, row := range [][]any{
		{"Name", "Owner", "Stage", "Value", "Close", "Probability"},
		{"Serial date", "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", 4, 1234.5, day(2025, 7, 1), 0.4},
		{"Text date", "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", 4, "99", "2025-08-15", 20},
		{"No stage", "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", nil, 5, nil, nil},
	} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Export", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	f.SetCellStyle("Export", "E2", "E2", dateStyle)
	if err := f.SaveAs(in); err != nil {
		t.Fatal(err)
	}
	m := writeFile(t, dir, "m.yaml", `version: 1
fields:
  title:             { column: Name }
  responsibleid:     { column: Owner }
  stageid:           { column: Stage }
  bidValue:          { column: Value }
  bidCurrencyAbbr:   { value: eur }
  expectedCloseDate: { column: Close }
`)
	rep := filepath.Join(dir, "r.csv")
	res := runCmd(t, "import", "--mapping", m, "--url", url, "--token", srv.Token(), "--report", rep, "--progress", "never", in)
	if res.code != exitRows {
		t.Fatalf("got exit %d, want %d:\n%s", res.code, exitRows, res.stderr)
	}
	want := []emulator.Opportunity{
		{Title: "Serial date", ResponsibleID: "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", StageID: 4, BidValue: "1234.5",
			BidCurrency: "EUR", ExpectedCloseDate: day(2025, 7, 1)},
		{Title: "Text date", ResponsibleID: "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", StageID: 4, BidValue: "99",
			BidCurrency: "EUR", ExpectedCloseDate: day(2025, 8, 15)},
	}
	if diff := portalDiff(srv, want); diff != "" {
		t.Errorf("the portal holds (-want +got):\n%s", diff)
	}
	rows := readReport(t, rep)
	if got := rows[3]; got[2] != "invalid" || !strings.Contains(got[6], "Export!C4") {
		t.Errorf("got row 4 %q, want invalid naming the cell Export!C4", got)
	}

	// The rejects workbook keeps the sheet's name and columns: fixed in place, it imports.
	rej, err := excelize.OpenFile(filepath.Join(dir, "deals.rejects.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	if got := rej.GetSheetList(); len(got) != 1 || got[0] != "Export" {
		t.Errorf("the rejects workbook has sheets %q, want [Export]", got)
	}
	if err := rej.SetCellValue("Export", "C2", 4); err != nil {
		t.Fatal(err)
	}
	fixedPath := filepath.Join(dir, "fixed.xlsx")
	if err := rej.SaveAs(fixedPath); err != nil {
		t.Fatal(err)
	}
	rej.Close()
	res = runCmd(t, "import", "--mapping", m, "--url", url, "--token", srv.Token(), "--report", rep, "--progress", "never", fixedPath)
	if res.code != exitOK {
		t.Fatalf("importing the fixed rejects: got exit %d, want 0:\n%s", res.code, res.stderr)
	}
	if got := len(srv.Opportunities()); got != 3 {
		t.Errorf("the portal holds %d opportunities, want 3", got)
	}
}

func TestImportRefusedConnectionsRetried(t *testing.T) {
	t.Parallel()
	// Take a free port, leave it closed for a moment, then start the portal on it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv := emulator.New(emulator.Options{Token: "tok"})
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	in := writeFile(t, dir, "in.csv", "Title\nOne\nTwo\n")
	mp := writeFile(t, dir, "m.yaml", titleMapping)
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run([]string{"import", "--mapping", mp, "--url", "http://" + addr, "--token", "tok", "--concurrency", "1",
			"--log-level", "debug", "--report", filepath.Join(dir, "r.csv"), "--progress", "never", in},
			streams{in: strings.NewReader(""), out: &out, err: &errb, signals: make(chan os.Signal)})
	}()
	// The portal comes up once the client has been refused and is retrying.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errb.String(), "connection refused") {
		if time.Now().After(deadline) {
			t.Fatalf("no refused connection logged within 10s:\n%s", errb.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := srv.Start(addr); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != exitOK {
		t.Fatalf("got exit %d, want 0:\n%s", code, errb.String())
	}
	if got := len(srv.Opportunities()); got != 2 {
		t.Errorf("the portal holds %d opportunities, want 2", got)
	}
}

func TestImportClientErrorsNotRetried(t *testing.T) {
	t.Parallel()
	// The portal refuses two titles as the real server refuses what it cannot take; the
	// importer's own checks would catch the usual causes first, so the refusal is staged.
	srv := emulator.New(emulator.Options{})
	var posts sync.Map
	refusals := map[string]struct {
		code int
		msg  string
	}{
		"Refused":   {400, "Deal milestone is not found"},
		"Forbidden": {403, "Access Denied"},
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "crm/opportunity") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var o struct{ Title string }
			json.Unmarshal(body, &o)
			n, _ := posts.LoadOrStore(o.Title, new(atomic.Int32))
			n.(*atomic.Int32).Add(1)
			if ref, ok := refusals[o.Title]; ok {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(ref.code)
				fmt.Fprintf(w, `{"status":1,"statusCode":%d,"error":{"message":%q,"hresult":-2147024809,"data":{}}}`, ref.code, ref.msg)
				return
			}
		}
		srv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)

	dir := t.TempDir()
	in := writeFile(t, dir, "in.csv", "Title\nGood\nRefused\nForbidden\n")
	mp := writeFile(t, dir, "m.yaml", titleMapping)
	rep := filepath.Join(dir, "r.csv")
	res := runCmd(t, "import", "--mapping", mp, "--url", hs.URL, "--token", srv.Token(), "--report", rep, "--progress", "never", in)
	if res.code != exitRows {
		t.Fatalf("got exit %d, want 1:\n%s", res.code, res.stderr)
	}
	rows := readReport(t, rep)
	want := [][]string{
		{"3", "", "failed", "", "1", "400", "HTTP 400: Deal milestone is not found", "Refused", ""},
		{"4", "", "failed", "", "1", "403", "HTTP 403: Access Denied", "Forbidden", ""},
	}
	if diff := cmp.Diff(want, rows[2:]); diff != "" {
		t.Errorf("report rows (-want +got):\n%s", diff)
	}
	for title := range refusals {
		if n, _ := posts.Load(title); n == nil || n.(*atomic.Int32).Load() != 1 {
			t.Errorf("%q was sent %v times, want once: a 400 or 403 is never retried", title, n)
		}
	}
	if got := len(srv.Opportunities()); got != 1 {
		t.Errorf("the portal holds %d opportunities, want 1", got)
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	good := writeFile(t, dir, "good.csv", "Title\nOne\n")
	bad := writeFile(t, dir, "bad.csv", "Title\nOne\n\"unterminated\nTwo\n")
	mp := writeFile(t, dir, "m.yaml", titleMapping)
	badMapping := writeFile(t, dir, "bad.yaml", "version: 1\nfields:\n  titel: { column: Title }\n")
	rep := filepath.Join(dir, "r.csv")
	common := []string{"--url", url, "--token", srv.Token(), "--report", rep, "--progress", "never"}
	tests := []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"all created", append([]string{"import", "--mapping", mp, good}, common...), exitOK, "1 created"},
		{"validate all valid", []string{"validate", "--mapping", mp, "--report", rep, good}, exitOK, "1 valid"},
		{"flags after the input", []string{"validate", good, "--mapping", mp, "--report", rep}, exitOK, "1 valid"},
		{"help", []string{"import", "--help"}, exitOK, "Exit codes"},
		{"no command", nil, exitNothing, "Usage"},
		{"unknown command", []string{"imprt"}, exitNothing, `unknown command "imprt"`},
		{"unknown flag", []string{"import", "--mappin", mp, good}, exitNothing, "unknown flag --mappin; did you mean --mapping?"},
		{"one-dash long flags", []string{"validate", "-mapping", mp, "-report=" + rep, good}, exitOK, "1 valid"},
		{"no mapping", append([]string{"import", good}, common...), exitNothing, "--mapping is required"},
		{"missing mapping", append([]string{"import", "--mapping", filepath.Join(dir, "nope.yaml"), good}, common...), exitNothing, "nope.yaml"},
		{"mapping errors", append([]string{"import", "--mapping", badMapping, good}, common...), exitNothing, "bad.yaml:3"},
		{"missing input", append([]string{"import", "--mapping", mp, filepath.Join(dir, "nope.csv")}, common...), exitNothing, "nope.csv"},
		{"broken input", append([]string{"import", "--mapping", mp, bad}, common...), exitNothing, "nothing was posted"},
		{"no url", []string{"import", "--mapping", mp, "--token", "x", good}, exitNothing, "--url"},
		{"refused token", []string{"import", "--mapping", mp, "--url", url, "--token", "wrong", "--report", rep, "--progress", "never", good}, exitStopped, "401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.Stats().ByRoute["POST crm/opportunity"]
			res := runCmd(t, tt.args...)
			if res.code != tt.want {
				t.Errorf("got exit %d, want %d:\n%s", res.code, tt.want, res.stderr)
			}
			if !strings.Contains(res.stderr+res.out, tt.msg) {
				t.Errorf("output does not say %q:\n%s%s", tt.msg, res.out, res.stderr)
			}
			if after := srv.Stats().ByRoute["POST crm/opportunity"]; tt.want == exitNothing && after != before {
				t.Errorf("got %d creates, want none for exit 2", after-before)
			}
		})
	}
}

func TestImportInterrupted(t *testing.T) {
	srv, url := startEmulator(t, emulator.Options{Latency: 20 * time.Millisecond})
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var b strings.Builder
	b.WriteString("Title\n")
	for i := range 2000 {
		b.WriteString("Deal " + strings.Repeat("x", i%50) + string(rune('a'+i%26)) + "\n")
	}
	dir := t.TempDir()
	in := writeFile(t, dir, "in.csv", b.String())
	mp := writeFile(t, dir, "m.yaml", titleMapping)
	rep := filepath.Join(dir, "r.csv")
	sigs := make(chan os.Signal, 1)
	go func() {
		// Interrupt once some rows are in; the run has 2000, so a slow machine gets there
		// too, and a broken run that creates nothing fails at the deadline instead of hanging.
		deadline := time.Now().Add(30 * time.Second)
		for len(srv.Opportunities()) < 10 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		sigs <- syscall.SIGINT
	}()
	res := runCmdSignals(t, sigs, "import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--rate", "200",
		"--report", rep, "--progress", "never", in)
	if res.code != exitStopped {
		t.Fatalf("got exit %d, want 3:\n%s", res.code, res.stderr)
	}
	rows := readReport(t, rep)
	created := 0
	for _, r := range rows[1:] {
		if r[2] != "created" {
			t.Errorf("row %s is %s: requests in flight must finish", r[0], r[2])
		}
		created++
	}
	if got := len(srv.Opportunities()); got != created || created >= 2000 {
		t.Errorf("the report has %d created rows and the portal %d opportunities, want equal and fewer than 2000", created, got)
	}
	if !strings.Contains(res.stderr, "interrupted") {
		t.Errorf("stderr does not say the run was interrupted:\n%s", res.stderr)
	}
}

func TestValidatePostsNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := writeFile(t, dir, "zoho.csv", zohoExport)
	m := writeFile(t, dir, "zoho.yaml", zohoMapping)
	rep := filepath.Join(dir, "v.csv")
	res := runCmd(t, "validate", "--mapping", m, "--report", rep, "--progress", "never", in)
	if res.code != exitRows {
		t.Fatalf("got exit %d, want 1:\n%s", res.code, res.stderr)
	}
	if diff := cmp.Diff([]string{"2:valid", "3:valid", "4:invalid", "5:invalid", "6:valid"}, statuses(readReport(t, rep))); diff != "" {
		t.Errorf("report statuses (-want +got):\n%s", diff)
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := runCmd(t, "demo", "--out", dir, "--progress", "never", "--rate", "1000")
	if res.code != exitOK {
		t.Fatalf("got exit %d, want 0:\n%s", res.code, res.stderr)
	}
	for _, name := range []string{"deals.report.csv", "deals.report.xlsx"} {
		var rows [][]string
		if strings.HasSuffix(name, ".xlsx") {
			f, err := excelize.OpenFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			rows, err = f.GetRows(f.GetSheetList()[0])
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
		} else {
			rows = readReport(t, filepath.Join(dir, name))
		}
		created := 0
		for _, r := range rows[1:] {
			row := r[0]
			_, bad := samples.BadRows[atoi(row)]
			switch {
			case bad && r[2] != "invalid":
				t.Errorf("%s: row %s is %s, want invalid (%s)", name, row, r[2], samples.BadRows[atoi(row)])
			case !bad && r[2] != "created":
				t.Errorf("%s: row %s is %s, want created: %v", name, row, r[2], r)
			case !bad:
				created++
			}
		}
		if created != 300-len(samples.BadRows) {
			t.Errorf("%s: got %d created, want %d", name, created, 300-len(samples.BadRows))
		}
	}
	if !strings.Contains(res.stderr, dir) {
		t.Errorf("the demo does not say where the report is:\n%s", res.stderr)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
