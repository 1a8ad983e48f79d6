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
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/pool"
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
	Finder
	// Current reads, in few requests, the portal's opportunities whose ids want says,
	// as they stand now: what a sync merges with. Posted.Attempts counts the requests. An
	// opportunity the portal no longer shows is not in the map.
	Current(ctx context.Context, want func(id int64) bool) (map[int64]Current, Posted, error)
}

// Current is an opportunity as the portal holds it now.
type Current struct {
	Record mapping.Record // as record.FromPortal reads it
	Raw    []byte         // as the portal gave it (JSON of onlyoffice.StoredOpportunity), for an undo
	Err    error          // why Record could not be read; the row then fails
}

// Finder searches the portal for what a create whose answer was lost made.
type Finder interface {
	// Find returns the opportunities created at or after since that hold what rec holds,
	// and the requests it made.
	Find(ctx context.Context, rec mapping.Record, since time.Time) (ids []int64, attempts int, err error)
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
	Cells         []string // the input row as read, for the rejects file; nil for a valid row with its title in a run that posts nothing
	// Title is the mapped record's title, as sent (a template's too); "" for a row that
	// never mapped, or whose title did not.
	Title string
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
	// called on the mapping goroutines, several rows at once and in no particular order:
	// it must be safe for concurrent use.
	Check func(rec *mapping.Record) []mapping.FieldError
	// Ledger, when set, records every row in the state database: a row already imported is
	// skipped (or, in ModeSync, updated when it changed), and nothing is created twice.
	Ledger *Ledger
	Mode   string // ModeCreate (the default) or ModeSync
	// OnConflict, in ModeSync, says who wins a field both the export and a person on the
	// portal changed since the last sync: record.ExportWins ("" too) or record.PortalWins.
	OnConflict string
	// RecreateMissing, in ModeSync, creates again a row whose opportunity the portal no
	// longer shows (deleted, or hidden from this user); without it the row fails, saying so.
	RecreateMissing bool
	// Extras, when set, takes the steps after a create or an update: the creation date
	// (created:) and the tags (tags:, Tags); nil: none are taken.
	Extras Extras
	// Tags are added to every opportunity the run creates or updates (--tag).
	Tags []string

	current map[int64]Current // ModeSync: the portal's records, read before the first row
	fields  []string          // the fields the plan maps
}

