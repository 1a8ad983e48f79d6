package source

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
)

// The XLSX reader streams the sheet's XML itself (archive/zip and encoding/xml, or a scanner
// by hand for the usual form of the sheet and of the shared strings: sheetfast.go,
// sstfast.go) rather than through excelize's Rows: Rows drops the decoder's errors (a sheet cut short or holding an
// undefined entity reads as a sheet that ends there), does not give a cell's style (so a
// percentage or a date cell cannot be told from a number), and decodes each shared string
// whole. Reading the parts here keeps every error, the style of every cell in the same
// pass, and memory bounded by the limits in xmlpart.go and sst.go.

// oleMagic starts an OLE compound file: an encrypted (password-protected) OOXML workbook,
// or an old .xls one.
var oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// Unzip limits: the archive as a whole (against zip bombs), and the parts read whole
// rather than streamed (the workbook, its relationships and styles).
const (
	unzipSizeLimit = 2 << 30
	smallPartLimit = 16 << 20
	maxStyles      = 65536 // Excel allows 64,000 cell formats
	maxSheetRows   = 1 << 20
	maxSheetCols   = 1 << 14
)

const (
	relOffice    = "/officeDocument"
	relWorksheet = "/worksheet"
	relStyles    = "/styles"
	relSharedStr = "/sharedStrings"
)

type xlsxState struct {
	shared    bool // a clone for Count: the zip and the shared strings are the original's
	sheetFile *zip.File
	zip       *zip.ReadCloser
	parts     map[string]*zip.File // by lower-case name
	sst       *sharedStrings
	formats   []cellFormat  // by cell style (cellXfs) index
	sheet     *xmlPart      // the general reader of the sheet, once it reads it
	fast      *sheetScanner // the scanner, while it reads the sheet (sheetfast.go)
	given     int           // the last row the scanner read through: the general reader passes over those
	ended     bool          // </sheetData> was read
	row       int           // the row last read
	col       int           // the cell being read (1-based)
	cells     []string
	errs      []string // the row's formula errors
	width     int      // cells kept per row: the header's, or all before it is known
}

func openXLSX(path string, opts Options) (*Reader, error) {
	r := &Reader{name: path, kind: "xlsx"}
	if err := r.sniffXLSX(path); err != nil {
		return nil, err
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, r.errorf("damaged workbook: %v", err)
	}
	r.x = &xlsxState{zip: zr, width: maxSheetCols}
	r.closer, r.opts = zr, opts
	if err := r.startXLSX(opts); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// sniffXLSX tells a password-protected workbook and a file that is not one at all from a
// damaged workbook, which archive/zip reports alike as zip.ErrFormat.
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
	return nil
}

// checkSizes refuses, before anything is unzipped, a workbook that declares more than the
// limits. A part that inflates past its declared size is stopped by archive/zip (and
// reported as damage), so the declared sizes bound what is read.
func (r *Reader) checkSizes() error {
	const advice = "save the sheet as CSV, or as a workbook without pictures and pivot tables"
	var total uint64
	for _, zf := range r.x.zip.File {
		if total += min(zf.UncompressedSize64, unzipSizeLimit+1); total > unzipSizeLimit {
			return r.errorf("unzips to more than %s, the limit for a workbook (a zip bomb, or a workbook too large: %s)", mib(unzipSizeLimit), advice)
		}
	}
	return nil
}

func mib(n uint64) string { return strconv.FormatUint(n>>20, 10) + " MiB" }

// part returns the zip entry at name (case and slashes as written ignored), nil if none.
func (x *xlsxState) part(name string) *zip.File {
	if x.parts == nil {
		x.parts = make(map[string]*zip.File, len(x.zip.File))
		for _, zf := range x.zip.File {
			x.parts[strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(zf.Name, "\\", "/"), "/"))] = zf
		}
	}
	return x.parts[strings.ToLower(strings.TrimPrefix(name, "/"))]
}

// small opens a part read whole into what this reader keeps (not the sheet, not the
// shared strings): one declared over smallPartLimit is refused.
func (r *Reader) small(zf *zip.File) (*xmlPart, error) {
	if zf.UncompressedSize64 > smallPartLimit {
		return nil, fmt.Errorf("%s unzips to %s, more than the %s a workbook's %s needs: the workbook is damaged or crafted; save it again from a spreadsheet program, or as CSV",
			zf.Name, mib(zf.UncompressedSize64), mib(smallPartLimit), path.Base(zf.Name))
	}
	return openPart(zf)
}

