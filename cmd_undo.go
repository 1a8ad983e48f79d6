package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/oppimport/oppimport/importer"
	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/onlyoffice"
	"github.com/oppimport/oppimport/progress"
	"github.com/oppimport/oppimport/report"
	"github.com/oppimport/oppimport/state"
	"github.com/oppimport/oppimport/undo"
)

const undoSynopsis = `
Usage: oppimport undo --run N [--dry-run] [--force] (--mapping M.yaml | --state FILE) [--url URL] [--token TOKEN] [flags]

Takes back what run N did: deletes the opportunities it created (DELETE
api/2.0/crm/opportunity/{id}) and puts back, with a full-record PUT, the ones it updated, as
they stood before it. Each opportunity is read first: one changed on the portal since run N is
left alone and reported failed, unless --force. Custom field values the run set where there
were none cannot be cleared by the portal: the report's error column lists them. The undo is
itself a run (see oppimport status); undoing run N again does nothing more, and an undo that
was stopped finishes when run again.

Report statuses: deleted, restored, failed (left alone, with the reason), skipped (nothing
to undo, or undone already); with --dry-run would-delete and would-restore. With --dry-run
and no --url, the list comes from the state database alone, unchecked against the portal.

Exit codes here: 0 every row undone or nothing to undo; 1 some rows left alone or failed; 2
nothing changed (bad flags, no such run, another portal, state locked); 3 stopped early (run
the same undo again to finish).

Examples:
  oppimport status --mapping deals.yaml                 # find the run's number
  oppimport undo --mapping deals.yaml --run 3 --dry-run # what would be deleted and restored
  oppimport undo --mapping deals.yaml --run 3
`

// undoFlags are the import flags that an undo takes too, by name.
var undoFlags = []string{"mapping", "state", "url", "token", "user", "password-file", "concurrency", "rate",
	"burst", "retries", "timeout", "report", "progress", "log-format", "log-level", "allow-http", "insecure-skip-verify"}

