package report

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Rejects writes the rows that were invalid or failed, in the input's own columns and
// a last error column, so that a user fixes them in place and imports the file again
// with the same mapping: whatever stood above the input's header (a title, notes, blank
// rows: what header_row skips) stands above the rejects file's header too, on the same
// rows.
//
// The file is created with the first rejected row: a run in which every row went in
// leaves none behind. It is 0600 (it holds the customer's data), in a folder made when
// missing. Cells over MaxCell characters are cut with a marker. Not safe for concurrent
// use.
//
// CSV (any path not ending in .xlsx): the input's delimiter, UTF-8 with a byte order
// mark, so that Excel, where most users fix rows, opens accented text correctly and
// saves it back as UTF-8 (the source reader drops the mark). Every cell that starts with
// = + - @, tab or carriage return is neutralised with a leading quote, since the file is
// meant to be opened in a spreadsheet; the mapping drops that one quote again when the
// fixed file is imported, so the values go in as they were read.
//
// XLSX (a path ending in .xlsx): the rows are spooled to a temporary file and the
// workbook is written at Close, with columns as wide as their content, the header bold,
// frozen and filtered. A value that reads back as itself from a number cell (1234.5,
// 15583649431; not 00123 or 1.50) is a number; in a date column (RejectsDates) a date
// serial or a YYYY-MM-DD [HH:mm[:ss]] value is a date cell, in the input's date system
// (RejectsDate1904); anything else is text, an inline string that no spreadsheet runs.
type Rejects struct {
	path      string
	header    []string // the input's columns and the error column
	above     [][]string
	delimiter rune
	sheet     string
	xlsx      bool
	dates     map[int]bool
	date1904  bool
	count     int
	closed    bool

	// CSV, once the first row came
	out *csvFile
	rec []string

	// XLSX, once the first row came: the spool and each column's widest cell
	spool  *os.File
	sw     *csv.Writer
	widths []int
}

// RejectsOption adjusts a Rejects.
type RejectsOption func(*Rejects)

// RejectsSheet names the sheet of an XLSX rejects file: give the input's sheet, so that
// a mapping that names its sheet reads the rejects file too. The default is "rejects".
func RejectsSheet(name string) RejectsOption {
	return func(r *Rejects) {
		if name != "" {
			r.sheet = name
		}
	}
}

// RejectsAbove gives the rows that stand above the input's header, one per row from row
// 1 (an empty one for a blank row: which rows are blank is the source reader's to say), to
// be written above the rejects file's header so that the mapping's header_row finds it.
func RejectsAbove(rows [][]string) RejectsOption {
	return func(r *Rejects) { r.above = rows }
}

// RejectsDates names the input's date columns (0-based): in an XLSX rejects file their
// serials and ISO dates are date cells, shown as dates.
func RejectsDates(cols ...int) RejectsOption {
	return func(r *Rejects) {
		for _, c := range cols {
			if c >= 0 {
				r.dates[c] = true
			}
		}
	}
}

// RejectsDate1904 says that the input workbook counts dates from 1904, so that the
// rejects workbook does too and its date serials keep their meaning.
func RejectsDate1904(on bool) RejectsOption {
	return func(r *Rejects) { r.date1904 = on }
}

// NewRejects prepares a rejects file at path for rows with the given header (the
// input's columns as in the file). delimiter is the input's CSV delimiter (0 = comma);
// an XLSX rejects file ignores it. The file is not created until the first Write, but
// its folder is checked now, so that a path that cannot be written fails before the
// run starts.
//
// The last column is named "error", or "error_2", "error_3"... when the input already
// has a column of that name (a rejects file imported again).
func NewRejects(path string, header []string, delimiter rune, opts ...RejectsOption) (*Rejects, error) {
	if delimiter == 0 {
		delimiter = ','
	}
	if !validDelimiter(delimiter) {
		return nil, fmt.Errorf("rejects %s: %q cannot be a CSV delimiter", path, delimiter)
	}
	r := &Rejects{
		path:      path,
		header:    append(slices.Clone(header), errorColumn(header)),
		delimiter: delimiter,
		sheet:     "rejects",
		xlsx:      strings.EqualFold(filepath.Ext(path), ".xlsx"),
		dates:     map[int]bool{},
	}
	for _, o := range opts {
		o(r)
	}
	if err := makeFolder(path); err != nil {
		return nil, fmt.Errorf("rejects %s: %w", path, err)
	}
	if err := checkWritable(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("rejects %s: %w", path, err)
	}
	return r, nil
}

func validDelimiter(d rune) bool {
	return d != '"' && d != '\r' && d != '\n' && utf8.ValidRune(d) && d != utf8.RuneError
}

func errorColumn(header []string) string {
	name := "error"
	for n := 2; slices.Contains(header, name); n++ {
		name = "error_" + strconv.Itoa(n)
	}
	return name
}

// Path is the rejects file's path.
func (r *Rejects) Path() string { return r.path }

// Count is how many rows were written.
func (r *Rejects) Count() int { return r.count }

