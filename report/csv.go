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
// Excel can ask for .xlsx), comma-separated, LF line ends, each field as encoding/csv
// writes it (a line is built in one buffer: encoding/csv's Writer was a tenth of a
// 10^6-row validate's CPU).
//
// The cells that carry text (key, status, error, title, url) are neutralised against
// formula injection and cut at MaxCell characters; the numbers are ours and go out as
// they are.
type csvReport struct {
	file      *os.File
	w         *bufio.Writer
	line      []byte
	lastFlush time.Time
}

func newCSVReport(path string) (*csvReport, error) {
	file, err := createFile(path)
	if err != nil {
		return nil, err
	}
	c := &csvReport{file: file, w: bufio.NewWriterSize(file, 64<<10), lastFlush: time.Now()}
	for i, h := range csvHeader {
		c.line = appendField(c.line, i, h)
	}
	c.line = append(c.line, '\n')
	if _, err := c.w.Write(c.line); err != nil {
		file.Close()
		return nil, err
	}
	if err := c.w.Flush(); err != nil {
		file.Close()
		return nil, err
	}
	return c, nil
}

func (c *csvReport) write(r Result) error {
	b := strconv.AppendInt(c.line[:0], int64(r.Row), 10)
	b = appendField(b, 1, neutralise(clip(r.Key)))
	b = appendField(b, 2, neutralise(r.Status))
	b = appendField(b, 3, itoaOrEmpty(r.OpportunityID))
	b = appendField(b, 4, itoaOrEmpty(int64(r.Attempts)))
	b = appendField(b, 5, itoaOrEmpty(int64(r.HTTPStatus)))
	b = appendField(b, 6, neutralise(clip(r.Error)))
	b = appendField(b, 7, neutralise(clip(r.Title)))
	b = appendField(b, 8, neutralise(clip(r.URL)))
	c.line = append(b, '\n')
	if _, err := c.w.Write(c.line); err != nil {
		return err
	}
	if time.Since(c.lastFlush) >= flushEvery {
		c.lastFlush = time.Now()
		return c.w.Flush()
	}
	return nil
}

func (c *csvReport) close(Summary) error {
	return errors.Join(c.w.Flush(), c.file.Close())
}

// appendField appends field i of a line as encoding/csv writes it (comma, LF line ends):
// quoted, with its quotes doubled, when it holds a comma, a quote or a line break, begins
// with a space or is \. (a line PostgreSQL would take for the end of its data).
func appendField(b []byte, i int, s string) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	if !needsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for {
		j := strings.IndexByte(s, '"')
		if j < 0 {
			break
		}
		b = append(b, s[:j+1]...)
		b = append(b, '"')
		s = s[j+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}

func needsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

func itoaOrEmpty(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}
