package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"
)

// Sheet names of the XLSX report.
const (
	rowsSheet    = "rows"
	summarySheet = "summary"
)

// xlsxReport spools the rows to a temporary CSV file beside the report while it measures
// each column, and writes the workbook at Close: a column's width must be set before
// excelize's StreamWriter takes the first row, and only the whole run knows how wide
// the keys, titles and errors are. Memory stays flat; the spool is removed at Close.
//
// Text goes in as inline strings, which a spreadsheet never evaluates: a key "=1+1" is
// shown as =1+1, so text cells keep their value as it was instead of being prefixed
// with a quote as in CSV.
type xlsxReport struct {
	path   string
	spool  *os.File
	w      *csv.Writer
	rows   int // data rows spooled
	widths [reportColumns]int
	rec    [reportColumns]string
}

func newXLSXReport(path string) (*xlsxReport, error) {
	if err := makeFolder(path); err != nil {
		return nil, err
	}
	// The spool proves now that the folder can be written.
	spool, err := newSpool(path)
	if err != nil {
		return nil, err
	}
	x := &xlsxReport{path: path, spool: spool, w: csv.NewWriter(spool)}
	for i, h := range csvHeader {
		x.widths[i] = textWidth(h)
	}
	return x, nil
}

func (x *xlsxReport) write(r Result) error {
	if x.rows+1 >= excelize.TotalRows {
		return fmt.Errorf("an xlsx sheet holds at most %d rows: ask for a .csv report", excelize.TotalRows)
	}
	x.rows++
	x.rec = [reportColumns]string{
		strconv.Itoa(r.Row), clip(r.Key), r.Status, itoaOrEmpty(r.OpportunityID),
		itoaOrEmpty(int64(r.Attempts)), itoaOrEmpty(int64(r.HTTPStatus)), clip(r.Error), clip(r.Title), clip(r.URL),
	}
	for i, v := range x.rec {
		x.widths[i] = max(x.widths[i], textWidth(v))
	}
	if err := x.w.Write(x.rec[:]); err != nil {
		return err
	}
	return x.w.Error()
}

func (x *xlsxReport) close(s Summary) error {
	x.w.Flush()
	err := x.w.Error()
	if err == nil {
		err = x.build(s)
	}
	return errors.Join(err, dropSpool(x.spool))
}

// newSpool creates the temporary file that holds an XLSX output's rows until Close,
// beside the output, 0600 (the customer's data). Where the system allows (not Windows) it
// is unlinked at once, so that a run killed before Close leaves nothing behind.
func newSpool(path string) (*os.File, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.rows")
	if err != nil {
		return nil, err
	}
	if runtime.GOOS != "windows" {
		os.Remove(f.Name()) // best effort: Close removes it otherwise
	}
	return f, nil
}

// dropSpool closes and removes a spool.
func dropSpool(f *os.File) error {
	err := f.Close()
	if rerr := os.Remove(f.Name()); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	return err
}

// Column widths of the rows sheet, in characters: at least the header and its filter
// button, at most what a landscape page can spare for that column. Longer errors and
// titles wrap in their cell; the url column is left off paper.
var (
	rowsMaxWidths = [reportColumns]int{8, 30, 11, 15, 9, 11, 60, 46, 70}
	wrapped       = [reportColumns]bool{6: true, 7: true}
)

// Row kinds, by the look of their cells.
const (
	rowPlain = iota
	rowInvalid
	rowFailed
)

// filterButton is the room the autofilter's drop-down takes in a header cell.
const filterButton = 3

