package source

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

// A fixture is a sheet's content, written by the tests both as CSV and as XLSX. Each cell
// is a string (the same text in both files) or a typed value; a nil row is blank.
type fixture [][]any

// typed is a value whose CSV text and XLSX cell differ: v (with number format numFmt) goes
// into the XLSX, csv into the CSV; raw is what the XLSX reader must return.
type typed struct {
	v      any
	numFmt int
	csv    string
	raw    string
}

// text is the cell as kind's reader must return it.
func text(kind string, v any) string {
	switch v := v.(type) {
	case string:
		return v
	case typed:
		if kind == "xlsx" {
			return v.raw
		}
		return v.csv
	}
	panic(fmt.Sprintf("bad fixture value %#v", v))
}

func (f fixture) write(t testing.TB, kind string, date1904 bool) string {
	t.Helper()
	if kind == "xlsx" {
		return f.writeXLSX(t, date1904)
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for _, row := range f {
		if row == nil {
			w.Flush()
			b.WriteString("\n")
			continue
		}
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = text("csv", v)
		}
		w.Write(cells)
	}
	w.Flush()
	path := filepath.Join(t.TempDir(), "deals.csv")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (f fixture) writeXLSX(t testing.TB, date1904 bool) string {
	t.Helper()
	x := excelize.NewFile()
	defer x.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(x.SetSheetName("Sheet1", "Deals"))
	if _, err := x.NewSheet("Other"); err != nil {
		t.Fatal(err)
	}
	if date1904 {
		must(x.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &date1904}))
	}
	for i, row := range f {
		for j, v := range row {
			cell, err := excelize.CoordinatesToCellName(j+1, i+1)
			must(err)
			switch v := v.(type) {
			case string:
				if v != "" { // leave the cell out, as Excel does
					must(x.SetCellValue("Deals", cell, v))
				}
			case typed:
				must(x.SetCellValue("Deals", cell, v.v))
				if v.numFmt != 0 {
					style, err := x.NewStyle(&excelize.Style{NumFmt: v.numFmt})
					must(err)
					must(x.SetCellStyle("Deals", cell, cell, style))
				}
			}
		}
	}
	path := filepath.Join(t.TempDir(), "deals.xlsx")
	must(x.SaveAs(path))
	return path
}

// got is a Row in comparable form.
type got struct {
	N     int
	Cells []string
	Err   string
}

func readAll(t testing.TB, r *Reader) []got {
	t.Helper()
	var rows []got
	for {
		row, err := r.Next()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		g := got{N: row.Number, Cells: row.Cells}
		if row.Err != nil {
			g.Err = row.Err.Error()
		}
		rows = append(rows, g)
	}
}

// readAllInto is readAll by NextInto, into one slice reused from row to row (longer than
// the header, as a caller's may be), each row's cells copied as they come.
func readAllInto(t testing.TB, r *Reader) []got {
	t.Helper()
	cells := make([]string, len(r.Header())+2)
	var rows []got
	for {
		row, err := r.NextInto(cells)
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatalf("NextInto: %v", err)
		}
		if len(row.Cells) != len(r.Header()) || &row.Cells[0] != &cells[0] {
			t.Fatalf("row %d: got %d cells of another slice, want the %d given", row.Number, len(row.Cells), len(r.Header()))
		}
		g := got{N: row.Number, Cells: slices.Clone(row.Cells)}
		if row.Err != nil {
			g.Err = row.Err.Error()
		}
		rows = append(rows, g)
	}
}

var kinds = []string{"csv", "xlsx"}

