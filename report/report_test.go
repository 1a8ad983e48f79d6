package report

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// results covers every status, the empty numbers and every formula-leading character.
var results = []Result{
	{Row: 2, Key: "D-100", Status: "created", OpportunityID: 501, Attempts: 1, HTTPStatus: 200},
	{Row: 3, Key: "=cmd|' /C calc'!A0", Status: "invalid", Error: `column "Close Date" (expectedCloseDate): "31.02.2024" is not a date (want DD.MM.YYYY)`},
	{Row: 4, Key: "+1", Status: "failed", Attempts: 6, HTTPStatus: 503, Error: "portal answered 503 after 6 attempts"},
	{Row: 5, Key: "-1+2", Status: "skipped", OpportunityID: 502},
	{Row: 6, Key: "@SUM(1)", Status: "updated", OpportunityID: 503, Attempts: 2, HTTPStatus: 200},
	{Row: 7, Key: "\tx", Status: "unchanged", OpportunityID: 504},
	{Row: 8, Key: "\rx", Status: "invalid", Error: "=HYPERLINK(\"http://evil\")"},
	{Row: 9, Key: "Müller, \"Co\"\nline 2", Status: "created", OpportunityID: 505, Attempts: 1, HTTPStatus: 200},
}

var summary = Summary{
	Run:      3,
	Mode:     "import",
	Input:    "deals.csv",
	Counts:   map[string]int{"created": 2, "updated": 1, "unchanged": 1, "skipped": 1, "invalid": 2, "failed": 1},
	Rows:     8,
	Started:  time.Date(2024, 3, 15, 10, 0, 0, 0, time.UTC),
	Elapsed:  12400 * time.Millisecond,
	Requests: 10,
	Refused:  1,
	Rate:     40,
}

func writeReport(t *testing.T, name string, rows []Result, s Summary) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	w, err := NewWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(s); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCSVGolden(t *testing.T) {
	got, err := os.ReadFile(writeReport(t, "r.csv", results, summary))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.csv")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("report differs from %s (-want +got):\n%s", golden, diff)
	}
	if !bytes.HasPrefix(got, []byte("row,key,status,opportunity_id,attempts,http_status,error\n")) {
		t.Errorf("header line is %q", bytes.SplitN(got, []byte("\n"), 2)[0])
	}
}

func TestCSVReadsBack(t *testing.T) {
	f, err := os.Open(writeReport(t, "r.csv", results, summary))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"row", "key", "status", "opportunity_id", "attempts", "http_status", "error"},
		{"2", "D-100", "created", "501", "1", "200", ""},
		{"3", "'=cmd|' /C calc'!A0", "invalid", "", "", "", results[1].Error},
		{"4", "'+1", "failed", "", "6", "503", "portal answered 503 after 6 attempts"},
		{"5", "'-1+2", "skipped", "502", "", "", ""},
		{"6", "'@SUM(1)", "updated", "503", "2", "200", ""},
		{"7", "'\tx", "unchanged", "504", "", "", ""},
		{"8", "'\rx", "invalid", "", "", "", "'=HYPERLINK(\"http://evil\")"},
		{"9", "Müller, \"Co\"\nline 2", "created", "505", "1", "200", ""},
	}
	if diff := cmp.Diff(want, recs); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

