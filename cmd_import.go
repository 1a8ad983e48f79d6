package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oppimport/oppimport/importer"
	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/progress"
	"github.com/oppimport/oppimport/report"
	"github.com/oppimport/oppimport/source"
	"github.com/oppimport/oppimport/state"
)

const importSynopsis = `
Usage: oppimport import --mapping M.yaml [--url URL] [--token TOKEN] [flags] INPUT

Reads INPUT (.csv, .tsv, .txt, .xlsx, or - for CSV on stdin), maps each row with the mapping
file, validates it, and creates an opportunity on the portal for every valid row, writing a
report with the created ids and every row's problem.

Examples:
  export ONLYOFFICE_URL=https://example.onlyoffice.com ONLYOFFICE_TOKEN=...
  oppimport import --mapping deals.yaml deals.csv
  oppimport import --mapping deals.yaml --rate 20 --report run.xlsx deals.xlsx
  oppimport import --mapping deals.yaml --user admin@example.com --password-file ~/.onlyoffice-pass deals.csv
  oppimport import --mapping deals.yaml --mode sync --progress never --log-format json export.csv   # from cron

Every run records what it created in a state database beside the mapping (deals.state.db):
run it again after a crash, or every night, and nothing is created twice.
`

const validateSynopsis = `
Usage: oppimport validate --mapping M.yaml [flags] INPUT

The import's dry run: reads, maps and validates every row and writes the same report, each
row "valid" or "invalid"; nothing is posted.

Examples:
  oppimport validate --mapping deals.yaml deals.csv
  oppimport validate --mapping deals.yaml --report check.json deals.xlsx
  oppimport validate --mapping deals.yaml --url https://example.onlyoffice.com --token ... deals.csv
      (also checks look-ups and values against the portal, reading only)
  oppimport validate --mapping deals.yaml --mode sync --url https://example.onlyoffice.com --token ... export.csv
      (tonight's sync, previewed: each row would-create, would-update with every field from what
      to what, unchanged, or failed; reads the state database and the portal, changes neither)
`

// importOptions are the flags of import and validate, by group.
type importOptions struct {
	state stateFlags
	run   runFlags
	conn  connFlags
	rate  rateFlags
	out   outputFlags
	log   logFlags
}

func newImportCmd(a *app) *cobra.Command   { return importCmd(a, false) }
func newValidateCmd(a *app) *cobra.Command { return importCmd(a, true) }

func importCmd(a *app, dry bool) *cobra.Command {
	o := &importOptions{rate: defaultRate()}
	c := &cobra.Command{
		Use:         "import [flags] INPUT",
		Short:       "read, map, validate, post, report",
		Long:        importSynopsis,
		Annotations: map[string]string{"footer": exitCodesHelp},
		Args:        oneInput,
		RunE:        func(c *cobra.Command, args []string) error { return runImport(a, o, dry, args[0]) },
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"csv", "tsv", "txt", "xlsx"}, cobra.ShellCompDirectiveFilterFileExt
		},
	}
	urlUsage := "portal base `URL`, e.g. https://example.onlyoffice.com (env ONLYOFFICE_URL)"
	if dry {
		c.Use, c.Short, c.Long = "validate [flags] INPUT", "the import with nothing posted (dry run)", validateSynopsis
		urlUsage += "; check look-ups and values against it, read-only"
	}
	fs := c.Flags()
	o.state.register(fs, "the mapping `FILE` (YAML), required")
	o.run.register(fs, dry)
	o.conn.register(fs, urlUsage, a.ios.getenv)
	if !dry {
		o.rate.register(fs, true)
	}
	o.out.register(fs, "results report `FILE`: .csv, .json or .xlsx (default INPUT name + .report.csv, in the current folder)", true)
	o.log.register(fs, true)
	return c
}

// oneInput takes exactly one INPUT.
func oneInput(c *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("want exactly one INPUT file (or - for stdin), got %d", len(args))
	}
	return nil
}

