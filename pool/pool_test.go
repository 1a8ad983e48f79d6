package pool

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

// count feeds 0..n-1, every odd one needing work.
func count(n int) Feed[int] {
	return func(ctx context.Context, emit func(int, bool) bool) error {
		for i := range n {
			if !emit(i, i%2 == 1) {
				return nil
			}
		}
		return nil
	}
}

func TestRunDeliversInFeedOrder(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, workers := range []int{0, 1, 3, 16} {
		var got []int
		work := func(ctx context.Context, v int) (int, error) {
			time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond) // finish out of order
			return v * 10, nil
		}
		stopped, err := Run(context.Background(), Options{Workers: workers, Window: 8}, count(200), work,
			func(v int) error { got = append(got, v); return nil })
		if stopped != nil || err != nil {
			t.Fatalf("workers %d: got stopped %v, err %v, want neither", workers, stopped, err)
		}
		var want []int
		for i := range 200 {
			if i%2 == 1 {
				want = append(want, i*10)
			} else {
				want = append(want, i)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("workers %d: delivered (-want +got):\n%s", workers, diff)
		}
	}
}

func TestRunFeedError(t *testing.T) {
	defer goleak.VerifyNone(t)
	broken := errors.New("broken file")
	feed := func(ctx context.Context, emit func(int, bool) bool) error {
		emit(1, true)
		return broken
	}
	n := 0
	stopped, err := Run(context.Background(), Options{}, feed, func(_ context.Context, v int) (int, error) { return v, nil },
		func(int) error { n++; return nil })
	if !errors.Is(err, broken) || stopped != nil || n != 1 {
		t.Errorf("got err %v, stopped %v, %d delivered; want the feed's error, no stop, 1 delivered", err, stopped, n)
	}
}

// TestRunStops holds the three ways a run stops to the contract: a cancel lets work in
// progress finish with a live context, an abort cancels it, an error stops at once; the
// items not started are never delivered and the reason is returned.
func TestRunStops(t *testing.T) {
	fatal := errors.New("token refused")
	tests := []struct {
		name string
		// act stops the run once the first item is in progress.
		act        func(cancel, abort context.CancelFunc)
		workErr    error
		wantCancel bool // work's context ends
		want       error
	}{
		{name: "first signal", act: func(cancel, _ context.CancelFunc) { cancel() }, want: context.Canceled},
		{name: "second signal", act: func(cancel, abort context.CancelFunc) { cancel(); abort() }, wantCancel: true, want: context.Canceled},
		{name: "fatal error", workErr: fatal, want: fatal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			abortCtx, abort := context.WithCancel(context.Background())
			defer abort()
			started := make(chan struct{}, 100)
			release := make(chan struct{})
			var cut atomic.Bool
			var begun atomic.Int64
			work := func(wctx context.Context, v int) (int, error) {
				begun.Add(1)
				started <- struct{}{}
				if tt.workErr != nil {
					return v, tt.workErr
				}
				select {
				case <-wctx.Done():
					cut.Store(true)
				case <-release:
				}
				return v, nil
			}
			feed := func(ctx context.Context, emit func(int, bool) bool) error {
				for i := 0; ; i++ {
					if !emit(i, true) {
						return nil
					}
				}
			}
			go func() {
				<-started
				if tt.act != nil {
					tt.act(cancel, abort)
				}
				if !tt.wantCancel {
					close(release)
				}
			}()
			var delivered []int
			stopped, err := Run(ctx, Options{Workers: 2, Abort: abortCtx}, feed, work,
				func(v int) error { delivered = append(delivered, v); return nil })
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(stopped, tt.want) {
				t.Errorf("got stopped %v, want %v", stopped, tt.want)
			}
			if cut.Load() != tt.wantCancel {
				t.Errorf("work's context cancelled: got %v, want %v", cut.Load(), tt.wantCancel)
			}
			// Everything started is delivered, in order, and nothing else.
			if int64(len(delivered)) != begun.Load() {
				t.Errorf("delivered %d items, %d were started", len(delivered), begun.Load())
			}
			if !increasing(delivered) {
				t.Errorf("delivered %v, want them in feed order", delivered)
			}
		})
	}
}

func TestRunDeliverErrorStops(t *testing.T) {
	defer goleak.VerifyNone(t)
	enough := errors.New("too many failed rows")
	var delivered []int
	stopped, err := Run(context.Background(), Options{Workers: 4}, count(10000),
		func(_ context.Context, v int) (int, error) { return v, nil },
		func(v int) error {
			delivered = append(delivered, v)
			if v == 5 {
				return enough
			}
			return nil
		})
	if err != nil || !errors.Is(stopped, enough) {
		t.Fatalf("got stopped %v, err %v, want %v", stopped, err, enough)
	}
	if len(delivered) < 6 || len(delivered) > 2000 {
		t.Errorf("delivered %d items after a stop at the 6th, want a few more at most (the window)", len(delivered))
	}
	if !increasing(delivered) || delivered[5] != 5 {
		t.Errorf("delivered %v, want them in feed order, 0 to 5 among them", delivered)
	}
}

// increasing says whether vs are in feed order: some may be missing (not started).
func increasing(vs []int) bool {
	for i := 1; i < len(vs); i++ {
		if vs[i] <= vs[i-1] {
			return false
		}
	}
	return true
}

// TestRunWithoutWork feeds items none of which needs work, handed to the delivery in
// batches: windows smaller and larger than a batch, every item delivered in order.
func TestRunWithoutWork(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, window := range []int{1, 3, batchSize - 1, batchSize, 5000} {
		const n = 3*batchSize + 7
		feed := func(ctx context.Context, emit func(int, bool) bool) error {
			for i := range n {
				if !emit(i, false) {
					return nil
				}
			}
			return nil
		}
		var got []int
		stopped, err := Run(context.Background(), Options{Workers: 2, Window: window}, feed,
			func(context.Context, int) (int, error) { return 0, errors.New("no item needs work") },
			func(v int) error { got = append(got, v); return nil })
		if stopped != nil || err != nil {
			t.Fatalf("window %d: got stopped %v, err %v, want neither", window, stopped, err)
		}
		want := make([]int, n)
		for i := range want {
			want[i] = i
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("window %d: delivered (-want +got):\n%s", window, diff)
		}
	}
}