func TestNeutralise(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
		{"+1", "'+1"},
		{"-1+2", "'-1+2"},
		{"@SUM(1)", "'@SUM(1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"", ""},
		{"plain", "plain"},
		{"a=b", "a=b"},
		{" =1", " =1"},
	}
	for _, tt := range tests {
		if got := neutralise(tt.in); got != tt.want {
			t.Errorf("neutralise(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A run that dies before Close still leaves the rows written up to the last flush.
func TestCSVFlushesWhileWriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	w, err := NewWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(Summary{})
	w.Write(results[0])
	w.f.(*csvReport).lastFlush = time.Now().Add(-2 * flushEvery)
	w.Write(results[3])
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(got, []byte("\n")); n != 3 {
		t.Errorf("before Close the file holds %d lines, want 3:\n%s", n, got)
	}
}

type jsonReportFile struct {
	Rows []struct {
		Row           int    `json:"row"`
		Key           string `json:"key"`
		Status        string `json:"status"`
		OpportunityID *int64 `json:"opportunity_id"`
		Attempts      *int   `json:"attempts"`
		HTTPStatus    *int   `json:"http_status"`
		Error         string `json:"error"`
	} `json:"rows"`
	Summary map[string]any `json:"summary"`
}

func TestJSON(t *testing.T) {
	data, err := os.ReadFile(writeReport(t, "r.json", results, summary))
	if err != nil {
		t.Fatal(err)
	}
	var got jsonReportFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("report is not valid JSON: %v\n%s", err, data)
	}
	if len(got.Rows) != len(results) {
		t.Fatalf("got %d rows, want %d", len(got.Rows), len(results))
	}
	for i, r := range got.Rows {
		want := results[i]
		var id int64
		var attempts, status int
		if r.OpportunityID != nil {
			id = *r.OpportunityID
		}
		if r.Attempts != nil {
			attempts = *r.Attempts
		}
		if r.HTTPStatus != nil {
			status = *r.HTTPStatus
		}
		back := Result{r.Row, r.Key, r.Status, id, attempts, status, r.Error}
		if back != want {
			t.Errorf("row %d: got %+v, want %+v", i, back, want)
		}
		if (want.OpportunityID == 0) != (r.OpportunityID == nil) {
			t.Errorf("row %d: opportunity_id %v, want null exactly when 0", i, r.OpportunityID)
		}
	}
	wantSummary := map[string]any{
		"run": 3.0, "mode": "import", "input": "deals.csv", "rows": 8.0,
		"counts": map[string]any{
			"created": 2.0, "updated": 1.0, "unchanged": 1.0, "skipped": 1.0,
			"valid": 0.0, "invalid": 2.0, "failed": 1.0,
		},
		"started": "2024-03-15T10:00:00Z", "elapsed_seconds": 12.4,
		"requests": 10.0, "refused": 1.0, "requests_per_second": 10 / 12.4, "rate": 40.0, "rate_reached": 0.0,
		"stopped": "",
	}
	if diff := cmp.Diff(wantSummary, got.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	// No HTML escaping: a key with < & > reads as written in the file too.
	if !bytes.Contains(data, []byte(`"key":"=cmd|' /C calc'!A0"`)) {
		t.Errorf("key not written verbatim:\n%s", data)
	}
}

func TestJSONNoRows(t *testing.T) {
	data, err := os.ReadFile(writeReport(t, "r.json", nil, Summary{Mode: "validate"}))
	if err != nil {
		t.Fatal(err)
	}
	var got jsonReportFile
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("report is not valid JSON: %v\n%s", err, data)
	}
	if got.Rows == nil || len(got.Rows) != 0 {
		t.Errorf("rows = %v, want []", got.Rows)
	}
	if got.Summary["mode"] != "validate" || got.Summary["started"] != nil {
		t.Errorf("summary = %v", got.Summary)
	}
}

func TestXLSX(t *testing.T) {
	path := writeReport(t, "r.xlsx", results, summary)
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	if got, want := f.GetSheetList(), []string{"rows", "summary"}; !cmp.Equal(got, want) {
		t.Errorf("sheets %v, want %v", got, want)
	}
	rows, err := f.GetRows("rows")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"row", "key", "status", "opportunity_id", "attempts", "http_status", "error"},
		{"2", "D-100", "created", "501", "1", "200"},
		{"3", "=cmd|' /C calc'!A0", "invalid", "", "", "", results[1].Error},
		{"4", "+1", "failed", "", "6", "503", "portal answered 503 after 6 attempts"},
		{"5", "-1+2", "skipped", "502"},
		{"6", "@SUM(1)", "updated", "503", "2", "200"},
		{"7", "\tx", "unchanged", "504"},
		{"8", "\rx", "invalid", "", "", "", "=HYPERLINK(\"http://evil\")"},
		{"9", "Müller, \"Co\"\nline 2", "created", "505", "1", "200"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows sheet (-want +got):\n%s", diff)
	}

	// Text stays text: no formula anywhere, and numbers are numbers.
	for _, cell := range []string{"B3", "G8", "B4"} {
		if fx, _ := f.GetCellFormula("rows", cell); fx != "" {
			t.Errorf("%s holds formula %q", cell, fx)
		}
		if typ, _ := f.GetCellType("rows", cell); typ != excelize.CellTypeInlineString {
			t.Errorf("%s has type %v, want an inline string", cell, typ)
		}
	}
	if typ, _ := f.GetCellType("rows", "D2"); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
		t.Errorf("D2 has type %v, want a number", typ)
	}

	fill := func(cell string) string {
		t.Helper()
		id, err := f.GetCellStyle("rows", cell)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Fill.Color) == 0 {
			return ""
		}
		return st.Fill.Color[0]
	}
	for cell, want := range map[string]string{"A2": "", "G2": "", "A3": "FFEB9C", "G3": "FFEB9C", "A4": "FFC7CE", "B4": "FFC7CE", "A5": ""} {
		if got := fill(cell); got != want {
			t.Errorf("fill of %s is %q, want %q", cell, got, want)
		}
	}
	if id, _ := f.GetCellStyle("rows", "A1"); id == 0 {
		t.Errorf("header has no style")
	} else if st, _ := f.GetStyle(id); st.Font == nil || !st.Font.Bold {
		t.Errorf("header is not bold")
	}

	panes, err := f.GetPanes("rows")
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes %+v, want the header row frozen", panes)
	}
	if w, _ := f.GetColWidth("rows", "G"); w < 50 {
		t.Errorf("error column width %v, want it wide", w)
	}
	// excelize writes the range with absolute markers, as Excel does in _FilterDatabase.
	if sheet := sheetXML(t, path, "xl/worksheets/sheet1.xml"); !strings.Contains(sheet, `<autoFilter ref="$A$1:$G$9"`) {
		t.Errorf("rows sheet has no autofilter over A1:G9:\n%.2000s", sheet)
	}

	sum, err := f.GetRows("summary")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range sum {
		if len(r) == 2 {
			got[r[0]] = r[1]
		} else if len(r) == 1 {
			got[r[0]] = ""
		}
	}
	for k, v := range map[string]string{
		"run": "3", "mode": "import", "input": "deals.csv", "rows": "8", "created": "2", "invalid": "2",
		"failed": "1", "valid": "0", "elapsed_seconds": "12.4", "requests": "10", "requests_per_second": "0.81",
		"started": "2024-03-15T10:00:00Z", "stopped": "",
	} {
		if got[k] != v {
			t.Errorf("summary %s = %q, want %q", k, got[k], v)
		}
	}
}

