package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestCSVLineAsEncodingCSV holds the CSV files' own line writer to encoding/csv's, byte
// for byte, on fields made of what needs quoting (delimiters, quotes, CR, LF, leading
// spaces of several kinds, \. and plain text), with the delimiters a rejects file takes.
func TestCSVLineAsEncodingCSV(t *testing.T) {
	t.Parallel()
	pieces := []string{"a", ",", ";", "\t", "|", "§", `"`, "\r", "\n", " ", "\u00a0", "é", `\.`, "=1", "", "plain text"}
	r := rand.New(rand.NewPCG(1, 2))
	for _, comma := range []rune{',', ';', '\t', '|', '§'} {
		path := filepath.Join(t.TempDir(), "f.csv")
		f, err := createCSV(path, comma)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		w := csv.NewWriter(&want)
		w.Comma = comma
		for range 5_000 {
			fields := make([]string, 1+r.IntN(9))
			for i := range fields {
				// Up to 3 pieces, or a long field of up to 22, where quotes, line ends and
				// delimiters fall anywhere in the eight bytes looked at together.
				for range r.IntN(4) + r.IntN(2)*r.IntN(20) {
					fields[i] += pieces[r.IntN(len(pieces))]
				}
			}
			if err := w.Write(fields); err != nil {
				t.Fatal(err)
			}
			if err := f.write(fields); err != nil {
				t.Fatal(err)
			}
		}
		w.Flush()
		if err := f.close(); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("delimiter %q: the file differs from encoding/csv's (%d bytes, want %d)", comma, len(got), want.Len())
		}
	}
}

// BenchmarkCSVReport writes a CSV report of 100,000 rows of a validate (one in a hundred
// invalid, its error quoted); the results are made before the clock runs.
func BenchmarkCSVReport(b *testing.B) {
	const rows = 100_000
	results := make([]Result, rows)
	for r := range results {
		results[r] = Result{Row: r + 2, Key: fmt.Sprintf("D-%07d", r), Status: "valid", Title: fmt.Sprintf("Licences for Initech %d", r)}
		if r%100 == 0 {
			results[r].Status = "invalid"
			results[r].Error = `column "Stage" (stageid): "Won?" is not listed in map (allowed: "Lead", "Needs Analysis", "Qualified")`
		}
	}
	dir := b.TempDir()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		w, err := NewWriter(filepath.Join(dir, fmt.Sprintf("r%d.csv", i)))
		if err != nil {
			b.Fatal(err)
		}
		for _, res := range results {
			if err := w.Write(res); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(summary); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCSVReportAllocs: a row of the CSV report allocates nothing (a Result taken by
// pointer through the format's interface was a heap copy per row, 97 MB of a 10^6-row
// validate).
func TestCSVReportAllocs(t *testing.T) {
	w, err := NewWriter(filepath.Join(t.TempDir(), "r.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(Summary{})
	r := Result{Row: 123456, Key: "D-0123456", Status: "valid", Title: "Licences for Initech 123456"}
	if n := testing.AllocsPerRun(1000, func() {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("got %v allocations a row, want 0", n)
	}
}

// TestCSVReportRowsAndStatuses: the row numbers counted up from the last one's digits and
// the statuses kept from the last row are what each row's own would be, in any order.
func TestCSVReportRowsAndStatuses(t *testing.T) {
	t.Parallel()
	rows := []int{1, 2, 3, 8, 9, 10, 11, 99, 100, 101, 5, 5, 6, 9999, 10000, 10001, 0, 1, -3, -2, -1, 0, 1, 2}
	statuses := []string{"valid", "valid", "invalid", "=cmd", "=cmd", "a,b", "valid", ""}
	path := filepath.Join(t.TempDir(), "r.csv")
	w, err := NewWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	cw := csv.NewWriter(&want)
	cw.Write(csvHeader[:])
	for i, row := range rows {
		status := statuses[i%len(statuses)]
		if err := w.Write(Result{Row: row, Key: "k", Status: status}); err != nil {
			t.Fatal(err)
		}
		cw.Write([]string{fmt.Sprint(row), "k", neutralise(status), "", "", "", "", "", ""})
	}
	cw.Flush()
	if err := w.Close(Summary{}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(got, want.Bytes()) {
		t.Errorf("got\n%s\nwant the rows\n%s", got, want.Bytes())
	}
}
