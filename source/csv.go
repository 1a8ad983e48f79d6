package source

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// bufSize is the read buffer, and how much of the file Open sniffs for the delimiter and
// for invalid UTF-8.
const bufSize = 1 << 20

// notUTF8 says a row is not UTF-8 and which encodings its bytes most likely are in.
func notUTF8(row int, sample []byte) string {
	guesses := GuessEncodings(sample)
	also := ""
	if len(guesses) > 1 {
		also = " (else " + strings.Join(guesses[1:], " or ") + ")"
	}
	return fmt.Sprintf(`row %d is not valid UTF-8: it is most likely %s%s: set "encoding: %s" in the mapping's input (nothing is read as mojibake)`, row, guesses[0], also, guesses[0])
}

const binaryData = `row %d holds a NUL byte: this is a binary file, not CSV text (if it is UTF-16 text without a byte order mark, set "encoding: utf-16le" in the mapping)`

type csvState struct {
	r         *csv.Reader
	in        *bufio.Reader // what r reads: decoded text
	width     int           // cells in the header row, trailing empty ones included
	extra     int           // line breaks inside the records read so far: row = line - extra
	checkUTF8 bool          // the text is not decoded, so it may not be UTF-8
	guard     *recordGuard  // what st.in reads through: it also says when cells must be checked
	slab      []string      // where the next rows' cells are carved from (cells)
}

// slabRows is how many rows' cells one allocation holds.
const slabRows = 128

// cells copies a record (encoding/csv's reused slice) into n entries of its own, missing
// trailing cells "". The entries are carved from a slab shared with the rows read next: one
// allocation per slabRows rows, not one per row (measured: 227 MB of 1,341 MB allocated by a
// 10^6-row validate went to a slice per row). Each row's slice is capped at its length, so
// that an append by whoever keeps it cannot reach into the next row's cells.
func (st *csvState) cells(rec []string, n int) []string {
	if len(st.slab)+n > cap(st.slab) {
		st.slab = make([]string, 0, slabRows*n)
	}
	i := len(st.slab)
	st.slab = st.slab[:i+n]
	out := st.slab[i : i+n : i+n]
	copy(out, rec)
	return out
}