func runUndo(args []string, ios streams) int {
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(ios.err, "oppimport undo: %s\n", fmt.Sprintf(format, a...))
		return code
	}
	flags := newFlagSet("undo", undoSynopsis, ios.err)
	var o importOptions
	all := flag.NewFlagSet("import", flag.ContinueOnError)
	o.register(all, false)
	for _, name := range undoFlags {
		f := all.Lookup(name)
		usage := f.Usage
		switch name {
		case "mapping":
			usage = "the mapping `FILE` of run N: its state database lies beside it (or give --state)"
		case "url":
			usage = "the portal `URL` of run N (env ONLYOFFICE_URL); required, but for a --dry-run from the state alone"
		case "report":
			usage = "results report `FILE`: .csv, .json or .xlsx (default undo-run-N.report.csv, in the current folder)"
		}
		flags.Var(f.Value, name, usage)
	}
	runN := flags.Int64("run", 0, "the run `N` to take back (see oppimport status)")
	dry := flags.Bool("dry-run", false, "list what would be deleted, restored and left alone; change nothing")
	force := flags.Bool("force", false, "undo opportunities changed on the portal since the run, too")
	pos, err := parseFlags(flags, args)
	if err != nil {
		return flagExit(err)
	}
	switch {
	case len(pos) != 0:
		return fail(exitNothing, "unexpected argument %q: the run is given with --run N", pos[0])
	case *runN <= 0:
		return fail(exitNothing, "--run N is required: the run to take back (see oppimport status)")
	case o.mapping == "" && o.state == "":
		return fail(exitNothing, "give --mapping M.yaml or --state FILE")
	case o.url == "" && !*dry:
		return fail(exitNothing, "--url (or ONLYOFFICE_URL) is required; nothing was changed")
	}
	switch o.progress {
	case "auto", "always", "never":
	default:
		return fail(exitNothing, "--progress %q: want auto, always or never", o.progress)
	}
	log, err := newLogger(ios.err, o.logFormat, o.logLevel)
	if err != nil {
		return fail(exitNothing, "%v", err)
	}
	path := o.statePath()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fail(exitNothing, "%s does not exist: no import has run with this mapping yet", path)
	}

	// The portal first: a bad token must not leave an undo run behind.
	var live *poster
	if o.url != "" {
		p, code, err := undoConnect(&o, log)
		if err != nil {
			return fail(code, "%v; nothing was changed", err)
		}
		defer p.client.CloseIdleConnections()
		live = p
	}

	// A dry run changes nothing in the state either: no lock, no run recorded.
	var db *state.DB
	if *dry {
		db, err = state.Open(path)
	} else {
		db, err = openState(path, log)
	}
	if err != nil {
		return fail(exitNothing, "%v; nothing was changed", err)
	}
	defer db.Close()
	ctx := context.Background()
	target, ok, err := db.Run(ctx, *runN)
	switch {
	case err != nil:
		return fail(exitNothing, "%v; nothing was changed", err)
	case !ok:
		return fail(exitNothing, "%s has no run %d (see oppimport status); nothing was changed", path, *runN)
	case target.Mode == "undo":
		return fail(exitNothing, "run %d is itself an undo (of run %d): import again to redo; nothing was changed", target.ID, target.UndoOf)
	case o.url != "" && state.Portal(o.url) != target.Portal:
		return fail(exitNothing, "run %d was against %s, not %s; nothing was changed", target.ID, target.Portal, state.Portal(o.url))
	}
	total := int64(0)
	if err := db.RunRows(ctx, *runN, func(state.RunRow) error { total++; return nil }); err != nil {
		return fail(exitNothing, "%v; nothing was changed", err)
	}

	cfg := undo.Config{
		DB:          db,
		Portal:      target.Portal,
		Of:          target.ID,
		DryRun:      *dry,
		Force:       *force,
		Concurrency: max(o.workers, 1),
	}
	if live != nil {
		cfg.Client = undoPortal{live}
	} else {
		log.Warn("no --url: listed from the state database only; nothing was compared with the portal")
	}
	if !*dry {
		cfg.Run, err = db.StartRun(ctx, state.Run{Portal: target.Portal, Input: fmt.Sprintf("run %d", target.ID), Mode: "undo", UndoOf: target.ID})
		if err != nil {
			return fail(exitNothing, "%v; nothing was changed", err)
		}
	}

	reportPath := o.report
	if reportPath == "" {
		reportPath = fmt.Sprintf("undo-run-%d.report.csv", target.ID)
	}
	rep, err := report.NewWriter(reportPath)
	if err != nil {
		if cfg.Run > 0 {
			db.FinishRun(ctx, cfg.Run, nil, time.Now(), "the report could not be written: "+err.Error())
		}
		return fail(exitNothing, "%v; nothing was changed", err)
	}

	bar := progress.New(ios.err, o.progress, ios.errIsTTY, total, log, progress.Word("undone"))
	soft, hard, stopSignals := signalContexts(ctx, ios, log)
	defer stopSignals()

	var settleErr error
	if cfg.Run > 0 {
		// Requests an earlier run (an import, or this undo killed halfway) left unanswered are
		// settled first, as an import settles them: then every row's state is known.
		ledger := &importer.Ledger{DB: db, Portal: target.Portal, Run: cfg.Run, SettleAfter: 2 * o.timeout}
		adopted, forgotten, doubtful, err := importer.Settle(soft, ledger, live)
		if adopted+forgotten+doubtful > 0 {
			log.Info("settled the requests an earlier run left unanswered", "found_on_portal", adopted,
				"never_created", forgotten, "still_in_doubt", doubtful)
		}
		settleErr = err
	}

	var counts progress.Counts
	var writeErr error
	shown := 0
	cfg.Abort = hard
	cfg.OnResult = func(r undo.Result) {
		counts.Done++
		switch r.Status {
		case undo.Deleted, undo.Restored, undo.WouldDelete, undo.WouldRestore:
			counts.Created++ // the bar's word for them is "undone"
		case undo.Failed:
			counts.Failed++
			if shown++; shown <= maxShown {
				log.Warn("row left alone", "key", mapping.ShowKey(r.Key), "opportunity", r.OpportunityID, "error", r.Error)
			} else if shown == maxShown+1 {
				log.Warn("more rows are left alone: see the report", "report", reportPath)
			}
		}
		err := rep.Write(report.Result{Row: r.Row, Key: mapping.ShowKey(r.Key), Status: r.Status, OpportunityID: r.OpportunityID,
			Attempts: r.Attempts, HTTPStatus: r.HTTPStatus, Error: r.Error})
		if err != nil && writeErr == nil {
			writeErr = err
		}
		bar.Update(counts)
	}
	var st undo.Stats
	var runErr error
	started := time.Now()
	if settleErr == nil {
		st, runErr = undo.Run(soft, cfg)
	}
	bar.Finish()

	sum := report.Summary{
		Started: started,
		Run:     int(cfg.Run),
		Mode:    "undo",
		Input:   fmt.Sprintf("run %d", target.ID),
		Counts:  st.Counts,
		Rows:    st.Rows,
		Elapsed: st.Elapsed,
		Rate:    o.rate,
	}
	if live != nil {
		sum.Requests = st.Requests
		sum.Refused = int(live.refused.Load())
		sum.RateReached = live.pace.Limit()
	}
	switch {
	case settleErr != nil:
		sum.Stopped = "settling: " + stopReason(settleErr)
	case runErr != nil:
		sum.Stopped = runErr.Error()
	case st.Stopped != nil:
		sum.Stopped = stopReason(st.Stopped)
	}
	if cfg.Run > 0 {
		if err := db.FinishRun(context.Background(), cfg.Run, st.Counts, time.Now(), sum.Stopped); err != nil {
			log.Error("recording the end of the run", "error", err)
		}
	}
	if err := rep.Close(sum); err != nil && writeErr == nil {
		writeErr = err
	}

	fmt.Fprintln(ios.err, undoSummary(sum, target.ID, *dry))
	fmt.Fprintf(ios.err, "report: %s\n", reportPath)

	switch {
	case writeErr != nil:
		return fail(exitStopped, "writing the report: %v", writeErr)
	case sum.Stopped != "" && st.Requests == 0 && st.Counts[undo.Deleted]+st.Counts[undo.Restored] == 0:
		return fail(exitStopped, "stopped before anything was changed: %s", sum.Stopped)
	case sum.Stopped != "":
		return fail(exitStopped, "stopped early: %s; run the same undo again to finish", sum.Stopped)
	case st.Counts[undo.Failed] > 0:
		return exitRows
	}
	return exitOK
}

