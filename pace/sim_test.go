package pace

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// portal is a simulated rate-limited portal: it accepts n requests in any span (counting
// the accepted, by arrival, as the emulator does) and refuses the rest with a Retry-After.
type portal struct {
	n    int
	span time.Duration
	// honest: Retry-After is the whole seconds until the window has room, rounded up (at
	// least 1); else always retryAfter.
	honest     bool
	retryAfter time.Duration
	// moveAt, when set, changes n to movedN from then on: a limit that moves.
	moveAt time.Duration
	movedN int
	// stalls: for 150 ms of every 7 s, from 1.5 s on, the way to the portal takes 80 ms
	// more (a loaded machine that does not schedule the client, or the portal).
	stalls bool

	accepted []time.Time
}

func (p *portal) arrive(now, start time.Time) (ok bool, retryAfter time.Duration) {
	n := p.n
	if p.moveAt > 0 && now.Sub(start) >= p.moveAt {
		n = p.movedN
	}
	for len(p.accepted) > 0 && now.Sub(p.accepted[0]) >= p.span {
		p.accepted = p.accepted[1:]
	}
	if len(p.accepted) < n {
		p.accepted = append(p.accepted, now)
		return true, 0
	}
	if !p.honest {
		return false, p.retryAfter
	}
	free := p.accepted[len(p.accepted)-n].Add(p.span).Sub(now)
	return false, max(time.Duration(math.Ceil(free.Seconds()))*time.Second, time.Second)
}

// oracle is how long a client that knew the portal's window would take to have rows
// accepted at ceiling requests per second: every send as early as the rate and the
// window allow, plus one way back.
func (p *portal) oracle(rows int, ceiling float64, way time.Duration) time.Duration {
	sends := make([]time.Duration, rows)
	every := time.Duration(float64(time.Second) / ceiling)
	for k := range sends {
		if k > 0 {
			sends[k] = sends[k-1] + every
		}
		if k >= p.n {
			sends[k] = max(sends[k], sends[k-p.n]+p.span)
		}
	}
	return sends[rows-1] + way
}

type simResult struct {
	accepted, refused int
	elapsed           time.Duration
	stats             Stats
	window            Window
}

// simEvent is an arrival at the portal or an answer at the client.
type simEvent struct {
	at      time.Time
	arrival bool
	worker  int
	started time.Time // the attempt's send
	ok      bool
	retry   time.Duration
}

type simEvents []simEvent

func (e simEvents) Len() int           { return len(e) }
func (e simEvents) Less(i, j int) bool { return e[i].at.Before(e[j].at) }
func (e simEvents) Swap(i, j int)      { e[i], e[j] = e[j], e[i] }
func (e *simEvents) Push(x any)        { *e = append(*e, x.(simEvent)) }
func (e *simEvents) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