func openCSV(src io.Reader, name string, opts Options) (*Reader, error) {
	r := &Reader{name: name, kind: "csv"}
	if f, ok := src.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			r.size = fi.Size()
		}
	}
	enc, err := lookupEncoding(opts.Encoding)
	if err != nil {
		return nil, r.errorf("%v", err)
	}
	raw := bufio.NewReaderSize(countingReader{src, &r.done}, bufSize)
	st := &csvState{in: raw}
	bom, err := raw.Peek(3)
	if err != nil && err != io.EOF {
		return nil, r.errorf("%v", err)
	}
	switch {
	case enc != nil:
		st.in = bufio.NewReaderSize(transform.NewReader(raw, unicode.BOMOverride(enc.NewDecoder())), bufSize)
	case bytes.HasPrefix(bom, []byte{0xFF, 0xFE}) || bytes.HasPrefix(bom, []byte{0xFE, 0xFF}):
		st.in = bufio.NewReaderSize(transform.NewReader(raw, unicode.BOMOverride(unicode.UTF8.NewDecoder())), bufSize)
	default:
		// Undecoded, so that invalid UTF-8 is found rather than replaced.
		if bytes.HasPrefix(bom, []byte("\xEF\xBB\xBF")) {
			raw.Discard(3)
		}
		st.checkUTF8 = true
	}

	// Every record is bounded (encoding/csv holds a whole one in memory), and the rest reads
	// what the guard lets through.
	guard := &recordGuard{r: st.in, row: 1, max: maxRecordBytes, utf8: st.checkUTF8}
	st.in, st.guard = bufio.NewReaderSize(guard, bufSize), guard
	head, err := st.in.Peek(bufSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, r.errorf("%v", err)
	}
	// Excel's "sep=;" first line names the delimiter and is no row: Excel does not show it.
	sep := rune(0)
	if len(head) >= 5 && strings.EqualFold(string(head[:4]), "sep=") {
		c, size := utf8.DecodeRune(head[4:])
		rest := head[4+size:]
		eol := 0
		switch {
		case bytes.HasPrefix(rest, []byte("\r\n")):
			eol = 2
		case len(rest) == 0 || rest[0] == '\n' || rest[0] == '\r':
			eol = min(len(rest), 1)
		}
		if c != utf8.RuneError && c != '"' && (eol > 0 || len(rest) == 0) {
			sep = c
			st.in.Discard(4 + size + eol)
			guard.row--
			if head, err = st.in.Peek(bufSize); err != nil && err != io.EOF && err != bufio.ErrBufferFull {
				return nil, r.errorf("%v", err)
			}
		}
	}
	// Classic Mac OS ends lines with a CR alone.
	if bytes.IndexByte(head, '\n') < 0 && bytes.IndexByte(head, '\r') >= 0 {
		st.in = bufio.NewReaderSize(crToLF{st.in}, bufSize)
		if head, err = st.in.Peek(bufSize); err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return nil, r.errorf("%v", err)
		}
	}
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return nil, r.errorf("is an XLSX workbook (a zip archive), not CSV: give it the .xlsx extension")
	case bytes.HasPrefix(head, oleMagic):
		return nil, r.errorf("is an Excel .xls or password-protected workbook, not CSV: save it as .xlsx or CSV")
	}
	if st.checkUTF8 {
		// Text never holds a NUL byte: a picture, an archive or UTF-16 without its BOM does.
		if i := bytes.IndexByte(head, 0); i >= 0 {
			return nil, r.errorf(binaryData, rowAt(head, i))
		}
		if !utf8.Valid(head) {
			if i := invalidUTF8(head, err == io.EOF); i >= 0 {
				return nil, r.errorf("%s", notUTF8(rowAt(head, i), head))
			}
		}
	}

	headerRow := max(opts.HeaderRow, 1)
	comma := opts.Delimiter
	if comma == 0 {
		comma = sep
	}
	if comma == 0 {
		comma = detectDelimiter(head, headerRow)
	} else if comma == '"' || comma == '\r' || comma == '\n' || comma == utf8.RuneError || !utf8.ValidRune(comma) {
		return nil, r.errorf("delimiter %q cannot be used", comma)
	}
	st.r = csv.NewReader(st.in) // reads st.in itself: it is a large enough *bufio.Reader
	st.r.Comma = comma
	st.r.FieldsPerRecord = -1
	st.r.ReuseRecord = true
	r.csv = st

	for records := 0; ; records++ {
		row, err := r.readCSV()
		switch {
		case err == io.EOF && records == 0:
			return nil, r.errorf("the file is empty")
		case err == io.EOF:
			return nil, r.errorf("the file ends before header row %d", headerRow)
		case err != nil:
			return nil, err
		case row.Number < headerRow:
			r.keepAbove(row.Number, row.Cells) // rows above the header: titles and notes
			continue
		case row.Number > headerRow:
			return nil, r.errorf("header row %d is empty; the next row with data is %d", headerRow, row.Number)
		case row.Err != nil:
			return nil, r.errorf("header %w", row.Err)
		}
		st.width = len(row.Cells)
		if err := r.setHeader(headerRow, row.Cells); err != nil {
			return nil, err
		}
		return r, nil
	}
}

