package report

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// reportColumns is how many columns a report has.
const reportColumns = 9

// csvHeader is the report's header; scripts parse it, so it never changes.
// title and url came last, after scripts had read the first seven by name.
var csvHeader = [reportColumns]string{"row", "key", "status", "opportunity_id", "attempts", "http_status", "error", "title", "url"}

// csvReport writes the CSV report: UTF-8 without a byte order mark (the header is
// exactly csvHeader, which scripts compare byte for byte; users who open reports in
// Excel can ask for .xlsx), comma-separated, LF line ends.
//
// The cells that carry text (key, status, error, title, url) are neutralised against
// formula injection and cut at MaxCell characters; the numbers are ours and go out as
// they are.
type csvReport struct {
	*csvFile
	// The last row's number and its digits, and the last status as written: rows come
	// in order, so that the next number is mostly the last one's digits counted up, and
	// the status mostly the same (their formatting and quoting checks were a fifth of
	// the report's instructions).
	row       int
	rowDigits []byte
	status    string
	statusOut []byte
}

func newCSVReport(path string) (*csvReport, error) {
	f, err := createCSV(path, ',')
	if err != nil {
		return nil, err
	}
	// The header reaches the file at once: a report of a run that dies before its
	// first row still says what it is.
	err = f.write(csvHeader[:])
	if err == nil {
		err = f.flush()
	}
	if err != nil {
		f.timer.Stop()
		f.file.Close()
		return nil, err
	}
	return &csvReport{csvFile: f}, nil
}

// write appends the row's line to the buffer field by field, the numbers as digits without
// a string of their own (strconv.Itoa was an allocation per row), then writes it.
func (c *csvReport) write(r Result) error {
	switch {
	case c.row > 0 && r.Row == c.row+1:
		c.rowDigits = countUp(c.rowDigits)
	case r.Row != c.row || len(c.rowDigits) == 0:
		c.rowDigits = strconv.AppendInt(c.rowDigits[:0], int64(r.Row), 10)
	}
	c.row = r.Row
	if r.Status != c.status || c.statusOut == nil {
		c.status = r.Status
		c.statusOut = appendField(append(c.statusOut[:0], ','), neutralise(r.Status), ',')
	}
	b := append(c.line[:0], c.rowDigits...)
	b = appendField(append(b, ','), neutralise(clip(r.Key)), ',')
	b = append(b, c.statusOut...)
	b = appendNonZero(append(b, ','), r.OpportunityID)
	b = appendNonZero(append(b, ','), int64(r.Attempts))
	b = appendNonZero(append(b, ','), int64(r.HTTPStatus))
	b = appendField(append(b, ','), neutralise(clip(r.Error)), ',')
	b = appendField(append(b, ','), neutralise(clip(r.Title)), ',')
	b = appendField(append(b, ','), neutralise(clip(r.URL)), ',')
	return c.writeLine(b)
}

// countUp adds one to the decimal number d (digits of a positive number), in place when
// no digit is added.
func countUp(d []byte) []byte {
	for i := len(d) - 1; i >= 0; i-- {
		if d[i] < '9' {
			d[i]++
			return d
		}
		d[i] = '0'
	}
	return append([]byte{'1'}, d...)
}

// appendNonZero appends n's digits, nothing for 0 (a number the row has none of): n is
// ours, and its digits and sign need no quotes.
func appendNonZero(b []byte, n int64) []byte {
	if n == 0 {
		return b
	}
	return strconv.AppendInt(b, n, 10)
}

func (c *csvReport) close(Summary) error { return c.csvFile.close() }

// csvFile is a CSV file being written, the report's or the rejects': the records written
// reach the file within flushEvery, so that a run that dies leaves all but its last
// second's. Each record is written as encoding/csv writes it, LF line ends, but built
// as one line in a reused buffer (encoding/csv's Writer, field by field through its
// bufio, was a tenth of a 10^6-row validate's CPU). Not safe for concurrent use.
type csvFile struct {
	file  *os.File
	w     *bufio.Writer
	comma rune
	line  []byte
	// due is set by timer flushEvery after the last flush: a look at it costs less than
	// one at the clock, which every line took (a tenth of the report's cost).
	due   atomic.Bool
	timer *time.Timer
}

// createCSV creates path (createFile) for records separated by comma.
func createCSV(path string, comma rune) (*csvFile, error) {
	file, err := createFile(path)
	if err != nil {
		return nil, err
	}
	c := &csvFile{file: file, w: bufio.NewWriterSize(file, 64<<10), comma: comma}
	c.timer = time.AfterFunc(flushEvery, func() { c.due.Store(true) })
	return c, nil
}

