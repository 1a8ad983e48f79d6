package report

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// results covers every status, the empty numbers and every formula-leading character.
var results = []Result{
	{Row: 2, Key: "D-100", Status: "created", OpportunityID: 501, Attempts: 1, HTTPStatus: 200, Title: "Kitchen refit", URL: "https://example.com/office/Products/CRM/Deals.aspx?id=501"},
	{Row: 3, Key: "=cmd|' /C calc'!A0", Status: "invalid", Error: `column "Close Date" (expectedCloseDate): "31.02.2024" is not a date (want DD.MM.YYYY)`, Title: "=1+1"},
	{Row: 4, Key: "+1", Status: "failed", Attempts: 6, HTTPStatus: 503, Error: "portal answered 503 after 6 attempts", Title: "Server room"},
	{Row: 5, Key: "-1+2", Status: "skipped", OpportunityID: 502, Title: "Roof", URL: "https://example.com/office/Products/CRM/Deals.aspx?id=502"},
	{Row: 6, Key: "@SUM(1)", Status: "updated", OpportunityID: 503, Attempts: 2, HTTPStatus: 200, Title: "Garden 東京", URL: "https://example.com/office/Products/CRM/Deals.aspx?id=503"},
	{Row: 7, Key: "\tx", Status: "unchanged", OpportunityID: 504, URL: "https://example.com/office/Products/CRM/Deals.aspx?id=504"},
	{Row: 8, Key: "\rx", Status: "invalid", Error: "=HYPERLINK(\"http://evil\")"},
	{Row: 9, Key: "Müller, \"Co\"\nline 2", Status: "created", OpportunityID: 505, Attempts: 1, HTTPStatus: 200, Title: "Müller", URL: "https://example.com/office/Products/CRM/Deals.aspx?id=505"},
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
	if !bytes.HasPrefix(got, []byte("row,key,status,opportunity_id,attempts,http_status,error,title,url\n")) {
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
	u := func(id string) string { return "https://example.com/office/Products/CRM/Deals.aspx?id=" + id }
	want := [][]string{
		{"row", "key", "status", "opportunity_id", "attempts", "http_status", "error", "title", "url"},
		{"2", "D-100", "created", "501", "1", "200", "", "Kitchen refit", u("501")},
		{"3", "'=cmd|' /C calc'!A0", "invalid", "", "", "", results[1].Error, "'=1+1", ""},
		{"4", "'+1", "failed", "", "6", "503", "portal answered 503 after 6 attempts", "Server room", ""},
		{"5", "'-1+2", "skipped", "502", "", "", "", "Roof", u("502")},
		{"6", "'@SUM(1)", "updated", "503", "2", "200", "", "Garden 東京", u("503")},
		{"7", "'\tx", "unchanged", "504", "", "", "", "", u("504")},
		{"8", "'\rx", "invalid", "", "", "", "'=HYPERLINK(\"http://evil\")", "", ""},
		{"9", "Müller, \"Co\"\nline 2", "created", "505", "1", "200", "", "Müller", u("505")},
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
	w.f.(*csvReport).due.Store(true) // as the timer sets it flushEvery after the last flush
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
		Title         string `json:"title"`
		URL           string `json:"url"`
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
		back := Result{r.Row, r.Key, r.Status, id, attempts, status, r.Error, r.Title, r.URL}
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
	t.Parallel()
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
	u := func(id string) string { return "https://example.com/office/Products/CRM/Deals.aspx?id=" + id }
	want := [][]string{
		{"row", "key", "status", "opportunity_id", "attempts", "http_status", "error", "title", "url"},
		{"2", "D-100", "created", "501", "1", "200", "", "Kitchen refit", u("501")},
		{"3", "=cmd|' /C calc'!A0", "invalid", "", "", "", results[1].Error, "=1+1"},
		{"4", "+1", "failed", "", "6", "503", "portal answered 503 after 6 attempts", "Server room"},
		{"5", "-1+2", "skipped", "502", "", "", "", "Roof", u("502")},
		{"6", "@SUM(1)", "updated", "503", "2", "200", "", "Garden 東京", u("503")},
		{"7", "\tx", "unchanged", "504", "", "", "", "", u("504")},
		{"8", "\rx", "invalid", "", "", "", "=HYPERLINK(\"http://evil\")"},
		{"9", "Müller, \"Co\"\nline 2", "created", "505", "1", "200", "", "Müller", u("505")},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows sheet (-want +got):\n%s", diff)
	}

	// Text stays text: no formula anywhere, and numbers are numbers.
	for _, cell := range []string{"B3", "G8", "B4", "H3"} {
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

	style := func(sheet, cell string) *excelize.Style {
		t.Helper()
		id, err := f.GetCellStyle(sheet, cell)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	fill := func(cell string) string {
		t.Helper()
		if st := style("rows", cell); len(st.Fill.Color) > 0 {
			return st.Fill.Color[0]
		}
		return ""
	}
	for cell, want := range map[string]string{"A2": "", "G2": "", "A3": "FFEB9C", "G3": "FFEB9C", "I3": "FFEB9C", "A4": "FFC7CE", "B4": "FFC7CE", "A5": ""} {
		if got := fill(cell); got != want {
			t.Errorf("fill of %s is %q, want %q", cell, got, want)
		}
	}
	if st := style("rows", "A1"); st.Font == nil || !st.Font.Bold {
		t.Errorf("header is not bold")
	}

	// One font family in every cell of both sheets, the workbook's own.
	def, err := f.GetDefaultFont()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range [][2]string{{"rows", "A1"}, {"rows", "B2"}, {"rows", "G3"}, {"rows", "A4"}, {"summary", "A1"}, {"summary", "A4"}, {"summary", "B5"}} {
		if st := style(sc[0], sc[1]); st.Font == nil || st.Font.Family != def {
			t.Errorf("%s!%s font %+v, want family %q", sc[0], sc[1], st.Font, def)
		}
	}

	panes, err := f.GetPanes("rows")
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes %+v, want the header row frozen", panes)
	}
	// Widths fit the content: the header and its filter button at least, the longest
	// value when it is longer, up to a cap; a wide error wraps.
	for col, want := range map[string]float64{"A": 8, "B": 20, "C": 11, "D": 17, "G": 62, "H": 15, "I": 59} {
		if got, _ := f.GetColWidth("rows", col); got != want {
			t.Errorf("width of column %s is %v, want %v", col, got, want)
		}
	}
	if st := style("rows", "G3"); st.Alignment == nil || !st.Alignment.WrapText {
		t.Errorf("the error column does not wrap")
	}
	if h, _ := f.GetRowHeight("rows", 3); h < 29 {
		t.Errorf("row 3, whose error takes two lines, is %v points high", h)
	}
	sheet := sheetXML(t, path, "xl/worksheets/sheet1.xml")
	// excelize writes the range with absolute markers, as Excel does in _FilterDatabase.
	if !strings.Contains(sheet, `<autoFilter ref="$A$1:$I$9"`) {
		t.Errorf("rows sheet has no autofilter over A1:I9:\n%.2000s", sheet)
	}

	// Print: landscape, one page wide, the header on every page.
	layout, err := f.GetPageLayout("rows")
	if err != nil {
		t.Fatal(err)
	}
	if *layout.Orientation != "landscape" || *layout.FitToWidth != 1 || *layout.FitToHeight != 0 {
		t.Errorf("page layout %s, fit %d wide %d high; want landscape, 1 wide, 0 (any) high",
			*layout.Orientation, *layout.FitToWidth, *layout.FitToHeight)
	}
	props, err := f.GetSheetProps("rows")
	if err != nil {
		t.Fatal(err)
	}
	if props.FitToPage == nil || !*props.FitToPage {
		t.Errorf("rows sheet does not fit to page")
	}
	names := map[string]string{}
	for _, dn := range f.GetDefinedName() {
		names[dn.Scope+" "+dn.Name] = dn.RefersTo
	}
	if got := names["rows _xlnm.Print_Titles"]; got != "rows!$1:$1" {
		t.Errorf("print titles %q, want rows!$1:$1 (defined names %v)", got, names)
	}
	if got := names["rows _xlnm.Print_Area"]; got != "rows!$A:$H" {
		t.Errorf("print area %q, want rows!$A:$H", got)
	}

	sum, err := f.GetRows("summary", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range sum {
		if len(r) >= 2 {
			got[r[0]] = r[1]
		}
	}
	started := time.Date(2024, 3, 15, 10, 0, 0, 0, time.UTC).Local()
	zone := started.Format("-07:00")
	for k, v := range map[string]string{
		"Input file": "deals.csv", "Rows read": "8", "Created": "2", "Invalid (not sent)": "2", "Failed": "1",
		"Updated": "1", "Skipped (done in an earlier run)": "1", "Time taken (seconds)": "12.4",
		"Requests to the portal": "10", "Requests per second": "0.8", "Requests refused as too many (429/503)": "1",
		"Outcome": "Rows",
	} {
		if got[k] != v {
			t.Errorf("summary %q = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["Valid"]; ok {
		t.Errorf("an import's summary lists Valid")
	}
	// Dates are date cells: a number with a date format, shown as a date.
	startCell := ""
	for i, r := range sum {
		if len(r) > 0 && r[0] == "Started (UTC"+zone+")" {
			startCell = cellName(2, i+1)
		}
	}
	if startCell == "" {
		t.Fatalf("no Started line in %q", sum)
	}
	if typ, _ := f.GetCellType("summary", startCell); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
		t.Errorf("%s has type %v, want a date (a number)", startCell, typ)
	}
	if shown, _ := f.GetCellValue("summary", startCell); shown != started.Format("2006-01-02 15:04:05") {
		t.Errorf("Started shows %q, want %q", shown, started.Format("2006-01-02 15:04:05"))
	}
	if first, _ := f.GetCellValue("summary", "A2"); !strings.Contains(first, "8 rows read: 2 created, 1 updated, 1 unchanged, 1 skipped, 2 invalid, 1 failed.") ||
		!strings.Contains(first, "3 rows need a look") {
		t.Errorf("summary sentence %q", first)
	}

	// The chart of the outcomes.
	charts := 0
	for _, name := range zipNames(t, path) {
		if strings.HasPrefix(name, "xl/charts/chart") {
			charts++
			chart := sheetXML(t, path, name)
			for _, want := range []string{"barChart><barDir val=\"bar\">", "summary!$A$", "summary!$B$", "Rows by outcome"} {
				if !strings.Contains(chart, want) {
					t.Errorf("%s lacks %s", name, want)
				}
			}
		}
	}
	if charts != 1 {
		t.Errorf("%d charts, want 1", charts)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("report mode %v (%v), want 0600", info.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*")); len(left) > 0 {
		t.Errorf("temporary files left beside the report: %v", left)
	}
}

func zipNames(t *testing.T, path string) []string {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	var names []string
	for _, f := range z.File {
		names = append(names, f.Name)
	}
	return names
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
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewWriter(filepath.Join(blocker, "a.csv")); err == nil {
		t.Errorf("NewWriter under a regular file succeeded")
	}
}

// The report's folder is made when missing; reports hold the customer's data, so every
// one is 0600 and never executable, also when it replaces a file that was world-readable.
func TestReportFolderAndMode(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"r.csv", "r.json", "r.xlsx"} {
		dir := filepath.Join(t.TempDir(), "reports", "nightly")
		path := filepath.Join(dir, name)
		if name == "r.csv" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte("old"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		w, err := NewWriter(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := w.Write(results[0]); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(summary); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, got)
		}
		if name != "r.csv" {
			if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
				t.Errorf("%s: folder %v (%v), want created 0700", name, info.Mode(), err)
			}
		}
	}
}

func TestDealURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base string
		id   int64
		want string
	}{
		{"https://example.onlyoffice.com", 7, "https://example.onlyoffice.com/Products/CRM/Deals.aspx?id=7"},
		{"https://example.onlyoffice.com/", 7, "https://example.onlyoffice.com/Products/CRM/Deals.aspx?id=7"},
		{"https://example.com/office/", 12, "https://example.com/office/Products/CRM/Deals.aspx?id=12"},
		{"https://example.com/office", 12, "https://example.com/office/Products/CRM/Deals.aspx?id=12"},
		{"http://127.0.0.1:8089", 3, "http://127.0.0.1:8089/Products/CRM/Deals.aspx?id=3"},
		{"https://example.com/office/api/2.0/", 4, "https://example.com/office/Products/CRM/Deals.aspx?id=4"},
		{"https://example.onlyoffice.com/API/2.0", 4, "https://example.onlyoffice.com/Products/CRM/Deals.aspx?id=4"},
		{"https://admin:secret@example.com/x/?a=1#f", 3, "https://example.com/x/Products/CRM/Deals.aspx?id=3"},
		{"https://example.com", 0, ""},
		{"", 5, ""},
		{"example.com", 5, ""},
		{"ftp://example.com", 5, ""},
	}
	for _, tt := range tests {
		if got := DealURL(tt.base, tt.id); got != tt.want {
			t.Errorf("DealURL(%q, %d) = %q, want %q", tt.base, tt.id, got, tt.want)
		}
	}
}

// A cell is cut at Excel's limit, counted as Excel counts (UTF-16), with a marker that
// says how much is missing.
func TestClip(t *testing.T) {
	t.Parallel()
	utf16 := func(s string) int {
		n := 0
		for _, c := range s {
			n += utf16Len(c)
		}
		return n
	}
	tests := []struct {
		name string
		in   string
		cut  bool
	}{
		{"short", "abc", false},
		{"at the limit", strings.Repeat("a", MaxCell), false},
		{"accents at the limit", strings.Repeat("é", MaxCell), false},
		{"one over", strings.Repeat("a", MaxCell+1), true},
		{"a megabyte", strings.Repeat("x", 1<<20), true},
		{"emoji count two", strings.Repeat("😀", MaxCell/2+1), true},
	}
	for _, tt := range tests {
		got := clip(tt.in)
		if n := utf16(got); n > MaxCell {
			t.Errorf("%s: %d characters, want at most %d", tt.name, n, MaxCell)
		}
		if !tt.cut {
			if got != tt.in {
				t.Errorf("%s: changed", tt.name)
			}
			continue
		}
		left := utf16(tt.in) - utf16(strings.TrimSuffix(got, got[strings.LastIndex(got, " […cut"):]))
		if want := fmt.Sprintf(" […cut: %d more characters]", left); !strings.HasSuffix(got, want) {
			t.Errorf("%s: ends %q, want %q", tt.name, got[max(0, len(got)-40):], want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("%s: cut inside a character", tt.name)
		}
	}
}

// Over-long cells reach every report format cut with the marker, never whole.
func TestReportsClipCells(t *testing.T) {
	t.Parallel()
	long := Result{Row: 2, Status: "invalid", Key: strings.Repeat("k", 40000), Error: strings.Repeat("e", 100000), Title: strings.Repeat("t", 33000)}
	for _, name := range []string{"r.csv", "r.json", "r.xlsx"} {
		path := writeReport(t, name, []Result{long}, summary)
		var cells []string
		switch name {
		case "r.csv":
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(f).ReadAll()
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			cells = recs[1]
		case "r.json":
			data, _ := os.ReadFile(path)
			var got jsonReportFile
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			cells = []string{got.Rows[0].Key, got.Rows[0].Error, got.Rows[0].Title}
		case "r.xlsx":
			f, err := excelize.OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := f.GetRows("rows")
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			cells = rows[1]
		}
		cut := 0
		for _, c := range cells {
			if len(c) > MaxCell {
				t.Errorf("%s: a cell of %d characters", name, len(c))
			}
			if strings.Contains(c, "more characters]") {
				cut++
			}
		}
		if cut != 3 {
			t.Errorf("%s: %d cells cut with the marker, want 3", name, cut)
		}
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
		{"a quick validate", Summary{Mode: "validate", Counts: map[string]int{"valid": 2}, Rows: 2, Elapsed: 312400 * time.Nanosecond},
			"validate finished in 312µs: 2 valid, 0 invalid (2 rows)"},
		{"unknown status", Summary{Run: 1, Mode: "import", Counts: map[string]int{"weird": 1}, Rows: 1, Elapsed: time.Second},
			"run 1 finished in 1s: 0 invalid, 0 failed, 1 weird (1 row); 0 requests, 0.0 requests/s"},
	}
	for _, tt := range tests {
		if got := tt.s.Text(); got != tt.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.name, got, tt.want)
		}
	}
}
