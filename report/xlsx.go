package report

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/xuri/excelize/v2"
)

// Sheet names of the XLSX report.
const (
	rowsSheet    = "rows"
	summarySheet = "summary"
)

// xlsxReport streams the rows sheet with excelize's StreamWriter and writes the file at
// Close, with the summary sheet. Text goes in as inline strings, which a spreadsheet
// never evaluates: a key "=1+1" is shown as =1+1, so text cells keep their value as it
// was instead of being prefixed with a quote as in CSV.
type xlsxReport struct {
	path    string
	file    *excelize.File
	sw      *excelize.StreamWriter
	row     int // the last sheet row written (1 = the header)
	invalid int // style ids of the rows that stand out
	failed  int
	cells   [7]any
}

var rowsColWidths = [7]float64{8, 24, 11, 15, 9, 11, 90}

func newXLSXReport(path string) (_ *xlsxReport, err error) {
	file := excelize.NewFile()
	defer func() {
		if err != nil {
			file.Close()
		}
	}()
	x := &xlsxReport{path: path, file: file}
	if err := file.SetSheetName(file.GetSheetName(0), rowsSheet); err != nil {
		return nil, err
	}
	header, err := file.NewStyle(&excelize.Style{
		Font:   &excelize.Font{Bold: true},
		Border: []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}},
	})
	if err != nil {
		return nil, err
	}
	// Excel's own "Bad" and "Neutral" cell styles: a reader sees the problem rows at
	// a glance, and the autofilter can pick them by colour.
	x.failed, err = file.NewStyle(&excelize.Style{
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFC7CE"}},
		Font: &excelize.Font{Color: "9C0006"},
	})
	if err != nil {
		return nil, err
	}
	x.invalid, err = file.NewStyle(&excelize.Style{
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFEB9C"}},
		Font: &excelize.Font{Color: "9C5700"},
	})
	if err != nil {
		return nil, err
	}
	if x.sw, err = file.NewStreamWriter(rowsSheet); err != nil {
		return nil, err
	}
	for i, w := range rowsColWidths {
		if err := x.sw.SetColWidth(i+1, i+1, w); err != nil {
			return nil, err
		}
	}
	if err := x.sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}); err != nil {
		return nil, err
	}
	head := make([]any, len(csvHeader))
	for i, h := range csvHeader {
		head[i] = excelize.Cell{StyleID: header, Value: h}
	}
	if err := x.sw.SetRow("A1", head); err != nil {
		return nil, err
	}
	x.row = 1
	return x, nil
}

func (x *xlsxReport) write(r Result) error {
	if x.row >= excelize.TotalRows {
		return fmt.Errorf("an xlsx sheet holds at most %d rows: ask for a .csv report", excelize.TotalRows)
	}
	x.row++
	x.cells = [7]any{r.Row, r.Key, r.Status, numOrNil(r.OpportunityID), numOrNil(int64(r.Attempts)),
		numOrNil(int64(r.HTTPStatus)), r.Error}
	var opts []excelize.RowOpts
	switch r.Status {
	case "failed":
		opts = []excelize.RowOpts{{StyleID: x.failed}}
	case "invalid":
		opts = []excelize.RowOpts{{StyleID: x.invalid}}
	}
	return x.sw.SetRow(cellName(1, x.row), x.cells[:], opts...)
}

func (x *xlsxReport) close(s Summary) error {
	err := x.finish(s)
	if err == nil {
		err = x.file.SaveAs(x.path)
	}
	return errors.Join(err, x.file.Close())
}

func (x *xlsxReport) finish(s Summary) error {
	// The stream writer emits the worksheet's autoFilter at Flush, so setting it now,
	// when the last row is known, lands it in the rows sheet.
	ref := "A1:" + cellName(len(csvHeader), x.row)
	if err := x.file.AutoFilter(rowsSheet, ref, nil); err != nil {
		return err
	}
	if err := x.sw.Flush(); err != nil {
		return err
	}
	return writeSummarySheet(x.file, s)
}

// writeSummarySheet adds the summary sheet: one line per item, name and value.
func writeSummarySheet(f *excelize.File, s Summary) error {
	if _, err := f.NewSheet(summarySheet); err != nil {
		return err
	}
	lines := [][2]any{
		{"run", s.Run},
		{"mode", s.Mode},
		{"input", s.Input},
		{"rows", s.Rows},
	}
	for _, st := range s.statuses() {
		lines = append(lines, [2]any{st, s.Counts[st]})
	}
	started := any("")
	if !s.Started.IsZero() {
		started = s.Started.Format(time.RFC3339)
	}
	lines = append(lines,
		[2]any{"started", started},
		[2]any{"elapsed_seconds", round(s.Elapsed.Seconds(), 3)},
		[2]any{"requests", s.Requests},
		[2]any{"refused", s.Refused},
		[2]any{"requests_per_second", round(s.RequestRate(), 2)},
		[2]any{"rate", s.Rate},
		[2]any{"rate_reached", s.RateReached},
		[2]any{"stopped", s.Stopped},
	)
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	for i, l := range lines {
		if err := f.SetSheetRow(summarySheet, cellName(1, i+1), &[]any{l[0], l[1]}); err != nil {
			return err
		}
	}
	if err := f.SetCellStyle(summarySheet, "A1", cellName(1, len(lines)), bold); err != nil {
		return err
	}
	if err := f.SetColWidth(summarySheet, "A", "A", 22); err != nil {
		return err
	}
	return f.SetColWidth(summarySheet, "B", "B", 40)
}

func numOrNil(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

func round(v float64, places int) float64 {
	p := math.Pow10(places)
	return math.Round(v*p) / p
}

// cellName is the A1 reference of a 1-based column and row, both in range (the
// callers check the row against excelize.TotalRows).
func cellName(col, row int) string {
	name, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		panic(fmt.Sprintf("report: cell %d,%d: %v", col, row, err))
	}
	return name
}
