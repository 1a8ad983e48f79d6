// Package importer is the pipeline: rows -> mapping and validation -> rate-limited workers ->
// results in input order. It knows nothing of HTTP, reports or terminals: main plugs in a
// Poster and an OnResult function.
package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/source"
	"github.com/oppimport/oppimport/state"
	"github.com/oppimport/oppimport/tagging"
)

// Statuses of a row, as the report spells them.
const (
	Created = "created"
	Invalid = "invalid"
	Failed  = "failed"
	Valid   = "valid"
)

// Rows yields data rows; *source.Reader is one.
type Rows interface {
	Next() (source.Row, error)
}

// Poster writes opportunities to the portal. Posted is filled even when err is not nil; an
// error wrapped with Fatal stops the run. Implementations must be safe for concurrent use.
type Poster interface {
	Create(ctx context.Context, rec mapping.Record) (Posted, error)
	// Update replaces opportunity id with rec, whole.
	Update(ctx context.Context, id int64, rec mapping.Record) (Posted, error)
	// Find returns the opportunities created at or after since that hold what rec holds.
	Find(ctx context.Context, rec mapping.Record, since time.Time) ([]int64, error)
	// Snapshot returns opportunity id as the portal holds it, for an undo to restore; a
	// missing one is Posted.HTTPStatus 404.
	Snapshot(ctx context.Context, id int64) ([]byte, Posted, error)
}

// Posted is what the portal answered for one row.
type Posted struct {
	ID         int64
	Attempts   int
	HTTPStatus int
	// InDoubt says the request was sent and no answer came: the portal may have acted on it.
	InDoubt bool
}

// Result is one row's outcome, delivered to Config.OnResult in input order.
type Result struct {
	Row           int
	Key           string
	Status        string
	OpportunityID int64
	Attempts      int
	HTTPStatus    int
	Error         string
	Cells         []string // the input row as read, for the rejects file
}

// Config is one run. Rows and Plan are required; a nil Poster is a dry run in which every
// row that passes validation is Valid.
type Config struct {
	Rows        Rows
	Plan        *mapping.Plan
	Poster      Poster
	Concurrency int // workers posting at once; <1 means 1
	Limit       int // stop after this many data rows; 0 = all
	MaxErrors   int // stop after this many failed rows; 0 = no limit
	// CellRef names a cell for error messages ("Deals!E12"); nil or "" for CSV.
	CellRef func(row, col int) string
	// OnResult receives every row's result in input order, from one goroutine.
	OnResult func(Result)
	// Abort, when done, cancels requests in flight (a second Ctrl-C). Cancelling Run's
	// context only stops new rows from starting; requests in flight finish.
	Abort context.Context
	// Check, when set, checks a row that mapped cleanly against the portal (look-ups,
	// online validation) and may normalise it; its errors make the row invalid. It is
	// called from one goroutine, in input order.
	Check func(rec *mapping.Record) []mapping.FieldError
	// Ledger, when set, records every row in the state database: a row already imported is
	// skipped (or, in ModeSync, updated when it changed), and nothing is created twice.
	Ledger *Ledger
	Mode   string // ModeCreate (the default) or ModeSync
	// Extras, when set, takes the steps after a create or an update: the creation date
	// (created:) and the tags (tags:, Tags); nil: none are taken.
	Extras Extras
	// Tags are added to every opportunity the run creates or updates (--tag).
	Tags []string
}

// Stats are the run's totals.
type Stats struct {
	Counts   map[string]int
	Rows     int
	Requests int           // HTTP attempts made
	Elapsed  time.Duration // from Run's start to its return
	// Stopped says why the run ended early; nil when every row was handled.
	Stopped error
	// Absent counts the keys the state database knows on this portal that the input no
	// longer has (in ModeSync); AbsentKeys names the first of them. They are never deleted.
	Absent     int
	AbsentKeys []string
}

// ErrMaxErrors stops a run that reached Config.MaxErrors failed rows.
var ErrMaxErrors = errors.New("too many failed rows (--max-errors)")

type fatalError struct{ err error }

func (e fatalError) Error() string { return e.err.Error() }
func (e fatalError) Unwrap() error { return e.err }

// Fatal marks a Poster error that stops the whole run, such as a refused token or a portal
// that cannot be reached after retries.
func Fatal(err error) error { return fatalError{err} }

