package source

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

func TestXLSXSheets(t *testing.T) {
	path := fixture{{"Title"}, {"A"}}.write(t, "xlsx", false) // sheets Deals (with the rows), Other
	tests := []struct {
		sheet     string
		wantSheet string
		wantErr   string
	}{
		{sheet: "", wantSheet: "Deals"},
		{sheet: "deals", wantSheet: "Deals"},
		{sheet: "Other", wantErr: `sheet "Other" is empty`},
		{sheet: "Missing", wantErr: `has no sheet "Missing"; its sheets are "Deals", "Other"`},
	}
	for _, tt := range tests {
		t.Run(tt.sheet, func(t *testing.T) {
			r, err := Open(path, Options{Sheet: tt.sheet})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
					t.Errorf("got %v, want an error with %q and the file name", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Sheet() != tt.wantSheet {
				t.Errorf("Sheet() = %q, want %q", r.Sheet(), tt.wantSheet)
			}
		})
	}
}

func TestXLSXCellRef(t *testing.T) {
	r, err := Open(fixture{{"a"}}.write(t, "xlsx", false), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tests := []struct {
		sheet    string
		row, col int
		want     string
	}{
		{"Deals", 12, 4, "Deals!E12"},
		{"Deals", 1, 26, "Deals!AA1"},
		{"My Deals", 2, 0, "'My Deals'!A2"},
		{"Bob's", 2, 0, "'Bob''s'!A2"},
		{"2024", 2, 0, "'2024'!A2"},
		{"Deals", 0, 0, ""},
	}
	for _, tt := range tests {
		r.sheet = tt.sheet
		if got := r.CellRef(tt.row, tt.col); got != tt.want {
			t.Errorf("%s: CellRef(%d, %d) = %q, want %q", tt.sheet, tt.row, tt.col, got, tt.want)
		}
	}
}

func TestXLSXNotAWorkbook(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "the file is empty"},
		{"text", []byte("a,b\n1,2\n"), "is not an XLSX file (not a zip archive)"},
		{"password-protected", append(oleMagic, make([]byte, 504)...), "is password-protected: remove the password in Excel and save again"},
		{"damaged zip", []byte("PK\x03\x04 and then nothing"), "damaged workbook: zip: not a valid zip file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "in.xlsx", tt.data)
			r, err := Open(path, Options{})
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

// TestXLSXWide checks cells beyond the header and rows written with gaps by a stream writer.
func TestXLSXWide(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		cell string
		vals []any
	}{{"A1", []any{"a", "b"}}, {"A2", []any{1, 2, "note"}}, {"B5", []any{true}}} {
		if err := sw.SetRow(r.cell, r.vals); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "wide.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := []got{{2, []string{"1", "2"}, ""}, {5, []string{"", "TRUE"}, ""}}
	if diff := cmp.Diff(want, readAll(t, r)); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}
