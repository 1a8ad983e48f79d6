package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/oppimport/oppimport/importer"
	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/onlyoffice"
	"github.com/oppimport/oppimport/pace"
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
`

// importOptions are the flags of import and validate.
type importOptions struct {
	mapping         string
	url             string
	token           string
	user            string
	passwordFile    string
	concurrency     string // N or auto; parsed into workers by poster
	workers         int
	rate            float64
	burst           int
	retries         int
	timeout         time.Duration
	report          string
	rejects         string
	limit           int
	maxErrors       int
	progress        string
	logFormat       string
	logLevel        string
	allowHTTP       bool
	insecure        bool
	state           string
	mode            string
	recreateMissing bool
	tags            tagList
}

// statePath is --state, or the mapping's name with .state.db beside it.
func (o *importOptions) statePath() string {
	if o.state != "" {
		return o.state
	}
	return strings.TrimSuffix(o.mapping, filepath.Ext(o.mapping)) + ".state.db"
}

// openState opens the state database and takes its lock: a second run on it at once is
// refused, and a lock left by a dead process is taken over with a warning.
func openState(path string, log *slog.Logger) (*state.DB, error) {
	db, err := state.Open(path)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	dead, err := db.Lock(context.Background(), os.Getpid(), host)
	if err != nil {
		db.Close()
		var locked *state.LockedError
		if errors.As(err, &locked) {
			return nil, fmt.Errorf("%s is locked: %v; wait for it to finish", path, err)
		}
		return nil, err
	}
	if dead != nil {
		log.Warn("took over the lock of a run that died", "state", path, "run", dead.RunID, "pid", dead.PID, "since", dead.Since)
	}
	return db, nil
}

// finishRun records the end of the run, whatever interrupted it.
func finishRun(l *importer.Ledger, counts map[string]int, stopped string) {
	if err := l.DB.FinishRun(context.Background(), l.Run, counts, time.Now(), stopped); err != nil {
		slog.Default().Error("recording the end of the run", "error", err)
	}
}

func (o *importOptions) register(fs *flag.FlagSet, dry bool) {
	fs.StringVar(&o.mapping, "mapping", "", "the mapping `FILE` (YAML), required")
	fs.StringVar(&o.report, "report", "", "results report `FILE`: .csv, .json or .xlsx (default INPUT name + .report.csv, in the current folder)")
	fs.StringVar(&o.rejects, "rejects", "", "`FILE` for the invalid and failed rows in the input's own columns plus error (default beside the report)")
	fs.IntVar(&o.limit, "limit", 0, "stop after `N` data rows (default all)")
	fs.StringVar(&o.progress, "progress", "auto", "progress on stderr: auto, always or never; auto shows a bar on a terminal and logs a line every 10 s otherwise")
	fs.StringVar(&o.logFormat, "log-format", "text", "logs on stderr: text or json")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error; even debug never shows a secret")
	fs.StringVar(&o.url, "url", os.Getenv("ONLYOFFICE_URL"), "portal base `URL`, e.g. https://example.onlyoffice.com (env ONLYOFFICE_URL); validate: check look-ups and values against it, read-only")
	fs.StringVar(&o.token, "token", "", "API `TOKEN` (env ONLYOFFICE_TOKEN); or --user and a password")
	fs.StringVar(&o.user, "user", os.Getenv("ONLYOFFICE_USER"), "user `NAME` for POST api/2.0/authentication (env ONLYOFFICE_USER)")
	fs.StringVar(&o.passwordFile, "password-file", "", "`FILE` holding the password (env ONLYOFFICE_PASSWORD holds the password itself)")
	if dry {
		return
	}
	fs.StringVar(&o.concurrency, "concurrency", "8", "requests in flight at once: `N`, or auto to size them from the rate and the latency observed")
	fs.Float64Var(&o.rate, "rate", 40, "requests per second at most; the cloud allows 50")
	fs.IntVar(&o.burst, "burst", 1, "rate limiter bucket size")
	fs.IntVar(&o.retries, "retries", 5, "retries of one row on 429, 503, other 5xx and network errors; never on 400-404")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "one request's time limit")
	fs.IntVar(&o.maxErrors, "max-errors", 0, "stop the run after `N` failed rows, not counting invalid ones (default no limit)")
	fs.StringVar(&o.state, "state", "", "the state database `FILE` (SQLite) that makes re-runs safe (default beside the mapping: M.state.db)")
	fs.StringVar(&o.mode, "mode", importer.ModeCreate, "create: rows already imported are skipped; sync: changed rows are updated (whole record), unchanged ones left")
	fs.BoolVar(&o.recreateMissing, "recreate-missing", false, "sync: create again a deal the portal no longer shows (deleted, or hidden from this user)")
	fs.BoolVar(&o.allowHTTP, "allow-http", false, "permit plain http:// to a host that is not loopback (the token would travel in clear)")
	fs.BoolVar(&o.insecure, "insecure-skip-verify", false, "skip TLS certificate checks (a warning on every run)")
	fs.Var(&o.tags, "tag", "also tag every opportunity this run creates or updates with `NAME` (repeatable), to find the run in the portal's web UI")
}

func runImport(cmd string, args []string, ios streams) int {
	dry := cmd == "validate"
	synopsis := importSynopsis
	if dry {
		synopsis = validateSynopsis
	}
	fs := newFlagSet(cmd, synopsis, ios.err)
	var o importOptions
	o.register(fs, dry)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 1 {
		fmt.Fprintf(ios.err, "oppimport %s: want exactly one INPUT file (or - for stdin), got %d\n", cmd, len(pos))
		return exitNothing
	}
	log, err := newLogger(ios.err, o.logFormat, o.logLevel)
	if err != nil {
		fmt.Fprintf(ios.err, "oppimport %s: %v\n", cmd, err)
		return exitNothing
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(ios.err, "oppimport %s: %s\n", cmd, fmt.Sprintf(format, a...))
		return code
	}
	switch o.progress {
	case "auto", "always", "never":
	default:
		return fail(exitNothing, "--progress %q: want auto, always or never", o.progress)
	}
	if o.mapping == "" {
		return fail(exitNothing, "--mapping is required")
	}
	input := pos[0]
	reportPath, rejectsPath := outputPaths(input, o.report, o.rejects)
	if err := distinctFiles(input, o, dry, reportPath, rejectsPath); err != nil {
		return fail(exitNothing, "%v; nothing was posted", err)
	}

	m, err := mapping.Load(o.mapping)
	if err != nil {
		return fail(exitNothing, "the mapping has errors; nothing was posted:\n%v", err)
	}
	srcOpts := source.Options{Sheet: m.Input.Sheet, HeaderRow: m.Input.HeaderRow, Delimiter: m.Input.Delimiter, Encoding: m.Input.Encoding}
	src, err := openInput(input, srcOpts, ios)
	if err != nil {
		return fail(exitNothing, "%v; nothing was posted", err)
	}
	defer src.Close()
	link, code, err := o.connect(context.Background(), dry, log)
	if err != nil {
		return fail(code, "%v; nothing was posted", err)
	}
	if code, err := link.resolveKeyField(context.Background(), m, dry, log); err != nil {
		return fail(code, "%v; nothing was posted", err)
	}
	plan, err := link.bind(m, src, log)
	if err != nil {
		return fail(exitNothing, "the mapping does not fit %s; nothing was posted:\n%v", input, err)
	}

	var live *poster
	var ledger *importer.Ledger
	total := int64(-1)
	if !dry {
		if o.mode != importer.ModeCreate && o.mode != importer.ModeSync {
			return fail(exitNothing, "--mode %q: want create or sync", o.mode)
		}
		p := link.poster // logged in by connect
		defer p.client.CloseIdleConnections()
		// A broken file must stop the run before anything is posted: read it through once
		// (reading is far faster than posting), which also gives the progress bar its total.
		// Stdin was spooled by the reader; a workbook is not opened a second time.
		n, err := src.Count()
		if err != nil {
			return fail(exitNothing, "%v; nothing was posted", err)
		}
		total = n
		if o.limit > 0 && int64(o.limit) < total {
			total = int64(o.limit)
		}
		live = p

		db, err := openState(o.statePath(), log)
		if err != nil {
			return fail(exitNothing, "%v; nothing was posted", err)
		}
		defer db.Close()
		portal := state.Portal(o.url)
		indexed, code, err := prepareIdentity(context.Background(), db, link, m, portal, log)
		if err != nil {
			return fail(code, "%v; nothing was posted", err)
		}
		// A portal may still be working on a request for a while after the client gave up on
		// it at --timeout: twice that is the bound taken before "not found" means "never made".
		// The run is recorded once nothing can refuse it any more (StartRun below).
		ledger = &importer.Ledger{DB: db, Portal: portal, SettleAfter: 2 * o.timeout, Indexed: indexed}
	}

	rep, err := report.NewWriter(reportPath)
	if err != nil {
		return fail(exitNothing, "%v", err)
	}
	rejects, err := report.NewRejects(rejectsPath, src.Header(), src.Delimiter(), report.RejectsSheet(src.Sheet()),
		report.RejectsDates(dateColumns(plan)...), report.RejectsDate1904(src.Date1904()))
	if err != nil {
		rep.Close(report.Summary{})
		return fail(exitNothing, "%v", err)
	}

	if ledger != nil {
		runID, err := ledger.DB.StartRun(context.Background(), state.Run{Portal: ledger.Portal, Input: input, Mode: o.mode})
		if err != nil {
			rep.Close(report.Summary{})
			rejects.Close()
			return fail(exitNothing, "%v; nothing was posted", err)
		}
		ledger.Run = runID
	}

	bar := progress.New(ios.err, o.progress, ios.errIsTTY, total, log)
	soft, hard, stopSignals := signalContexts(context.Background(), ios, log)
	defer stopSignals()
	// A report or rejects file that cannot be written stops new rows at once: a row posted
	// and not reported is known to the state alone.
	soft, stopRun := context.WithCancelCause(soft)
	defer stopRun(nil)

	if ledger != nil {
		adopted, forgotten, doubtful, err := importer.Settle(soft, ledger, live)
		if adopted+forgotten+doubtful > 0 {
			log.Info("settled the requests an earlier run left unanswered", "found_on_portal", adopted,
				"never_created", forgotten, "still_in_doubt", doubtful)
		}
		if err != nil {
			finishRun(ledger, nil, "settling: "+err.Error())
			return fail(exitStopped, "settling the requests an earlier run left unanswered: %v", err)
		}
	}

	_, titleCol, _ := plan.Column("title")
	// The deals' pages hang off the portal's address as the client spells it: a pasted
	// /api/2.0 dropped, a path such as /office kept.
	pages := o.url
	if live != nil {
		pages = live.client.BaseURL()
	}
	var counts progress.Counts
	var writeErr error
	shown := 0
	cfg := importer.Config{
		Rows:            src,
		Plan:            plan,
		Concurrency:     o.workers,
		Limit:           o.limit,
		MaxErrors:       o.maxErrors,
		CellRef:         src.CellRef,
		Abort:           hard,
		Check:           link.check(plan),
		Ledger:          ledger,
		Mode:            o.mode,
		RecreateMissing: o.recreateMissing,
		OnResult: func(r importer.Result) {
			counts.Done++
			switch r.Status {
			case importer.Created, importer.Updated:
				counts.Created++
			case importer.Invalid, importer.Failed:
				if r.Status == importer.Invalid {
					counts.Invalid++
				} else {
					counts.Failed++
				}
				if err := rejects.Write(r.Cells, r.Error); err != nil && writeErr == nil {
					writeErr = err
					stopRun(errWriting)
				}
				if shown++; shown <= maxShown {
					log.Warn("row "+r.Status, "row", r.Row, "error", r.Error)
				} else if shown == maxShown+1 {
					log.Warn("more rows are invalid or failed: see the report", "report", reportPath)
				}
			}
			if err := rep.Write(reportResult(r, titleCol, pages)); err != nil && writeErr == nil {
				writeErr = err
				stopRun(errWriting)
			}
			bar.Update(counts)
		},
	}
	if live != nil {
		cfg.Poster, cfg.Extras, cfg.Tags = live, live.client, o.tags
	}
	started := time.Now()
	st, runErr := importer.Run(soft, cfg)
	bar.Finish()

	sum := report.Summary{
		Started: started,
		Mode:    cmd,
		Input:   input,
		Counts:  st.Counts,
		Rows:    st.Rows,
		Elapsed: st.Elapsed,
		Rate:    o.rate,
	}
	if live != nil {
		sum.Requests = st.Requests
		sum.Refused = int(live.refused.Load())
		sum.RateReached = live.pace.Limit()
		if secs := st.Elapsed.Seconds(); secs > 0 {
			sum.RequestsPerSecond = float64(st.Requests) / secs
		}
	}
	if st.Stopped != nil {
		sum.Stopped = stopReason(st.Stopped)
		if cause := context.Cause(soft); errors.Is(cause, errWriting) {
			sum.Stopped = stopReason(cause)
		}
	}
	if runErr != nil {
		sum.Stopped = runErr.Error()
	}
	if ledger != nil {
		sum.Run = int(ledger.Run)
		finishRun(ledger, st.Counts, sum.Stopped)
		if st.Absent > 0 {
			log.Warn("keys imported earlier are not in this input; nothing was deleted", "count", st.Absent,
				"keys", strings.Join(st.AbsentKeys, ", "))
		}
	}
	if err := rep.Close(sum); err != nil && writeErr == nil {
		writeErr = err
	}
	if err := rejects.Close(); err != nil && writeErr == nil {
		writeErr = err
	}

	fmt.Fprintln(ios.err, sum.Text())
	fmt.Fprintf(ios.err, "report: %s\n", reportPath)
	if rejects.Count() > 0 {
		fmt.Fprintf(ios.err, "rejects: %s (%d rows: fix them there and import that file with the same mapping)\n", rejects.Path(), rejects.Count())
	}

	switch {
	case writeErr != nil:
		fmt.Fprintf(ios.err, "oppimport %s: writing the report: %v\n", cmd, writeErr)
		return exitStopped
	case runErr != nil && (dry || st.Requests == 0):
		return fail(exitNothing, "%v; nothing was posted", runErr)
	case runErr != nil:
		return fail(exitStopped, "%v", runErr)
	case st.Stopped != nil:
		fmt.Fprintf(ios.err, "oppimport %s: stopped early: %s\n", cmd, sum.Stopped)
		return exitStopped
	case st.Counts[importer.Invalid] > 0 || st.Counts[importer.Failed] > 0:
		return exitRows
	}
	return exitOK
}

// maxShown is how many bad rows are logged one by one; the report holds them all.
const maxShown = 10

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

// reportResult is a row's line in the report. Its title is the title column's cell (a
// title made by a template: none yet), its url the deal's page on the portal.
func reportResult(r importer.Result, titleCol int, portal string) report.Result {
	var title string
	if titleCol >= 0 && titleCol < len(r.Cells) {
		title = strings.TrimSpace(r.Cells[titleCol])
	}
	return report.Result{
		Title:         title,
		URL:           report.DealURL(portal, r.OpportunityID),
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
func distinctFiles(input string, o importOptions, dry bool, reportPath, rejectsPath string) error {
	files := []report.File{{What: "the input", Path: input}, {What: "the mapping (--mapping)", Path: o.mapping}}
	if !dry {
		files = append(files, report.File{What: "the state database (--state)", Path: o.statePath()})
	}
	return report.Distinct(append(files,
		report.File{What: "the report (--report)", Path: reportPath},
		report.File{What: "the rejects file (--rejects)", Path: rejectsPath})...)
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

// client builds the API client from the connection flags.
func (o *importOptions) poster(log *slog.Logger) (*poster, error) {
	if o.url == "" {
		return nil, errors.New("--url (or ONLYOFFICE_URL) is required for import")
	}
	if o.token == "" {
		o.token = os.Getenv("ONLYOFFICE_TOKEN")
	}
	var password string
	switch {
	case o.token != "":
	case o.user == "":
		return nil, errors.New("give --token (or ONLYOFFICE_TOKEN), or --user with --password-file (or ONLYOFFICE_PASSWORD)")
	case o.passwordFile != "":
		b, err := os.ReadFile(o.passwordFile)
		if err != nil {
			return nil, fmt.Errorf("--password-file: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	default:
		password = os.Getenv("ONLYOFFICE_PASSWORD")
		if password == "" {
			return nil, errors.New("--user needs a password: --password-file FILE or ONLYOFFICE_PASSWORD")
		}
	}
	workers, auto, err := parseConcurrency(o.concurrency)
	if err != nil {
		return nil, err
	}
	o.workers = workers
	if o.rate <= 0 {
		return nil, fmt.Errorf("--rate %v: want more than 0", o.rate)
	}
	if o.burst < 1 {
		return nil, fmt.Errorf("--burst %d: want 1 or more", o.burst)
	}
	if o.retries < 0 {
		return nil, fmt.Errorf("--retries %d: want 0 or more", o.retries)
	}
	if o.insecure {
		log.Warn("TLS certificates are not checked (--insecure-skip-verify): anyone on the path can read the token")
	}
	// The limiter starts at --rate. The pace is the client's gate: it waits on the limiter
	// itself (so the client is given none) and, from the first 429 or 503, keeps the
	// portal's window (pace/window.go). With auto, maxAuto workers share a gate the pace sizes.
	lim := rate.NewLimiter(rate.Limit(o.rate), o.burst)
	var gate *pace.Gate
	if auto {
		gate = pace.NewGate(defaultConcurrency)
	}
	p := &poster{pace: pace.New(lim, pace.Options{Ceiling: o.rate, Gate: gate, MaxInFlight: maxAuto})}
	cfg := onlyoffice.Config{
		BaseURL:            o.url,
		Token:              o.token,
		User:               o.user,
		Password:           password,
		Timeout:            o.timeout,
		Retries:            o.retries,
		MaxConns:           workers,
		Logger:             log,
		InsecureSkipVerify: o.insecure,
		AllowHTTP:          o.allowHTTP,
		OnThrottle: func(retryAfter time.Duration) {
			p.refused.Add(1)
			p.pace.Throttled(retryAfter)
		},
		OnSuccess: p.pace.Succeeded,
		Gate:      p.pace,
	}
	c, err := onlyoffice.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	p.client = c
	return p, nil
}

const (
	defaultConcurrency = 8  // requests in flight, and the first guess of auto
	maxAuto            = 64 // the most requests in flight auto allows
)

// parseConcurrency reads --concurrency: a number of requests in flight, or auto (maxAuto
// workers behind a gate the pace sizes from the rate and the latency observed).
func parseConcurrency(v string) (workers int, auto bool, err error) {
	if strings.EqualFold(strings.TrimSpace(v), "auto") {
		return maxAuto, true, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 {
		return 0, false, fmt.Errorf("--concurrency %q: want a number of 1 or more, or auto", v)
	}
	return n, false, nil
}
