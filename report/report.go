// Package report writes the results of an import or validate run: one line per input
// row (CSV, JSON or XLSX, chosen by the file's extension) and a summary, and the
// rejects file that holds the invalid and failed rows in the input's own columns.
//
// Rows are streamed: each Write goes out (buffered) as it is called and nothing is
// kept per row, so a report of a million rows costs no more memory than one of ten.
// Writers are not safe for concurrent use: one goroutine (the run's result sink)
// writes the rows, in input order, and closes.
package report

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Result is the outcome of one input row.
type Result struct {
	Row           int    // the row number a spreadsheet shows
	Key           string // the row's key from the mapping's key columns; "" when none
	Status        string // created updated unchanged skipped invalid failed valid
	OpportunityID int64  // 0 = none
	Attempts      int    // requests made for this row; 0 = none
	HTTPStatus    int    // the last answer's status; 0 = none
	Error         string // why the row is invalid or failed; "" otherwise
	Title         string // the opportunity's title as sent (or as the row gives it); "" when none
	URL           string // the opportunity's page in the portal's web UI (DealURL); "" when none
}

// statusOrder lists the row statuses in the order summaries show them.
var statusOrder = []string{"created", "updated", "unchanged", "skipped", "valid", "invalid", "failed"}

// Summary describes a whole run. It ends every report and, as Text, the run's output
// on stderr.
type Summary struct {
	Run     int    // the run's number in the state database; 0 when there is none
	Mode    string // "import" or "validate"
	Input   string // the input file as the user named it
	Counts  map[string]int
	Rows    int // data rows read
	Started time.Time
	Elapsed time.Duration

	Requests          int     // HTTP requests made, retries included
	Refused           int     // requests answered 429 or 503
	RequestsPerSecond float64 // 0 = computed from Requests and Elapsed
	Rate              float64 // the configured limit, requests per second; 0 = none
	RateReached       float64 // the limit at the end, lowered by 429/503 answers; 0 = not adapted

	Stopped string // why the run stopped early ("interrupted", ...); "" when it finished
}

// RequestRate is RequestsPerSecond, or Requests over Elapsed when that is not set.
func (s Summary) RequestRate() float64 {
	if s.RequestsPerSecond > 0 || s.Elapsed <= 0 {
		return s.RequestsPerSecond
	}
	return float64(s.Requests) / s.Elapsed.Seconds()
}

// Text is the one-line summary printed on stderr at the end of a run, e.g.
//
//	run 3 finished in 12.4s: 295 created, 5 invalid, 0 failed (300 rows); 301 requests, 24.3 requests/s
//
// It has no trailing newline; the caller adds the report's path on its own line.
func (s Summary) Text() string {
	var b strings.Builder
	switch {
	case s.Run > 0:
		fmt.Fprintf(&b, "run %d", s.Run)
	case s.Mode != "":
		b.WriteString(s.Mode)
	default:
		b.WriteString("run")
	}
	if s.Stopped != "" {
		fmt.Fprintf(&b, " stopped (%s) after %s: ", s.Stopped, roundElapsed(s.Elapsed))
	} else {
		fmt.Fprintf(&b, " finished in %s: ", roundElapsed(s.Elapsed))
	}
	n := 0
	for _, st := range s.statuses() {
		c := s.Counts[st]
		// invalid and failed are named even at 0: "0 failed" is the news a user looks for.
		always := st == "invalid" || (st == "failed" && s.Mode != "validate")
		if c == 0 && !always {
			continue
		}
		if n > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d %s", c, st)
		n++
	}
	if s.Rows == 1 {
		b.WriteString(" (1 row)")
	} else {
		fmt.Fprintf(&b, " (%d rows)", s.Rows)
	}
	if s.Requests > 0 || s.Mode == "import" {
		if s.Requests == 1 {
			fmt.Fprintf(&b, "; 1 request, %.1f requests/s", s.RequestRate())
		} else {
			fmt.Fprintf(&b, "; %d requests, %.1f requests/s", s.Requests, s.RequestRate())
		}
		if s.Refused > 0 {
			fmt.Fprintf(&b, ", %d refused (429/503)", s.Refused)
		}
		if s.RateReached > 0 && s.RateReached < s.Rate {
			fmt.Fprintf(&b, ", rate adapted to %.1f/s (of %g)", s.RateReached, s.Rate)
		}
	}
	return b.String()
}

