package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/oppimport/oppimport/emulator"
)

// No output is ever the input, the mapping, the state or another output, whatever name it
// goes by: the run is refused before anything is opened for writing or posted.
func TestOutputsNeverOverwriteInputs(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	const content = "Title\nKitchen\nRoof\n"
	in := writeFile(t, dir, "deals.csv", content)
	mp := writeFile(t, dir, "m.yaml", keyedTitleMapping)
	hard := filepath.Join(dir, "hard.csv")
	if err := os.Link(in, hard); err != nil {
		t.Skipf("links: %v", err) // Windows without the privilege
	}
	// Each pair of the files a run reads and writes, one of them by another name; report's
	// TestDistinct tells a file by every other name (a symbolic link, a relative spelling,
	// a linked folder, a link to a file not made yet).
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"report is the input", []string{"--report", in}, "the input and the report (--report) are the same file"},
		{"rejects is the input", []string{"--rejects", in}, "the input and the rejects file (--rejects) are the same file"},
		{"rejects is the report", []string{"--report", filepath.Join(dir, "r.csv"), "--rejects", filepath.Join(dir, "r.csv")}, "the report (--report) and the rejects file (--rejects) are the same file"},
		{"report is a hard link of the input", []string{"--report", hard}, "the input and the report (--report) are the same file under another name"},
		{"state is the input", []string{"--state", in}, "the input and the state database (--state) are the same file"},
		{"report is the mapping", []string{"--report", mp}, "the mapping (--mapping) and the report (--report) are the same file"},
	}
	for _, tt := range tests {
		args := append([]string{"import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--progress", "never"}, tt.args...)
		res := runCmd(t, append(args, in)...)
		if res.code != exitNothing {
			t.Errorf("%s: exit %d, want 2:\n%s", tt.name, res.code, res.stderr)
		}
		if !strings.Contains(res.stderr, tt.want) || !strings.Contains(res.stderr, "nothing was posted") {
			t.Errorf("%s: stderr %q, want it to say %q and that nothing was posted", tt.name, res.stderr, tt.want)
		}
		if got, _ := os.ReadFile(in); string(got) != content {
			t.Errorf("%s: the input now holds %q", tt.name, got)
		}
		if got, _ := os.ReadFile(mp); string(got) != keyedTitleMapping {
			t.Errorf("%s: the mapping now holds %q", tt.name, got)
		}
	}
	if n := len(srv.Opportunities()); n != 0 {
		t.Errorf("the portal holds %d deals, want none", n)
	}
	// validate alike, though it has no state database.
	res := runCmd(t, "validate", "--mapping", mp, "--report", in, in)
	if res.code != exitNothing || !strings.Contains(res.stderr, "are the same file") {
		t.Errorf("validate --report INPUT: exit %d, want 2:\n%s", res.code, res.stderr)
	}
}

// Reports and rejects hold the customer's data: 0600, never executable, in a folder the
// run makes; the report names each deal's title and its page on the portal.
func TestOutputsModesFolderTitleURL(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	in := writeFile(t, dir, "deals.csv", "Title,Close\nKitchen,2024-03-15\nRoof,31.02.2024\n")
	mp := writeFile(t, dir, "m.yaml", keyedTitleMapping+"  expectedCloseDate: { column: Close }\n")
	for _, ext := range []string{"csv", "xlsx"} {
		out := filepath.Join(dir, "reports-"+ext, "nightly")
		report := filepath.Join(out, "run."+ext)
		res := runCmd(t, "import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--progress", "never",
			"--state", filepath.Join(dir, ext+".state.db"), "--report", report, in)
		if res.code != exitRows {
			t.Fatalf("%s: exit %d, want 1:\n%s", ext, res.code, res.stderr)
		}
		for _, f := range []string{report, filepath.Join(out, "deals.rejects.csv")} {
			info, err := os.Stat(f)
			if err != nil {
				t.Errorf("%s: %v", ext, err)
				continue
			}
			if got := info.Mode().Perm(); got != 0o600 {
				t.Errorf("%s: mode %v, want 0600", f, got)
			}
		}
		if info, err := os.Stat(out); err != nil || info.Mode().Perm() != 0o700 {
			t.Errorf("%s: folder %v (%v), want made 0700", out, info.Mode(), err)
		}
		if ext != "csv" {
			continue
		}
		rows := readReport(t, report)
		id := rows[1][3]
		want := [][]string{
			{"row", "key", "status", "opportunity_id", "attempts", "http_status", "error", "title", "url"},
			{"2", "Kitchen", "created", id, "1", "201", "", "Kitchen", url + "/Products/CRM/Deals.aspx?id=" + id},
		}
		if got := rows[:2]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("report rows %q, want %q", got, want)
		}
		if got := rows[2]; got[2] != "invalid" || got[7] != "Roof" || got[8] != "" {
			t.Errorf("invalid row %q, want its title and no url", got)
		}
	}
}