// nextCSV reads the next data row, its cells copied into into (len(r.header) long) or,
// when into is nil, into the reader's slab.
func (r *Reader) nextCSV(into []string) (Row, error) {
	for {
		row, err := r.readCSV()
		if err != nil {
			return Row{}, err
		}
		if row.Err == nil {
			if blank(row.Cells) {
				continue
			}
			if len(row.Cells) != r.csv.width {
				row.Err = fmt.Errorf("row %d has %d cells, the header has %d", row.Number, len(row.Cells), r.csv.width)
			}
		}
		if into == nil {
			row.Cells = r.csv.cells(row.Cells, len(r.header))
			return row, nil
		}
		clear(into[copy(into, row.Cells):])
		row.Cells = into
		return row, nil
	}
}

// RowsExpected estimates how many data rows the file holds in all, from the bytes taken by
// the rows read so far, of which there are rows. It is 0 when it cannot tell: the input is
// not CSV, its size is unknown (a pipe), it was decoded from another encoding (so that the
// text read is not the file's bytes), or fewer than 1,000 rows were read. Call it where
// Next is called, not concurrently with it.
func (r *Reader) RowsExpected(rows int) int {
	if r.csv == nil || r.size <= 0 || !r.csv.checkUTF8 || rows < 1000 {
		return 0
	}
	read := r.csv.r.InputOffset()
	if read <= 0 {
		return 0
	}
	return int(float64(r.size) / float64(read) * float64(rows))
}

// readCSV reads one record and numbers it. Row.Cells is encoding/csv's reused slice.
// A *csv.ParseError after which reading can go on is the row's Err.
func (r *Reader) readCSV() (Row, error) {
	st := r.csv
	start := st.r.InputOffset()
	rec, err := st.r.Read()
	if err == io.EOF {
		return Row{}, io.EOF
	}
	pe, _ := err.(*csv.ParseError) // as encoding/csv returns it; errors.As would allocate on every row
	if err != nil && pe == nil {
		return Row{}, r.errorf("%v", err)
	}
	var first, last int // the record's first and last lines
	if pe != nil {
		first, last = pe.StartLine, pe.Line
	} else {
		first, _ = st.r.FieldPos(0)
		last, _ = st.r.FieldPos(len(rec) - 1)
		last += lineBreaks(rec[len(rec)-1])
	}
	row := Row{Number: first - st.extra, Cells: rec}
	st.extra += last - first
	if pe != nil {
		if pe.Err == csv.ErrQuote && last > first && r.atEOF() {
			return Row{}, r.errorf("row %d: a quoted cell opened on this row is never closed: a \" is missing", row.Number)
		}
		row.Err = fmt.Errorf("row %d: %w", row.Number, pe)
	}
	// The guard saw every byte of the row before encoding/csv did: while it saw nothing
	// amiss, the cells need no check of their own.
	suspect := st.guard.suspect
	if st.checkUTF8 && suspect {
		for _, c := range rec {
			if !utf8.ValidString(c) {
				return Row{}, r.errorf("%s", notUTF8(row.Number, []byte(strings.Join(rec, " "))))
			}
		}
	}
	// A record of fewer bytes than a cell may hold characters has no cell too long.
	if row.Err == nil && (suspect || st.r.InputOffset()-start > maxCellChars) {
		row.Err = checkCells(row.Number, rec, suspect)
	}
	return row, nil
}

// lineBreaks counts the LFs in a cell, which a last cell mostly has none of: a search for
// one costs less than strings.Count's setup.
func lineBreaks(c string) int {
	i := strings.IndexByte(c, '\n')
	if i < 0 {
		return 0
	}
	return 1 + strings.Count(c[i+1:], "\n")
}

// checkCells finds what no text cell holds: a NUL byte (binary data; looked for when nul),
// or more than Excel's 32,767 characters. Such a cell is cut to that many, so that the row
// in flight stays small; the row is then invalid.
func checkCells(number int, cells []string, nul bool) error {
	var err error
	for i, c := range cells {
		if nul && err == nil && strings.IndexByte(c, 0) >= 0 {
			err = fmt.Errorf("row %d: column %s holds a NUL byte: binary data, not text", number, column(i))
		}
		if len(c) > maxCellChars {
			if n := utf8.RuneCountInString(c); n > maxCellChars {
				if err == nil {
					err = fmt.Errorf("row %d: column %s holds %d characters, over 32,767 (Excel's limit for a cell)", number, column(i), n)
				}
				cells[i] = cutRunes(c, maxCellChars)
			}
		}
	}
	return err
}

