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
	file      *os.File
	w         *csv.Writer
	rec       [reportColumns]string
	lastFlush time.Time
}

func newCSVReport(path string) (*csvReport, error) {
	file, err := createFile(path)
	if err != nil {
		return nil, err
	}
	c := &csvReport{file: file, w: csv.NewWriter(file), lastFlush: time.Now()}
	if err := c.w.Write(csvHeader[:]); err != nil {
		file.Close()
		return nil, err
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		file.Close()
		return nil, err
	}
	return c, nil
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
	if err := c.w.Write(c.rec[:]); err != nil {
		return err
	}
	if time.Since(c.lastFlush) >= flushEvery {
		c.lastFlush = time.Now()
		c.w.Flush()
		return c.w.Error()
	}
	return nil
}

func (c *csvReport) close(Summary) error {
	c.w.Flush()
	return errors.Join(c.w.Error(), c.file.Close())
}

func itoaOrEmpty(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}
