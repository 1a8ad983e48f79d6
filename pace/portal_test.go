package pace_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/oppimport/oppimport/emulator"
	"github.com/oppimport/oppimport/onlyoffice"
	"github.com/oppimport/oppimport/pace"
)

// TestAdaptsToTheEmulatorsRate runs creates from many workers through the API client, with
// the pace as its gate as oppimport's connect wires it (--concurrency auto), at a ceiling
// five times what the emulator allows: the pace must come down to the portal's rate,
// wasting few requests once it has learned the window, and every create must be answered
// once. The bounds are loose: this is a test of behaviour on a busy machine, not a
// measurement (go run ./bench measures). How many are refused while the pace learns
// depends on the machine's speed (under the race detector, at a load of 15, 55 of 255 at
// 100/s): the tight bound is on the attempts made once it has learned, from 1.5 s after the
// first refusal (whose Retry-After is 1 s) on.
func TestAdaptsToTheEmulatorsRate(t *testing.T) {
	t.Parallel()
	const (
		allowed = 50.0  // the emulator's requests a second
		ceiling = 250.0 // --rate
		creates = 200
		workers = 64 // maxAuto
	)
	srv := emulator.New(emulator.Options{RateLimit: allowed})
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	p := pace.New(rate.NewLimiter(ceiling, 1), pace.Options{Ceiling: ceiling, Gate: pace.NewGate(8), MaxInFlight: workers})
	var refused atomic.Int64
	// The attempts answered once the pace has learned: from 1.5 s after the first refusal.
	var (
		mu                  sync.Mutex
		first               time.Time
		lateOK, lateRefused int
	)
	learned := func(now time.Time) bool { return !first.IsZero() && now.Sub(first) > 1500*time.Millisecond }
	client, err := onlyoffice.NewClient(onlyoffice.Config{
		BaseURL: url, Token: srv.Token(), Timeout: 10 * time.Second, Retries: 8, MaxConns: workers,
		OnThrottle: func(retryAfter time.Duration) {
			refused.Add(1)
			mu.Lock()
			if now := time.Now(); first.IsZero() {
				first = now
			} else if learned(now) {
				lateRefused++
			}
			mu.Unlock()
			p.Throttled(retryAfter)
		},
		OnSuccess: func(latency time.Duration) {
			mu.Lock()
			if learned(time.Now()) {
				lateOK++
			}
			mu.Unlock()
			p.Succeeded(latency)
		},
		Gate: p,
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	next := make(chan int)
	var attempts atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				out, err := client.CreateOpportunity(ctx, onlyoffice.Opportunity{Title: fmt.Sprint("deal ", i),
					ResponsibleID: "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", StageID: 1, BidCurrencyAbbr: "EUR"})
				attempts.Add(int64(out.Attempts))
				if err != nil {
					t.Errorf("create %d: %v", i, err)
				}
			}
		})
	}
	for i := range creates {
		next <- i
	}
	close(next)
	wg.Wait()

	if got := len(srv.Opportunities()); got != creates {
		t.Errorf("the portal holds %d opportunities, want %d", got, creates)
	}
	n, reached := refused.Load(), p.Limit()
	t.Logf("%d attempts, %d refused (%d of the %d once learned), rate reached %.1f/s; the emulator refused %d",
		attempts.Load(), n, lateRefused, lateOK+lateRefused, reached, srv.Stats().Refused)
	if n == 0 {
		t.Fatalf("got no refusal: the test proves nothing")
	}
	if got := srv.Stats().Refused; int64(got) != n {
		t.Errorf("the client heard of %d refusals, the emulator made %d", n, got)
	}
	// Without adapting, 250/s against 50/s is refused four times in five.
	if share := float64(n) / float64(attempts.Load()); share > 1.0/3 {
		t.Errorf("got %d of %d attempts refused (%.0f %%), want the pace to come down to the portal's", n, attempts.Load(), 100*share)
	}
	if lateOK+lateRefused < 20 {
		t.Errorf("got %d attempts once the pace had learned, want 20 or more: the test proves little", lateOK+lateRefused)
	} else if share := float64(lateRefused) / float64(lateOK+lateRefused); share > 0.1 {
		t.Errorf("got %d of the %d attempts once the window was learned refused (%.0f %%), want few",
			lateRefused, lateOK+lateRefused, 100*share)
	}
	if reached <= 0 || reached > 1.5*allowed {
		t.Errorf("got rate reached %.1f/s, want it adapted to about %v/s", reached, allowed)
	}
}