// build writes the workbook from the spool.
func (x *xlsxReport) build(s Summary) (err error) {
	book := excelize.NewFile()
	defer func() { err = errors.Join(err, book.Close()) }()
	st, err := newStyles(book)
	if err != nil {
		return err
	}
	var widths [reportColumns]int
	for i, w := range x.widths {
		widths[i] = min(max(w, textWidth(csvHeader[i])+filterButton), rowsMaxWidths[i]) + 2
	}
	sw, err := newRowsSheet(book, rowsSheet, 1, widths[:])
	if err != nil {
		return err
	}
	if err := sw.SetRow("A1", styled(st.header, csvHeader[:]), excelize.RowOpts{StyleID: st.header}); err != nil {
		return err
	}
	cells := make([]any, len(csvHeader))
	row := 1
	err = readSpool(x.spool, len(csvHeader), func(rec []string) error {
		row++
		lines := 1
		for i, v := range rec {
			if wrapped[i] || strings.Contains(v, "\n") {
				lines = max(lines, wrappedLines(v, textRoom(widths[i])))
			}
		}
		opts := rowOpts(lines)
		kind := rowPlain
		switch rec[2] {
		case "failed":
			kind = rowFailed
		case "invalid":
			kind = rowInvalid
		}
		for i, v := range rec {
			style := st.rows[kind][0]
			if wrapped[i] || strings.Contains(v, "\n") {
				style = st.rows[kind][1]
			}
			cells[i] = excelize.Cell{StyleID: style, Value: reportCell(i, v)}
		}
		opts.StyleID = st.rows[kind][0]
		return sw.SetRow(cellName(1, row), cells, opts)
	})
	if err != nil {
		return err
	}
	// The stream writer emits the worksheet's autoFilter at Flush, so setting it now,
	// when the last row is known, lands it in the rows sheet.
	ref := "A1:" + cellName(len(csvHeader), x.rows+1)
	if err := book.AutoFilter(rowsSheet, ref, nil); err != nil {
		return err
	}
	if err := book.SetDefinedName(&excelize.DefinedName{
		Name: "_xlnm.Print_Area", RefersTo: rowsSheet + "!$A:$" + column(reportColumns-2), Scope: rowsSheet,
	}); err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if err := writeSummarySheet(book, st, s); err != nil {
		return err
	}
	return replaceFile(x.path, func(f *os.File) error { return book.Write(f) })
}

// newRowsSheet makes the book's first sheet the sheet name of rows under a header at row
// headerRow (1-based), printed landscape, its columns as wide as widths, and the header
// and all above it kept in view while the rows scroll.
func newRowsSheet(book *excelize.File, name string, headerRow int, widths []int) (*excelize.StreamWriter, error) {
	if err := book.SetSheetName(book.GetSheetName(0), name); err != nil {
		return nil, err
	}
	if err := setPrint(book, name, "landscape", headerRow); err != nil {
		return nil, err
	}
	sw, err := book.NewStreamWriter(name)
	if err != nil {
		return nil, err
	}
	if err := setColWidths(sw, widths); err != nil {
		return nil, err
	}
	first := cellName(1, headerRow+1)
	if err := sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: headerRow, TopLeftCell: first, ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: first, ActiveCell: first, Pane: "bottomLeft"}},
	}); err != nil {
		return nil, err
	}
	return sw, nil
}

// styled is texts as cells of the style.
func styled(style int, texts []string) []any {
	cells := make([]any, len(texts))
	for i, t := range texts {
		cells[i] = excelize.Cell{StyleID: style, Value: t}
	}
	return cells
}

// readSpool reads a spool of CSV records of n fields from its start, each into each
// (the record is valid until each returns).
func readSpool(spool *os.File, n int, each func(rec []string) error) error {
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	rd := csv.NewReader(spool)
	rd.FieldsPerRecord = n
	rd.ReuseRecord = true
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading back the rows: %w", err)
		}
		if err := each(rec); err != nil {
			return err
		}
	}
}

// rowOpts sets the height of a row of the given lines of text: spreadsheets do not grow
// a row for its wrapped text on opening a file, the row says how high it is.
func rowOpts(lines int) excelize.RowOpts {
	if lines > 1 {
		return excelize.RowOpts{Height: min(float64(lines)*lineHeight, excelize.MaxRowHeight)}
	}
	return excelize.RowOpts{}
}

// textRoom is how many characters of text a column of the given width shows on a line:
// a width counts digits, and text in a proportional font is about a fifth narrower on
// average; the cell's padding takes two.
func textRoom(width int) int { return width*6/5 - 2 }

// lineHeight is the height of one line of 11-point text, in points.
const lineHeight = 15

// wrappedLines is how many lines text takes in a column of the given width, wrapped at
// spaces as a spreadsheet wraps it.
func wrappedLines(text string, width int) int {
	width = max(width, 1)
	lines := 0
	for para := range strings.SplitSeq(text, "\n") {
		lines++
		col := 0
		for word := range strings.FieldsSeq(para) {
			w := textWidth(word)
			switch {
			case col == 0:
				col = w
			case col+1+w <= width:
				col += 1 + w
				continue
			default:
				lines++
				col = w
			}
			for col > width { // a word longer than the column breaks anywhere
				lines++
				col -= width
			}
		}
		if lines > 400 { // MaxRowHeight is 409 points
			break
		}
	}
	return lines
}

