// Package source streams the data rows of a CSV or XLSX file, each numbered as a spreadsheet
// shows it, under the file's header row, each cell as its user sees it (an XLSX cell as its
// number format shows it). A file that cannot be read through is refused, never read in
// part, and no input makes the reader hold more than a few rows' worth of memory.
package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"unicode"

	"github.com/xuri/excelize/v2"
)

// Options say how to read a file. The zero value reads a UTF-8 CSV with its delimiter
// detected, or the first sheet of an XLSX, with the header in row 1.
type Options struct {
	Sheet     string // XLSX sheet name (matched ignoring case); "" = the first sheet
	HeaderRow int    // 1-based row holding the column names; 0 = 1
	Delimiter rune   // CSV; 0 = detected from the header line among , ; \t |
	Encoding  string // CSV; "" = UTF-8 (a BOM selects UTF-8 or UTF-16); else a golang.org/x/text name such as windows-1252

	generalSheet bool // tests: an XLSX sheet read by the general reader alone, not the scanner (sheetfast.go)
}

// Row is one data row. Number is the row number a spreadsheet shows (a quoted multi-line
// cell does not add rows). Cells has exactly len(Header()) entries (missing trailing cells
// are ""), copied: safe to keep. Err is the row's own problem (a ragged CSV row, a CSV
// syntax error confined to the row, a NUL byte, a cell over 32,767 characters, which is cut
// there; an XLSX formula error, naming its cell): the row is still delivered, with Cells
// padded or truncated, and reading goes on.
type Row struct {
	Number int
	Cells  []string
	Err    error
}

// Reader streams a file's data rows. Rows with no data (blank lines, wholly empty rows) are
// counted in row numbers but not delivered. A Reader is not safe for concurrent use, except
// Progress, which may be called from another goroutine while Next runs.
type Reader struct {
	name   string
	kind   string
	header []string
	done   atomic.Int64 // CSV: bytes read from the file; XLSX: rows read
	size   int64        // CSV: the file's size, 0 when unknown
	err    error        // sticky: io.EOF or the fatal error Next returned
	closer io.Closer    // the file Open opened; nil for OpenReader

	above []Row // the rows above the header, blank ones left out

	opts  Options
	path  string   // CSV: the file Open opened, "" when read from a spool
	spool *os.File // CSV read through OpenReader: the unlinked copy of the stream

	csv *csvState

	x        *xlsxState
	sheet    string
	date1904 bool
}

// Open opens the file at path: XLSX when its extension is .xlsx or .xlsm, otherwise CSV;
// "-" reads CSV from os.Stdin (which Close leaves open). It reads and checks the header row:
// an empty file, a missing or empty header row, and unnamed or duplicate column names are
// errors. Every error names the file.
func Open(path string, opts Options) (*Reader, error) {
	if path == "-" {
		return OpenReader(os.Stdin, "stdin", opts)
	}
	if opts.HeaderRow < 0 {
		return nil, errorf(path, "header row %d: want 1 or more", opts.HeaderRow)
	}
	if IsWorkbook(path) {
		return openXLSX(path, opts)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xls":
		return nil, errorf(path, "old .xls workbooks cannot be read: save it as .xlsx")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *fs.PathError names the file
	}
	r, err := openCSV(f, path, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer, r.path, r.opts = f, path, opts
	return r, nil
}

// IsWorkbook tells whether Open reads the file at path as XLSX: by its extension, .xlsx
// or .xlsm.
func IsWorkbook(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xlsx", ".xlsm":
		return true
	}
	return false
}