// IsFatal reports whether err was marked by Fatal.
func IsFatal(err error) bool { return errors.As(err, new(fatalError)) }

// item is one row on its way through the pipeline; seq orders the results.
type item struct {
	seq    int
	res    Result
	rec    mapping.Record
	key    string // the row's identity in the state database
	hash   string // of the mapped content
	body   []byte // the mapped content, as the state database keeps it
	post   bool   // valid and waiting for the poster
	notRun bool   // read but never started because the run stopped: not reported
	fatal  error
	// The tags to add to opportunity tagID once it was written (see tags.go), and what the
	// state database was told of them.
	tagID   int64
	addTags []string
	tagged  *state.TagChange
}

// Run reads every row, maps and validates it, posts the valid ones with Concurrency workers
// and hands each result to OnResult in input order. It returns when every started row has
// its result; no goroutine outlives it. The returned error is a failure of the input itself
// (a broken file); row problems are results, and an early stop is Stats.Stopped.
func Run(ctx context.Context, cfg Config) (Stats, error) {
	start := time.Now()
	workers := max(cfg.Concurrency, 1)
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)

	reqCtx := context.WithoutCancel(ctx)
	if cfg.Abort != nil {
		var cancel context.CancelFunc
		reqCtx, cancel = context.WithCancel(reqCtx)
		defer cancel()
		unhook := context.AfterFunc(cfg.Abort, cancel)
		defer unhook()
	}

	// window bounds the rows between the reader and the ordered output, so memory stays
	// flat however slow one request is.
	window := make(chan struct{}, max(workers*64, 1024))
	jobs := make(chan item, workers*2)
	results := make(chan item, workers*2)

	seen := newKeySet()
	var readErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		readErr = read(runCtx, cfg, window, jobs, results, seen)
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range jobs {
				if runCtx.Err() != nil {
					it.notRun = true
				} else {
					handle(reqCtx, &cfg, &it)
				}
				results <- it
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	st := Stats{Counts: map[string]int{}}
	deliver := func(done item) {
		st.Rows++
		st.Counts[done.res.Status]++
		if cfg.OnResult != nil {
			cfg.OnResult(done.res)
		}
		if done.res.Status == Failed && cfg.MaxErrors > 0 && st.Counts[Failed] >= cfg.MaxErrors {
			stop(ErrMaxErrors)
		}
	}
	// Rows whose deals get tags wait for them here, in input order (see tagged).
	tags := tagging.NewStage(reqCtx, cfg.Extras, tagging.Options{}, func(done item, o tagging.Outcome) {
		tagged(reqCtx, &cfg, &done, o)
		if done.fatal != nil {
			stop(done.fatal)
		}
		deliver(done)
	})
	pending := map[int]item{}
	next, forbidden := 0, 0
	for it := range results {
		st.Requests += it.res.Attempts
		switch {
		case it.fatal != nil:
			stop(it.fatal)
		case it.res.HTTPStatus == 403:
			// 403 on one row is that row's contact; on every row so far it is the token.
			if forbidden++; forbidden >= 3 && st.Counts[Created] == 0 {
				stop(Fatal(fmt.Errorf("access denied on every row: %s", it.res.Error)))
			}
		}
		pending[it.seq] = it
		for {
			done, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-window
			if done.notRun {
				continue
			}
			tags.Put(done, done.tagID, done.addTags)
		}
	}
	tags.Close()
	st.Requests += tags.Requests()
	// Keys absent from the input mean something only when the whole input was read.
	if readErr == nil && cfg.Ledger != nil && cfg.Mode == ModeSync && cfg.Limit <= 0 && runCtx.Err() == nil {
		readErr = absent(ctx, cfg.Ledger, seen, &st)
	}
	st.Elapsed = time.Since(start)
	if readErr != nil {
		return st, readErr
	}
	if cause := context.Cause(runCtx); runCtx.Err() != nil && cause != nil {
		st.Stopped = cause
	}
	return st, nil
}