// setColWidths sets the widths of the first len(widths) columns. excelize's StreamWriter
// writes the columns in the reverse order of the calls, and Excel wants them ascending.
func setColWidths(sw *excelize.StreamWriter, widths []int) error {
	for i := len(widths) - 1; i >= 0; i-- {
		if err := sw.SetColWidth(i+1, i+1, float64(widths[i])); err != nil {
			return err
		}
	}
	return nil
}

// reportCell is the value of column i of the rows sheet: the numbers as numbers, an
// empty cell as none, text as an inline string.
func reportCell(i int, v string) any {
	if v == "" {
		return nil
	}
	switch csvHeader[i] {
	case "row", "opportunity_id", "attempts", "http_status":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return v
}

// styles are the cell styles of a workbook this package writes. Every one names the
// workbook's default font, so that the whole file shows one font family.
type styles struct {
	font     string
	rows     [3][2]int // the rows sheet by row kind, plain and wrapped
	plain    int
	header   int
	failed   int
	invalid  int
	title    int
	label    int
	dateTime int
	decimal  int
	integer  int
	date     int // rejects: a date
	wrap     int // summary: the sentence
}

func newStyles(book *excelize.File) (*styles, error) {
	font, err := book.GetDefaultFont()
	if err != nil {
		return nil, err
	}
	st := &styles{font: font}
	f := func(bold bool, color string, size float64) *excelize.Font {
		return &excelize.Font{Family: font, Size: size, Bold: bold, Color: color}
	}
	defs := []struct {
		id    *int
		style excelize.Style
	}{
		{&st.plain, excelize.Style{Font: f(false, "", 11), Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "top"}}},
		{&st.header, excelize.Style{
			Font:      f(true, "", 11),
			Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "top"},
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
			Border:    []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}},
		}},
		// Excel's own "Bad" and "Neutral" cell styles: a reader sees the problem rows at
		// a glance, and the autofilter can pick them by colour.
		{&st.failed, excelize.Style{
			Font: f(false, "9C0006", 11),
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFC7CE"}},
		}},
		{&st.invalid, excelize.Style{
			Font: f(false, "9C5700", 11),
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFEB9C"}},
		}},
		{&st.title, excelize.Style{Font: f(true, "", 14)}},
		{&st.label, excelize.Style{Font: f(true, "", 11)}},
		{&st.dateTime, excelize.Style{Font: f(false, "", 11), CustomNumFmt: strPtr("yyyy-mm-dd hh:mm:ss"), Alignment: &excelize.Alignment{Horizontal: "left"}}},
		{&st.decimal, excelize.Style{Font: f(false, "", 11), CustomNumFmt: strPtr("#,##0.0#"), Alignment: &excelize.Alignment{Horizontal: "left"}}},
		{&st.integer, excelize.Style{Font: f(false, "", 11), CustomNumFmt: strPtr("#,##0"), Alignment: &excelize.Alignment{Horizontal: "left"}}},
		{&st.date, excelize.Style{Font: f(false, "", 11), CustomNumFmt: strPtr("yyyy-mm-dd"), Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "top"}}},
		{&st.wrap, excelize.Style{Font: f(false, "", 11), Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
	}
	for _, d := range defs {
		// Every cell sits at the top of its row, so that a label and its value, or a
		// wrapped cell and its neighbours, read on one line.
		if d.style.Alignment == nil {
			d.style.Alignment = &excelize.Alignment{}
		}
		d.style.Alignment.Vertical = "top"
		if *d.id, err = book.NewStyle(&d.style); err != nil {
			return nil, err
		}
	}
	// Every cell of the rows sheet is left-aligned and at the top: its numbers are
	// identifiers, not amounts, and a wrapped error beside them reads from its first line.
	looks := [3]excelize.Style{
		rowPlain:   {Font: f(false, "", 11)},
		rowInvalid: {Font: f(false, "9C5700", 11), Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFEB9C"}}},
		rowFailed:  {Font: f(false, "9C0006", 11), Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFC7CE"}}},
	}
	for kind, look := range looks {
		for w := range 2 {
			look.Alignment = &excelize.Alignment{Horizontal: "left", Vertical: "top", WrapText: w == 1}
			if st.rows[kind][w], err = book.NewStyle(&look); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

func strPtr(s string) *string { return &s }

// setPrint sets up a sheet for paper: the orientation, every column on one page's width
// (as many pages down as it takes), narrow margins, the sheet's name and the page number
// in the footer, and, for a table (headerRow > 0), its header row repeated on every page.
// Call it before the sheet's StreamWriter is made.
func setPrint(book *excelize.File, sheet, orientation string, headerRow int) error {
	if err := book.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: boolPtr(true)}); err != nil {
		return err
	}
	zero, one := 0, 1
	if err := book.SetPageLayout(sheet, &excelize.PageLayoutOptions{
		Orientation: &orientation, FitToWidth: &one, FitToHeight: &zero,
	}); err != nil {
		return err
	}
	margin, edge := 0.5, 0.3
	if err := book.SetPageMargins(sheet, &excelize.PageLayoutMarginsOptions{
		Left: &margin, Right: &margin, Top: &margin, Bottom: &margin, Header: &edge, Footer: &edge,
	}); err != nil {
		return err
	}
	if err := book.SetHeaderFooter(sheet, &excelize.HeaderFooterOptions{
		OddFooter: "&L&A&Rpage &P of &N",
	}); err != nil {
		return err
	}
	if headerRow <= 0 {
		return nil
	}
	row := strconv.Itoa(headerRow)
	return book.SetDefinedName(&excelize.DefinedName{
		Name: "_xlnm.Print_Titles", RefersTo: quoteSheet(sheet) + "!$" + row + ":$" + row, Scope: sheet,
	})
}

func boolPtr(b bool) *bool { return &b }

// quoteSheet quotes a sheet name for a reference when it needs it.
func quoteSheet(name string) string {
	for _, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "'" + strings.ReplaceAll(name, "'", "''") + "'"
		}
	}
	return name
}

// outcomeWords are the statuses as the summary sheet names them for a reader.
var outcomeWords = map[string]string{
	"created":      "Created",
	"updated":      "Updated",
	"unchanged":    "Unchanged",
	"skipped":      "Skipped (done in an earlier run)",
	"valid":        "Valid",
	"invalid":      "Invalid (not sent)",
	"failed":       "Failed",
	"would-create": "Would be created",
	"would-update": "Would be updated",
}

// outcomes are the statuses a summary sheet lists: the ones of its kind of run, even
// at 0, and any other that has rows.
func (s Summary) outcomes() []string {
	var out []string
	for _, st := range s.statuses() {
		n := s.Counts[st]
		switch {
		case n > 0:
		case st == "invalid":
		case s.Mode == "validate" && st == "valid":
		case s.Mode != "validate" && (st == "created" || st == "failed" || st == "skipped" || st == "updated" || st == "unchanged"):
		default:
			continue
		}
		out = append(out, st)
	}
	return out
}

// writeSummarySheet adds the summary sheet: a title, the run in one sentence, then what
// a reader asks, each with a label in words and a value that is a real date or number,
// the outcomes as a table and as a chart.
func writeSummarySheet(f *excelize.File, st *styles, s Summary) error {
	if _, err := f.NewSheet(summarySheet); err != nil {
		return err
	}
	if err := setPrint(f, summarySheet, "landscape", 0); err != nil {
		return err
	}
	set := func(cell string, v any, style int) error {
		if err := f.SetCellValue(summarySheet, cell, v); err != nil {
			return err
		}
		return f.SetCellStyle(summarySheet, cell, cell, style)
	}
	title := "Import report"
	if s.Mode == "validate" {
		title = "Validation report (nothing was sent)"
	}
	if s.Run > 0 {
		title += fmt.Sprintf(", run %d", s.Run)
	}
	if err := set("A1", title, st.title); err != nil {
		return err
	}
	if err := f.MergeCell(summarySheet, "A2", "F2"); err != nil {
		return err
	}
	if err := set("A2", sentence(s), st.wrap); err != nil {
		return err
	}
	if err := f.SetRowHeight(summarySheet, 2, 32); err != nil {
		return err
	}

	type line struct {
		label string
		value any
		style int
	}
	lines := []line{{"Input file", s.Input, st.plain}}
	if !s.Started.IsZero() {
		zone := s.Started.Local().Format("-07:00")
		lines = append(lines,
			line{"Started (UTC" + zone + ")", s.Started.Local(), st.dateTime},
			line{"Finished (UTC" + zone + ")", s.Started.Add(s.Elapsed).Local(), st.dateTime})
	}
	lines = append(lines, line{"Time taken (seconds)", round(s.Elapsed.Seconds(), 2), st.decimal})
	if s.Stopped != "" {
		lines = append(lines, line{"Stopped early because", s.Stopped, st.failed})
	}
	lines = append(lines, line{"Rows read", s.Rows, st.integer})
	if s.Mode != "validate" || s.Requests > 0 {
		lines = append(lines,
			line{"Requests to the portal", s.Requests, st.integer},
			line{"Requests refused as too many (429/503)", s.Refused, st.integer},
			line{"Requests per second", round(s.RequestRate(), 1), st.decimal})
		if s.Rate > 0 {
			lines = append(lines, line{"Rate limit (requests per second)", s.Rate, st.decimal})
		}
		if s.RateReached > 0 && s.RateReached < s.Rate {
			lines = append(lines, line{"Rate it slowed down to", round(s.RateReached, 1), st.decimal})
		}
	}
	row := 4
	for _, l := range lines {
		if err := set(cellName(1, row), l.label, st.label); err != nil {
			return err
		}
		if err := set(cellName(2, row), l.value, l.style); err != nil {
			return err
		}
		row++
	}

	row++
	if err := set(cellName(1, row), "Outcome", st.header); err != nil {
		return err
	}
	if err := set(cellName(2, row), "Rows", st.header); err != nil {
		return err
	}
	first := row + 1
	for _, o := range s.outcomes() {
		row++
		word := outcomeWords[o]
		if word == "" {
			word = o
		}
		style := st.plain
		switch o {
		case "failed":
			style = st.failed
		case "invalid":
			style = st.invalid
		}
		if err := set(cellName(1, row), word, style); err != nil {
			return err
		}
		if err := set(cellName(2, row), s.Counts[o], st.integer); err != nil {
			return err
		}
	}
	if err := f.SetColWidth(summarySheet, "A", "A", 40); err != nil {
		return err
	}
	if err := f.SetColWidth(summarySheet, "B", "B", 24); err != nil {
		return err
	}
	if row < first {
		return nil
	}
	ref := func(col string) string {
		return fmt.Sprintf("%s!$%s$%d:$%s$%d", summarySheet, col, first, col, row)
	}
	font := excelize.Font{Family: st.font, Size: 10, Color: "000000"}
	return f.AddChart(summarySheet, "D4", &excelize.Chart{
		Type: excelize.Bar,
		Series: []excelize.ChartSeries{{
			Name:       summarySheet + "!$B$" + strconv.Itoa(first-1),
			Categories: ref("A"),
			Values:     ref("B"),
			Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"4472C4"}},
			DataLabel:  excelize.ChartDataLabel{Font: font},
		}},
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Rows by outcome", Font: &excelize.Font{Family: st.font, Size: 12, Bold: true}}}},
		Legend:    excelize.ChartLegend{Position: "none"},
		PlotArea:  excelize.ChartPlotArea{ShowVal: true},
		XAxis:     excelize.ChartAxis{ReverseOrder: true, Font: font},
		YAxis:     excelize.ChartAxis{Font: font, MajorGridLines: true},
		Dimension: excelize.ChartDimension{Width: 560, Height: 300},
	})
}