// The rejects file keeps what stands above the header, so that it imports with the same
// mapping (header_row: 3); fixed in place it goes in; its own rejects are -2, not
// .rejects.rejects.
func TestRejectsImportWithTheSameMapping(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	mapping := "version: 1\ninput: { header_row: 3, sheet: Deals }\n" + strings.TrimPrefix(keyedTitleMapping, "version: 1\n") +
		"  expectedCloseDate: { column: Close, format: DD.MM.YYYY }\n"
	mp := writeFile(t, dir, "m.yaml", mapping)

	csvIn := writeFile(t, dir, "deals.csv", "Deals export 2024-11-30;\n;\nTitle;Close\nKitchen;15.03.2024\nRoof;31.02.2024\n")
	book := excelize.NewFile()
	book.SetSheetName("Sheet1", "Deals")
	dateStyle, _ := book.NewStyle(&excelize.Style{NumFmt: 14})
	book.SetCellValue("Deals", "A1", "Deals export 2024-11-30")
	book.SetSheetRow("Deals", "A3", &[]any{"Title", "Close"})
	book.SetSheetRow("Deals", "A4", &[]any{"Kitchen", time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC)})
	book.SetSheetRow("Deals", "A5", &[]any{"Roof", "31.02.2024"})
	book.SetSheetRow("Deals", "A6", &[]any{"Garden", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)})
	book.SetCellStyle("Deals", "B4", "B6", dateStyle)
	xlsxIn := filepath.Join(dir, "deals.xlsx")
	if err := book.SaveAs(xlsxIn); err != nil {
		t.Fatal(err)
	}

	for _, in := range []string{csvIn, xlsxIn} {
		ext := filepath.Ext(in)
		out := filepath.Join(dir, "out"+ext)
		state := filepath.Join(dir, ext+".state.db")
		imp := func(input string) cmdResult {
			return runCmd(t, "import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--progress", "never",
				"--state", state, "--report", filepath.Join(out, "r.csv"), input)
		}
		if res := imp(in); res.code != exitRows {
			t.Fatalf("%s: exit %d, want 1:\n%s", ext, res.code, res.stderr)
		}
		rejects := filepath.Join(out, "deals.rejects"+ext)
		// As it is, the rejects file gives the same error on the same row.
		res := runCmd(t, "validate", "--mapping", mp, "--report", filepath.Join(dir, "v.csv"), rejects)
		if res.code != exitRows {
			t.Fatalf("%s: validate of the rejects: exit %d, want 1:\n%s", ext, res.code, res.stderr)
		}
		rows := readReport(t, filepath.Join(dir, "v.csv"))
		if len(rows) != 2 || rows[1][0] != "4" || !strings.Contains(rows[1][6], `"31.02.2024" is not a date`) {
			t.Errorf("%s: the rejects validate as %q, want row 4 with the date's error", ext, rows)
		}
		// Its own rejects are named -2.
		if res := imp(rejects); res.code != exitRows || !strings.Contains(res.stderr, "deals.rejects-2"+ext) {
			t.Errorf("%s: importing the rejects as they are: exit %d, want 1 and rejects at deals.rejects-2%s:\n%s", ext, res.code, ext, res.stderr)
		}
		// Fixed in place, it goes in.
		fix(t, rejects, "31.02.2024", "28.02.2024")
		if res := imp(rejects); res.code != exitOK {
			t.Errorf("%s: importing the fixed rejects: exit %d, want 0:\n%s", ext, res.code, res.stderr)
		}
	}
	titles := map[string]int{}
	for _, o := range srv.Opportunities() {
		titles[o.Title]++
	}
	if want := map[string]int{"Kitchen": 2, "Roof": 2, "Garden": 1}; fmt.Sprint(titles) != fmt.Sprint(want) {
		t.Errorf("the portal holds %v, want %v (each input once)", titles, want)
	}
}

// fix replaces old by new in a CSV or XLSX file, as a user fixing a cell does.
func fix(t *testing.T, path, old, new string) {
	t.Helper()
	if filepath.Ext(path) == ".csv" {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	book, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	cells, err := book.SearchSheet(book.GetSheetName(0), old)
	if err != nil || len(cells) != 1 {
		t.Fatalf("%s: %q found in %v (%v)", path, old, cells, err)
	}
	if err := book.SetCellStr(book.GetSheetName(0), cells[0], new); err != nil {
		t.Fatal(err)
	}
	if err := book.Save(); err != nil {
		t.Fatal(err)
	}
}
