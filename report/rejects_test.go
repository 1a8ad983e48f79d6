package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
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
	path := filepath.Join(t.TempDir(), "r.xlsx")
	r, err := NewRejects(path, rejectsHeader, ';', RejectsSheet("Deals"))
	if err != nil {
		t.Fatal(err)
	}
	r.Write([]string{"00123", "=1+1", "45366.57"}, "=bad")
	r.Write([]string{"7"}, "short")
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
	got, err := f.GetRows("Deals", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Deal ID", "Deal Name", "Close Date", "error"},
		{"00123", "=1+1", "45366.57", "=bad"},
		{"7", "", "", "short"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rejects sheet (-want +got):\n%s", diff)
	}
	for _, cell := range []string{"A2", "B2", "C2", "D2"} {
		if typ, _ := f.GetCellType("Deals", cell); typ != excelize.CellTypeInlineString {
			t.Errorf("%s has type %v, want text", cell, typ)
		}
		if fx, _ := f.GetCellFormula("Deals", cell); fx != "" {
			t.Errorf("%s holds formula %q", cell, fx)
		}
	}
}

func TestNewRejectsErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := NewRejects(filepath.Join(dir, "missing", "r.csv"), rejectsHeader, ','); err == nil {
		t.Errorf("a rejects file in a missing folder was accepted")
	}
	if _, err := NewRejects(filepath.Join(dir, "r.csv"), rejectsHeader, '"'); err == nil {
		t.Errorf(`delimiter '"' was accepted`)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the folder holds %d entries, want none", len(entries))
	}
}
