package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/oppimport/oppimport/progress"
	"github.com/oppimport/oppimport/report"
)

// sink is where a run's results go, in input order, from the run's one result goroutine:
// the report, the rejects file (import and validate), the progress bar, and the first bad
// rows, logged one by one. It is import's and undo's alike.
type sink struct {
	log     *slog.Logger
	report  *report.Writer
	rejects *report.Rejects // nil: no rejects file
	bar     *progress.Bar
	shown   int
	retries int   // attempts beyond each row's first: the retries the log shows only at debug
	err     error // the first write error
	// stop, when set, is called with errWriting on the first write error: a run stops new
	// rows at once when its report cannot be written.
	stop context.CancelCauseFunc
}

// maxShown is how many bad rows are logged one by one; the report holds them all.
const maxShown = 10

// add writes one row's result. warn, when not "", is the warning a bad row gets on stderr
// ("invalid": on a terminal "warning: row 19 invalid: ...");
// cells, when not nil, go to the rejects file with the row's error.
func (s *sink) add(r report.Result, warn string, cells []string) {
	if cells != nil && s.rejects != nil {
		s.keep(s.rejects.Write(cells, r.Error))
	}
	if warn != "" {
		if s.shown++; s.shown <= maxShown {
			attrs := []any{"row", r.Row, "error", r.Error}
			if r.Key != "" {
				attrs = append(attrs, "key", r.Key)
			}
			if r.OpportunityID != 0 {
				attrs = append(attrs, "opportunity", r.OpportunityID)
			}
			s.log.Warn(warn, attrs...)
		} else if s.shown == maxShown+1 {
			s.log.Warn("more rows are bad: see the report", "report", s.report.Path())
		}
	}
	s.keep(s.report.Write(r))
	s.bar.Add(r.Status)
	s.retries += max(r.Attempts-1, 0)
}

func (s *sink) keep(err error) {
	if err != nil && s.err == nil {
		s.err = err
		if s.stop != nil {
			s.stop(errWriting)
		}
	}
}

// close finishes the bar and closes the files with the run's summary; the error is the
// first write error of the whole run.
func (s *sink) close(sum report.Summary) error {
	s.bar.Finish()
	s.keep(s.report.Close(sum))
	if s.rejects != nil {
		s.keep(s.rejects.Close())
	}
	return s.err
}

// summary tells the user how the run went and which files it wrote: text, or with JSON one
// object carrying the summary and the paths.
func (a *app) summary(line string, sum report.Summary, s *sink) {
	switch s.retries {
	case 0:
	case 1:
		line += "; 1 retry"
	default:
		line += fmt.Sprintf("; %d retries", s.retries)
	}
	if a.json {
		attrs := []slog.Attr{slog.Any("summary", sum), slog.Int("retries", s.retries), slog.String("report", s.report.Path())}
		if s.rejects != nil && s.rejects.Count() > 0 {
			attrs = append(attrs, slog.String("rejects", s.rejects.Path()), slog.Int("rejected", s.rejects.Count()))
		}
		a.say(line, attrs...)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nreport: %s", line, s.report.Path())
	if s.rejects != nil && s.rejects.Count() > 0 {
		fmt.Fprintf(&b, "\nrejects: %s (%s: fix them there and import that file with the same mapping)",
			s.rejects.Path(), plural(s.rejects.Count(), "row"))
	}
	a.say(b.String())
}