// statuses is statusOrder followed by any other status found in Counts, sorted, so that
// no count is left out.
func (s Summary) statuses() []string {
	out := append([]string(nil), statusOrder...)
	var extra []string
	for st := range s.Counts {
		if !slices.Contains(statusOrder, st) {
			extra = append(extra, st)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

func roundElapsed(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond) // never "0s" for a run that took time
	}
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

// Writer writes a report file. Not safe for concurrent use.
type Writer struct {
	path   string
	f      format
	closed bool
}

// format is one report file format.
type format interface {
	write(r Result) error
	close(s Summary) error
}

var errClosed = errors.New("file is closed")

// NewWriter creates (or truncates) the report file at path; its format is chosen by
// the extension: .csv, .json or .xlsx (any case).
//
// CSV and JSON rows reach the file at least once a second, so a run that dies leaves a
// report of what was done up to then. An XLSX file is written whole by Close.
func NewWriter(path string) (*Writer, error) {
	var (
		f   format
		err error
	)
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv":
		f, err = newCSVReport(path)
	case ".json":
		f, err = newJSONReport(path)
	case ".xlsx":
		f, err = newXLSXReport(path)
	default:
		return nil, fmt.Errorf("report %s: unknown format %q (want .csv, .json or .xlsx)", path, ext)
	}
	if err != nil {
		return nil, err
	}
	return &Writer{path: path, f: f}, nil
}

// Fits says whether a report at path can hold rows data rows: an XLSX sheet holds
// 1,048,575 under its header, so a bigger run is refused before it starts rather than
// stopped when its report is full. rows < 0 (not known) fits.
func Fits(path string, rows int64) error {
	if strings.EqualFold(filepath.Ext(path), ".xlsx") && rows >= excelize.TotalRows {
		return fmt.Errorf("report %s: %d rows do not fit in an xlsx sheet (at most %d): ask for a .csv or .json report", path, rows, excelize.TotalRows-1)
	}
	return nil
}

// Path is the report file's path.
func (w *Writer) Path() string { return w.path }

// Write adds one row's result. The caller delivers rows in input order.
func (w *Writer) Write(r Result) error {
	if w.closed {
		return fmt.Errorf("report %s: %w", w.path, errClosed)
	}
	if err := w.f.write(r); err != nil {
		return fmt.Errorf("report %s: %w", w.path, err)
	}
	return nil
}

// Close ends the report with the run's summary and closes the file. It is called
// once, also when the run stopped early; later calls do nothing.
func (w *Writer) Close(s Summary) error {
	if w.closed {
		return nil
	}
	w.closed = true
	if err := w.f.close(s); err != nil {
		return fmt.Errorf("report %s: %w", w.path, err)
	}
	return nil
}

// flushEvery is how long rows may wait in a buffer before they reach the file.
const flushEvery = time.Second

// DealURL is the page of opportunity id in the portal's web UI:
// BASE/Products/CRM/Deals.aspx?id=ID. A base under a path (https://example.com/office/)
// keeps it, a pasted /api/2.0 does not; its query and fragment, if any, are dropped. "" when base is empty, not an
// absolute http(s) URL, or id is 0.
func DealURL(base string, id int64) string { return DealPages(base)(id) }

// DealPages is DealURL for one base, parsed once: a run asks with the same base for every
// row (measured: parsing it at every row was 6.5 % of the CPU of a re-run's done row).
func DealPages(base string) func(id int64) string {
	prefix, ok := "", false
	if base != "" {
		prefix, ok = dealPrefix(base)
	}
	return func(id int64) string {
		if !ok || id <= 0 {
			return ""
		}
		return prefix + strconv.FormatInt(id, 10)
	}
}

// dealPrefix is DealURL of base up to the id: BASE/Products/CRM/Deals.aspx?id=.
func dealPrefix(base string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	u.User = nil // never a password in a report
	u.RawQuery, u.Fragment, u.RawPath = "", "", ""
	path := strings.TrimRight(u.Path, "/")
	// A base pasted with the API's own path (as the client forgives it) is the portal's.
	if api := "/api/2.0"; len(path) >= len(api) && strings.EqualFold(path[len(path)-len(api):], api) {
		path = path[:len(path)-len(api)]
	}
	u.Path = path + "/Products/CRM/Deals.aspx"
	u.RawQuery = "id=" // URL.String writes the query as it is: the id's digits follow it
	return u.String(), true
}
