package report

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
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
// with the same mapping.
//
// The file is created with the first rejected row: a run in which every row went in
// leaves none behind. Not safe for concurrent use.
//
// CSV (any path not ending in .xlsx): the input's delimiter, UTF-8 with a byte order
// mark, so that Excel, where most users fix rows, opens accented text correctly and
// saves it back as UTF-8 (the source reader drops the mark). Every cell that starts with
// = + - @, tab or carriage return is neutralised with a leading quote, since the file is
// meant to be opened in a spreadsheet; the mapping drops that one quote again when the
// fixed file is imported, so the values go in as they were read.
//
// XLSX (a path ending in .xlsx): every cell is stored as text (an inline string, never a
// formula), values as read (raw: dates as serial numbers, which the mapping reads back).
type Rejects struct {
	path      string
	header    []string // the input's columns and the error column
	delimiter rune
	sheet     string
	xlsx      bool
	count     int
	closed    bool

	// CSV, once the first row came
	file      *os.File
	w         *csv.Writer
	lastFlush time.Time
	rec       []string

	// XLSX, once the first row came
	book *excelize.File
	sw   *excelize.StreamWriter
	vals []any
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
	}
	for _, o := range opts {
		o(r)
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

// checkWritable proves that a file can be created in dir.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".oppimport-*")
	if err != nil {
		return fmt.Errorf("folder cannot be written: %w", err)
	}
	name := f.Name()
	return errors.Join(f.Close(), os.Remove(name))
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

// row fills dst with cells, padded to the input's width, and reason last.
func (r *Rejects) row(dst []string, cells []string, reason string) []string {
	dst = append(dst[:0], cells...)
	for len(dst) < len(r.header)-1 {
		dst = append(dst, "")
	}
	return append(dst, reason)
}

func (r *Rejects) writeCSV(cells []string, reason string) error {
	if r.file == nil {
		f, err := os.Create(r.path)
		if err != nil {
			return err
		}
		r.file = f
		r.w = csv.NewWriter(f)
		r.w.Comma = r.delimiter
		r.lastFlush = time.Now()
		if _, err := f.WriteString("\uFEFF"); err != nil {
			return err
		}
		if err := r.w.Write(r.header); err != nil {
			return err
		}
	}
	r.rec = r.row(r.rec, cells, neutralise(reason))
	for i, c := range r.rec {
		r.rec[i] = neutralise(c)
	}
	if err := r.w.Write(r.rec); err != nil {
		return err
	}
	if time.Since(r.lastFlush) >= flushEvery {
		r.lastFlush = time.Now()
		r.w.Flush()
		return r.w.Error()
	}
	return nil
}

func (r *Rejects) writeXLSX(cells []string, reason string) error {
	if r.book == nil {
		if err := r.startXLSX(); err != nil {
			return err
		}
	}
	row := r.count + 2
	if row > excelize.TotalRows {
		return fmt.Errorf("an xlsx sheet holds at most %d rows", excelize.TotalRows)
	}
	r.rec = r.row(r.rec, cells, reason)
	r.vals = r.vals[:0]
	for _, c := range r.rec {
		r.vals = append(r.vals, c)
	}
	return r.sw.SetRow(cellName(1, row), r.vals)
}

func (r *Rejects) startXLSX() error {
	book := excelize.NewFile()
	if err := book.SetSheetName(book.GetSheetName(0), r.sheet); err != nil {
		book.Close()
		return err
	}
	r.book = book // closed by Close from here on
	bold, err := book.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	if r.sw, err = book.NewStreamWriter(r.sheet); err != nil {
		return err
	}
	n := len(r.header)
	if n > 1 {
		if err := r.sw.SetColWidth(1, n-1, 16); err != nil {
			return err
		}
	}
	if err := r.sw.SetColWidth(n, n, 80); err != nil {
		return err
	}
	if err := r.sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}); err != nil {
		return err
	}
	head := make([]any, n)
	for i, h := range r.header {
		head[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	return r.sw.SetRow("A1", head)
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
	case r.file != nil:
		r.w.Flush()
		err = errors.Join(r.w.Error(), r.file.Close())
		r.file = nil
	case r.book != nil:
		err = r.sw.Flush()
		if err == nil {
			err = r.book.SaveAs(r.path)
		}
		err = errors.Join(err, r.book.Close())
		r.book = nil
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
		head = firstXLSXRow(r.path, r.sheet)
	} else {
		head = firstCSVRow(r.path, r.delimiter)
	}
	if !slices.Equal(head, r.header) {
		return nil
	}
	return os.Remove(r.path)
}

func firstCSVRow(path string, delimiter rune) []string {
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
	rec, err := cr.Read()
	if err != nil {
		return nil
	}
	return rec
}

func firstXLSXRow(path, sheet string) []string {
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
	if !rows.Next() {
		return nil
	}
	rec, err := rows.Columns()
	if err != nil {
		return nil
	}
	return rec
}