// simulate runs rows requests through a Controller on a simulated clock, as the API client
// does: a worker takes a row (or a refused row whose Retry-After has passed), waits for room
// in the window, takes it and the limiter's slot (before a window is learned: the slot,
// then the room) and sends; on the answer,
// Release, then Succeeded or Throttled. The way to the portal takes 28 to 38 ms (the
// emulator's latency and a busy machine's jitter), the way back 1 to 5 ms. Workers act
// every millisecond.
func simulate(t *testing.T, seed uint64, opts Options, p *portal, workers, rows int) simResult {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	clk := &clock{t: time.Date(2024, 3, 15, 10, 0, 0, 0, time.UTC)}
	start := clk.t
	lim := rate.NewLimiter(rate.Limit(opts.Ceiling), 1)
	opts.Now = clk.now
	c := New(lim, opts)

	type worker struct {
		busy   bool      // holds a row
		slotAt time.Time // its limiter slot, zero = none taken
		held   bool      // took the window's room before the slot
		flying bool
	}
	var (
		q       simEvents
		retries []time.Time // when refused rows may go again
		ws      = make([]worker, workers)
		sent    int
		res     simResult
	)
	room := func(now time.Time) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.room(now)
		return ok
	}
	for tick := clk.t; res.accepted < rows; tick = tick.Add(time.Millisecond) {
		for q.Len() > 0 && !q[0].at.After(tick) {
			e := heap.Pop(&q).(simEvent)
			clk.t = e.at
			if e.arrival {
				ok, ra := p.arrive(clk.t, start)
				heap.Push(&q, simEvent{at: clk.t.Add(time.Duration(1+rng.IntN(5)) * time.Millisecond), worker: e.worker, started: e.started, ok: ok, retry: ra})
				continue
			}
			ws[e.worker] = worker{}
			c.Release()
			if e.ok {
				res.accepted++
				c.Succeeded(clk.t.Sub(e.started))
			} else {
				res.refused++
				before := c.Window()
				c.Throttled(e.retry)
				if after := c.Window(); testing.Verbose() && seed == 1 && after != before {
					t.Logf("%v: window %+v -> %+v (refused so far %d)", clk.t.Sub(start), before, after, res.refused)
				}
				retries = append(retries, clk.t.Add(e.retry))
			}
		}
		clk.t = tick
		full := false // no room at this tick: the other workers waiting for room need not ask
		for i := range ws {
			w := &ws[i]
			if w.flying {
				continue
			}
			if !w.busy {
				if len(retries) > 0 && !retries[0].After(tick) {
					retries = retries[1:]
				} else if sent < rows {
					sent++
				} else {
					continue
				}
				w.busy = true
			}
			if w.slotAt.IsZero() {
				if full || !room(tick) {
					full = true
					continue
				}
				c.mu.Lock()
				w.held = c.mode == modeWindow
				if w.held {
					c.win.inFlight++
				}
				c.mu.Unlock()
				w.slotAt = tick.Add(lim.ReserveN(tick, 1).DelayFrom(tick))
			}
			if w.slotAt.After(tick) {
				continue
			}
			w.slotAt = time.Time{}
			if !w.held {
				c.mu.Lock()
				_, ok := c.room(tick)
				if ok {
					c.win.inFlight++
				}
				c.mu.Unlock()
				if !ok {
					continue
				}
			}
			w.flying = true
			way := time.Duration(28+rng.IntN(11)) * time.Millisecond
			if since := tick.Sub(start); p.stalls && since > 1500*time.Millisecond && since%(7*time.Second) < 150*time.Millisecond {
				way += 80 * time.Millisecond
			}
			heap.Push(&q, simEvent{at: tick.Add(way), arrival: true, worker: i, started: tick})
		}
		if res.refused > 10*rows {
			t.Fatalf("seed %d: %d refused, the simulation does not converge", seed, res.refused)
		}
	}
	res.elapsed = clk.t.Sub(start)
	res.stats = c.Stats()
	res.window = c.Window()
	return res
}

