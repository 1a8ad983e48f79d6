package samples

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite deals.csv and deals.xlsx")

var header = []string{"Deal ID", "Deal Name", "Account", "Owner", "Stage", "Amount", "Currency",
	"Probability (%)", "Close Date", "Billing", "Periods", "Region", "Notes"}

const rowCount = 300

// deal is one generated row; dates stay time.Time so that XLSX gets real date cells.
type deal struct {
	cells []string
	close time.Time
}

func deals() []deal {
	r := rand.New(rand.NewPCG(2024, 11))
	accounts := []string{"ACME Corp.", "Globex Ltd", "Initech", "Hans Müller", "María González", "Northwind Traders"}
	owners := []string{"Anna Berg", "Maria O'Brien", "John Smith", "Zoë Dubois"}
	stages := []string{"Lead", "Qualified", "Needs Analysis", "Proposal", "Negotiation", "Closed Won", "Closed Lost"}
	products := []string{"CRM rollout", "Support renewal", "Data migration", "Training", "Hardware refresh",
		"Consulting", "Licences", "Cloud hosting", "Integration", "Audit"}
	billing := []string{"Fixed", "Fixed", "Fixed", "Hourly", "Monthly", "Yearly"}
	regions := []string{"North", "South", "East", "West", "DACH", "Benelux"}
	start := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)

	out := make([]deal, rowCount)
	for i := range out {
		acct := accounts[r.IntN(len(accounts))]
		bill := billing[r.IntN(len(billing))]
		periods := ""
		if bill != "Fixed" {
			periods = strconv.Itoa(1 + r.IntN(24))
		}
		amount := float64(500+r.IntN(200000)) + float64(r.IntN(100))/100
		closeDate := start.AddDate(0, 0, r.IntN(540))
		notes := ""
		if r.IntN(4) == 0 {
			notes = fmt.Sprintf("Met at the %s fair.\nFollow up in Q%d.", regions[r.IntN(len(regions))], 1+r.IntN(4))
		}
		cells := []string{
			fmt.Sprintf("D-%05d", 10000+i),
			fmt.Sprintf("%s for %s", products[r.IntN(len(products))], acct),
			acct,
			owners[r.IntN(len(owners))],
			stages[r.IntN(len(stages))],
			strconv.FormatFloat(amount, 'f', 2, 64),
			"EUR",
			strconv.Itoa(r.IntN(101)),
			closeDate.Format("02.01.2006"),
			bill,
			periods,
			regions[r.IntN(len(regions))],
			notes,
		}
		switch i + 2 { // the spreadsheet's row number, as BadRows has them
		case 19:
			cells[1] = ""
		case 44:
			cells[5] = "twelve hundred"
		case 90:
			cells[8] = "31.02.2025"
		case 133:
			cells[7] = "150"
		case 179:
			cells[4] = "Parked"
		case 221:
			cells[3] = "Former Employee"
		case 265:
			cells[1] = "Rocket launch 🚀 for " + acct
		}
		out[i] = deal{cells: cells, close: closeDate}
	}
	return out
}

// csvBytes is the export as a legacy CRM writes it: UTF-8 with a BOM, CRLF, amounts with
// thousands separators.
func csvBytes(t *testing.T) []byte {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	w.Write(header)
	for _, d := range deals() {
		cells := append([]string(nil), d.cells...)
		if f, err := strconv.ParseFloat(cells[5], 64); err == nil {
			cells[5] = thousands(f)
		}
		w.Write(cells)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func thousands(f float64) string {
	s := strconv.FormatFloat(f, 'f', 2, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String() + "." + frac
}

// writeXLSX writes the same deals as a workbook: numbers as numbers, dates as date cells.
func writeXLSX(t *testing.T, path string) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Deals"); err != nil {
		t.Fatal(err)
	}
	sw, err := f.NewStreamWriter("Deals")
	if err != nil {
		t.Fatal(err)
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	moneyStyle, err := f.NewStyle(&excelize.Style{NumFmt: 4})
	if err != nil {
		t.Fatal(err)
	}
	row := make([]any, len(header))
	for i, h := range header {
		row[i] = h
	}
	if err := sw.SetRow("A1", row); err != nil {
		t.Fatal(err)
	}
	for i, d := range deals() {
		row := make([]any, len(header))
		for j, c := range d.cells {
			row[j] = c
		}
		if f, err := strconv.ParseFloat(d.cells[5], 64); err == nil {
			row[5] = excelize.Cell{Value: f, StyleID: moneyStyle}
		}
		if n, err := strconv.Atoi(d.cells[7]); err == nil {
			row[7] = n
		}
		if d.cells[8] == d.close.Format("02.01.2006") {
			row[8] = excelize.Cell{Value: d.close, StyleID: dateStyle}
		}
		if n, err := strconv.Atoi(d.cells[10]); err == nil {
			row[10] = n
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, row); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

func TestSamplesAreCurrent(t *testing.T) {
	want := csvBytes(t)
	if *update {
		if err := os.WriteFile("deals.csv", want, 0o644); err != nil {
			t.Fatal(err)
		}
		writeXLSX(t, "deals.xlsx")
		t.Skip("rewrote the samples; run the tests again to check them")
	}
	got, err := fs.ReadFile(FS, "deals.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("deals.csv is stale: run go test ./samples -update")
	}

	data, err := fs.ReadFile(FS, "deals.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Deals", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != rowCount+1 {
		t.Fatalf("deals.xlsx has %d rows, want %d", len(rows), rowCount+1)
	}
	if diff := cmp.Diff(header, rows[0]); diff != "" {
		t.Errorf("deals.xlsx header (-want +got):\n%s", diff)
	}
	for i, d := range deals() {
		got := rows[i+1]
		if got[0] != d.cells[0] || got[1] != d.cells[1] {
			t.Errorf("deals.xlsx row %d is %q, want %q: run go test ./samples -update", i+2, got[:2], d.cells[:2])
		}
	}
}

func TestMappingNamesTheColumns(t *testing.T) {
	m, err := fs.ReadFile(FS, "mapping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range header {
		if !bytes.Contains(m, []byte(strconv.Quote(h))) && !bytes.Contains(m, []byte("{"+h+"}")) {
			t.Errorf("mapping.yaml does not use the column %q", h)
		}
	}
}