// errDelimiter is encoding/csv's answer to a delimiter it cannot write.
var errDelimiter = errors.New("csv: invalid field or comment delimiter")

// write writes one record, and flushes when the last flush is flushEvery ago.
func (c *csvFile) write(rec []string) error {
	if c.comma == 0 || c.comma == '"' || c.comma == '\r' || c.comma == '\n' || !utf8.ValidRune(c.comma) || c.comma == utf8.RuneError {
		return errDelimiter
	}
	b := c.line[:0]
	for i, field := range rec {
		if i > 0 {
			b = utf8.AppendRune(b, c.comma)
		}
		b = appendField(b, field, c.comma)
	}
	return c.writeLine(b)
}

// writeLine writes the record built in b (c.line's array, kept for the next) with its
// line end, and flushes when the last flush is flushEvery ago.
func (c *csvFile) writeLine(b []byte) error {
	c.line = append(b, '\n')
	if _, err := c.w.Write(c.line); err != nil {
		return err
	}
	if c.due.Load() {
		return c.flush()
	}
	return nil
}

func (c *csvFile) flush() error {
	c.due.Store(false)
	c.timer.Reset(flushEvery)
	return c.w.Flush()
}

func (c *csvFile) close() error {
	c.timer.Stop()
	return errors.Join(c.w.Flush(), c.file.Close())
}

// appendField appends a field as encoding/csv writes it: quoted, with its quotes doubled,
// when it holds the delimiter, a quote or a line break, begins with a space or is \. (a
// line PostgreSQL would take for the end of its data).
func appendField(b []byte, field string, comma rune) []byte {
	if !needsQuotes(field, comma) {
		return append(b, field...)
	}
	b = append(b, '"')
	for {
		i := strings.IndexByte(field, '"')
		if i < 0 {
			break
		}
		b = append(b, field[:i+1]...)
		b = append(b, '"')
		field = field[i+1:]
	}
	b = append(b, field...)
	return append(b, '"')
}

func needsQuotes(field string, comma rune) bool {
	if field == "" {
		return false
	}
	if field == `\.` {
		return true
	}
	if comma < utf8.RuneSelf {
		if hasByte4(field, '\n', '\r', '"', byte(comma)) {
			return true
		}
	} else if strings.ContainsRune(field, comma) || strings.ContainsAny(field, "\"\r\n") {
		return true
	}
	if c := field[0]; c < utf8.RuneSelf {
		return c == ' ' || '\t' <= c && c <= '\r'
	}
	r, _ := utf8.DecodeRuneInString(field)
	return unicode.IsSpace(r)
}

// hasByte4 says whether s holds any of the bytes a, b, c and d, looking at eight bytes at
// a time (a byte-by-byte switch over every title and key was most of the report's cost).
func hasByte4(s string, a, b, c, d byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// zero has a high bit set where x has a zero byte, and only if it has one.
	zero := func(x uint64) uint64 { return (x - ones) &^ x & highs }
	wa, wb, wc, wd := ones*uint64(a), ones*uint64(b), ones*uint64(c), ones*uint64(d)
	i := 0
	for ; i+8 <= len(s); i += 8 {
		e := s[i : i+8] // one bounds check, and the eight loads made one
		w := uint64(e[0]) | uint64(e[1])<<8 | uint64(e[2])<<16 | uint64(e[3])<<24 |
			uint64(e[4])<<32 | uint64(e[5])<<40 | uint64(e[6])<<48 | uint64(e[7])<<56
		if zero(w^wa)|zero(w^wb)|zero(w^wc)|zero(w^wd) != 0 {
			return true
		}
	}
	if i < len(s) && len(s) >= 8 {
		// The last eight bytes, some looked at already: no byte-by-byte tail.
		e := s[len(s)-8:]
		w := uint64(e[0]) | uint64(e[1])<<8 | uint64(e[2])<<16 | uint64(e[3])<<24 |
			uint64(e[4])<<32 | uint64(e[5])<<40 | uint64(e[6])<<48 | uint64(e[7])<<56
		return zero(w^wa)|zero(w^wb)|zero(w^wc)|zero(w^wd) != 0
	}
	for ; i < len(s); i++ {
		if x := s[i]; x == a || x == b || x == c || x == d {
			return true
		}
	}
	return false
}

func itoaOrEmpty(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}