// TestFillsTheWindow runs 2,000 requests at a ceiling of 200/s into portals that allow
// fewer, on a simulated clock: the achieved pace against an oracle that knew the window, and
// the share refused. The window is the emulator's (50 in any second, Retry-After 1) and the
// cloud's (500 in any 10 s, Retry-After the seconds until there is room).
func TestFillsTheWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		portal     portal
		workers    int
		minPace    float64 // achieved ÷ the oracle's
		maxRefused float64 // share of all requests
		wantN      int
		wantSpan   time.Duration
	}{
		{"50 per second, Retry-After 1", portal{n: 50, span: time.Second, retryAfter: time.Second}, 8, 0.98, 0.005, 50, time.Second},
		{"50 per second, 64 in flight", portal{n: 50, span: time.Second, retryAfter: time.Second}, 64, 0.98, 0.005, 50, time.Second},
		// A stall delays the arrivals: their entries are late too, nothing overruns.
		{"50 per second, stalls", portal{n: 50, span: time.Second, retryAfter: time.Second, stalls: true}, 8, 0.98, 0.005, 50, time.Second},
		{"500 per 10 s, Retry-After until room", portal{n: 500, span: 10 * time.Second, honest: true}, 8, 0.98, 0.005, 500, 10 * time.Second},
		// A portal whose Retry-After says nothing of its window: the span is found by overruns.
		{"500 per 10 s, Retry-After always 1", portal{n: 500, span: 10 * time.Second, retryAfter: time.Second}, 8, 0.7, 0.05, 500, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, seed := range []uint64{1, 2, 3} {
				p := tt.portal
				sim := simulate(t, seed, Options{Ceiling: 200}, &p, tt.workers, 2000)
				pace := p.oracle(2000, 200, 30*time.Millisecond).Seconds() / sim.elapsed.Seconds()
				refused := float64(sim.refused) / float64(sim.accepted+sim.refused)
				t.Logf("seed %d: %d refused (%.2f %%) in %v: %.3f of the oracle's pace; window %d in %v + %v",
					seed, sim.refused, 100*refused, sim.elapsed.Round(time.Millisecond), pace,
					sim.window.Requests, sim.window.Span, sim.window.Margin)
				if pace < tt.minPace {
					t.Errorf("seed %d: got %.3f of the oracle's pace, want %.2f at least", seed, pace, tt.minPace)
				}
				if refused > tt.maxRefused {
					t.Errorf("seed %d: got %.2f %% refused, want %.1f %% at most", seed, 100*refused, 100*tt.maxRefused)
				}
				if sim.window.Requests != tt.wantN || (tt.wantSpan > 0 && sim.window.Span != tt.wantSpan) {
					t.Errorf("seed %d: got a window of %d in %v, want %d in %v", seed, sim.window.Requests, sim.window.Span, tt.wantN, tt.wantSpan)
				}
			}
		})
	}
}

// TestALimitThatMoves: a portal that allows 50 a second, then 30: the window's count is
// cut to below what the portal takes (the window does not probe upwards again); each cut
// costs the refusals of the attempts in flight.
func TestALimitThatMoves(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3} {
		p := portal{n: 50, span: time.Second, retryAfter: time.Second, moveAt: 10 * time.Second, movedN: 30}
		sim := simulate(t, seed, Options{Ceiling: 200}, &p, 8, 2000)
		refused := float64(sim.refused) / float64(sim.accepted+sim.refused)
		achieved := float64(sim.accepted) / sim.elapsed.Seconds()
		t.Logf("seed %d: %d refused (%.2f %%) in %v: %.1f/s; window %d in %v", seed, sim.refused, 100*refused,
			sim.elapsed.Round(time.Millisecond), achieved, sim.window.Requests, sim.window.Span)
		if refused > 0.05 {
			t.Errorf("seed %d: got %.2f %% refused, want 5 %% at most", seed, 100*refused)
		}
		// 10 s at 50/s, then 30/s: 2000 rows in about 60 s; at least 0.85 of that pace.
		if want := 0.85 * 2000 / (10 + 1500.0/30); achieved < want {
			t.Errorf("seed %d: got %.1f accepted/s, want %.1f at least", seed, achieved, want)
		}
	}
}

// TestAIMDOnASlidingWindowPortal is the AIMD alone (NoWindow) against the emulator's
// window: it settles near 50/s, wasting few requests.
func TestAIMDOnASlidingWindowPortal(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3} {
		p := portal{n: 50, span: time.Second, retryAfter: time.Second}
		sim := simulate(t, seed, Options{Ceiling: 200, NoWindow: true}, &p, 8, 2000)
		achieved := float64(sim.accepted) / sim.elapsed.Seconds()
		refused := float64(sim.refused) / float64(sim.accepted+sim.refused)
		t.Logf("seed %d: %d refused (%.1f %%) in %v: %.1f/s, limit %.1f, %d cuts",
			seed, sim.refused, 100*refused, sim.elapsed.Round(time.Millisecond), achieved, sim.stats.Limit, sim.stats.Cuts)
		if achieved < 0.9*50 || achieved > 50.5 {
			t.Errorf("seed %d: got %.1f accepted/s, want 45 to 50", seed, achieved)
		}
		if refused > 0.03 {
			t.Errorf("seed %d: got %.1f %% refused, want 3 %% at most", seed, 100*refused)
		}
	}
}