// Write adds one rejected row: its cells as read from the input (padded with empty
// cells when shorter than the header) and why it was rejected.
func (r *Rejects) Write(cells []string, reason string) error {
	var err error
	switch {
	case r.closed:
		err = errClosed
	case r.xlsx:
		err = r.writeXLSX(cells, reason)
	default:
		err = r.writeCSV(cells, reason)
	}
	if err != nil {
		return fmt.Errorf("rejects %s: %w", r.path, err)
	}
	r.count++
	return nil
}

// row fills dst with cells, padded or cut to the input's width (as the source reader
// delivers a ragged row), and reason last.
func (r *Rejects) row(dst []string, cells []string, reason string) []string {
	dst = append(dst[:0], cells[:min(len(cells), len(r.header)-1)]...)
	for len(dst) < len(r.header)-1 {
		dst = append(dst, "")
	}
	return append(dst, reason)
}

func (r *Rejects) writeCSV(cells []string, reason string) error {
	if r.out == nil {
		out, err := createCSV(r.path, r.delimiter)
		if err != nil {
			return err
		}
		r.out = out
		if _, err := out.file.WriteString("\uFEFF"); err != nil {
			return err
		}
		for _, row := range r.above {
			// A blank row is an empty line, which keeps the row numbers and reads as no row.
			if err := out.write(safeCells(row)); err != nil {
				return err
			}
		}
		if err := out.write(r.header); err != nil {
			return err
		}
	}
	r.rec = r.row(r.rec, cells, reason)
	for i, c := range r.rec {
		r.rec[i] = neutralise(clip(c))
	}
	return r.out.write(r.rec)
}

// safeCells is a row above the header as the CSV rejects file holds it: neutralised and
// cut.
func safeCells(row []string) []string {
	out := make([]string, len(row))
	for i, c := range row {
		out[i] = neutralise(clip(c))
	}
	return out
}

func (r *Rejects) writeXLSX(cells []string, reason string) error {
	if r.spool == nil {
		if err := makeFolder(r.path); err != nil {
			return err
		}
		spool, err := newSpool(r.path)
		if err != nil {
			return err
		}
		r.spool, r.sw = spool, csv.NewWriter(spool)
		r.widths = make([]int, len(r.header))
		for i, h := range r.header {
			r.widths[i] = textWidth(h) + filterButton
		}
	}
	if len(r.above)+r.count+2 > excelize.TotalRows {
		return fmt.Errorf("an xlsx sheet holds at most %d rows", excelize.TotalRows)
	}
	r.rec = r.row(r.rec, cells, reason)
	for i, c := range r.rec {
		r.rec[i] = clip(c)
		r.widths[i] = max(r.widths[i], textWidth(r.rec[i]))
	}
	if err := r.sw.Write(r.rec); err != nil {
		return err
	}
	return r.sw.Error()
}

// Widths of the rejects sheet's columns, in characters: the input's columns as wide as
// their content up to maxRejectsWidth, the error column wider and wrapped.
const (
	maxRejectsWidth = 50
	maxErrorWidth   = 80
)

// buildXLSX writes the rejects workbook from the spool.
func (r *Rejects) buildXLSX() (err error) {
	r.sw.Flush()
	if err := r.sw.Error(); err != nil {
		return err
	}
	book := excelize.NewFile()
	defer func() { err = errors.Join(err, book.Close()) }()
	if r.date1904 {
		if err := book.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: boolPtr(true)}); err != nil {
			return err
		}
	}
	st, err := newStyles(book)
	if err != nil {
		return err
	}
	wrap, err := book.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Family: st.font, Size: 11},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"},
	})
	if err != nil {
		return err
	}
	dateTime, err := book.NewStyle(&excelize.Style{
		Font: &excelize.Font{Family: st.font, Size: 11}, CustomNumFmt: strPtr("yyyy-mm-dd hh:mm"),
		Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "top"},
	})
	if err != nil {
		return err
	}
	n := len(r.header)
	widths := make([]int, n)
	for i, w := range r.widths {
		widths[i] = min(w, maxRejectsWidth) + 2
	}
	widths[n-1] = min(r.widths[n-1], maxErrorWidth) + 2
	headRow := len(r.above) + 1
	sw, err := newRowsSheet(book, r.sheet, headRow, widths)
	if err != nil {
		return err
	}
	for i, row := range r.above {
		if len(row) == 0 {
			continue // blank
		}
		vals := make([]any, len(row))
		for j, c := range row {
			vals[j] = excelize.Cell{StyleID: st.plain, Value: clip(c)}
		}
		if err := sw.SetRow(cellName(1, i+1), vals); err != nil {
			return err
		}
	}
	if err := sw.SetRow(cellName(1, headRow), styled(st.header, r.header)); err != nil {
		return err
	}
	vals := make([]any, n)
	row := headRow
	err = readSpool(r.spool, n, func(rec []string) error {
		row++
		lines := 1
		for i, c := range rec {
			switch v := r.typed(i, c); {
			case i == n-1 || strings.Contains(c, "\n"):
				// The error wraps, and so does a cell of several lines, which a row of one
				// line's height would cut.
				vals[i] = excelize.Cell{StyleID: wrap, Value: c}
				lines = max(lines, wrappedLines(c, textRoom(widths[i])))
			case v == nil:
				vals[i] = nil
			default:
				style := st.plain
				if t, ok := v.(dateValue); ok {
					v, style = t.value, st.date
					if t.time {
						style = dateTime
					}
				}
				vals[i] = excelize.Cell{StyleID: style, Value: v}
			}
		}
		return sw.SetRow(cellName(1, row), vals, rowOpts(lines))
	})
	if err != nil {
		return err
	}
	if err := book.AutoFilter(r.sheet, cellName(1, headRow)+":"+cellName(n, row), nil); err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return replaceFile(r.path, func(f *os.File) error { return book.Write(f) })
}

