package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/oppimport/oppimport/emulator"
)

// Cells a spreadsheet would run as formulas (OWASP "CSV injection"), as a legacy export may
// carry them in deal titles and amounts.
const sheetInput = "Title,Amount,Notes\n" +
	"\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",100,\"=1+2\"\n" +
	"+SUM(1;2),-5,@cmd\n" +
	"@SUM(A1),=cmd|' /C calc'!A0,-3\n" +
	"-2+3,x,\"\tTabbed\"\n"

const sheetMapping = `version: 1
key: ["Title"]
fields:
  title:           { column: "Title" }
  description:     { column: "Notes" }
  responsibleid:   { value: 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41 }
  stageid:         { value: 1 }
  bidCurrencyAbbr: { value: EUR }
  bidValue:        { column: "Amount" }
`

// sheetDangerous says whether a spreadsheet would take a cell for a formula.
func sheetDangerous(s string) bool {
	return s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0]))
}

// TestSpreadsheetSafety imports rows whose cells are formulas and reads the report and the
// rejects file back: in CSV every cell of ours is neutralised (the rejects file's input
// cells go back as read, so that the fixed file imports the same values); in XLSX every cell
// is text, never a formula, and holds the value as is.
func TestSpreadsheetSafety(t *testing.T) {
	t.Parallel()
	srv := emulator.New(emulator.Options{})
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	input := filepath.Join(dir, "deals.csv")
	mappingPath := filepath.Join(dir, "m.yaml")
	secWrite(t, input, sheetInput)
	secWrite(t, mappingPath, sheetMapping)
	inputRows, err := csv.NewReader(strings.NewReader(sheetInput)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("csv", func(t *testing.T) {
		srv.Reset()
		report, rejects := filepath.Join(dir, "r.csv"), filepath.Join(dir, "rej.csv")
		code, _, stderr := badRun(t, "import", "--mapping", mappingPath, "--url", url, "--token", srv.Token(),
			"--progress", "never", "--report", report, "--rejects", rejects, input)
		if code != exitRows {
			t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitRows, stderr)
		}
		if opps := srv.Opportunities(); len(opps) != 1 || opps[0].Title != `=HYPERLINK("http://x","y")` {
			t.Errorf("the portal holds %+v, want the one valid row with its title as given", opps)
		}
		rows := sheetReadCSV(t, report)
		keys := 0
		for _, row := range rows[1:] {
			for i, cell := range row {
				if sheetDangerous(cell) {
					t.Errorf("report %s: column %s holds %q, which a spreadsheet would run", report, rows[0][i], cell)
				}
			}
			if strings.HasPrefix(row[1], "'") {
				keys++
			}
		}
		if keys != 4 {
			t.Errorf("report: %d keys neutralised with a quote, want 4:\n%q", keys, rows)
		}

		rej := sheetReadCSV(t, rejects)
		if len(rej) != 4 {
			t.Fatalf("rejects: %d rows, want the header and 3:\n%q", len(rej), rej)
		}
		for _, row := range rej[1:] {
			if row[len(row)-1] == "" {
				t.Errorf("rejects: row %q has no error", row)
			}
			for _, c := range row {
				if sheetDangerous(c) {
					t.Errorf("rejects: cell %q would run", c)
				}
			}
			// The input's own cells come back neutralised with one quote, which the mapping
			// drops again: the fixed file imports the values as they were read.
			var unquoted []string
			for _, c := range row[:len(row)-1] {
				if len(c) > 1 && c[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(c[1])) {
					c = c[1:]
				}
				unquoted = append(unquoted, c)
			}
			if !slices.ContainsFunc(inputRows, func(in []string) bool { return slices.Equal(in, unquoted) }) {
				t.Errorf("rejects: row %q is not an input row once unquoted", row)
			}
		}
		// Imported again, the rejects give the same errors about the same values.
		again, _, _ := badRun(t, "validate", "--mapping", mappingPath, "--report", filepath.Join(dir, "again.csv"), rejects)
		if again != exitRows {
			t.Errorf("validating the rejects file: exit %d, want 1", again)
		}
		for i, row := range sheetReadCSV(t, filepath.Join(dir, "again.csv"))[1:] {
			if want := rej[i+1][len(rej[i+1])-1]; row[6] != want {
				t.Errorf("the rejects file again, row %s: error %q, want %q", row[0], row[6], want)
			}
		}
	})

	t.Run("xlsx", func(t *testing.T) {
		srv.Reset()
		report, rejects := filepath.Join(dir, "r.xlsx"), filepath.Join(dir, "rej.xlsx")
		code, _, stderr := badRun(t, "import", "--mapping", mappingPath, "--url", url, "--token", srv.Token(),
			"--progress", "never", "--report", report, "--rejects", rejects, input)
		if code != exitRows {
			t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitRows, stderr)
		}
		keys := sheetCheckXLSX(t, report)
		for _, in := range inputRows[1:] {
			if !slices.Contains(keys, in[0]) && !slices.Contains(keys, "'"+in[0]) {
				t.Errorf("report %s lacks the key %q", report, in[0])
			}
		}
		cells := sheetCheckXLSX(t, rejects)
		for _, want := range []string{"+SUM(1;2)", "-5", "@cmd", "@SUM(A1)", "=cmd|' /C calc'!A0", "-3", "-2+3", "\tTabbed"} {
			if !slices.Contains(cells, want) {
				t.Errorf("rejects %s lacks the cell %q as read: %q", rejects, want, cells)
			}
		}
	})
}

func sheetReadCSV(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(data), "\ufeff")))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// sheetCheckXLSX fails on any formula cell of the workbook, and returns every cell's value.
func sheetCheckXLSX(t *testing.T, path string) []string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var values []string
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		for r, row := range rows {
			for c, v := range row {
				ref, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if formula, _ := f.GetCellFormula(sheet, ref); formula != "" {
					t.Errorf("%s %s!%s is the formula %q", path, sheet, ref, formula)
				}
				// A number cell (-5) is a number, never run; anything else that starts like a
				// formula must be text.
				_, numErr := strconv.ParseFloat(v, 64)
				if typ, _ := f.GetCellType(sheet, ref); sheetDangerous(v) && typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString &&
					!(typ == excelize.CellTypeUnset && numErr == nil) {
					t.Errorf("%s %s!%s holds %q as cell type %v, want text", path, sheet, ref, v, typ)
				}
				values = append(values, v)
			}
		}
	}
	return values
}
