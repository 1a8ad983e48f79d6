// Package pool is the one ordered worker pool that import and undo run on: items are fed in
// order, the ones that need work are done by N workers at once, and every item is delivered
// in the order it was fed, whatever order the work finished in.
//
// The cancellation contract, the same for every command:
//   - cancelling Run's context (a first Ctrl-C) stops new items from starting; work in
//     progress finishes, with a context that is not cancelled;
//   - Options.Abort done (a second Ctrl-C) also cancels the context handed to work, so that
//     requests in flight are cut short;
//   - work returning an error, or deliver returning one, stops the run as a cancel does,
//     with that error as the reason.
//
// Items fed but not started because the run stopped are left out: deliver never sees them.
package pool

import (
	"context"
	"sync"
)

// Options are one run's settings. The zero value is one worker.
type Options struct {
	Workers int // at once; <1 means 1
	// Window bounds the items between the feed and the delivery, so that memory stays flat
	// however slow one item is; <1 means 64 per worker, at least 1024.
	Window int
	// Abort, when done, cancels the context handed to work.
	Abort context.Context
}

// Feed hands the items to the pool in order: emit(v, true) for one that needs work,
// emit(v, false) for one that goes straight to delivery. emit returns false once the run has
// stopped (v is then not delivered): the feed should return. ctx is done when the run stops.
type Feed[T any] func(ctx context.Context, emit func(v T, work bool) bool) error

// Run feeds, works and delivers: work runs on the workers (safe for concurrent use),
// deliver on Run's own goroutine, in feed order. It returns when every started item was
// delivered and no goroutine of its own is left. stopped says why the run ended early (the
// context's cause, or the error work or deliver returned), nil when every item was fed and
// delivered; err is the feed's own error.
func Run[T any](ctx context.Context, o Options, feed Feed[T], work func(ctx context.Context, v T) (T, error),
	deliver func(v T) error) (stopped, err error) {
	workers := max(o.Workers, 1)
	window := o.Window
	if window < 1 {
		window = max(workers*64, 1024)
	}
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	workCtx, cancelWork := WorkContext(ctx, o.Abort)
	defer cancelWork()

	type entry struct {
		seq    int
		v      T
		notRun bool
	}
	// What the delivery receives: one item from a worker, or a batch of items that needed no
	// work, handed over at once (a validate's rows all are: a hand-over per row took 10 % of
	// its CPU time).
	type msg struct {
		one  entry
		many []entry
	}
	places := &room{free: window, wake: make(chan struct{}, 1)}
	jobs := make(chan entry, workers*2)
	results := make(chan msg, workers*2)
	spare := make(chan []entry, 4) // delivered batches, for the feed to fill again
	var feedErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		done := runCtx.Done()
		seq, held := 0, 0 // held: places taken and not yet used
		var batch []entry
		flush := func() {
			if len(batch) > 0 {
				results <- msg{many: batch} // the delivery always drains results
				batch = nil
			}
		}
		emit := func(v T, needsWork bool) bool {
			select {
			case <-done:
				return false
			default:
			}
			if held == 0 {
				flush() // the batch holds places: it must reach the delivery before the feed waits
				if held = places.take(runCtx, batchSize); held == 0 {
					return false
				}
			}
			held--
			e := entry{seq: seq, v: v}
			seq++
			if !needsWork {
				if batch == nil {
					select {
					case batch = <-spare:
					default:
						batch = make([]entry, 0, batchSize)
					}
				}
				if batch = append(batch, e); len(batch) == batchSize {
					flush()
				}
				return true
			}
			flush() // the items before it are not held back while it is worked on
			select {
			case jobs <- e:
				return true
			case <-done:
				// Its place is taken: it must reach the delivery, which always drains results.
				e.notRun = true
				results <- msg{one: e}
				return false
			}
		}
		feedErr = feed(runCtx, emit)
		flush()
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range jobs {
				if runCtx.Err() != nil {
					e.notRun = true
				} else {
					var werr error
					if e.v, werr = work(workCtx, e.v); werr != nil {
						stop(werr)
					}
				}
				results <- msg{one: e}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	// Results wait for their turn in a ring: an item holds its place until it is delivered,
	// so every result's seq lies within window of the next one due. The one due is delivered
	// at once, without a copy into the ring and out.
	ring := make([]entry, window)
	inRing := make([]bool, window)
	next, freed := 0, 0
	hand := func(d *entry) {
		next++
		freed++
		if d.notRun {
			return
		}
		if derr := deliver(d.v); derr != nil {
			stop(derr)
		}
	}
	take := func(e *entry) {
		if e.seq != next {
			ring[e.seq%window], inRing[e.seq%window] = *e, true
			return
		}
		hand(e)
		for i := next % window; inRing[i]; i = next % window {
			d := ring[i]
			ring[i], inRing[i] = entry{}, false
			hand(&d)
		}
	}
	for m := range results {
		if m.many == nil {
			take(&m.one)
		} else {
			for i := range m.many {
				take(&m.many[i])
			}
			clear(m.many)
			select {
			case spare <- m.many[:0]:
			default:
			}
		}
		places.give(freed)
		freed = 0
	}
	if runCtx.Err() != nil {
		stopped = context.Cause(runCtx)
	}
	return stopped, feedErr
}

// batchSize is the most items that needed no work handed to the delivery at once.
const batchSize = 256

// WorkContext is the context work runs under: not cancelled with ctx (a first Ctrl-C lets
// work in progress finish), cancelled once abort is done (a second one cuts it short), or
// by cancel. A nil abort never cancels it.
func WorkContext(ctx, abort context.Context) (_ context.Context, cancel context.CancelFunc) {
	work := context.WithoutCancel(ctx)
	if abort == nil {
		return work, func() {}
	}
	work, cancelWork := context.WithCancel(work)
	stopAfter := context.AfterFunc(abort, cancelWork)
	return work, func() {
		stopAfter()
		cancelWork()
	}
}

// room counts the free places of the window: the feed takes many at once and the delivery
// gives them back a batch at a time, where a channel of places costs two operations per
// item.
type room struct {
	mu   sync.Mutex
	free int
	wake chan struct{} // signalled when places are given back
}

// take returns between 1 and most places, waiting for one; 0 once ctx is done.
func (r *room) take(ctx context.Context, most int) int {
	for {
		r.mu.Lock()
		n := min(r.free, most)
		r.free -= n
		r.mu.Unlock()
		if n > 0 {
			return n
		}
		select {
		case <-r.wake:
		case <-ctx.Done():
			return 0
		}
	}
}

func (r *room) give(n int) {
	if n == 0 {
		return
	}
	r.mu.Lock()
	r.free += n
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}