// dateValue is a cell to be shown as a date: a serial number or a time.Time.
type dateValue struct {
	value any
	time  bool // has a time of day
}

// typed is the value a rejected cell of column col goes into the XLSX rejects file as:
// nil when empty, a number when the number reads back as the same text, a dateValue in
// a date column, else the text.
func (r *Rejects) typed(col int, c string) any {
	if c == "" {
		return nil
	}
	if r.dates[col] {
		for _, layout := range []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
			if t, err := time.Parse(layout, c); err == nil {
				return dateValue{value: t, time: layout != "2006-01-02"}
			}
		}
		if f, err := strconv.ParseFloat(c, 64); err == nil && f > 0 && f < 2958466 && strconv.FormatFloat(f, 'f', -1, 64) == c {
			return dateValue{value: f, time: f != math.Trunc(f)}
		}
	}
	if n, ok := number(c); ok {
		return n
	}
	return c
}

// number is c as a number when a number cell holding it reads back as c: no leading
// zero, plus sign, exponent or trailing zero of a fraction, and within float64's 15
// exact digits.
func number(c string) (any, bool) {
	digits := strings.TrimPrefix(c, "-")
	if digits == "" || len(strings.ReplaceAll(digits, ".", "")) > 15 {
		return nil, false
	}
	for i, d := range digits {
		if (d < '0' || d > '9') && d != '.' {
			return nil, false
		}
		if i == 0 && d == '0' && len(digits) > 1 && digits[1] != '.' {
			return nil, false
		}
	}
	if !strings.Contains(digits, ".") {
		n, err := strconv.ParseInt(c, 10, 64)
		return n, err == nil && c != "-0"
	}
	f, err := strconv.ParseFloat(c, 64)
	if err != nil || strconv.FormatFloat(f, 'f', -1, 64) != c {
		return nil, false
	}
	return f, true
}

// Close writes out the rejects file, if any row was rejected. When none was, a rejects
// file that an earlier run left at the path is removed, so that the file's presence
// always means "this run rejected rows"; it is removed only when its first line is the
// header this run would have written, which leaves any other file alone. Later calls do
// nothing.
func (r *Rejects) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var err error
	switch {
	case r.out != nil:
		err = r.out.close()
		r.out = nil
	case r.spool != nil:
		err = r.buildXLSX()
		err = errors.Join(err, dropSpool(r.spool))
		r.spool = nil
	case r.count == 0:
		err = r.removeStale()
	}
	if err != nil {
		return fmt.Errorf("rejects %s: %w", r.path, err)
	}
	return nil
}

func (r *Rejects) removeStale() error {
	fi, err := os.Stat(r.path)
	if err != nil || !fi.Mode().IsRegular() {
		return nil // nothing there, or not ours to touch
	}
	var head []string
	if r.xlsx {
		head = xlsxRow(r.path, r.sheet, len(r.above)+1)
	} else {
		skip := 0
		for _, row := range r.above {
			if len(row) > 0 {
				skip++
			}
		}
		head = csvRecord(r.path, r.delimiter, skip)
	}
	if !slices.Equal(head, r.header) {
		return nil
	}
	return os.Remove(r.path)
}

// csvRecord is the record after the first skip records of a CSV file; nil when the file
// has none.
func csvRecord(path string, delimiter rune, skip int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\uFEFF" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.Comma = delimiter
	cr.FieldsPerRecord = -1
	for ; skip > 0; skip-- {
		if _, err := cr.Read(); err != nil {
			return nil
		}
	}
	rec, err := cr.Read()
	if err != nil {
		return nil
	}
	return rec
}

// xlsxRow is row n of a workbook's sheet; nil when it has none.
func xlsxRow(path, sheet string, n int) []string {
	book, err := excelize.OpenFile(path)
	if err != nil {
		return nil
	}
	defer book.Close()
	rows, err := book.Rows(sheet)
	if err != nil {
		return nil
	}
	defer rows.Close()
	for ; n > 0; n-- {
		if !rows.Next() {
			return nil
		}
	}
	rec, err := rows.Columns()
	if err != nil {
		return nil
	}
	return rec
}
