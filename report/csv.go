package report

import (
	"encoding/csv"
	"errors"
	"os"
	"strconv"
	"time"
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
// second's. Not safe for concurrent use.
type csvFile struct {
	file      *os.File
	w         *csv.Writer
	lastFlush time.Time
}

// createCSV creates path (createFile) for records separated by comma.
func createCSV(path string, comma rune) (*csvFile, error) {
	file, err := createFile(path)
	if err != nil {
		return nil, err
	}
	w := csv.NewWriter(file)
	w.Comma = comma
	return &csvFile{file: file, w: w, lastFlush: time.Now()}, nil
}

// write writes one record, and flushes when the last flush is flushEvery ago.
func (c *csvFile) write(rec []string) error {
	if err := c.w.Write(rec); err != nil {
		return err
	}
	if time.Since(c.lastFlush) >= flushEvery {
		return c.flush()
	}
	return nil
}

func (c *csvFile) flush() error {
	c.lastFlush = time.Now()
	c.w.Flush()
	return c.w.Error()
}

func (c *csvFile) close() error {
	c.w.Flush()
	return errors.Join(c.w.Error(), c.file.Close())
}

func itoaOrEmpty(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}