// TestReaders runs the same content through both readers.
func TestReaders(t *testing.T) {
	closeDate := time.Date(2024, 3, 15, 13, 40, 48, 0, time.UTC)
	var (
		amount = typed{v: 1234.5, numFmt: 4, csv: "1234.5", raw: "1234.5"} // #,##0.00
		big    = typed{v: 9876543.21, numFmt: 3, csv: "9876543.21", raw: "9876543.21"}
		count  = typed{v: 42, csv: "42", raw: "42"}
		won    = typed{v: true, csv: "TRUE", raw: "TRUE"}
		lost   = typed{v: false, csv: "FALSE", raw: "FALSE"}
		date   = typed{v: closeDate, numFmt: 14, csv: "15.03.2024 13:40:48", raw: "2024-03-15"}
		date04 = typed{v: closeDate, numFmt: 14, csv: "15.03.2024 13:40:48", raw: "2024-03-15"}
		stamp  = typed{v: closeDate, numFmt: 22, csv: "15.03.2024 13:40:48", raw: "2024-03-15 13:40"}
	)
	type want struct {
		n     int
		cells []any
	}
	tests := []struct {
		name       string
		rows       fixture
		opts       Options
		date1904   bool
		wantHeader []string
		want       []want
	}{{
		name:       "simple",
		rows:       fixture{{"Title", "Amount"}, {"A", "1"}, {"B", "2"}},
		wantHeader: []string{"Title", "Amount"},
		want:       []want{{2, []any{"A", "1"}}, {3, []any{"B", "2"}}},
	}, {
		name:       "blank rows are counted, not delivered",
		rows:       fixture{{"Title"}, {"A"}, nil, nil, {"B"}, nil},
		wantHeader: []string{"Title"},
		want:       []want{{2, []any{"A"}}, {5, []any{"B"}}},
	}, {
		name:       "header row 3",
		rows:       fixture{{"Deals export"}, nil, {"Title", "Amount"}, {"A", "1"}},
		opts:       Options{HeaderRow: 3},
		wantHeader: []string{"Title", "Amount"},
		want:       []want{{4, []any{"A", "1"}}},
	}, {
		name:       "empty trailing cells are padded",
		rows:       fixture{{"a", "b", "c"}, {"1", "", ""}, {"", "2", ""}},
		wantHeader: []string{"a", "b", "c"},
		want:       []want{{2, []any{"1", "", ""}}, {3, []any{"", "2", ""}}},
	}, {
		name:       "trailing unnamed columns are dropped",
		rows:       fixture{{"a", "b", ""}, {"1", "2", ""}},
		wantHeader: []string{"a", "b"},
		want:       []want{{2, []any{"1", "2"}}},
	}, {
		name:       "names are trimmed",
		rows:       fixture{{" Title ", "\uFEFFAmount\t"}, {"A", " 1 "}},
		wantHeader: []string{"Title", "Amount"},
		want:       []want{{2, []any{"A", " 1 "}}},
	}, {
		name:       "multi-line cells do not add rows",
		rows:       fixture{{"Title", "Notes"}, {"A", "line 1\nline 2\nline 3"}, {"B", `say "hi", ok`}, nil, {"C", ""}},
		wantHeader: []string{"Title", "Notes"},
		want:       []want{{2, []any{"A", "line 1\nline 2\nline 3"}}, {3, []any{"B", `say "hi", ok`}}, {5, []any{"C", ""}}},
	}, {
		name:       "unicode",
		rows:       fixture{{"Kunde", "Ort"}, {"Müller & Söhne", "東京"}},
		wantHeader: []string{"Kunde", "Ort"},
		want:       []want{{2, []any{"Müller & Söhne", "東京"}}},
	}, {
		name:       "values as shown, 1900 dates",
		rows:       fixture{{"Title", "Amount", "Big", "Count", "Won", "Lost", "Close", "Stamp"}, {"A", amount, big, count, won, lost, date, stamp}},
		wantHeader: []string{"Title", "Amount", "Big", "Count", "Won", "Lost", "Close", "Stamp"},
		want:       []want{{2, []any{"A", amount, big, count, won, lost, date, stamp}}},
	}, {
		name:       "values as shown, 1904 dates",
		rows:       fixture{{"Title", "Close"}, {"A", date04}},
		date1904:   true,
		wantHeader: []string{"Title", "Close"},
		want:       []want{{2, []any{"A", date04}}},
	}}
	for _, tt := range tests {
		for _, kind := range kinds {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				path := tt.rows.write(t, kind, tt.date1904)
				r, err := Open(path, tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				if r.Kind() != kind {
					t.Errorf("Kind() = %q, want %q", r.Kind(), kind)
				}
				if diff := cmp.Diff(tt.wantHeader, r.Header()); diff != "" {
					t.Errorf("header (-want +got):\n%s", diff)
				}
				var want []got
				for _, w := range tt.want {
					g := got{N: w.n}
					for _, c := range w.cells {
						g.Cells = append(g.Cells, text(kind, c))
					}
					want = append(want, g)
				}
				rows := readAll(t, r)
				if diff := cmp.Diff(want, rows); diff != "" {
					t.Errorf("rows (-want +got):\n%s", diff)
				}
				into, err := Open(path, tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				defer into.Close()
				if diff := cmp.Diff(want, readAllInto(t, into)); diff != "" {
					t.Errorf("rows by NextInto (-want +got):\n%s", diff)
				}
				if kind != "xlsx" {
					return
				}
				if r.Date1904() != tt.date1904 {
					t.Errorf("Date1904() = %v, want %v", r.Date1904(), tt.date1904)
				}
			})
		}
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		rows fixture
		opts Options
		want string
	}{
		{"empty", fixture{}, Options{}, "empty"},
		{"only blank rows", fixture{nil, nil}, Options{}, "empty"},
		{"duplicate names", fixture{{"a", "b", " a"}, {"1", "2", "3"}}, Options{}, `header row 1: columns A and C are both named "a"`},
		{"unnamed column", fixture{{"a", "", "c", "", "e"}}, Options{}, "header row 1: column B has no name; column D has no name"},
		{"blank header row", fixture{{"title"}, nil, {"a"}}, Options{HeaderRow: 2}, "header row 2 is empty"},
		{"header row beyond the end", fixture{{"a"}, {"1"}}, Options{HeaderRow: 5}, "ends before header row 5"},
		{"negative header row", fixture{{"a"}}, Options{HeaderRow: -1}, "header row -1: want 1 or more"},
	}
	for _, tt := range tests {
		for _, kind := range kinds {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				path := tt.rows.write(t, kind, false)
				r, err := Open(path, tt.opts)
				if err == nil {
					r.Close()
					t.Fatalf("got no error, want %q", tt.want)
				}
				if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
					t.Errorf("got %q, want it to contain %q and the file name", err, tt.want)
				}
			})
		}
	}
}

func TestClose(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			r, err := Open(fixture{{"a"}, {"1"}}.write(t, kind, false), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if err := r.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if _, err := r.Next(); err == nil || errors.Is(err, io.EOF) {
				t.Errorf("Next after Close: got %v, want an error", err)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	rows := fixture{{"a", "b"}}
	for i := range 100 {
		rows = append(rows, []any{strconv.Itoa(i), "x"})
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			path := rows.write(t, kind, false)
			r, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			stop := make(chan struct{})
			polled := make(chan struct{})
			go func() { // Progress may be called while Next runs
				defer close(polled)
				for {
					select {
					case <-stop:
						return
					default:
						r.Progress()
					}
				}
			}()
			readAll(t, r)
			close(stop)
			<-polled
			done, total := r.Progress()
			wantDone, wantTotal := int64(101), int64(0) // XLSX: rows read, total unknown
			if kind == "csv" {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				wantDone, wantTotal = fi.Size(), fi.Size()
			}
			if done != wantDone || total != wantTotal {
				t.Errorf("got %d/%d, want %d/%d", done, total, wantDone, wantTotal)
			}
		})
	}
}
