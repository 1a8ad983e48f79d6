package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

var rejectsHeader = []string{"Deal ID", "Deal Name", "Close Date"}

func TestRejectsCSVRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "deals.rejects.csv")
	r, err := NewRejects(path, rejectsHeader, ';')
	if err != nil {
		t.Fatal(err)
	}
	rows := []struct {
		cells  []string
		reason string
	}{
		{[]string{"D-1", "=1+1", "31.02.2024"}, `column "Close Date" (expectedCloseDate): "31.02.2024" is not a date`},
		{[]string{"D-2", "Müller; \"Co\"", "01.03.2024"}, "=portal answered 400"},
		{[]string{"-3"}, "short row"},
	}
	for _, row := range rows {
		if err := r.Write(row.cells, row.reason); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if r.Count() != 3 || r.Path() != path {
		t.Errorf("Count() = %d, Path() = %q; want 3, %q", r.Count(), r.Path(), path)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data, ok := bytes.CutPrefix(data, []byte("\uFEFF"))
	if !ok {
		t.Errorf("no UTF-8 byte order mark")
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = ';'
	got, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Deal ID", "Deal Name", "Close Date", "error"},
		// every cell a spreadsheet would run neutralised, the input's and the error column
		{"D-1", "'=1+1", "31.02.2024", rows[0].reason},
		{"D-2", "Müller; \"Co\"", "01.03.2024", "'=portal answered 400"},
		{"'-3", "", "", "short row"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rejects file (-want +got):\n%s", diff)
	}
}

func TestRejectsLazy(t *testing.T) {
	for _, name := range []string{"r.csv", "r.xlsx"} {
		path := filepath.Join(t.TempDir(), name)
		r, err := NewRejects(path, rejectsHeader, ',')
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: a run with no rejected row left a file (stat: %v)", name, err)
		}
		if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 0 {
			t.Errorf("%s: the folder holds %d entries, want none", name, len(entries))
		}
		if err := r.Write([]string{"a", "b", "c"}, "x"); err == nil {
			t.Errorf("%s: Write after Close succeeded", name)
		}
	}
}

// A rejects file from an earlier run goes when this run rejects nothing; any other
// file at the path stays.
func TestRejectsStale(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.csv")
	r, _ := NewRejects(stale, rejectsHeader, ';')
	r.Write([]string{"1", "2", "3"}, "bad")
	r.Close()
	other := filepath.Join(dir, "other.csv")
	if err := os.WriteFile(other, []byte("Deal ID;Deal Name;Close Date\n1;2;3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	staleX := filepath.Join(dir, "stale.xlsx")
	r, _ = NewRejects(staleX, rejectsHeader, 0)
	r.Write([]string{"1", "2", "3"}, "bad")
	r.Close()

	for path, wantGone := range map[string]bool{stale: true, other: false, staleX: true} {
		r, err := NewRejects(path, rejectsHeader, ';')
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		_, err = os.Stat(path)
		if gone := errors.Is(err, fs.ErrNotExist); gone != wantGone {
			t.Errorf("%s: removed %v, want %v", filepath.Base(path), gone, wantGone)
		}
	}
}

func TestRejectsErrorColumnName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	r, err := NewRejects(path, []string{"id", "error", "error_2"}, ',')
	if err != nil {
		t.Fatal(err)
	}
	r.Write([]string{"1", "old", "older"}, "new")
	r.Close()
	data, _ := os.ReadFile(path)
	if want := "\uFEFFid,error,error_2,error_3\n1,old,older,new\n"; string(data) != want {
		t.Errorf("got %q, want %q", data, want)
	}
}

func TestRejectsXLSX(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.xlsx")
	r, err := NewRejects(path, []string{"Deal ID", "Deal Name", "Close Date", "Amount", "Created"}, ';',
		RejectsSheet("Deals"), RejectsDates(2, 4))
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a long reason ", 20)
	r.Write([]string{"00123", "=1+1", "45366", "1234.5", "2024-03-15 13:45"}, "=bad")
	r.Write([]string{"7"}, "short")
	r.Write([]string{"15583649431", "Müller 東京", "2024-03-15", "1.50", "45366.57"}, long)
	r.Write([]string{"-8", "x", "soon", "1e5", "-1"}, "")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !cmp.Equal(got, []string{"Deals"}) {
		t.Errorf("sheets %v, want [Deals]", got)
	}
	// Read back raw: every value as it was stored, dates as their serials (2024-03-15 is
	// 45366). The source reader reads the values as shown, as a person sees them below.
	got, err := f.GetRows("Deals", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Deal ID", "Deal Name", "Close Date", "Amount", "Created", "error"},
		{"00123", "=1+1", "45366", "1234.5", "45366.572916666664", "=bad"},
		{"7", "", "", "", "", "short"},
		{"15583649431", "Müller 東京", "45366", "1.50", "45366.57", long},
		{"-8", "x", "soon", "1e5", "-1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rejects sheet (-want +got):\n%s", diff)
	}
	// As a person sees them: dates shown as dates.
	for cell, want := range map[string]string{"C2": "2024-03-15", "E2": "2024-03-15 13:45", "C4": "2024-03-15", "E4": "2024-03-15 13:40", "D2": "1234.5"} {
		if shown, _ := f.GetCellValue("Deals", cell); shown != want {
			t.Errorf("%s shows %q, want %q", cell, shown, want)
		}
	}
	types := map[string]excelize.CellType{
		"A2": excelize.CellTypeInlineString, "B2": excelize.CellTypeInlineString, "F2": excelize.CellTypeInlineString,
		"C2": excelize.CellTypeUnset, "D2": excelize.CellTypeUnset, "E2": excelize.CellTypeUnset,
		"A4": excelize.CellTypeUnset, "D4": excelize.CellTypeInlineString, "E4": excelize.CellTypeUnset,
		"A5": excelize.CellTypeUnset, "C5": excelize.CellTypeInlineString, "D5": excelize.CellTypeInlineString, "E5": excelize.CellTypeUnset,
	}
	for cell, want := range types {
		if typ, _ := f.GetCellType("Deals", cell); typ != want {
			t.Errorf("%s has type %v, want %v", cell, typ, want)
		}
		if fx, _ := f.GetCellFormula("Deals", cell); fx != "" {
			t.Errorf("%s holds formula %q", cell, fx)
		}
	}
	if sheet := sheetXML(t, path, "xl/worksheets/sheet1.xml"); !strings.Contains(sheet, `<autoFilter ref="$A$1:$F$5"`) {
		t.Errorf("no autofilter over the header and rows:\n%.3000s", sheet)
	}
	for col, want := range map[string]float64{"A": 13, "B": 14, "C": 15, "F": 82} {
		if got, _ := f.GetColWidth("Deals", col); got != want {
			t.Errorf("width of column %s is %v, want %v", col, got, want)
		}
	}
	if panes, _ := f.GetPanes("Deals"); !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes %+v, want the header frozen", panes)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v (%v), want 0600", info.Mode(), err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("the folder holds %d entries, want the rejects file alone", len(entries))
	}
}

// What stands above the input's header stands above the rejects file's, on the same
// rows, so that the mapping's header_row reads it; blank rows stay blank.
func TestRejectsAbove(t *testing.T) {
	t.Parallel()
	above := [][]string{{"Deals export", "", ""}, nil, {"=evil()", "note"}}
	for _, name := range []string{"r.csv", "r.xlsx"} {
		path := filepath.Join(t.TempDir(), name)
		r, err := NewRejects(path, rejectsHeader, ';', RejectsAbove(above))
		if err != nil {
			t.Fatal(err)
		}
		r.Write([]string{"D-1", "Kitchen", "x"}, "bad")
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		var got [][]string
		if name == "r.csv" {
			data, _ := os.ReadFile(path)
			want := "\uFEFFDeals export;;\n\n'=evil();note\nDeal ID;Deal Name;Close Date;error\nD-1;Kitchen;x;bad\n"
			if string(data) != want {
				t.Errorf("csv: got %q, want %q", data, want)
			}
			continue
		}
		f, err := excelize.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err = f.GetRows("rejects")
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{{"Deals export"}, nil, {"=evil()", "note"}, {"Deal ID", "Deal Name", "Close Date", "error"}, {"D-1", "Kitchen", "x", "bad"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("xlsx (-want +got):\n%s", diff)
		}
		if panes, _ := f.GetPanes("rejects"); panes.YSplit != 4 {
			t.Errorf("xlsx: frozen at %d rows, want 4", panes.YSplit)
		}
		titles := ""
		for _, dn := range f.GetDefinedName() {
			if dn.Name == "_xlnm.Print_Titles" {
				titles = dn.RefersTo
			}
		}
		if titles != "rejects!$4:$4" {
			t.Errorf("xlsx: print titles %q, want the header row, rejects!$4:$4", titles)
		}
	}
	// With the same rows above, a later run that rejects nothing finds its header and
	// removes the file.
	for _, name := range []string{"s.csv", "s.xlsx"} {
		path := filepath.Join(t.TempDir(), name)
		r, _ := NewRejects(path, rejectsHeader, ';', RejectsAbove(above))
		r.Write([]string{"D-1"}, "bad")
		r.Close()
		r, _ = NewRejects(path, rejectsHeader, ';', RejectsAbove(above))
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: the stale rejects file stayed", name)
		}
	}
}

func TestRejectsMode(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "new", "r.csv")
	r, err := NewRejects(path, rejectsHeader, ',')
	if err != nil {
		t.Fatal(err)
	}
	r.Write([]string{"1"}, "bad")
	r.Close()
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v (%v), want 0600", info.Mode(), err)
	}
}

func TestNewRejectsErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRejects(filepath.Join(blocker, "r.csv"), rejectsHeader, ','); err == nil {
		t.Errorf("a rejects file under a regular file was accepted")
	}
	if _, err := NewRejects(filepath.Join(dir, "r.csv"), rejectsHeader, '"'); err == nil {
		t.Errorf(`delimiter '"' was accepted`)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %d entries, want the blocker alone", len(entries))
	}
}

// A cell of several lines wraps and its row is as high as its lines, in the rejects file
// and in the report: a spreadsheet would show its first line alone.
func TestXLSXMultilineCells(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.xlsx")
	r, err := NewRejects(path, rejectsHeader, 0)
	if err != nil {
		t.Fatal(err)
	}
	r.Write([]string{"D-1", "Kitchen", "", "x"}, "bad")
	r.Write([]string{"D-2", "Met at the fair.\nFollow up in Q1.\nCall Anna."}, "bad")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	rep := writeReport(t, "r.xlsx", []Result{{Row: 2, Status: "created"}, {Row: 3, Key: "a\nb\nc", Status: "created"}}, summary)
	for _, c := range []struct{ path, sheet, cell string }{{path, "rejects", "B3"}, {rep, "rows", "B3"}} {
		f, err := excelize.OpenFile(c.path)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := f.GetCellStyle(c.sheet, c.cell)
		st, _ := f.GetStyle(id)
		if st.Alignment == nil || !st.Alignment.WrapText {
			t.Errorf("%s %s does not wrap", c.path, c.cell)
		}
		if h, _ := f.GetRowHeight(c.sheet, 3); h < 3*lineHeight {
			t.Errorf("%s row 3 is %v points high, want at least %d for its three lines", c.path, h, 3*lineHeight)
		}
		if h, _ := f.GetRowHeight(c.sheet, 2); h > lineHeight+1 {
			t.Errorf("%s row 2 is %v points high, want one line's", c.path, h)
		}
		f.Close()
	}
}