// OpenReader reads CSV from in, naming it name in errors, as Open does a CSV file. It first
// copies in to its end into an unlinked temporary file (gone with the process however it
// ends), so that a pipe is read through before anything is done with it, can be counted
// (Count) and has a size for Progress. Close does not close in.
func OpenReader(in io.Reader, name string, opts Options) (*Reader, error) {
	if opts.HeaderRow < 0 {
		return nil, errorf(name, "header row %d: want 1 or more", opts.HeaderRow)
	}
	f, err := os.CreateTemp("", "oppimport-stdin-")
	if err != nil {
		return nil, errorf(name, "spooling to a temporary file: %v", err)
	}
	os.Remove(f.Name()) // Windows refuses while it is open: removed on Close instead
	fail := func(err error) (*Reader, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	if _, err := io.Copy(f, in); err != nil {
		return fail(errorf(name, "spooling to a temporary file: %v", err))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(errorf(name, "%v", err))
	}
	r, err := openCSV(f, name, opts)
	if err != nil {
		return fail(err)
	}
	r.spool, r.opts = f, opts
	return r, nil
}

// Count reads the input through a second time from its start, without moving r, and
// returns the number of data rows Next will deliver, or the error that would stop Next
// part way (a damaged workbook, invalid UTF-8, a quote never closed): reading is far
// faster than posting, so a run refuses such a file before anything is posted. An XLSX
// workbook is not opened again: the second pass reuses its shared strings and styles.
// Count must not run while Next does. A done ctx stops it within 1,024 rows with ctx's
// error, so that a signal is honoured while a big file is read through.
func (r *Reader) Count(ctx context.Context) (int64, error) {
	var c *Reader
	var err error
	switch {
	case r.x != nil:
		c, err = r.cloneXLSX()
	case r.spool != nil:
		st, serr := r.spool.Stat()
		if serr != nil {
			return 0, r.errorf("%v", serr)
		}
		c, err = openCSV(io.NewSectionReader(r.spool, 0, st.Size()), r.name, r.opts)
	case r.path != "":
		c, err = Open(r.path, r.opts)
	default:
		return 0, r.errorf("reader closed")
	}
	if err != nil {
		return 0, err
	}
	defer c.Close()
	var n int64
	for {
		if _, err := c.Next(); err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, err
		}
		n++
		if n%1024 == 0 && ctx.Err() != nil {
			// A signal while a big file is read through: stop within a moment, not at its end.
			return n, ctx.Err()
		}
	}
}

// Header returns the column names as in the file, trimmed of spaces and BOM, without
// trailing unnamed columns. The caller may modify the slice.
func (r *Reader) Header() []string { return slices.Clone(r.header) }

// Next returns the next data row, io.EOF after the last one. Any other error is fatal for
// the file (unreadable data, invalid UTF-8, an unterminated quote, a CSV row over 16 MiB, a
// damaged workbook: "damaged workbook: PART: ...", an XLSX cell over 32,767 characters) and
// names the file and the row or cell; Next then keeps returning it.
func (r *Reader) Next() (Row, error) { return r.next(nil) }

// NextInto is Next with the row's cells copied into cells, which must hold len(Header())
// entries, instead of into cells of the reader's: Row.Cells is cells, the caller's to
// reuse once done with the row (a pipeline that keeps few rows saves an allocation per
// row; for CSV the copy is the one Next makes, for XLSX one more).
func (r *Reader) NextInto(cells []string) (Row, error) {
	if len(cells) < len(r.header) {
		return Row{}, r.errorf("NextInto: %d cells for a header of %d", len(cells), len(r.header))
	}
	return r.next(cells[:len(r.header):len(r.header)])
}

// next is Next, the cells copied into into unless it is nil.
func (r *Reader) next(into []string) (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	var row Row
	var err error
	if r.csv != nil {
		row, err = r.nextCSV(into)
	} else if row, err = r.nextXLSX(); err == nil && into != nil {
		copy(into, row.Cells)
		row.Cells = into
	}
	if err != nil {
		r.err = err
		return Row{}, err
	}
	return row, nil
}

// Close releases the file (and excelize's temporary files). It is safe to call twice.
func (r *Reader) Close() error {
	if r.err == nil {
		r.err = r.errorf("reader closed")
	}
	var errs []error
	if r.x != nil {
		errs = append(errs, r.x.Close())
		r.x = nil
	}
	if r.closer != nil {
		errs = append(errs, r.closer.Close())
		r.closer = nil
	}
	if r.spool != nil {
		errs = append(errs, r.spool.Close())
		os.Remove(r.spool.Name())
		r.spool = nil
	}
	return errors.Join(errs...)
}

