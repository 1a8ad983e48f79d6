package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

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
to undo, or undone already); with --dry-run would-delete and would-restore, and every row
listed on stdout (key, id, title, what would become of it). On a terminal, undo asks before
it deletes or restores anything, unless --yes. With --dry-run
and no --url, the list comes from the state database alone, unchecked against the portal.

Exit codes here: 0 every row undone or nothing to undo; 1 some rows left alone or failed; 2
nothing changed (bad flags, no such run, another portal, state locked); 3 stopped early (run
the same undo again to finish).

Examples:
  oppimport status --mapping deals.yaml                 # find the run's number
  oppimport undo --mapping deals.yaml --run 3 --dry-run # what would be deleted and restored
  oppimport undo --mapping deals.yaml --run 3
`

// undoOptions are the flags of undo, by group, and its own.
type undoOptions struct {
	state stateFlags
	conn  connFlags
	rate  rateFlags
	out   outputFlags
	log   logFlags
	run   int64
	dry   bool
	force bool
	ask   askFlags
}

func newUndoCmd(a *app) *cobra.Command {
	o := &undoOptions{rate: defaultRate()}
	c := command("undo --run N [flags]", "take back run N: delete what it created, restore what it updated",
		undoSynopsis, func() error { return runUndo(a, o) })
	fs := c.Flags()
	fs.Int64Var(&o.run, "run", 0, "the run `N` to take back (see oppimport status)")
	fs.BoolVar(&o.dry, "dry-run", false, "list what would be deleted, restored and left alone; change nothing")
	fs.BoolVar(&o.force, "force", false, "undo opportunities changed on the portal since the run, too")
	o.ask.register(fs)
	o.state.register(fs, "the mapping `FILE` of run N: its state database lies beside it (or give --state)")
	o.conn.register(fs, "the portal `URL` of run N (env ONLYOFFICE_URL); required, but for a --dry-run from the state alone", a.ios.getenv)
	o.rate.register(fs, true)
	o.out.register(fs, "results report `FILE`: .csv, .json or .xlsx (default undo-run-N.report.csv, in the current folder)", false)
	o.log.register(fs, true)
	return c
}

// runUndo takes back run N.
func runUndo(a *app, o *undoOptions) error {
	log := a.setupLog(o.log)
	if err := o.check(); err != nil {
		return err
	}
	soft, hard, stopSignals := signalContexts(context.Background(), a.ios, log)
	defer stopSignals()
	// The portal first: a bad token must not leave an undo run behind.
	var conn *connection
	if o.conn.url != "" {
		var err error
		if conn, err = connect(soft, o.conn, o.rate, log, probeStages); err != nil {
			return nothingDone(err, "nothing was changed")
		}
		defer conn.poster.client.CloseIdleConnections()
	}
	db, err := openUndoState(o.state.path(), o.dry, log)
	if err != nil {
		return err
	}
	defer db.Close()
	target, plan, err := undoTarget(db, o)
	if err != nil {
		return err
	}
	if !o.dry {
		if err := a.ask(o.ask, plan.question(target)); err != nil {
			return err
		}
	}
	cfg := undo.Config{DB: db, Portal: target.Portal, Of: target.ID, DryRun: o.dry, Force: o.force, Abort: hard, Concurrency: 1}
	if conn != nil {
		cfg.Client, cfg.Concurrency = undoPortal{conn.poster}, conn.workers
	} else {
		log.Warn("no --url: listed from the state database only; nothing was compared with the portal")
	}
	if !o.dry {
		if cfg.Run, err = db.StartRun(soft, state.Run{Portal: target.Portal, Input: fmt.Sprintf("run %d", target.ID), Mode: "undo", UndoOf: target.ID}); err != nil {
			return nothingf("%v; nothing was changed", err)
		}
	}
	s, err := undoSink(a, o, target.ID, plan.rows)
	if err != nil {
		if cfg.Run > 0 {
			db.FinishRun(context.Background(), cfg.Run, nil, time.Now(), "the report could not be written: "+err.Error())
		}
		return nothingf("%v; nothing was changed", err)
	}
	portalURL := o.conn.url
	if portalURL == "" {
		portalURL = target.Portal
	}
	cfg.OnResult = s.addUndo(plan.titleOf, portalURL)
	if o.dry {
		// The dry run lists every row on stdout: what it would do, to which deal.
		tw := tabwriter.NewWriter(a.ios.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "key\topportunity_id\ttitle\tstatus\terror")
		add := cfg.OnResult
		cfg.OnResult = func(r undo.Result) {
			add(r)
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", mapping.ShowKey(r.Key), r.OpportunityID, plan.titleOf[r.Key], r.Status, r.Error)
		}
		defer tw.Flush()
	}
	started := time.Now()
	var st undo.Stats
	settleErr := undoSettle(soft, db, target.Portal, cfg.Run, conn, o.rate.timeout, log)
	if settleErr == nil {
		st, err = undo.Run(soft, cfg)
	}
	return a.endUndo(o, target, cfg, conn, s, started, st, settleErr, err)
}

// check refuses flags that cannot make an undo.
func (o *undoOptions) check() error {
	switch {
	case o.run <= 0:
		return usagef("--run N is required: the run to take back (see oppimport status)")
	case o.state.mapping == "" && o.state.state == "":
		return usagef("give --mapping M.yaml or --state FILE")
	case o.conn.url == "" && !o.dry:
		return usagef("--url (or ONLYOFFICE_URL) is required; nothing was changed")
	}
	_, err := o.state.existing()
	return err
}

// openUndoState opens the state database, locked unless dry: a dry run changes nothing in
// the state either (no lock, no run recorded).
func openUndoState(path string, dry bool, log *slog.Logger) (*state.DB, error) {
	open := openState
	if dry {
		open = func(path string, _ *slog.Logger) (*state.DB, error) { return state.Open(path) }
	}
	db, err := open(path, log)
	if err != nil {
		return nil, nothingf("%v; nothing was changed", err)
	}
	return db, nil
}

// addUndo is the undo's undo.Config.OnResult: each row with the title the run sent (titles,
// by key) and the deal's page on the portal.
func (s *sink) addUndo(titles map[string]string, portal string) func(undo.Result) {
	page := report.DealPages(portal)
	return func(r undo.Result) {
		warn := ""
		if r.Status == undo.Failed {
			warn = "left alone"
		}
		s.add(report.Result{Row: r.Row, Key: mapping.ShowKey(r.Key), Status: r.Status, OpportunityID: r.OpportunityID,
			Attempts: r.Attempts, HTTPStatus: r.HTTPStatus, Error: r.Error,
			Title: titles[r.Key], URL: page(r.OpportunityID)}, warn, nil)
	}
}

// undoPlan is what an undo of a run is about to do, from the state database alone.
type undoPlan struct {
	rows     int64
	deletes  int               // rows the run created
	restores int               // rows the run updated, with what they held before
	titles   []string          // the first few of them, quoted
	titleOf  map[string]string // each row's title as the run sent it, by key: for the report
}

// undoTarget finds run N and what undoing it would touch.
func undoTarget(db *state.DB, o *undoOptions) (state.Run, undoPlan, error) {
	ctx := context.Background()
	plan := undoPlan{titleOf: map[string]string{}}
	target, ok, err := db.Run(ctx, o.run)
	switch {
	case err != nil:
		return target, plan, nothingf("%v; nothing was changed", err)
	case !ok:
		return target, plan, nothingf("%s has no run %d (see oppimport status); nothing was changed", db.Path(), o.run)
	case target.Mode == "undo":
		return target, plan, nothingf("run %d is itself an undo (of run %d): import again to redo; nothing was changed", target.ID, target.UndoOf)
	case o.conn.url != "" && state.Portal(o.conn.url) != target.Portal:
		return target, plan, nothingf("run %d was against %s, not %s; nothing was changed", target.ID, target.Portal, state.Portal(o.conn.url))
	}
	err = db.RunRows(ctx, o.run, func(r state.RunRow) error {
		plan.rows++
		title := r.Title
		if title == "" {
			title = sentTitle(r.Sent) // a row recorded before the state kept titles
		}
		if title != "" {
			plan.titleOf[r.Key] = title
		}
		switch {
		case r.Outcome == importer.Created && r.OpportunityID > 0:
			plan.deletes++
		case r.Method == "PUT" && r.Before != nil:
			plan.restores++
		default:
			return nil
		}
		if len(plan.titles) < 3 && title != "" {
			plan.titles = append(plan.titles, strconv.Quote(title))
		}
		return nil
	})
	if err != nil {
		return target, plan, nothingf("%v; nothing was changed", err)
	}
	return target, plan, nil
}

// question is what an undo asks before it deletes or restores anything, "" when it would
// do neither.
func (plan undoPlan) question(target state.Run) string {
	if plan.deletes+plan.restores == 0 {
		return ""
	}
	var what []string
	if plan.deletes > 0 {
		what = append(what, "delete "+plural(plan.deletes, "deal"))
	}
	if plan.restores > 0 {
		what = append(what, "restore "+plural(plan.restores, "deal"))
	}
	titles := strings.Join(plan.titles, ", ")
	if plan.deletes+plan.restores > len(plan.titles) {
		titles += ", …"
	}
	return fmt.Sprintf("undo of run %d on %s: %s (%s)?", target.ID, target.Portal, strings.Join(what, " and "), titles)
}

// undoSink opens the undo's report and starts the progress display.
func undoSink(a *app, o *undoOptions, of int64, total int64) (*sink, error) {
	path := o.out.report
	if path == "" {
		path = fmt.Sprintf("undo-run-%d.report.csv", of)
	}
	rep, err := report.NewWriter(path)
	if err != nil {
		return nil, err
	}
	bar := progress.New(a.term, progressMode(o.log), total, a.log,
		progress.Outcomes(undo.Deleted, undo.Restored, undo.WouldDelete, undo.WouldRestore, undo.Skipped, undo.Failed))
	return &sink{log: a.log, report: rep, bar: bar}, nil
}

// undoSettle settles the requests an earlier run (an import, or this undo killed halfway)
// left unanswered, as an import settles them: then every row's state is known.
func undoSettle(ctx context.Context, db *state.DB, portal string, run int64, conn *connection, timeout time.Duration, log *slog.Logger) error {
	if run == 0 {
		return nil
	}
	ledger := &importer.Ledger{DB: db, Portal: portal, Run: run, SettleAfter: 2 * timeout, Undoing: true}
	var finder importer.Finder
	if conn != nil {
		finder = conn.poster
	}
	adopted, forgotten, doubtful, err := importer.Settle(ctx, ledger, finder)
	if adopted+forgotten+doubtful > 0 {
		log.Info("settled the requests an earlier run left unanswered", "found_on_portal", adopted,
			"never_created", forgotten, "still_in_doubt", doubtful)
	}
	return err
}

// endUndo records the end of the undo, writes its summary and says how it went.
func (a *app) endUndo(o *undoOptions, target state.Run, cfg undo.Config, conn *connection, s *sink, started time.Time,
	st undo.Stats, settleErr, runErr error) error {
	sum := report.Summary{Started: started, Run: int(cfg.Run), Mode: "undo", Input: fmt.Sprintf("run %d", target.ID),
		Counts: st.Counts, Rows: st.Rows, Elapsed: st.Elapsed, Rate: o.rate.rate}
	if conn != nil {
		sum.Requests, sum.Refused, sum.RateReached = st.Requests, int(conn.poster.refused.Load()), conn.poster.pace.Limit()
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
		if err := cfg.DB.FinishRun(context.Background(), cfg.Run, st.Counts, time.Now(), sum.Stopped); err != nil {
			a.log.Error("recording the end of the run", "error", err)
		}
	}
	writeErr := s.close(sum)
	a.summary(undoSummary(sum, target.ID, o.dry), sum, s)
	switch {
	case writeErr != nil:
		return stoppedf("writing the report: %v", writeErr)
	case sum.Stopped != "" && st.Requests == 0 && st.Counts[undo.Deleted]+st.Counts[undo.Restored] == 0:
		return stoppedf("stopped before anything was changed: %s", sum.Stopped)
	case sum.Stopped != "":
		return stoppedf("stopped early: %s; run the same undo again to finish", sum.Stopped)
	case st.Counts[undo.Failed] > 0:
		return errRows
	}
	return nil
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
		fmt.Fprintf(&b, "; %s, %.1f requests/s", plural(s.Requests, "request"), s.RequestRate())
		if s.Refused > 0 {
			fmt.Fprintf(&b, ", %d refused (429/503)", s.Refused)
		}
	}
	return b.String()
}

// undoPortal plugs the API client into the undo, with the poster's classification of errors.
type undoPortal struct{ *poster }

func (u undoPortal) Get(ctx context.Context, id int64) (onlyoffice.StoredOpportunity, importer.Posted, error) {
	o, out, err := u.client.ReadOpportunity(ctx, id)
	if err != nil {
		out.HTTPStatus = statusOf(err)
	}
	posted, err := u.posted(out, err)
	return o, posted, err
}

func (u undoPortal) Delete(ctx context.Context, id int64) (importer.Posted, error) {
	return u.posted(u.client.DeleteOpportunity(ctx, id))
}