// cutRunes returns the first n characters of s.
func cutRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

func (r *Reader) atEOF() bool {
	_, err := r.csv.in.Peek(1)
	return err == io.EOF
}

// lookupEncoding resolves an encoding name; nil means undecoded UTF-8.
func lookupEncoding(name string) (encoding.Encoding, error) {
	if name == "" {
		return nil, nil
	}
	e, err := ianaindex.IANA.Encoding(name)
	if err != nil || e == nil {
		e, err = htmlindex.Get(name)
	}
	if err != nil || e == nil {
		e = nil
		for _, c := range charmap.All {
			if s, ok := c.(fmt.Stringer); ok && strings.EqualFold(s.String(), name) {
				e = c
			}
		}
	}
	if e == nil {
		return nil, fmt.Errorf("unknown encoding %q: want a name like windows-1252, iso-8859-15 or utf-16le", name)
	}
	if e == unicode.UTF8 {
		return nil, nil
	}
	return e, nil
}

// detectDelimiter returns the most frequent of , ; \t | outside quotes in the header line,
// ',' when none occurs. b is the start of the text.
func detectDelimiter(b []byte, headerRow int) rune {
	candidates := [...]rune{',', ';', '\t', '|'}
	var counts [len(candidates)]int
	row, quoted := 1, false
	for _, c := range b {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '\n':
			row++
		case row == headerRow:
			for i, d := range candidates {
				if rune(c) == d {
					counts[i]++
				}
			}
		}
		if row > headerRow {
			break
		}
	}
	best := 0
	for i := range counts {
		if counts[i] > counts[best] {
			best = i
		}
	}
	return candidates[best]
}

// rowAt returns the spreadsheet row holding byte i of the text b.
func rowAt(b []byte, i int) int {
	row, quoted := 1, false
	for _, c := range b[:i] {
		switch {
		case c == '"':
			quoted = !quoted
		case c == '\n' && !quoted:
			row++
		}
	}
	return row
}

// invalidUTF8 returns the offset of the first invalid UTF-8 in b, -1 when there is none. A
// rune cut short at the end of b is not invalid unless atEOF.
func invalidUTF8(b []byte, atEOF bool) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		if !atEOF && !utf8.FullRune(b[i:]) {
			return -1
		}
		c, n := utf8.DecodeRune(b[i:])
		if c == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// recordGuard fails a read once a record (a line outside quotes; CR, LF or CRLF) passes
// maxRecordBytes: encoding/csv would hold any record whole, however long.
type recordGuard struct {
	r      io.Reader
	max    int // maxRecordBytes
	quoted bool
	cr     bool // the last byte was a CR
	n      int  // bytes of the current record
	row    int  // lines outside quotes so far + 1: the row being read

	// suspect says a NUL byte, or with utf8 invalid UTF-8, passed: the rows read from here
	// on have their cells checked one by one, which names the row and column.
	suspect bool
	utf8    bool
	cut     [utf8.UTFMax]byte // the start of a character the last read cut in two
	ncut    int
}

