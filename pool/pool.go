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
	workCtx := context.WithoutCancel(ctx)
	if o.Abort != nil {
		var cancel context.CancelFunc
		workCtx, cancel = context.WithCancel(workCtx)
		defer cancel()
		defer context.AfterFunc(o.Abort, cancel)()
	}

	type entry struct {
		seq    int
		v      T
		notRun bool
	}
	slots := make(chan struct{}, window)
	jobs := make(chan entry, workers*2)
	results := make(chan entry, workers*2)
	var feedErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		seq := 0
		emit := func(v T, needsWork bool) bool {
			select {
			case slots <- struct{}{}:
			case <-runCtx.Done():
				return false
			}
			e := entry{seq: seq, v: v}
			seq++
			out := results
			if needsWork {
				out = jobs
			}
			select {
			case out <- e:
				return true
			case <-runCtx.Done():
				// Its slot is taken: it must reach the delivery, which always drains results.
				e.notRun = true
				results <- e
				return false
			}
		}
		feedErr = feed(runCtx, emit)
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
				results <- e
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	// Results wait for their turn in a ring: an item holds its slot until it is delivered,
	// so every result's seq lies within window of the next one due.
	ring := make([]entry, window)
	held := make([]bool, window)
	next := 0
	for e := range results {
		ring[e.seq%window], held[e.seq%window] = e, true
		for held[next%window] {
			i := next % window
			d := ring[i]
			ring[i], held[i] = entry{}, false
			next++
			<-slots
			if d.notRun {
				continue
			}
			if derr := deliver(d.v); derr != nil {
				stop(derr)
			}
		}
	}
	if runCtx.Err() != nil {
		stopped = context.Cause(runCtx)
	}
	return stopped, feedErr
}
