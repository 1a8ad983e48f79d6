package report

import (
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkXLSXReport writes a report of 100,000 rows, as an import of that size does:
// the spool, the measured widths and the workbook at Close.
func BenchmarkXLSXReport(b *testing.B) {
	const rows = 100_000
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		w, err := NewWriter(filepath.Join(dir, fmt.Sprintf("r%d.xlsx", i)))
		if err != nil {
			b.Fatal(err)
		}
		for r := range rows {
			res := Result{Row: r + 2, Key: fmt.Sprintf("D-%06d", r), Status: "created", OpportunityID: int64(r + 1), Attempts: 1, HTTPStatus: 201,
				Title: fmt.Sprintf("Deal %d for Müller & Söhne GmbH", r), URL: DealURL("https://example.com/office/", int64(r+1))}
			if r%20 == 3 {
				res = Result{Row: r + 2, Key: res.Key, Status: "invalid", Title: res.Title,
					Error: fmt.Sprintf(`Deals!E%d: column "Close Date" (expectedCloseDate): "31.02.2024" is not a date (want DD.MM.YYYY)`, r+2)}
			}
			if err := w.Write(res); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(summary); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRejectsXLSX writes a rejects file of 100,000 rows of 12 columns.
func BenchmarkRejectsXLSX(b *testing.B) {
	const rows = 100_000
	dir := b.TempDir()
	header := []string{"Deal ID", "Deal Name", "Account", "Owner", "Stage", "Amount", "Currency", "Probability", "Close Date", "Billing", "Region", "Notes"}
	for i := 0; b.Loop(); i++ {
		r, err := NewRejects(filepath.Join(dir, fmt.Sprintf("j%d.xlsx", i)), header, 0, RejectsDates(8))
		if err != nil {
			b.Fatal(err)
		}
		for n := range rows {
			cells := []string{fmt.Sprintf("D-%06d", n), "Licences for Hans Müller", "ACME Corp.", "Anna Berg", "Qualified", "136938.5", "EUR", "36",
				"45900", "Monthly", "North", "Met at the West fair."}
			if err := r.Write(cells, `column "Stage" (stageid): "Parked" is not listed in map`); err != nil {
				b.Fatal(err)
			}
		}
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