// Above returns the rows that stand above the header row (titles, notes, an export's
// date), each with its number and its cells as read, blank rows left out: a rejects file
// written with them above its header keeps the header in the same row, so that it imports
// with the same mapping (header_row). The caller may modify them.
func (r *Reader) Above() []Row {
	out := make([]Row, len(r.above))
	for i, row := range r.above {
		out[i] = Row{Number: row.Number, Cells: slices.Clone(row.Cells)}
	}
	return out
}

// keepAbove keeps a row above the header.
func (r *Reader) keepAbove(number int, cells []string) {
	if blank(cells) {
		return
	}
	r.above = append(r.above, Row{Number: number, Cells: slices.Clone(cells)})
}

// Kind returns "csv" or "xlsx".
func (r *Reader) Kind() string { return r.kind }

// Delimiter returns the CSV delimiter in use, 0 for XLSX.
func (r *Reader) Delimiter() rune {
	if r.csv == nil {
		return 0
	}
	return r.csv.r.Comma
}

// Sheet returns the XLSX sheet being read, "" for CSV.
func (r *Reader) Sheet() string { return r.sheet }

// Date1904 reports whether the XLSX workbook uses the 1904 date system: date serials in
// its cells then convert with excelize.ExcelDateToTime(serial, true).
func (r *Reader) Date1904() bool { return r.date1904 }

// CellRef names a cell of the XLSX sheet as Excel does, like "Deals!E12" (col 0-based);
// "" for CSV or an impossible position.
func (r *Reader) CellRef(row, col int) string {
	if r.kind != "xlsx" {
		return ""
	}
	cell, err := excelize.CoordinatesToCellName(col+1, row)
	if err != nil {
		return ""
	}
	return quoteSheet(r.sheet) + "!" + cell
}

// Progress returns, for CSV, the bytes read from the file and its size (0 when unknown, as
// for a pipe); for XLSX, the rows read and 0. It is safe to call while Next runs.
func (r *Reader) Progress() (done, total int64) { return r.done.Load(), r.size }

func (r *Reader) errorf(format string, a ...any) error { return errorf(r.name, format, a...) }

// errorf formats an error about the file name, quoted as is (a Windows path stays legible).
func errorf(name, format string, a ...any) error {
	return fmt.Errorf(`"%s": `+format, append([]any{name}, a...)...)
}

// setHeader checks and keeps the header row's cells: trailing unnamed columns are dropped,
// other unnamed or duplicate names are errors since a mapping could not address them.
func (r *Reader) setHeader(number int, cells []string) error {
	names := make([]string, len(cells))
	for i, c := range cells {
		names[i] = strings.TrimFunc(c, func(c rune) bool { return unicode.IsSpace(c) || c == '\uFEFF' })
	}
	for len(names) > 0 && names[len(names)-1] == "" {
		names = names[:len(names)-1]
	}
	if len(names) == 0 {
		return r.errorf("header row %d is empty", number)
	}
	var problems []string
	first := make(map[string]int, len(names))
	for i, name := range names {
		if name == "" {
			problems = append(problems, fmt.Sprintf("column %s has no name", column(i)))
			continue
		}
		if j, dup := first[name]; dup {
			problems = append(problems, fmt.Sprintf("columns %s and %s are both named %q", column(j), column(i), name))
			continue
		}
		first[name] = i
	}
	if problems != nil {
		return r.errorf("header row %d: %s", number, strings.Join(problems, "; "))
	}
	r.header = names
	return nil
}

// column names a 0-based column by its spreadsheet letters.
func column(i int) string {
	name, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return fmt.Sprint(i + 1)
	}
	return name
}

// blank reports whether a row has no data.
func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// fit copies cells into a new slice of exactly n entries.
func fit(cells []string, n int) []string {
	out := make([]string, n)
	copy(out, cells)
	return out
}

// quoteSheet quotes a sheet name for a cell reference when Excel would.
func quoteSheet(name string) string {
	plain := name != ""
	for i, c := range name {
		if !(unicode.IsLetter(c) || c == '_' || c == '.' || i > 0 && unicode.IsDigit(c)) {
			plain = false
			break
		}
	}
	if plain {
		return name
	}
	return "'" + strings.ReplaceAll(name, "'", "''") + "'"
}