// sentence says the run in words, as a manager would ask it: what was done, what needs
// a look.
func sentence(s Summary) string {
	var b strings.Builder
	if s.Input != "" {
		fmt.Fprintf(&b, "%s: ", s.Input)
	}
	fmt.Fprintf(&b, "%s read", plural(s.Rows, "row"))
	var parts []string
	for _, o := range s.outcomes() {
		if n := s.Counts[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ToLower(strings.SplitN(outcomeWords[o]+" ", " ", 2)[0])))
		}
	}
	if len(parts) > 0 {
		b.WriteString(": " + strings.Join(parts, ", "))
	}
	b.WriteString(".")
	if s.Stopped != "" {
		fmt.Fprintf(&b, " The run stopped early (%s).", s.Stopped)
	}
	if bad := s.Counts["invalid"] + s.Counts["failed"]; bad > 0 {
		fmt.Fprintf(&b, " %s need a look: see the rows sheet, filtered by status, and the rejects file.", plural(bad, "row"))
	} else if s.Stopped == "" && s.Rows > 0 {
		b.WriteString(" Nothing needs a look.")
	}
	return b.String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// textWidth is how many character widths text takes on screen: East Asian wide and
// full-width characters count two, and a multi-line cell is as wide as its widest line.
func textWidth(s string) int {
	widest, w := 0, 0
	for i := 0; i < len(s); {
		c, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if c == '\n' {
			widest, w = max(widest, w), 0
			continue
		}
		switch width.LookupRune(c).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			w += 2
		default:
			w++
		}
		if w > 255 { // no column is ever wider
			break
		}
	}
	return max(widest, w)
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

// column names a 0-based column by its letters.
func column(i int) string {
	name, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		panic(fmt.Sprintf("report: column %d: %v", i, err))
	}
	return name
}