// runImport is import and validate: read, map, validate, post (not validate), report.
func runImport(a *app, o *importOptions, dry bool, input string) error {
	log := a.setupLog(o.log)
	if o.state.mapping == "" {
		return usagef("--mapping is required")
	}
	reportPath, rejectsPath := outputPaths(input, o.out.report, o.out.rejects)
	if err := distinctFiles(input, o, dry, reportPath, rejectsPath); err != nil {
		return nothingf("%v; nothing was posted", err)
	}
	soft, hard, stopSignals := signalContexts(context.Background(), a.ios, log)
	defer stopSignals()
	defer lowerGCForXLSX(input)()
	m, src, err := openMapped(o.state.mapping, input, a.ios)
	if err != nil {
		return err
	}
	defer src.Close()
	link := &portalLink{}
	if !dry || o.conn.url != "" {
		if link, err = connectPortal(soft, o.conn, o.rate, log); err != nil {
			return nothingDone(err, "nothing was posted")
		}
		defer link.close()
	}
	if code, err := link.resolveKeyField(soft, m, dry, log); err != nil {
		return nothingDone(codeFailure(code, err), "nothing was posted")
	}
	plan, err := link.bind(hard, m, src, log)
	if err != nil {
		return nothingf("the mapping does not fit %s; nothing was posted:\n%v", input, err)
	}
	cfg := importer.Config{
		Rows: src, Plan: plan, Limit: o.run.limit, MaxErrors: o.run.maxErrors, CellRef: src.CellRef,
		Abort: hard, Check: link.check(hard, plan), Mode: o.run.mode.value, RecreateMissing: o.run.recreateMissing,
		OnConflict: o.run.onConflict.value,
	}
	total := int64(-1)
	if !dry {
		if total, err = countInput(soft, src, o.run.limit); err != nil {
			if soft.Err() != nil {
				return stoppedf("interrupted while reading %s through; nothing was posted", input)
			}
			return nothingf("%v; nothing was posted", err)
		}
		if err := report.Fits(reportPath, total); err != nil {
			return nothingf("%v; nothing was posted", err)
		}
		db, ledger, err := openLedger(soft, o, m, link, log)
		if err != nil {
			return nothingDone(err, "nothing was posted")
		}
		defer db.Close()
		cfg.Poster, cfg.Ledger, cfg.Concurrency = link.poster, ledger, link.workers
		cfg.Extras, cfg.Tags = link.poster.client, o.run.tags
		if m.Created != nil {
			link.poster.backdated = ownedBy(soft, ledger)
		}
	} else if o.run.mode.value == importer.ModeSync {
		db, ledger, err := previewLedger(o, link)
		if err != nil {
			return err
		}
		defer db.Close()
		cfg.Poster, cfg.Ledger = link.poster, ledger
	}
	s, err := importSink(a, o, reportPath, rejectsPath, src, plan, m.Input.HeaderRow, total)
	if err != nil {
		return nothingf("%v; nothing was posted", err)
	}
	// The run is recorded once nothing can refuse it any more.
	if err := startRun(cfg.Ledger, input, o.run.mode.value); err != nil {
		s.close(report.Summary{})
		return nothingf("%v; nothing was posted", err)
	}
	// A report or rejects file that cannot be written stops new rows at once: a row posted
	// and not reported is known to the state alone.
	soft, s.stop = context.WithCancelCause(soft)
	defer s.stop(nil)
	// The deals' pages hang off the portal's address as the client spells it: a pasted
	// /api/2.0 dropped, a path such as /office kept.
	pages := o.conn.url
	if link.poster != nil {
		pages = link.poster.client.BaseURL()
	}
	cfg.OnResult = s.addImport(plan, pages)
	if err := settle(soft, cfg, log); err != nil {
		s.close(report.Summary{})
		return err
	}
	started := time.Now()
	st, runErr := importer.Run(soft, cfg)
	return a.endImport(o, dry, input, started, cfg, link, s, st, runErr, context.Cause(soft))
}

// openMapped loads the mapping and opens the input as the mapping says to read it.
func openMapped(mappingPath, input string, ios streams) (*mapping.Mapping, *source.Reader, error) {
	m, err := mapping.Load(mappingPath)
	if err != nil {
		return nil, nil, nothingf("the mapping has errors; nothing was posted:\n%v", err)
	}
	opts := source.Options{Sheet: m.Input.Sheet, HeaderRow: m.Input.HeaderRow, Delimiter: m.Input.Delimiter, Encoding: m.Input.Encoding}
	src, err := openInput(input, opts, ios)
	if err != nil {
		return nil, nil, nothingf("%v; nothing was posted", err)
	}
	return m, src, nil
}

// countInput reads the input through once, before anything is posted: a broken file must
// stop the run then (reading is far faster than posting), and the count is the bar's total.
// Stdin was spooled by the reader; a workbook is not opened a second time.
func countInput(ctx context.Context, src *source.Reader, limit int) (int64, error) {
	n, err := src.Count(ctx)
	if err != nil {
		return 0, err
	}
	if limit > 0 && int64(limit) < n {
		n = int64(limit)
	}
	return n, nil
}

// openLedger opens the state database, takes its lock and prepares the run's identity
// (identity.go); the run itself is recorded later, by startRun.
func openLedger(ctx context.Context, o *importOptions, m *mapping.Mapping, link *portalLink, log *slog.Logger) (*state.DB, *importer.Ledger, error) {
	db, err := openState(o.state.path(), log)
	if err != nil {
		return nil, nil, nothingf("%v", err)
	}
	portal := state.Portal(o.conn.url)
	indexed, code, err := prepareIdentity(ctx, db, link, m, portal, log)
	if err != nil {
		db.Close()
		return nil, nil, codeFailure(code, err)
	}
	// A portal may still be working on a request for a while after the client gave up on
	// it at --timeout: twice that is the bound taken before "not found" means "never made".
	return db, &importer.Ledger{DB: db, Portal: portal, SettleAfter: 2 * o.rate.timeout, Indexed: indexed}, nil
}

