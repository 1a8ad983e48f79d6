package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"
)

// benchMapping maps the generated 15-column deals onto the emulator's seeds, as a real
// mapping would: look-up maps, a template, a date format, a custom field. Two columns
// (Source, Created) are read but feed only the description, or nothing.
const benchMapping = `version: 1
input:
  sheet: Deals
key: ["Deal ID"]
timezone: Europe/Berlin
fields:
  title:              { column: "Deal Name" }
  description:        { template: "Legacy id: {Deal ID}\n{Notes}\nSource: {Source}" }
  contactid:
    column: "Account"
    map: { "ACME Corp.": 1, "Globex Ltd": 2, "Initech": 3, "Hans Müller": 8, "María González": 9, "Northwind Traders": "" }
  responsibleid:
    column: "Owner"
    map:
      "Anna Berg": 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41
      "Maria O'Brien": 8a1d4e7b-2c3f-4a5b-8c9d-0e1f2a3b4c5d
      "John Smith": c1d2e3f4-a5b6-4c7d-9e8f-0a1b2c3d4e5f
      "Zoë Dubois": d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f7a
  stageid:
    column: "Stage"
    map: { "Lead": 1, "Needs Analysis": 4, "Qualified": 5, "Proposal": 6, "Negotiation": 7, "Closed Won": 8, "Closed Lost": 9 }
  bidType:            { column: "Billing", map: { Fixed: FixedBid, Hourly: PerHour, Monthly: PerMonth, Yearly: PerYear }, default: FixedBid }
  bidValue:           { column: "Amount" }
  bidCurrencyAbbr:    { column: "Currency", default: EUR }
  perPeriodValue:     { column: "Periods" }
  successProbability: { column: "Probability (%)" }
  expectedCloseDate:  { column: "Close Date", format: "DD.MM.YYYY" }
custom_fields:
  - { id: 11, column: "Region" }
`

var (
	header   = []string{"Deal ID", "Deal Name", "Account", "Owner", "Stage", "Amount", "Currency", "Probability (%)", "Close Date", "Billing", "Periods", "Region", "Notes", "Source", "Created"}
	accounts = []string{"ACME Corp.", "Globex Ltd", "Initech", "Hans Müller", "María González", "Northwind Traders"}
	owners   = []string{"Anna Berg", "Maria O'Brien", "John Smith", "Zoë Dubois"}
	stages   = []string{"Lead", "Needs Analysis", "Qualified", "Proposal", "Negotiation", "Closed Won", "Closed Lost"}
	billing  = []string{"Fixed", "Hourly", "Monthly", "Yearly"}
	regions  = []string{"North", "South", "East", "West"}
	sources  = []string{"Web", "Referral", "Trade show", "Cold call"}
	epoch    = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
)

// deal is the generated row i (from 1). With bad, one row in a hundred has a stage the
// mapping does not know: invalid, as real exports have some.
type deal struct {
	i      int
	bad    bool
	amount float64
	close  time.Time
}

func newDeal(i int, withBad bool) deal {
	return deal{
		i:      i,
		bad:    withBad && i%100 == 0,
		amount: float64(i%500_000)*3.17 + 0.5,
		close:  epoch.AddDate(0, 0, i%900),
	}
}

// cells gives the row's 15 cells; amount and date as text (CSV) or numbers (XLSX).
func (d deal) cells(xlsx bool) []any {
	i := d.i
	stage := stages[i%len(stages)]
	if d.bad {
		stage = "Won?"
	}
	notes := fmt.Sprintf("Met at the fair in week %d.", i%52+1)
	if i%10 == 0 {
		notes = fmt.Sprintf("Follow up in Q%d, \"priority\" client.\nSecond line.", i%4+1)
	}
	var amount, closeDate any
	if xlsx {
		amount = d.amount
		closeDate = serial(d.close)
	} else {
		amount = money(d.amount)
		closeDate = d.close.Format("02.01.2006")
	}
	return []any{
		fmt.Sprintf("D-%07d", i),
		fmt.Sprintf("Licences for %s %d", accounts[i%len(accounts)], i),
		accounts[i%len(accounts)],
		owners[i%len(owners)],
		stage,
		amount,
		[]string{"EUR", "USD", "GBP"}[i%3],
		strconv.Itoa(i % 101),
		closeDate,
		billing[i%len(billing)],
		strconv.Itoa(i%24 + 1),
		regions[i%len(regions)],
		notes,
		sources[i%len(sources)],
		epoch.AddDate(0, 0, -(i % 700)).Format("2006-01-02"),
	}
}

// money writes 12345.5 as "12,345.50", as exports of a spreadsheet do.
func money(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	intPart, frac := s[:len(s)-3], s[len(s)-3:]
	for i := len(intPart) - 3; i > 0; i -= 3 {
		intPart = intPart[:i] + "," + intPart[i:]
	}
	return intPart + frac
}

// serial is t as an Excel serial date (1900 system).
func serial(t time.Time) float64 {
	return float64(t.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC))) / float64(24*time.Hour)
}

// writeCSV writes rows deals, one in a hundred invalid.
func writeCSV(path string, rows int) error { return writeCSVRows(path, rows, true, false) }

// writeCSVValid writes rows deals, every one valid (the imports).
func writeCSVValid(path string, rows int) error { return writeCSVRows(path, rows, false, false) }

// writeCSVChanged writes the valid deals with one in ten changed (its amount): a sync's
// second export.
func writeCSVChanged(path string, rows int) error { return writeCSVRows(path, rows, false, true) }

func writeCSVRows(path string, rows int, withBad, changed bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	if err := w.Write(header); err != nil {
		return err
	}
	rec := make([]string, len(header))
	for i := 1; i <= rows; i++ {
		d := newDeal(i, withBad)
		if changed && i%10 == 0 {
			d.amount += 100
		}
		for j, c := range d.cells(false) {
			rec[j] = c.(string)
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// writeXLSXShared writes the deals of writeXLSX with its text in the shared-strings table,
// as Excel and LibreOffice save a workbook (excelize's stream writer writes inline
// strings): excelize's cell API builds the table, with each text once.
func writeXLSXShared(path string, rows int) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Deals"); err != nil {
		return err
	}
	head := make([]any, len(header))
	for i, h := range header {
		head[i] = h
	}
	if err := f.SetSheetRow("Deals", "A1", &head); err != nil {
		return err
	}
	for i := 1; i <= rows; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		cells := newDeal(i, true).cells(true)
		if err := f.SetSheetRow("Deals", cell, &cells); err != nil {
			return err
		}
	}
	return f.SaveAs(path)
}

// writeXLSX writes rows deals (one in a hundred invalid) to the sheet Deals, streamed.
func writeXLSX(path string, rows int) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Deals"); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter("Deals")
	if err != nil {
		return err
	}
	head := make([]any, len(header))
	for i, h := range header {
		head[i] = h
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	for i := 1; i <= rows; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, newDeal(i, true).cells(true)); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.SaveAs(path)
}