// read feeds the pipeline: every row is mapped and validated here; invalid rows go straight
// to the results, valid ones to the workers.
func read(ctx context.Context, cfg Config, window chan struct{}, jobs, results chan<- item, seen *keySet) error {
	// The input is read on a goroutine of its own, in batches, so that reading and
	// mapping run on two cores; the batches keep the hand-over cheap and the order.
	batches := make(chan []source.Row, 4)
	var readErr error
	go func() {
		defer close(batches)
		batch := make([]source.Row, 0, readBatch)
		for n := 0; cfg.Limit <= 0 || n < cfg.Limit; n++ {
			row, err := cfg.Rows.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					readErr = err
				}
				break
			}
			batch = append(batch, row)
			if len(batch) == readBatch {
				select {
				case batches <- batch:
				case <-ctx.Done():
					return
				}
				batch = make([]source.Row, 0, readBatch)
			}
		}
		if len(batch) > 0 {
			select {
			case batches <- batch:
			case <-ctx.Done():
			}
		}
	}()
	defer func() {
		for range batches { // the reader stops at its next batch once ctx is done
		}
	}()

	// Mapping is the costly step: each batch is mapped on a goroutine of its own, as many at
	// once as there are cores, and the batches come back in input order through futures for
	// the key check and the dispatch below, which must see the rows in order.
	futures := make(chan chan []item, runtime.GOMAXPROCS(0))
	var mappers sync.WaitGroup
	go func() {
		defer close(futures)
		for batch := range batches {
			fut := make(chan []item, 1)
			select {
			case futures <- fut:
			case <-ctx.Done():
				return
			}
			mappers.Add(1)
			go func() {
				defer mappers.Done()
				items := make([]item, len(batch))
				for i, row := range batch {
					items[i] = check(cfg, row)
				}
				fut <- items
			}()
		}
	}()
	defer func() {
		for range futures {
		}
		mappers.Wait()
	}()

	seq := 0
	for fut := range futures {
		for _, it := range <-fut {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			it.seq = seq
			seq++
			if it.key != "" && it.res.Status != Invalid {
				if first := seen.add(it.key, it.res.Row); first != 0 {
					it.post = false
					it.res.Status = Invalid
					it.res.Error = fmt.Sprintf("the key %q is also row %d's: each row must have its own key", mapping.ShowKey(it.key), first)
				}
			}
			out := results
			if it.post {
				out = jobs
			}
			select {
			case out <- it:
			case <-ctx.Done():
				// Nothing reads jobs for long after a stop; results are always drained.
				it.post, it.notRun = false, true
				results <- it
				return nil
			}
		}
	}
	return readErr
}

// readBatch is the rows handed from the reader to the mapper at once.
const readBatch = 256

// check maps and validates one row. Safe for concurrent use.
func check(cfg Config, row source.Row) item {
	it := item{res: Result{Row: row.Number, Cells: row.Cells}}
	it.key = cfg.Plan.Key(row.Cells)
	it.res.Key = mapping.ShowKey(it.key)
	if row.Err != nil {
		it.res.Status = Invalid
		it.res.Error = row.Err.Error()
		return it
	}
	rec, errs := cfg.Plan.Apply(row.Cells)
	if len(errs) == 0 && cfg.Check != nil {
		errs = cfg.Check(&rec)
	}
	if len(errs) > 0 {
		it.res.Status = Invalid
		it.res.Error = describe(cfg, row.Number, errs)
		return it
	}
	if cfg.Poster == nil && it.key != "" {
		// A dry run records nothing: the content hash is only a keyless row's identity.
		it.res.Status = Valid
		return it
	}
	it.body, it.hash = content(rec)
	if it.key == "" {
		// Without key columns a row is known by what it holds; the report's key stays empty.
		it.key = "#" + it.hash
	}
	if cfg.Poster == nil {
		it.res.Status = Valid
		return it
	}
	it.rec, it.post = rec, true
	return it
}

// describe joins a row's field errors, each with its cell when the input has cells.
func describe(cfg Config, row int, errs []mapping.FieldError) string {
	var b strings.Builder
	for i, fe := range errs {
		if i > 0 {
			b.WriteString("; ")
		}
		if cfg.CellRef != nil && fe.Col >= 0 {
			if ref := cfg.CellRef(row, fe.Col); ref != "" {
				b.WriteString(ref)
				b.WriteString(": ")
			}
		}
		b.WriteString(fe.Error())
	}
	return b.String()
}