// Stats are the run's totals.
type Stats struct {
	Counts   map[string]int
	Rows     int
	Requests int           // HTTP attempts made, as the Poster counted them (the sync's list read included)
	Elapsed  time.Duration // from Run's start to its return
	// Stopped says why the run ended early; nil when every row was handled.
	Stopped error
	// Absent counts the keys the state database knows on this portal that the input no
	// longer has (in ModeSync); AbsentKeys names the first of them. They are never deleted.
	Absent     int
	AbsentKeys []string
	// Gone counts the rows (in ModeSync) whose opportunity the portal no longer shows.
	Gone int
	// MappingChanged counts the rows (in ModeSync) that change on the portal because the
	// mapping maps more fields than at their last sync; NewlyMapped names those fields.
	MappingChanged int
	NewlyMapped    []string
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

// item is one row on its way through the pipeline.
type item struct {
	res Result
	rec mapping.Record // as mapped (and checked); what is posted when post
	key string         // the row's identity in the state database
	// keyHash is key's hash in the run's key set, made on the mapping goroutine.
	keyHash uint64
	hash    string // of the mapped content
	body    []byte // the mapped content, as the state database keeps it
	post    bool   // valid and waiting for the poster
	gone    bool   // its opportunity is no longer on the portal
	// newlyMapped are the fields a sync changes on the portal because the mapping maps
	// them since the row's last sync.
	newlyMapped []string
	fatal       error
	// The tags to add to opportunity tagID once it was written (see tags.go), and what the
	// state database was told of them.
	tagID    int64
	addTags  []string
	tagged   *state.TagChange
	tagLater bool // tagged is recorded by the run's tagLog, not by the worker
	// left is a row done already, as the look-up of its batch found it (resume.go), for
	// the run's leaveLog to record.
	left state.Left
	// batch is the pooled slice this item lives in, on the last item of its batch only:
	// the pipeline hands items on by pointer, and the slice goes back once it is delivered.
	batch []item
}

// Run reads every row, maps and validates it, posts the valid ones with Concurrency workers
// and hands each result to OnResult in input order. It returns when every started row has
// its result; no goroutine outlives it. The returned error is a failure of the input itself
// (a broken file); row problems are results, and an early stop is Stats.Stopped.
func Run(ctx context.Context, cfg Config) (Stats, error) {
	start := time.Now()
	workers := max(cfg.Concurrency, 1)
	seen := newKeySet()
	st := Stats{Counts: map[string]int{}}
	if cfg.Mode == ModeSync && cfg.Ledger != nil && cfg.Poster != nil {
		// One read of the list endpoint, not a GET per row: unchanged rows cost nothing,
		// and a deal deleted on the portal is noticed even when its row did not change.
		current, posted, err := readCurrent(ctx, cfg)
		st.Requests += posted.Attempts
		if err != nil {
			st.Elapsed = time.Since(start)
			st.Stopped = fmt.Errorf("reading the portal's opportunities before the sync: %w", err)
			return st, nil
		}
		cfg.current = current
	}
	if cfg.Ledger != nil && cfg.Poster != nil {
		cfg.fields = cfg.Plan.Fields()
	}
	forbidden := 0
	// Valid rows, the most of a validate's, are counted here and put in Counts at the end:
	// a map's update for each was 1 % of a 10^6-row validate's instructions.
	valid := 0
	work := func(ctx context.Context, it *item) (*item, error) {
		handle(ctx, &cfg, it)
		return it, it.fatal
	}
	deliver := func(it *item) error {
		st.Requests += it.res.Attempts
		st.Rows++
		if it.res.Status == Valid {
			valid++
		} else {
			st.Counts[it.res.Status]++
		}
		if it.gone {
			st.Gone++
		}
		if len(it.newlyMapped) > 0 {
			st.MappingChanged++
			for _, f := range it.newlyMapped {
				if !slices.Contains(st.NewlyMapped, f) {
					st.NewlyMapped = append(st.NewlyMapped, f)
				}
			}
		}
		if cfg.OnResult != nil {
			cfg.OnResult(it.res)
		}
		var err error
		switch {
		case it.res.Status == Failed && cfg.MaxErrors > 0 && st.Counts[Failed] >= cfg.MaxErrors:
			err = ErrMaxErrors
		case it.res.HTTPStatus == 403:
			// 403 on one row is that row's contact; on every row so far it is the token.
			if forbidden++; forbidden >= 3 && st.Counts[Created] == 0 {
				err = Fatal(fmt.Errorf("access denied on every row: %s", it.res.Error))
			}
		}
		it.recycle() // the last look at it
		return err
	}
	// Rows whose deals get tags wait for them in the tagging stage, and leave it in input
	// order to be delivered. Its requests are not cut short by a first Ctrl-C, as the
	// workers' are not: the deals exist, their tags should follow.
	tagCtx, cancelTags := pool.WorkContext(ctx, cfg.Abort)
	defer cancelTags()
	var stageErr error // what a delivery from the stage stopped the run with
	log := tagLog{l: cfg.Ledger}
	finish := func(it *item, o tagging.Outcome) error {
		tagged(tagCtx, &cfg, it, o)
		err := it.fatal
		if lerr := log.add(tagCtx, it); err == nil {
			err = lerr
		}
		if derr := deliver(it); err == nil {
			err = derr
		}
		return err
	}
	tags := tagging.NewStage(tagCtx, cfg.Extras, tagging.Options{}, func(it *item, o tagging.Outcome) {
		if err := finish(it, o); stageErr == nil {
			stageErr = err
		}
	})
	put := func(it *item) error {
		if cfg.Extras == nil {
			// Nothing is tagged without the portal's extras (a validate): the
			// stage would only hold each row a moment, at a copy and an entry per row
			// (measured: 1 s of 5 s of CPU and 614 of 1,341 MB allocated by a 10^6-row validate).
			return finish(it, tagging.Outcome{})
		}
		tags.Put(it, it.tagID, it.addTags)
		err := stageErr
		stageErr = nil
		return err
	}
	leaves := newLeaveLog(tagCtx, cfg.Ledger)
	feed := func(ctx context.Context, emit func(*item, bool) bool) error {
		return read(ctx, &cfg, leaves.wrap(emit), seen)
	}
	stopped, readErr := pool.Run(ctx, pool.Options{Workers: workers, Abort: cfg.Abort}, feed, work, put)
	tags.Close()
	if err := leaves.close(); stageErr == nil {
		stageErr = err
	}
	if err := log.flush(tagCtx); stageErr == nil {
		stageErr = err
	}
	if stopped == nil {
		stopped = stageErr
	}
	st.Requests += tags.Requests()
	// Keys absent from the input mean something only when the whole input was read.
	if readErr == nil && stopped == nil && cfg.Ledger != nil && cfg.Mode == ModeSync && cfg.Limit <= 0 {
		readErr = absent(ctx, cfg.Ledger, seen, &st)
	}
	if valid > 0 {
		st.Counts[Valid] += valid
	}
	st.Elapsed = time.Since(start)
	if readErr != nil {
		return st, readErr
	}
	st.Stopped = stopped
	return st, nil
}

// read feeds the pipeline: every row is mapped and validated here; invalid rows go straight
// to the delivery, valid ones to the workers.
func read(ctx context.Context, cfg *Config, emit func(*item, bool) bool, seen *keySet) error {
	// The input is read on a goroutine of its own, in batches, so that reading and
	// mapping run on two cores; the batches keep the hand-over cheap and the order.
	batches := make(chan rowBatch, 4)
	spareRows := make(chan []source.Row, 8) // batches mapped, for the reader to fill again
	spareCells := make(chan []string, 8)    // the cells of batches checked, the same
	var readErr error
	go func() {
		defer close(batches)
		// A reader that copies cells into the caller's slice (source.Reader) is given one a
		// batch, reused once the key check took its rows (the copy per row was 227 of the
		// 474 MB a 10^6-row validate allocated).
		into, _ := cfg.Rows.(rowsInto)
		width := 0
		if into != nil {
			width = len(into.Header())
		}
		expecter, _ := cfg.Rows.(rowsExpecter)
		var cells []string
		batch := make([]source.Row, 0, readBatch)
		for n := 0; cfg.Limit <= 0 || n < cfg.Limit; n++ {
			var row source.Row
			var err error
			if into != nil {
				if cells == nil {
					select {
					case cells = <-spareCells:
					default:
						cells = make([]string, readBatch*width)
					}
				}
				k := len(batch) * width
				row, err = into.NextInto(cells[k : k+width])
			} else {
				row, err = cfg.Rows.Next()
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					readErr = err
				}
				break
			}
			batch = append(batch, row)
			if n+1 == expectAt && expecter != nil {
				e := expecter.RowsExpected(n + 1)
				if cfg.Limit > 0 {
					e = min(e, cfg.Limit) // --limit reads no more, however long the file
				}
				seen.expect(e)
			}
			if len(batch) == readBatch {
				select {
				case batches <- rowBatch{batch, cells}:
				case <-ctx.Done():
					return
				}
				cells = nil
				select {
				case batch = <-spareRows:
				default:
					batch = make([]source.Row, 0, readBatch)
				}
			}
		}
		if len(batch) > 0 {
			select {
			case batches <- rowBatch{batch, cells}:
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
	futures := make(chan chan mappedBatch, runtime.GOMAXPROCS(0))
	var mappers sync.WaitGroup
	go func() {
		defer close(futures)
		for b := range batches {
			fut := make(chan mappedBatch, 1)
			select {
			case futures <- fut:
			case <-ctx.Done():
				return
			}
			mappers.Add(1)
			go func() {
				defer mappers.Done()
				// A batch's items come from a pool, and go back once delivered (recycle).
				batch := b.rows
				items := (*itemsPool.Get().(*[]item))[:len(batch)]
				for i, row := range batch {
					it := &items[i]
					if check(cfg, row, it); checksKey(it) {
						it.keyHash = seen.hash(it.key)
					}
				}
				clear(batch)
				select {
				case spareRows <- batch[:0]:
				default:
				}
				lookup(ctx, cfg, items)
				fut <- mappedBatch{items, b.cells}
			}()
		}
	}()
	defer func() {
		for range futures {
		}
		mappers.Wait()
	}()

	for fut := range futures {
		m := <-fut
		items := m.items
		seen.touch(func(yield func(uint64) bool) {
			for i := range items {
				if checksKey(&items[i]) && !yield(items[i].keyHash) {
					return
				}
			}
		})
		for i := range items {
			it := &items[i]
			if i == len(items)-1 {
				// Delivered in input order, the batch's last item is delivered last.
				it.batch = items
			}
			if checksKey(it) {
				if first := seen.addHash(it.keyHash, it.res.Row); first != 0 {
					it.post = false
					it.res.Status = Invalid
					it.res.Error = fmt.Sprintf("the key %q is also row %d's: each row must have its own key", mapping.ShowKey(it.key), first)
				}
			}
			if m.cells != nil {
				// The cells lie in the reader's slice, reused below: a row keeps them only
				// when the rejects file or the report may want them.
				if it.res.Status == Invalid || it.post || it.res.Title == "" {
					it.res.Cells = slices.Clone(it.res.Cells)
				} else {
					it.res.Cells = nil
				}
			}
			if !emit(it, it.post) {
				return nil
			}
		}
		if m.cells != nil {
			clear(m.cells)
			select {
			case spareCells <- m.cells:
			default:
			}
		}
	}
	return readErr
}

// rowsInto is Rows that copies a row's cells into the caller's slice; *source.Reader is one.
type rowsInto interface {
	Rows
	Header() []string
	NextInto(cells []string) (source.Row, error)
}

// rowsExpecter estimates the rows of the whole input from the first ones read;
// *source.Reader is one. The key set is then made large enough at once (keySet.expect).
type rowsExpecter interface {
	RowsExpected(rows int) int
}

// expectAt is how many rows are read before the input's rows are estimated: enough for
// their length to be typical, few against the growths of the key set it spares.
const expectAt = 8192

// rowBatch is rows read at once, and the slice their cells were copied into when the
// reader is a rowsInto (nil: the rows' cells are their own).
type rowBatch struct {
	rows  []source.Row
	cells []string
}

// mappedBatch is a rowBatch checked, in input order.
type mappedBatch struct {
	items []item
	cells []string
}

// checksKey says whether the key check takes the item: it has a key and is not invalid.
func checksKey(it *item) bool { return it.key != "" && it.res.Status != Invalid }

// recycle gives the batch back once its last item was delivered. An item handed over
// after a stop and never delivered keeps its batch out of the pool, for the collector.
func (it *item) recycle() {
	if it.batch == nil {
		return
	}
	items := it.batch // on the heap (the pool keeps its address): made once a batch, not once a row
	clear(items)
	itemsPool.Put(&items)
}

// itemsPool holds the mapped batches' slices, readBatch long.
var itemsPool = sync.Pool{New: func() any {
	s := make([]item, readBatch)
	return &s
}}

// readBatch is the rows handed from the reader to the mapper at once.
const readBatch = 256

// check maps and validates one row into it, which is zero. Safe for concurrent use.
func check(cfg *Config, row source.Row, it *item) {
	it.res = Result{Row: row.Number, Cells: row.Cells}
	it.key = cfg.Plan.Key(row.Cells)
	it.res.Key = mapping.ShowKey(it.key)
	if row.Err != nil {
		it.res.Status = Invalid
		it.res.Error = row.Err.Error()
		return
	}
	var errs []mapping.FieldError
	if cfg.Poster == nil && cfg.Check == nil && it.key != "" {
		// A dry run keeps nothing of a keyed row's record but its title.
		if it.res.Title, errs = cfg.Plan.Validate(row.Cells); len(errs) > 0 {
			it.res.Status = Invalid
			it.res.Error = describe(cfg, row.Number, errs)
			return
		}
		it.res.Status = Valid
		return
	}
	it.rec, errs = cfg.Plan.Apply(row.Cells)
	if len(errs) == 0 && cfg.Check != nil {
		errs = cfg.Check(&it.rec)
	}
	it.res.Title = it.rec.Title
	if len(errs) > 0 {
		it.res.Status = Invalid
		it.res.Error = describe(cfg, row.Number, errs)
		return
	}
	if cfg.Poster == nil && it.key != "" {
		// A dry run records nothing: the content hash is only a keyless row's identity.
		it.res.Status = Valid
		return
	}
	if it.key == "" || cfg.Mode == ModeSync {
		// A keyless row is known by its content, and a sync compares it; another row is
		// hashed by the worker that posts it (handle), not when it is done already.
		it.body, it.hash = content(it.rec)
	}
	if it.key == "" {
		// Without key columns a row is known by what it holds; the report's key stays empty.
		it.key = "#" + it.hash
	}
	if cfg.Poster == nil {
		it.res.Status = Valid
		return
	}
	it.post = true
}

// describe joins a row's field errors, each with its cell when the input has cells.
func describe(cfg *Config, row int, errs []mapping.FieldError) string {
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