// undoConnect builds the client from the connection flags, logs in when a user is given,
// and proves the token and the address with one cheap read.
func undoConnect(o *importOptions, log *slog.Logger) (*poster, int, error) {
	p, err := o.poster(log)
	if err != nil {
		return nil, exitNothing, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout*time.Duration(o.retries+1))
	defer cancel()
	if o.user != "" && o.token == "" {
		if err := p.client.Authenticate(ctx); err != nil {
			return nil, exitStopped, fmt.Errorf("authentication refused: %v", err)
		}
	}
	if _, err := p.client.ListStages(ctx); err != nil {
		return nil, exitStopped, fmt.Errorf("the portal refused or could not be reached: %v", err)
	}
	return p, exitOK, nil
}

// undoSummary is the undo's line on stderr, e.g.
//
//	run 5 (undo of run 3) finished in 1.2s: 40 deleted, 10 restored, 1 failed, 9 skipped (60 rows); 112 requests, 38.1 requests/s
func undoSummary(s report.Summary, of int64, dry bool) string {
	var b strings.Builder
	switch {
	case dry:
		fmt.Fprintf(&b, "dry run of the undo of run %d", of)
	default:
		fmt.Fprintf(&b, "run %d (undo of run %d)", s.Run, of)
	}
	if s.Stopped != "" {
		fmt.Fprintf(&b, " stopped (%s) after %s: ", s.Stopped, s.Elapsed.Round(100*time.Millisecond))
	} else {
		fmt.Fprintf(&b, " finished in %s: ", s.Elapsed.Round(100*time.Millisecond))
	}
	order := []string{undo.Deleted, undo.Restored, undo.WouldDelete, undo.WouldRestore, undo.Failed, undo.Skipped}
	var parts []string
	for _, st := range order {
		if n := s.Counts[st]; n > 0 || st == undo.Failed {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	b.WriteString(strings.Join(parts, ", "))
	if s.Rows == 1 {
		b.WriteString(" (1 row)")
	} else {
		fmt.Fprintf(&b, " (%d rows)", s.Rows)
	}
	if s.Requests > 0 {
		fmt.Fprintf(&b, "; %d requests, %.1f requests/s", s.Requests, s.RequestRate())
		if s.Refused > 0 {
			fmt.Fprintf(&b, ", %d refused (429/503)", s.Refused)
		}
	}
	return b.String()
}

// undoPortal plugs the API client into the undo, with the poster's classification of errors.
type undoPortal struct{ *poster }

func (u undoPortal) Get(ctx context.Context, id int64) (onlyoffice.StoredOpportunity, importer.Posted, error) {
	o, err := u.client.GetOpportunity(ctx, id)
	status := 200
	if err != nil {
		status = statusOf(err)
	}
	posted, err := u.posted(onlyoffice.Outcome{ID: id, Attempts: 1, HTTPStatus: status}, err)
	return o, posted, err
}

func (u undoPortal) Delete(ctx context.Context, id int64) (importer.Posted, error) {
	return u.posted(u.client.DeleteOpportunity(ctx, id))
}