// scan looks at text on its way to encoding/csv for what makes its rows suspect.
func (g *recordGuard) scan(b []byte, eof bool) {
	if g.suspect {
		return
	}
	if bytes.IndexByte(b, 0) >= 0 {
		g.suspect = true
		return
	}
	if !g.utf8 {
		return
	}
	// Complete the character the last read cut in two.
	for g.ncut > 0 && len(b) > 0 && !utf8.FullRune(g.cut[:g.ncut]) {
		g.cut[g.ncut] = b[0]
		g.ncut++
		b = b[1:]
	}
	if g.ncut > 0 {
		switch {
		case !utf8.FullRune(g.cut[:g.ncut]) && !eof:
			return // b was all of it: the next read goes on
		case !utf8.FullRune(g.cut[:g.ncut]) || !utf8.Valid(g.cut[:g.ncut]):
			g.suspect = true
			return
		}
		g.ncut = 0
	}
	// Keep back a character cut at the end: the next read completes it.
	end := len(b)
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) && !eof {
				end = i
			}
			break
		}
	}
	if !utf8.Valid(b[:end]) {
		g.suspect = true
		return
	}
	g.ncut = copy(g.cut[:], b[end:])
}

func (g *recordGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	b := p[:n]
	g.scan(b, err != nil)
	// The next quote, LF and CR after pos, each searched for once and kept until passed:
	// every byte is looked at once per kind, by bytes.IndexByte (IndexAny for the three at
	// once was the reading's largest cost after encoding/csv itself). unseen: not searched.
	const unseen = -2
	quote, lf, cr := unseen, unseen, unseen
	for pos := 0; pos < len(b); {
		if !g.quoted && !g.cr && len(b) <= g.max {
			// Up to the next quote or CR, the records are lines: counted at once, not
			// found one by one (a search per row was most of the guard's cost). A line
			// there is shorter than the text read, which is no longer than the bound.
			end := nextByte(&quote, b, pos, '"')
			if end < 0 {
				end = len(b)
			}
			if c := nextByte(&cr, b, pos, '\r'); c >= 0 && c < end {
				end = c
			}
			span := b[pos:end]
			if first := bytes.IndexByte(span, '\n'); first >= 0 {
				if g.n += first + 1; g.n > g.max {
					break
				}
				last := first
				if more := bytes.Count(span[first+1:], newline); more > 0 {
					// The search back reads at most a line: the one after the last LF.
					g.row += more
					last = first + 1 + bytes.LastIndexByte(span[first+1:], '\n')
				}
				g.row++
				g.n = 0
				span = span[last+1:]
			}
			if g.n += len(span); g.n > g.max {
				break
			}
			if pos = end; pos == len(b) {
				break
			}
			// A quote or a CR: taken below.
		}
		i := nextByte(&quote, b, pos, '"')
		if !g.quoted && i != pos { // nothing comes before pos
			i = earliest(i, nextByte(&lf, b, pos, '\n'))
			i = earliest(i, nextByte(&cr, b, pos, '\r'))
		}
		if i < 0 {
			g.n += len(b) - pos
			g.cr = false
			break
		}
		if g.n += i - pos + 1; g.n > g.max {
			break
		}
		switch c := b[i]; {
		case c == '"':
			g.quoted = !g.quoted
		case c == '\n' && g.cr && i == pos:
			g.n = 0
		default:
			g.n = 0
			g.row++
		}
		g.cr = b[i] == '\r'
		pos = i + 1
	}
	if g.n > g.max {
		return 0, fmt.Errorf("row %d is over %d MiB long: a row of deals is far shorter (a cell holds at most 32,767 characters); is this a CSV file?", g.row, g.max>>20)
	}
	return n, err
}

var newline = []byte{'\n'}

// nextByte returns the index of the first c in b at or after pos, -1 when there is none;
// *at keeps the last answer (-1: none up to b's end), so that b is searched once.
func nextByte(at *int, b []byte, pos int, c byte) int {
	if *at >= pos || *at == -1 {
		return *at
	}
	if j := bytes.IndexByte(b[pos:], c); j >= 0 {
		*at = pos + j
	} else {
		*at = -1
	}
	return *at
}

// earliest is the smaller of two indexes, -1 (none) counting as neither.
func earliest(i, j int) int {
	if i < 0 || j >= 0 && j < i {
		return j
	}
	return i
}

// crToLF reads CR line ends as LF.
type crToLF struct{ r io.Reader }

func (c crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