type rel struct{ typ, target string }

// rels reads the relationships of the part at name (its _rels/NAME.rels), targets resolved
// to part names.
func (r *Reader) rels(name string) (map[string]rel, error) {
	dir, file := path.Split(name)
	zf := r.x.part(dir + "_rels/" + file + ".rels")
	out := map[string]rel{}
	if zf == nil {
		return out, nil
	}
	p, err := r.small(zf)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	err = p.each(func(tok xml.Token) error {
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Relationship" || strings.EqualFold(attr(se, "TargetMode"), "External") {
			return nil
		}
		target := attr(se, "Target")
		if !strings.HasPrefix(target, "/") {
			target = path.Join(dir, target)
		}
		out[attr(se, "Id")] = rel{typ: attr(se, "Type"), target: strings.TrimPrefix(path.Clean(target), "/")}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

type sheetEntry struct {
	name, target string
	hidden       bool
}

// startXLSX reads the workbook's parts (workbook, styles, shared strings), picks the sheet,
// starts streaming it and reads up to the header row.
func (r *Reader) startXLSX(opts Options) error {
	x := r.x
	if err := r.checkSizes(); err != nil {
		return err
	}
	root, err := r.rels("")
	if err != nil {
		return r.errorf("%v", err)
	}
	book := "xl/workbook.xml"
	for _, rl := range root {
		if strings.HasSuffix(rl.typ, relOffice) {
			book = rl.target
		}
	}
	bookRels, err := r.rels(book)
	if err != nil {
		return r.errorf("%v", err)
	}
	sheets, err := r.readWorkbook(book, bookRels)
	if err != nil {
		return err
	}
	if len(sheets) == 0 {
		return r.errorf("the workbook has no sheets")
	}
	// Without a sheet: the first one the user sees (a hidden sheet of look-up lists may
	// come first), or the first of all when every one is hidden.
	var chosen *sheetEntry
	for i := range sheets {
		if opts.Sheet == "" && chosen == nil && !sheets[i].hidden || opts.Sheet != "" && strings.EqualFold(sheets[i].name, opts.Sheet) {
			chosen = &sheets[i]
		}
	}
	if opts.Sheet == "" && chosen == nil {
		chosen = &sheets[0]
	}
	if chosen == nil {
		names := make([]string, len(sheets))
		for i, s := range sheets {
			names[i] = s.name
		}
		return r.errorf("has no sheet %q; its sheets are %s", opts.Sheet, quoteAll(names))
	}
	r.sheet = chosen.name
	sheetFile := x.part(chosen.target)
	if sheetFile == nil {
		return r.errorf("damaged workbook: sheet %q (%s) is missing from the file", r.sheet, chosen.target)
	}

	var stylesFile, sstFile *zip.File
	for _, rl := range bookRels {
		switch {
		case strings.HasSuffix(rl.typ, relStyles):
			stylesFile = x.part(rl.target)
		case strings.HasSuffix(rl.typ, relSharedStr):
			sstFile = x.part(rl.target)
		}
	}
	if err := r.readStyles(stylesFile); err != nil {
		return r.errorf("%v", err)
	}
	if x.sst, err = readSharedStrings(sstFile); err != nil {
		return r.errorf("%v", err)
	}
	x.sheetFile = sheetFile
	return r.readHeader(opts)
}

// readHeader starts streaming the sheet and reads it up to the header row.
func (r *Reader) readHeader(opts Options) error {
	x := r.x
	if !opts.generalSheet {
		x.fast = startSheet(x)
	}
	if x.fast == nil {
		if err := r.openGeneral(); err != nil {
			return err
		}
	}

	headerRow := max(opts.HeaderRow, 1)
	for {
		cells, err := r.readRow()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if x.row < headerRow {
			r.keepAbove(x.row, cells)
			continue
		}
		if x.row > headerRow {
			return r.errorf("header row %d is empty; the next row with data is %d", headerRow, x.row)
		}
		if err := r.setHeader(headerRow, cells); err != nil {
			return err
		}
		x.width = len(r.header)
		return nil
	}
	if x.row == 0 {
		return r.errorf("sheet %q is empty", r.sheet)
	}
	return r.errorf("sheet %q ends before header row %d", r.sheet, headerRow)
}

// readWorkbook reads the sheets (in the workbook's order, chart sheets left out) and the
// date system.
func (r *Reader) readWorkbook(book string, rels map[string]rel) ([]sheetEntry, error) {
	zf := r.x.part(book)
	if zf == nil {
		return nil, r.errorf("damaged workbook: it has no %s", book)
	}
	p, err := r.small(zf)
	if err != nil {
		return nil, r.errorf("%v", err)
	}
	defer p.Close()
	var sheets []sheetEntry
	err = p.each(func(tok xml.Token) error {
		se, ok := tok.(xml.StartElement)
		if !ok {
			return nil
		}
		switch se.Name.Local {
		case "workbookPr":
			v := attr(se, "date1904")
			r.date1904 = v == "1" || strings.EqualFold(v, "true")
		case "sheet":
			id := ""
			for _, a := range se.Attr {
				if a.Name.Local == "id" && a.Name.Space != "" { // r:id, whatever its prefix
					id = a.Value
				}
			}
			rl, ok := rels[id]
			if ok && !strings.HasSuffix(rl.typ, relWorksheet) {
				return nil // a chart sheet or a dialog sheet: no cells
			}
			if !ok {
				return fmt.Errorf("damaged workbook: sheet %q has no part", attr(se, "name"))
			}
			state := attr(se, "state")
			sheets = append(sheets, sheetEntry{name: attr(se, "name"), target: rl.target, hidden: state == "hidden" || state == "veryHidden"})
		}
		return nil
	})
	if err != nil {
		return nil, r.errorf("%v", err)
	}
	return sheets, nil
}

// readStyles reads the number format of each cell style: the custom formats in <numFmts>
// and the formats the <cellXfs> name. Fonts, fills and borders are skipped.
func (r *Reader) readStyles(zf *zip.File) error {
	if zf == nil {
		return nil
	}
	p, err := r.small(zf)
	if err != nil {
		return err
	}
	defer p.Close()
	custom := map[int]cellFormat{}
	var ids []int
	inXfs := false
	err = p.each(func(tok xml.Token) error {
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "numFmt":
				id, err := strconv.Atoi(attr(t, "numFmtId"))
				if err != nil || len(custom) >= maxStyles {
					return &damaged{zf.Name, fmt.Sprintf("number format %q", attr(t, "numFmtId"))}
				}
				custom[id] = classifyFormat(attr(t, "formatCode"))
			case "cellXfs":
				inXfs = true
			case "xf":
				if !inXfs {
					return nil
				}
				if len(ids) >= maxStyles {
					return &damaged{zf.Name, fmt.Sprintf("over %d cell styles", maxStyles)}
				}
				id := 0
				if v := attr(t, "numFmtId"); v != "" {
					var err error
					if id, err = strconv.Atoi(v); err != nil {
						return &damaged{zf.Name, fmt.Sprintf("number format %q", v)}
					}
				}
				ids = append(ids, id)
			}
		case xml.EndElement:
			if t.Name.Local == "cellXfs" {
				inXfs = false
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.x.formats = make([]cellFormat, len(ids))
	for i, id := range ids {
		if f, ok := custom[id]; ok {
			r.x.formats[i] = f
		} else if f, ok := builtinFormat(id); ok {
			r.x.formats[i] = f
		}
	}
	return nil
}

// cellWhere names the cell being read, for a text over the limit.
func (r *Reader) cellWhere() string {
	return "cell " + r.CellRef(r.x.row, r.x.col-1)
}

// openGeneral starts the general reader on the sheet, from its start.
func (r *Reader) openGeneral() error {
	x := r.x
	var err error
	if x.sheet, err = openPart(x.sheetFile); err != nil {
		return r.errorf("%v", err)
	}
	x.sheet.where = r.cellWhere
	return nil
}

// readRow reads the next <row> of the sheet with any cell in it and returns its cells (the
// state's reused slice, at most width), io.EOF after the last. A formula error in a cell
// is kept in x.errs. The scanner reads while it can; then the general reader reads the
// sheet again from its start, passing over the rows the scanner read through.
func (r *Reader) readRow() ([]string, error) {
	x := r.x
	if x.fast != nil {
		cells, err := r.fastRow()
		if err == nil || err == io.EOF {
			return cells, err
		}
		x.fast.Close()
		x.fast, x.row, x.ended = nil, 0, false
		if err := r.openGeneral(); err != nil {
			return nil, err
		}
	}
	for !x.ended {
		tok, err := x.sheet.token()
		if err == io.EOF {
			return nil, r.errorf("damaged workbook: %s: it has no sheetData", x.sheet.name)
		}
		if err != nil {
			return nil, r.errorf("%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "row" {
				continue
			}
			n := x.row + 1
			if v := attr(t, "r"); v != "" {
				if n, err = strconv.Atoi(v); err != nil || n <= x.row || n > maxSheetRows {
					return nil, r.damagedSheet("row number %q after row %d", v, x.row)
				}
			}
			x.row = n
			if err := r.readCells(); err != nil {
				return nil, err
			}
			if x.row > x.given && !blank(x.cells) {
				return x.cells, nil
			}
		case xml.EndElement:
			if t.Name.Local == "sheetData" {
				x.ended = true
			}
		}
	}
	if err := x.sheet.drain(); err != nil {
		return nil, r.errorf("%v", err)
	}
	return nil, io.EOF
}

func (r *Reader) damagedSheet(format string, a ...any) error {
	return r.errorf("damaged workbook: %s: %s", r.x.sheetFile.Name, fmt.Sprintf(format, a...))
}

// readCells reads the cells of the row whose start was just read into x.cells.
func (r *Reader) readCells() error {
	x := r.x
	p := x.sheet
	x.cells = x.cells[:0]
	x.errs = x.errs[:0]
	depth := p.depth
	col, bytes := 0, 0
	for {
		tok, err := p.token()
		if err != nil {
			return r.errorf("%v", p.unexpectedEOF(err))
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if p.depth < depth {
				return nil
			}
		case xml.StartElement:
			if t.Name.Local != "c" {
				if err := p.skip(); err != nil {
					return r.errorf("%v", err)
				}
				continue
			}
			next := col + 1
			if ref := attr(t, "r"); ref != "" {
				c, row, ok := parseRef(ref)
				if !ok || row != x.row || c <= col {
					return r.damagedSheet("cell %q in row %d after column %d", ref, x.row, col)
				}
				next = c
			}
			if next > maxSheetCols {
				return r.damagedSheet("row %d has over %d columns", x.row, maxSheetCols)
			}
			col, x.col = next, next
			for len(x.cells) < col-1 && len(x.cells) < x.width {
				x.cells = append(x.cells, "")
			}
			v, err := r.readCell(t, col)
			if err != nil {
				return err
			}
			if col <= x.width {
				if bytes += len(v); bytes > maxRowBytes {
					return r.errorf("row %d holds over %d MiB of text, more than a row of deals can", x.row, maxRowBytes>>20)
				}
				x.cells = append(x.cells, v)
			}
		}
	}
}

// readCell reads one <c> (col 1-based) and returns its value as the sheet shows it.
func (r *Reader) readCell(se xml.StartElement, col int) (string, error) {
	x := r.x
	p := x.sheet
	typ, style := "n", 0
	for _, a := range se.Attr {
		switch a.Name.Local {
		case "t":
			typ = a.Value
		case "s":
			n, err := strconv.Atoi(a.Value)
			if err != nil || n < 0 {
				return "", r.damagedSheet("cell %s has style %q", r.CellRef(x.row, col-1), a.Value)
			}
			style = n
		}
	}
	var v string
	var inline, hasV bool
	depth := p.depth
	for {
		tok, err := p.token()
		if err != nil {
			return "", r.errorf("%v", p.unexpectedEOF(err))
		}
		if _, ok := tok.(xml.EndElement); ok && p.depth < depth {
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "v":
			if v, err = p.text(false, r.cellWhere); err != nil {
				return "", r.errorf("%v", err)
			}
			hasV = true
		case "is":
			if v, err = p.text(true, r.cellWhere); err != nil {
				return "", r.errorf("%v", err)
			}
			inline = true
		default: // <f>: the formula; its cached result is the <v>
			if err := p.skip(); err != nil {
				return "", r.errorf("%v", err)
			}
		}
	}
	if !hasV && !inline {
		return "", nil
	}
	return r.cellValue(typ, style, v, col)
}

// cellValue is the value of a cell of type typ and style whose <v> or <is> holds v (col
// 1-based), as the sheet shows it; a formula error is kept in x.errs.
func (r *Reader) cellValue(typ string, style int, v string, col int) (string, error) {
	x := r.x
	var format cellFormat
	if style < len(x.formats) {
		format = x.formats[style]
	}
	ref := func() string { return r.CellRef(x.row, col-1) }
	switch typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return "", r.damagedSheet("cell %s refers to shared string %q", ref(), v)
		}
		s, ok, err := x.sst.get(i)
		if err != nil {
			return "", r.errorf("%v", err)
		}
		if !ok {
			return "", r.damagedSheet("cell %s refers to shared string %d, the workbook has %d", ref(), i+1, x.sst.len())
		}
		return s, nil
	case "inlineStr", "str":
		return v, nil
	case "b":
		switch strings.TrimSpace(v) {
		case "1", "true":
			return "TRUE", nil
		case "0", "false":
			return "FALSE", nil
		}
		return "", r.damagedSheet("cell %s holds %q, not a boolean", ref(), v)
	case "e":
		if col <= x.width {
			x.errs = append(x.errs, fmt.Sprintf("%s holds the formula error %s", ref(), v))
		}
		return v, nil
	case "d":
		s, ok := showISODate(strings.TrimSpace(v), format)
		if !ok {
			return "", r.damagedSheet("cell %s holds %q, not a date", ref(), v)
		}
		return s, nil
	case "n":
		v = strings.TrimSpace(v)
		if v == "" {
			return "", nil
		}
		s, ok := showNumber(v, format, r.date1904)
		if !ok {
			return "", r.damagedSheet("cell %s holds %q, not a number", ref(), v)
		}
		return s, nil
	}
	return "", r.damagedSheet("cell %s has the unknown type %q", ref(), typ)
}

// parseRef reads a cell reference such as "AB12" into a 1-based column and row.
func parseRef[T string | []byte](ref T) (col, row int, ok bool) {
	i := 0
	for ; i < len(ref) && i < 4; i++ {
		c := ref[i] | 0x20
		if c < 'a' || c > 'z' {
			break
		}
		col = col*26 + int(c-'a'+1)
	}
	if i == 0 || i == len(ref) || len(ref)-i > 7 {
		return 0, 0, false
	}
	row, ok = atoi(ref[i:])
	return col, row, ok && row > 0
}

func (r *Reader) nextXLSX() (Row, error) {
	x := r.x
	cells, err := r.readRow()
	r.done.Store(int64(x.row))
	if err != nil {
		return Row{}, err
	}
	row := Row{Number: x.row, Cells: fit(cells, len(r.header))}
	if len(x.errs) > 0 {
		row.Err = fmt.Errorf("row %d: %s", x.row, strings.Join(x.errs, "; "))
	}
	return row, nil
}

// cloneXLSX opens a second pass over r's sheet, sharing its zip, shared strings and
// styles, and reads it up to the header.
func (r *Reader) cloneXLSX() (*Reader, error) {
	x := r.x
	c := &Reader{name: r.name, kind: r.kind, sheet: r.sheet, date1904: r.date1904, opts: r.opts}
	c.x = &xlsxState{shared: true, sheetFile: x.sheetFile, zip: x.zip, parts: x.parts, sst: x.sst, formats: x.formats, width: maxSheetCols}
	if err := c.readHeader(r.opts); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (x *xlsxState) Close() error {
	var errs []error
	if x.sheet != nil {
		errs = append(errs, x.sheet.Close())
		x.sheet = nil
	}
	if x.fast != nil {
		errs = append(errs, x.fast.Close())
		x.fast = nil
	}
	if x.sst != nil && !x.shared {
		errs = append(errs, x.sst.Close())
		x.sst = nil
	}
	return errors.Join(errs...)
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
