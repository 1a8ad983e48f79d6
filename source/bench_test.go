package source

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"
)

// The benchmarks read a 15-column file; the Bare ones run the libraries alone, so that the
// difference is this package's overhead.
const (
	benchCSVRows  = 100_000
	benchXLSXRows = 10_000
	benchCols     = 15
)

func benchRow(i int) []any {
	row := make([]any, benchCols)
	for j := range row {
		switch j % 5 {
		case 0:
			row[j] = fmt.Sprintf("Deal %d, part %d", i, j)
		case 1:
			row[j] = float64(i) * 1.25
		case 2:
			row[j] = i * j
		case 3:
			row[j] = "Müller GmbH"
		case 4:
			row[j] = 45366.5 + float64(i%1000)
		}
	}
	return row
}

func benchHeader() []any {
	h := make([]any, benchCols)
	for j := range h {
		h[j] = fmt.Sprintf("Column %d", j+1)
	}
	return h
}

func writeBenchCSV(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := csv.NewWriter(f)
	cells := make([]string, benchCols)
	for i := range benchCSVRows + 1 {
		row := benchHeader()
		if i > 0 {
			row = benchRow(i)
		}
		for j, v := range row {
			cells[j] = fmt.Sprint(v)
		}
		w.Write(cells)
	}
	w.Flush()
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

func writeBenchXLSX(b *testing.B) string {
	b.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	for i := range benchXLSXRows + 1 {
		row := benchHeader()
		if i > 0 {
			row = benchRow(i)
		}
		if err := sw.SetRow(fmt.Sprintf("A%d", i+1), row); err != nil {
			b.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "bench.xlsx")
	if err := f.SaveAs(path); err != nil {
		b.Fatal(err)
	}
	return path
}

func benchReader(b *testing.B, path string, rows int, opts Options) {
	b.ReportAllocs()
	for b.Loop() {
		r, err := Open(path, opts)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		r.Close()
		if n != rows {
			b.Fatalf("read %d rows, want %d", n, rows)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkCSV(b *testing.B) { benchReader(b, writeBenchCSV(b), benchCSVRows, Options{}) }

func BenchmarkXLSX(b *testing.B) { benchReader(b, writeBenchXLSX(b), benchXLSXRows, Options{}) }

// BenchmarkXLSXGeneral is BenchmarkXLSX with the general reader alone (encoding/xml), not
// the sheet scanner.
func BenchmarkXLSXGeneral(b *testing.B) {
	benchReader(b, writeBenchXLSX(b), benchXLSXRows, Options{generalSheet: true})
}

func BenchmarkBareCSV(b *testing.B) {
	path := writeBenchCSV(b)
	b.ReportAllocs()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r := csv.NewReader(bufio.NewReaderSize(f, bufSize))
		r.ReuseRecord = true
		n := 0
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		f.Close()
		if n != benchCSVRows+1 {
			b.Fatalf("read %d records, want %d", n, benchCSVRows+1)
		}
	}
	b.ReportMetric(float64(benchCSVRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkBareXLSX(b *testing.B) {
	path := writeBenchXLSX(b)
	b.ReportAllocs()
	for b.Loop() {
		f, err := excelize.OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		rows, err := f.Rows("Sheet1")
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rows.Next() {
			if _, err := rows.Columns(excelize.Options{RawCellValue: true}); err != nil {
				b.Fatal(err)
			}
			n++
		}
		rows.Close()
		f.Close()
		if n != benchXLSXRows+1 {
			b.Fatalf("read %d rows, want %d", n, benchXLSXRows+1)
		}
	}
	b.ReportMetric(float64(benchXLSXRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