// previewLedger is validate --mode sync's view of the state database: read, never locked
// nor written.
func previewLedger(o *importOptions, link *portalLink) (*state.DB, *importer.Ledger, error) {
	if link.poster == nil {
		return nil, nil, usagef("validate --mode sync reads the portal: give --url and --token (or ONLYOFFICE_URL and ONLYOFFICE_TOKEN)")
	}
	if _, err := os.Stat(o.state.path()); err != nil {
		return nil, nil, nothingf("%s: no state database, no import has run with this mapping yet: a sync would create every row", o.state.path())
	}
	db, err := state.Open(o.state.path())
	if err != nil {
		return nil, nil, nothingf("%v", err)
	}
	return db, &importer.Ledger{DB: db, Portal: state.Portal(o.conn.url), DryRun: true}, nil
}

// startRun records the start of the run in the state database (nothing for a dry run).
func startRun(l *importer.Ledger, input, mode string) error {
	if l == nil || l.DryRun {
		return nil
	}
	id, err := l.DB.StartRun(context.Background(), state.Run{Portal: l.Portal, Input: input, Mode: mode})
	l.Run = id
	return err
}

// importSink opens the report and the rejects file and starts the progress display.
func importSink(a *app, o *importOptions, reportPath, rejectsPath string, src *source.Reader, plan *mapping.Plan, headerRow int, total int64) (*sink, error) {
	rep, err := report.NewWriter(reportPath)
	if err != nil {
		return nil, err
	}
	rejects, err := report.NewRejects(rejectsPath, src.Header(), src.Delimiter(), report.RejectsSheet(src.Sheet()),
		report.RejectsDates(dateColumns(plan)...), report.RejectsDate1904(src.Date1904()),
		report.RejectsAbove(aboveHeader(src, headerRow)))
	if err != nil {
		rep.Close(report.Summary{})
		return nil, err
	}
	bar := progress.New(a.term, progressMode(o.log), total, a.log)
	return &sink{log: a.log, report: rep, rejects: rejects, bar: bar}, nil
}

// addImport is the import's importer.Config.OnResult: a bad row is warned about and goes to
// the rejects file.
func (s *sink) addImport(plan *mapping.Plan, portal string) func(importer.Result) {
	_, titleCol, _ := plan.Column("title")
	page := report.DealPages(portal)
	return func(r importer.Result) {
		warn := ""
		var cells []string
		if r.Status == importer.Invalid || r.Status == importer.Failed {
			warn, cells = r.Status, r.Cells
		}
		s.add(reportResult(r, titleCol, page), warn, cells)
	}
}

// settle decides, before anything is posted, the requests an earlier run left unanswered.
func settle(ctx context.Context, cfg importer.Config, log *slog.Logger) error {
	if cfg.Ledger == nil || cfg.Ledger.DryRun {
		return nil
	}
	adopted, forgotten, doubtful, err := importer.Settle(ctx, cfg.Ledger, cfg.Poster)
	if adopted+forgotten+doubtful > 0 {
		log.Info("settled the requests an earlier run left unanswered", "found_on_portal", adopted,
			"never_created", forgotten, "still_in_doubt", doubtful)
	}
	if err != nil {
		finishRun(cfg.Ledger, nil, "settling: "+err.Error(), log)
		return stoppedf("settling the requests an earlier run left unanswered: %v", err)
	}
	return nil
}

