package source

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// oleMagic starts an OLE compound file: an encrypted (password-protected) OOXML workbook,
// or an old .xls one.
var oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// rawValues reads numbers as written and dates as serials, not as displayed.
var rawValues = excelize.Options{RawCellValue: true}

// Unzip limits: the archive as a whole (against zip bombs), and the size above which a
// sheet or the shared strings are unzipped to a temporary file instead of memory.
const (
	unzipSizeLimit    = 2 << 30
	unzipXMLSizeLimit = 1 << 20
	unzipHeldLimit    = 256 << 20 // the parts excelize keeps in memory: all but the large sheets and shared strings
)

func openXLSX(path string, opts Options) (*Reader, error) {
	r := &Reader{name: path, kind: "xlsx"}
	if err := r.sniffXLSX(path); err != nil {
		return nil, err
	}
	f, err := excelize.OpenFile(path, excelize.Options{UnzipSizeLimit: unzipSizeLimit, UnzipXMLSizeLimit: unzipXMLSizeLimit})
	if err != nil {
		return nil, r.errorf("cannot be read as XLSX: %v", err)
	}
	r.xlsx = f
	if err := r.startSheet(opts); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// sniffXLSX tells a password-protected workbook and a file that is not one at all from a
// damaged workbook, which excelize reports alike as zip.ErrFormat.
func (r *Reader) sniffXLSX(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, len(oleMagic))
	n, err := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case err != nil && err != io.EOF && err != io.ErrUnexpectedEOF:
		return r.errorf("%v", err)
	case n == 0:
		return r.errorf("the file is empty")
	case bytes.Equal(head, oleMagic):
		return r.errorf("is password-protected: remove the password in Excel and save again (or, if it is an old .xls workbook, save it as .xlsx)")
	case !bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return r.errorf("is not an XLSX file (not a zip archive)")
	}
	return r.checkUnzipSizes(f)
}

// checkUnzipSizes refuses a workbook that would unzip past the limits before excelize
// unzips anything: excelize reads every part but the large sheets and shared strings into
// memory, so a bomb in styles.xml would otherwise cost its full size in RAM. The sizes are
// those the zip declares; archive/zip stops a part that inflates past its declared size.
func (r *Reader) checkUnzipSizes(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return r.errorf("%v", err)
	}
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil {
		return r.errorf("cannot be read as XLSX: %v", err)
	}
	const advice = "save the sheet as CSV, or as a workbook without pictures and pivot tables"
	var total, held uint64
	for _, zf := range zr.File {
		size := zf.UncompressedSize64
		name := strings.ToLower(strings.ReplaceAll(zf.Name, "\\", "/"))
		streamed := size > unzipXMLSizeLimit && (strings.HasPrefix(name, "xl/worksheets/sheet") || name == "xl/sharedstrings.xml")
		if !streamed {
			held += min(size, unzipSizeLimit+1)
		}
		if total += min(size, unzipSizeLimit+1); total > unzipSizeLimit {
			return r.errorf("unzips to more than %s, the limit for a workbook (a zip bomb, or a workbook too large: %s)", mib(unzipSizeLimit), advice)
		}
	}
	if held > unzipHeldLimit {
		return r.errorf("holds %s of parts read into memory (%s at most): %s", mib(held), mib(unzipHeldLimit), advice)
	}
	return nil
}

func mib(n uint64) string { return strconv.FormatUint(n>>20, 10) + " MiB" }

// startSheet picks the sheet, starts streaming it and reads the header row.
func (r *Reader) startSheet(opts Options) error {
	sheets := r.xlsx.GetSheetList()
	if len(sheets) == 0 {
		return r.errorf("the workbook has no sheets")
	}
	if opts.Sheet == "" {
		r.sheet = sheets[0]
	}
	for _, s := range sheets {
		if opts.Sheet != "" && strings.EqualFold(s, opts.Sheet) {
			r.sheet = s
		}
	}
	if r.sheet == "" {
		return r.errorf("has no sheet %q; its sheets are %s", opts.Sheet, quoteAll(sheets))
	}
	props, err := r.xlsx.GetWorkbookProps()
	if err != nil {
		return r.errorf("%v", err)
	}
	r.date1904 = props.Date1904 != nil && *props.Date1904
	if r.rows, err = r.xlsx.Rows(r.sheet); err != nil {
		return r.errorf("sheet %q: %v", r.sheet, err)
	}

	headerRow := max(opts.HeaderRow, 1)
	for r.rows.Next() {
		r.row++
		cells, err := r.rows.Columns(rawValues)
		if err != nil {
			return r.errorf("row %d: %v", r.row, err)
		}
		if r.row == headerRow {
			return r.setHeader(headerRow, cells)
		}
	}
	if err := r.rows.Error(); err != nil {
		return r.errorf("row %d: %v", r.row+1, err)
	}
	if r.row == 0 {
		return r.errorf("sheet %q is empty", r.sheet)
	}
	return r.errorf("sheet %q ends before header row %d", r.sheet, headerRow)
}

func (r *Reader) nextXLSX() (Row, error) {
	for r.rows.Next() {
		r.row++
		r.done.Store(int64(r.row))
		cells, err := r.rows.Columns(rawValues)
		if err != nil {
			return Row{}, r.errorf("row %d: %v", r.row, err)
		}
		if blank(cells) {
			continue
		}
		// Cells beyond the header belong to no column: a mapping cannot address them.
		return Row{Number: r.row, Cells: fit(cells, len(r.header))}, nil
	}
	if err := r.rows.Error(); err != nil {
		return Row{}, r.errorf("row %d: %v", r.row+1, err)
	}
	return Row{}, io.EOF
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