func TestXLSXNoRows(t *testing.T) {
	path := writeReport(t, "r.xlsx", nil, Summary{Mode: "validate"})
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("rows")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Errorf("rows sheet holds %d rows, want the header only", len(rows))
	}
}

func sheetXML(t *testing.T, path, name string) string {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	rc, err := z.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNewWriterFormats(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.csv", "a.JSON", "a.Xlsx"} {
		w, err := NewWriter(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("NewWriter(%q): %v", name, err)
			continue
		}
		if err := w.Close(Summary{}); err != nil {
			t.Errorf("%s: Close: %v", name, err)
		}
		if err := w.Write(Result{Row: 2}); err == nil {
			t.Errorf("%s: Write after Close succeeded", name)
		}
	}
	for _, name := range []string{"a.txt", "a", "a.xls"} {
		_, err := NewWriter(filepath.Join(dir, name))
		if err == nil || !strings.Contains(err.Error(), ".csv, .json or .xlsx") {
			t.Errorf("NewWriter(%q) error %v, want one naming the formats", name, err)
		}
	}
	if _, err := NewWriter(filepath.Join(dir, "missing", "a.csv")); err == nil {
		t.Errorf("NewWriter in a missing folder succeeded")
	}
}

func TestSummaryText(t *testing.T) {
	tests := []struct {
		name string
		s    Summary
		want string
	}{
		{"import", Summary{Run: 3, Mode: "import", Counts: map[string]int{"created": 295, "invalid": 5},
			Rows: 300, Elapsed: 12400 * time.Millisecond, Requests: 301, RequestsPerSecond: 24.3},
			"run 3 finished in 12.4s: 295 created, 5 invalid, 0 failed (300 rows); 301 requests, 24.3 requests/s"},
		{"stopped", Summary{Run: 4, Mode: "import", Counts: map[string]int{"created": 10, "failed": 3},
			Rows: 13, Elapsed: 2 * time.Second, Requests: 20, Refused: 4, Stopped: "interrupted"},
			"run 4 stopped (interrupted) after 2s: 10 created, 0 invalid, 3 failed (13 rows); 20 requests, 10.0 requests/s, 4 refused (429/503)"},
		{"validate", Summary{Mode: "validate", Counts: map[string]int{"valid": 298, "invalid": 2},
			Rows: 300, Elapsed: 450 * time.Millisecond},
			"validate finished in 450ms: 298 valid, 2 invalid (300 rows)"},
		{"unknown status", Summary{Run: 1, Mode: "import", Counts: map[string]int{"weird": 1}, Rows: 1, Elapsed: time.Second},
			"run 1 finished in 1s: 0 invalid, 0 failed, 1 weird (1 row); 0 requests, 0.0 requests/s"},
	}
	for _, tt := range tests {
		if got := tt.s.Text(); got != tt.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.name, got, tt.want)
		}
	}
}
