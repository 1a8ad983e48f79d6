package report

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
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
	rec [reportColumns]string
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
		f.file.Close()
		return nil, err
	}
	return &csvReport{csvFile: f}, nil
}

func (c *csvReport) write(r Result) error {
	c.rec = [reportColumns]string{
		strconv.Itoa(r.Row),
		neutralise(clip(r.Key)),
		neutralise(r.Status),
		itoaOrEmpty(r.OpportunityID),
		itoaOrEmpty(int64(r.Attempts)),
		itoaOrEmpty(int64(r.HTTPStatus)),
		neutralise(clip(r.Error)),
		neutralise(clip(r.Title)),
		neutralise(clip(r.URL)),
	}
	return c.csvFile.write(c.rec[:])
}

func (c *csvReport) close(Summary) error { return c.csvFile.close() }

// csvFile is a CSV file being written, the report's or the rejects': the records written
// reach the file within flushEvery, so that a run that dies leaves all but its last
// second's. Each record is written as encoding/csv writes it, LF line ends, but built
// as one line in a reused buffer (encoding/csv's Writer, field by field through its
// bufio, was a tenth of a 10^6-row validate's CPU). Not safe for concurrent use.
type csvFile struct {
	file      *os.File
	w         *bufio.Writer
	comma     rune
	line      []byte
	lastFlush time.Time
}

// createCSV creates path (createFile) for records separated by comma.
func createCSV(path string, comma rune) (*csvFile, error) {
	file, err := createFile(path)
	if err != nil {
		return nil, err
	}
	return &csvFile{file: file, w: bufio.NewWriterSize(file, 64<<10), comma: comma, lastFlush: time.Now()}, nil
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
	c.line = append(b, '\n')
	if _, err := c.w.Write(c.line); err != nil {
		return err
	}
	if time.Since(c.lastFlush) >= flushEvery {
		return c.flush()
	}
	return nil
}

func (c *csvFile) flush() error {
	c.lastFlush = time.Now()
	return c.w.Flush()
}

func (c *csvFile) close() error {
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
		for i := 0; i < len(field); i++ {
			switch field[i] {
			case '\n', '\r', '"', byte(comma):
				return true
			}
		}
	} else if strings.ContainsRune(field, comma) || strings.ContainsAny(field, "\"\r\n") {
		return true
	}
	r, _ := utf8.DecodeRuneInString(field)
	return unicode.IsSpace(r)
}

func itoaOrEmpty(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}
