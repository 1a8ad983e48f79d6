package onlyoffice

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// gate counts the slots taken and given back.
type gate struct {
	mu                 sync.Mutex
	held, taken, given int
}

func (g *gate) Acquire(context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held++
	g.taken++
	return nil
}

func (g *gate) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held--
	g.given++
}

func (g *gate) state() (held, taken, given int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held, g.taken, g.given
}

// A slot of the gate is held for each attempt, never through the backoff between two, and
// the pace hears of every refusal and every success with its latency.
func TestGateAndPaceHooks(t *testing.T) {
	srv, _ := server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= 2 {
			w.Header().Set("Retry-After", "1")
			failure(w, http.StatusServiceUnavailable, "Portal is busy")
			return
		}
		created(w, 7)
	})
	g := &gate{}
	var (
		mu        sync.Mutex
		throttles []time.Duration
		successes []time.Duration
	)
	c, _ := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Gate = g
		cfg.OnThrottle = func(d time.Duration) { mu.Lock(); throttles = append(throttles, d); mu.Unlock() }
		cfg.OnSuccess = func(d time.Duration) { mu.Lock(); successes = append(successes, d); mu.Unlock() }
	})
	var heldInBackoff []int
	c.sleep = func(ctx context.Context, d time.Duration) error {
		held, _, _ := g.state()
		heldInBackoff = append(heldInBackoff, held)
		return nil
	}
	out, err := c.CreateOpportunity(context.Background(), minimal())
	if err != nil || out.ID != 7 || out.Attempts != 3 {
		t.Fatalf("got %+v, %v; want id 7 after 3 attempts", out, err)
	}
	if held, taken, given := g.state(); held != 0 || taken != 3 || given != 3 {
		t.Errorf("got %d held, %d taken, %d given back; want 0, 3, 3: one slot per attempt", held, taken, given)
	}
	for i, h := range heldInBackoff {
		if h != 0 {
			t.Errorf("backoff %d: got %d slots held, want none", i+1, h)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(throttles) != 2 || throttles[0] != time.Second {
		t.Errorf("got throttles %v, want two of 1s", throttles)
	}
	if len(successes) != 1 || successes[0] <= 0 {
		t.Errorf("got successes %v, want one with its latency", successes)
	}
}