// endImport records the end of the run, writes the summary and says how the run went.
// cause is why the run's context ended, if it did: errWriting when the report could not be
// written.
func (a *app) endImport(o *importOptions, dry bool, input string, started time.Time, cfg importer.Config,
	link *portalLink, s *sink, st importer.Stats, runErr, cause error) error {
	mode := o.run.mode.value
	if dry {
		mode = "validate"
	}
	sum := report.Summary{Started: started, Mode: mode, Input: input, Counts: st.Counts, Rows: st.Rows, Elapsed: st.Elapsed, Rate: o.rate.rate}
	if !dry {
		p := link.poster
		sum.Requests, sum.Refused, sum.RateReached = st.Requests, int(p.refused.Load()), p.pace.Limit()
		if secs := st.Elapsed.Seconds(); secs > 0 {
			sum.RequestsPerSecond = float64(st.Requests) / secs
		}
	}
	if st.Stopped != nil {
		sum.Stopped = stopReason(st.Stopped)
		if errors.Is(cause, errWriting) {
			sum.Stopped = stopReason(cause)
		}
	}
	if runErr != nil {
		sum.Stopped = runErr.Error()
	}
	if cfg.Ledger != nil && !cfg.Ledger.DryRun {
		sum.Run = int(cfg.Ledger.Run)
		finishRun(cfg.Ledger, st.Counts, sum.Stopped, a.log)
	}
	if cfg.Ledger != nil {
		if st.MappingChanged > 0 {
			a.log.Info("rows change on the portal because the mapping maps more fields than at their last sync", "rows", st.MappingChanged,
				"fields", strings.Join(st.NewlyMapped, ", "))
		}
		if st.Gone > 0 && !o.run.recreateMissing {
			a.log.Warn("opportunities are deleted or no longer visible to this user; not created again: see the report",
				"count", st.Gone, "hint", "--recreate-missing creates them again")
		}
		if st.Absent > 0 {
			a.log.Warn("keys imported earlier are not in this input; nothing was deleted", "count", st.Absent,
				"keys", strings.Join(st.AbsentKeys, ", "))
		}
	}
	writeErr := s.close(sum)
	a.summary(sum.Text(), sum, s)
	switch {
	case writeErr != nil:
		return stoppedf("writing the report: %v", writeErr)
	case runErr != nil && (dry || st.Requests == 0):
		return nothingf("%v; nothing was posted", runErr)
	case runErr != nil:
		return stoppedf("%v", runErr)
	case st.Stopped != nil:
		return stoppedf("stopped early: %s", sum.Stopped)
	case st.Counts[importer.Invalid] > 0 || st.Counts[importer.Failed] > 0:
		return errRows
	}
	return nil
}

// errWriting is why a run stops whose report or rejects file cannot be written.
var errWriting = errors.New("the report could not be written")

// stopReason words why a run ended early.
func stopReason(err error) string {
	switch {
	case errors.Is(err, errWriting):
		return errWriting.Error()
	case errors.Is(err, context.Canceled):
		return "interrupted"
	default:
		return err.Error()
	}
}

// reportResult is a row's line in the report. Its title is the title as mapped (a
// template's too), else, for a row that never mapped, the title column's cell; its url
// the deal's page on the portal.
func reportResult(r importer.Result, titleCol int, page func(id int64) string) report.Result {
	title := r.Title
	if title == "" && titleCol >= 0 && titleCol < len(r.Cells) {
		title = strings.TrimSpace(r.Cells[titleCol])
	}
	return report.Result{
		Title:         title,
		URL:           page(r.OpportunityID),
		Row:           r.Row,
		Key:           r.Key,
		Status:        r.Status,
		OpportunityID: r.OpportunityID,
		Attempts:      r.Attempts,
		HTTPStatus:    r.HTTPStatus,
		Error:         r.Error,
	}
}

// openInput opens INPUT, "-" being CSV on stdin.
func openInput(input string, opts source.Options, ios streams) (*source.Reader, error) {
	if input == "-" {
		return source.OpenReader(ios.in, "stdin", opts)
	}
	return source.Open(input, opts)
}

// distinctFiles refuses a run whose outputs would overwrite its input, its mapping, its
// state database or each other, before anything is opened for writing.
func distinctFiles(input string, o *importOptions, dry bool, reportPath, rejectsPath string) error {
	files := []report.File{{What: "the input", Path: input}, {What: "the mapping (--mapping)", Path: o.state.mapping}}
	if !dry {
		files = append(files, report.File{What: "the state database (--state)", Path: o.state.path()})
	}
	return report.Distinct(append(files,
		report.File{What: "the report (--report)", Path: reportPath},
		report.File{What: "the rejects file (--rejects)", Path: rejectsPath})...)
}

// aboveHeader is what stands above the input's header, one entry per row from row 1 (nil
// for a blank one), for the rejects file to keep the header on the same row.
func aboveHeader(src *source.Reader, headerRow int) [][]string {
	rows := make([][]string, max(headerRow, 1)-1)
	for _, r := range src.Above() {
		if r.Number >= 1 && r.Number <= len(rows) {
			rows[r.Number-1] = r.Cells
		}
	}
	return rows
}

// dateColumns are the input columns the plan reads dates from, for the rejects file.
func dateColumns(plan *mapping.Plan) []int {
	var cols []int
	for _, f := range []string{"expectedCloseDate", "actualCloseDate", "created"} {
		if _, col, ok := plan.Column(f); ok {
			cols = append(cols, col)
		}
	}
	return cols
}

// outputPaths gives the report and rejects paths (report.Paths).
func outputPaths(input, reportPath, rejectsPath string) (string, string) {
	return report.Paths(input, reportPath, rejectsPath)
}
