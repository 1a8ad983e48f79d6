package importer

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/oppimport/oppimport/state"
)

// A re-run of an input that is mostly done passes each done row without a worker, a read
// or a write of its own: the rows of a mapped batch are looked up in one query (lookup, on
// the mapping goroutine), and the rows done already are recorded many at a time by the
// run's leaveLog, off the path to the first new request.

// lookup reads what the state holds of the rows of a mapped batch that are to be posted,
// in one query. A row done already (imported, in create mode; unchanged and still on the
// portal, in sync mode) gets its outcome here, and goes straight to the delivery; every
// other row goes to a worker, which reads its row as before (handle). If the query fails,
// so does each row's own read, there.
func lookup(ctx context.Context, cfg *Config, items []item) {
	l := cfg.Ledger
	if l == nil || cfg.Poster == nil {
		return
	}
	keys := make([]string, 0, len(items))
	for i := range items {
		if items[i].post {
			keys = append(keys, items[i].key)
		}
	}
	if len(keys) == 0 {
		return
	}
	known, err := l.DB.Lookup(ctx, l.Portal, keys)
	if err != nil || len(known) == 0 {
		return
	}
	byKey := make(map[string]*state.Known, len(known))
	for i := range known {
		byKey[known[i].Key] = &known[i]
	}
	for i := range items {
		it := &items[i]
		k := byKey[it.key]
		if !it.post || k == nil {
			continue
		}
		if outcome := done(cfg, it, *k); outcome != "" {
			it.res.Status, it.res.OpportunityID = outcome, k.OpportunityID
			it.post, it.left = false, state.Left{Known: *k, Outcome: outcome}
		}
	}
}

// leaveLog records the rows a run leaves as they stood (lookup's), a batch at a time on a
// goroutine of its own, so that the pass over the done rows waits for no disk. A row is
// recorded after its result is delivered, not before: nothing was sent for it, and the
// state's row of it is not written (see state.DB.Leave); a run killed meanwhile lists
// fewer rows left as they stood in status --run N. Every row added is recorded, or the
// run stopped with the error, when close returns.
type leaveLog struct {
	l     *Ledger
	ctx   context.Context
	batch []state.Left
	queue chan []state.Left
	done  chan struct{}

	mu     sync.Mutex
	err    error       // the first write that failed
	failed atomic.Bool // err is set: read by wrap at every row, without the lock
}

// leaveBatch is the rows handed to the writing goroutine at once; leaveQueue the batches
// waiting there at most, so that memory stays flat when the disk is slower than the input.
const (
	leaveBatch = 1024
	leaveQueue = 4
)

// newLeaveLog starts the log of l's run; nil (which records nothing) without a ledger or
// in a dry run. Its writes are not cut short by ctx: pass one that a first interrupt does
// not cancel.
func newLeaveLog(ctx context.Context, l *Ledger) *leaveLog {
	if l == nil || l.DryRun {
		return nil
	}
	g := &leaveLog{l: l, ctx: ctx, queue: make(chan []state.Left, leaveQueue), done: make(chan struct{})}
	go func() {
		defer close(g.done)
		for rows := range g.queue {
			if err := l.DB.Leave(ctx, l.Run, l.Portal, rows); err != nil {
				g.mu.Lock()
				if g.err == nil {
					g.err = Fatal(err)
					g.failed.Store(true)
				}
				g.mu.Unlock()
			}
		}
	}()
	return g
}

// wrap returns emit, adding to the log each row lookup found done that is still so once
// the key set has seen it (a repeated key is invalid) and that the pool took. Once a write
// failed, the next such row fails with its error, which stops the run. Called from the
// feed's one goroutine.
func (g *leaveLog) wrap(emit func(*item, bool) bool) func(*item, bool) bool {
	if g == nil {
		return emit
	}
	return func(it *item, work bool) bool {
		left := it.left.Outcome != "" && it.res.Status == it.left.Outcome
		if left && g.failed.Load() {
			// Measured: the lock taken at every row was 1.6 % of a done row's CPU.
			g.mu.Lock()
			err := g.err
			g.mu.Unlock()
			fail(it, err)
			left = false
		}
		// Taken before emit: once emitted, the item is the delivery's (and then reused).
		var row state.Left
		if left {
			row = it.left
			row.InputRow, row.Title = it.res.Row, it.res.Title
		}
		if !emit(it, work) {
			return false
		}
		if left {
			g.add(row)
		}
		return true
	}
}

func (g *leaveLog) add(left state.Left) {
	g.batch = append(g.batch, left)
	if len(g.batch) == leaveBatch {
		g.queue <- g.batch
		g.batch = make([]state.Left, 0, leaveBatch)
	}
}

// close records the rows still held, waits for every write and returns the first error.
// Call it once the feed is done.
func (g *leaveLog) close() error {
	if g == nil {
		return nil
	}
	if len(g.batch) > 0 {
		g.queue <- g.batch
		g.batch = nil
	}
	close(g.queue)
	<-g.done
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}
