package pace

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// clock is a manual clock for the Controller.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newController(ceiling float64, gate *Gate) (*Controller, *rate.Limiter, *clock) {
	clk := &clock{t: time.Date(2024, 3, 15, 10, 0, 0, 0, time.UTC)}
	lim := rate.NewLimiter(1, 1)
	c := New(lim, Options{Ceiling: ceiling, Gate: gate, Now: clk.now})
	return c, lim, clk
}

// succeed records n successes spaced by every.
func succeed(c *Controller, clk *clock, n int, every, latency time.Duration) {
	for range n {
		clk.advance(every)
		c.Succeeded(latency)
	}
}

func near(got, want float64) bool { return math.Abs(got-want) < 1e-9*math.Max(1, want) }

func TestNewSetsTheCeiling(t *testing.T) {
	c, lim, _ := newController(200, nil)
	if got := float64(lim.Limit()); got != 200 {
		t.Errorf("got limiter at %v, want 200", got)
	}
	if got := c.Limit(); got != 200 {
		t.Errorf("got limit %v, want 200", got)
	}
}

func TestCutToTheAcceptedRate(t *testing.T) {
	tests := []struct {
		name       string
		accepted   int           // successes in the 250 ms before the refusal
		retryAfter time.Duration // the portal's wish
		want       float64
	}{
		{"50 in the last second", 50, time.Second, 50 * backoff},
		{"no Retry-After: a second", 50, 0, 50 * backoff},
		{"Retry-After 2 s: over 2 s", 50, 2 * time.Second, 25 * backoff},
		{"Retry-After beyond 5 s: over 5 s", 50, time.Minute, 10 * backoff},
		{"nothing accepted: half", 0, time.Second, 100},
		{"more accepted than the limit: the limit", 400, time.Second, 200 * backoff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, lim, clk := newController(200, nil)
			clk.advance(time.Second) // an old success, outside every window
			if tt.accepted > 0 {
				succeed(c, clk, tt.accepted, 250*time.Millisecond/time.Duration(tt.accepted), 30*time.Millisecond)
			} else {
				clk.advance(250 * time.Millisecond)
			}
			c.Throttled(tt.retryAfter)
			if got := c.Limit(); !near(got, tt.want) {
				t.Errorf("got limit %v, want %v", got, tt.want)
			}
			if got := float64(lim.Limit()); !near(got, tt.want) {
				t.Errorf("got limiter at %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOneCutPerCongestionEvent(t *testing.T) {
	c, lim, clk := newController(200, nil)
	succeed(c, clk, 50, 5*time.Millisecond, 30*time.Millisecond)
	c.Throttled(time.Second)
	cut := c.Limit()
	// Eight workers' requests already on their way at the old pace are refused too, and
	// answers still come in: within the window neither cuts nor raises the limit.
	for range 8 {
		clk.advance(20 * time.Millisecond)
		c.Throttled(time.Second)
		c.Succeeded(30 * time.Millisecond)
	}
	if got := float64(lim.Limit()); got != cut {
		t.Errorf("got limit %v after the event's other refusals, want %v", got, cut)
	}
	st := c.Stats()
	if st.Cuts != 1 || st.Refused != 9 {
		t.Errorf("got %d cuts and %d refused, want 1 and 9", st.Cuts, st.Refused)
	}
	// Past the window, a refusal is a new event.
	clk.advance(time.Second)
	c.Throttled(time.Second)
	if st := c.Stats(); st.Cuts != 2 || c.Limit() >= cut {
		t.Errorf("got %d cuts and limit %v, want a second cut below %v", st.Cuts, c.Limit(), cut)
	}
}

func TestRiseAfterTheWindow(t *testing.T) {
	c, lim, clk := newController(200, nil)
	succeed(c, clk, 50, 5*time.Millisecond, 30*time.Millisecond)
	c.Throttled(time.Second)
	cut := c.Limit()
	// Clean answers at the cut's pace: nothing within the window, then riseShare of the
	// cut per second for the first probeEvery.
	every := time.Duration(float64(time.Second) / cut)
	n := int(time.Second / every)
	succeed(c, clk, n, every, 30*time.Millisecond)
	if got := c.Limit(); got != cut {
		t.Fatalf("got limit %v within the window, want %v", got, cut)
	}
	start := clk.t
	for clk.t.Sub(start) < probeEvery-every {
		clk.advance(every)
		c.Succeeded(30 * time.Millisecond)
	}
	gained := c.Limit() - cut
	want := cut * riseShare * clk.t.Sub(c.quietUntil).Seconds()
	if math.Abs(gained-want) > 0.05*want {
		t.Errorf("got a rise of %v over the first %v, want about %v", gained, probeEvery, want)
	}
	// Clean for long: up to the ceiling, never above it.
	for range 30 * 200 {
		clk.advance(5 * time.Millisecond)
		c.Succeeded(30 * time.Millisecond)
	}
	if got := float64(lim.Limit()); got != 200 {
		t.Errorf("got limiter at %v after 30 clean seconds, want the ceiling 200", got)
	}
}

func TestFloor(t *testing.T) {
	c, _, clk := newController(200, nil)
	for range 20 {
		c.Throttled(time.Second)
		clk.advance(1100 * time.Millisecond)
	}
	if got, want := c.Limit(), 2.0; got != want {
		t.Errorf("got limit %v after 20 refusals with nothing accepted, want the floor %v", got, want)
	}
	if got := c.Stats().Lowest; got != 2 {
		t.Errorf("got lowest %v, want 2", got)
	}
}

func TestGateSize(t *testing.T) {
	g := NewGate(8)
	c, _, clk := newController(300, g)
	if got := g.Size(); got != 8 {
		t.Errorf("got %d slots before any latency is known, want the 8 given", got)
	}
	c.Succeeded(30 * time.Millisecond)
	if got, want := g.Size(), int(math.Ceil(300*0.03*headroom)); got != want {
		t.Errorf("got %d slots at 300/s and 30 ms, want %d", got, want)
	}
	// The latency is smoothed: one slow answer does not double the gate.
	clk.advance(10 * time.Millisecond)
	c.Succeeded(300 * time.Millisecond)
	smoothed := 30*time.Millisecond + (300*time.Millisecond-30*time.Millisecond)/8
	if got, want := g.Size(), int(math.Ceil(300*smoothed.Seconds()*headroom)); got != want {
		t.Errorf("got %d slots after one slow answer, want %d (the latency smoothed by 1/8)", got, want)
	}
	for range 100 {
		clk.advance(3 * time.Millisecond)
		c.Succeeded(time.Second)
	}
	if got := g.Size(); got != 64 {
		t.Errorf("got %d slots at 300/s and 1 s, want the maximum 64", got)
	}
}

// TestConvergesOnASlidingWindowPortal simulates a portal that accepts 50 requests in any
// second (the emulator's rule) and a client configured at 200/s, with jittery latency, on a
// simulated clock: the run must settle near 50/s and waste few requests.
func TestConvergesOnASlidingWindowPortal(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		sim := simulate(t, seed, 200, 50, 2000)
		achieved := float64(sim.accepted) / sim.elapsed.Seconds()
		refused := float64(sim.refused) / float64(sim.accepted+sim.refused)
		t.Logf("seed %d: %d accepted, %d refused (%.1f %%) in %v: %.1f/s, limit %.1f, %d cuts",
			seed, sim.accepted, sim.refused, 100*refused, sim.elapsed.Round(time.Millisecond), achieved, sim.limit, sim.cuts)
		if achieved < 0.9*50 || achieved > 50.5 {
			t.Errorf("seed %d: got %.1f accepted/s, want 45 to 50", seed, achieved)
		}
		if refused > 0.03 {
			t.Errorf("seed %d: got %.1f %% refused, want 3 %% at most", seed, 100*refused)
		}
	}
}

type simResult struct {
	accepted, refused, cuts int
	elapsed                 time.Duration
	limit                   float64
}

// event is an answer or an arrival at the portal in the simulation.
type event struct {
	at      time.Time
	arrival bool // at the portal; else the answer at the client
	ok      bool
}

type events []event

func (e events) Len() int           { return len(e) }
func (e events) Less(i, j int) bool { return e[i].at.Before(e[j].at) }
func (e events) Swap(i, j int)      { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)        { *e = append(*e, x.(event)) }
func (e *events) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

// simulate sends rows requests paced by a rate.Limiter under a Controller, with at most 8 in
// flight, each taking 25 to 45 ms; the portal accepts allowed per sliding second and
// refuses the rest with Retry-After: 1, and a refused request is sent again a second later.
func simulate(t *testing.T, seed uint64, ceiling, allowed float64, rows int) simResult {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	clk := &clock{t: time.Date(2024, 3, 15, 10, 0, 0, 0, time.UTC)}
	start := clk.t
	lim := rate.NewLimiter(rate.Limit(ceiling), 1)
	c := New(lim, Options{Ceiling: ceiling, Now: clk.now})

	var (
		q        events
		window   []time.Time // accepted arrivals at the portal
		retries  []time.Time // when refused requests may go again
		inFlight int
		res      simResult
		next     = clk.t
	)
	answer := func(e event) {
		inFlight--
		latency := 30 * time.Millisecond
		if e.ok {
			res.accepted++
			c.Succeeded(latency)
		} else {
			res.refused++
			retries = append(retries, clk.t.Add(time.Second))
			before := c.Limit()
			c.Throttled(time.Second)
			if testing.Verbose() && c.Limit() != before {
				t.Logf("%v: cut %.1f -> %.1f (refused so far %d)", clk.t.Sub(start), before, c.Limit(), res.refused)
			}
		}
	}
	arrive := func(e event) {
		for len(window) > 0 && clk.t.Sub(window[0]) >= time.Second {
			window = window[1:]
		}
		ok := float64(len(window)) < allowed
		if ok {
			window = append(window, clk.t)
		}
		heap.Push(&q, event{at: clk.t.Add(time.Duration(5+rng.IntN(10)) * time.Millisecond), ok: ok})
	}
	sent := 0
	for res.accepted < rows {
		// The next send: the limiter's slot, once a worker is free and work is left.
		canSend := inFlight < 8 && (sent < rows || (len(retries) > 0 && !retries[0].After(next)))
		if canSend && (q.Len() == 0 || !q[0].at.Before(next)) {
			// A worker reserves its slot and sleeps until then, as rate.Limiter.Wait does:
			// a cut does not reach it.
			clk.t = next
			wait := lim.ReserveN(clk.t, 1).DelayFrom(clk.t)
			if len(retries) > 0 && !retries[0].After(clk.t) {
				retries = retries[1:]
			} else if sent < rows {
				sent++
			}
			inFlight++
			heap.Push(&q, event{at: clk.t.Add(wait + time.Duration(20+rng.IntN(20))*time.Millisecond), arrival: true})
			next = clk.t
			continue
		}
		if q.Len() == 0 {
			// Only retries are left, waiting out their Retry-After.
			next = retries[0]
			continue
		}
		e := heap.Pop(&q).(event)
		clk.t = e.at
		if next.Before(clk.t) {
			next = clk.t
		}
		if e.arrival {
			arrive(e)
		} else {
			answer(e)
		}
		if res.refused > 10*rows {
			t.Fatalf("seed %d: %d refused, the simulation does not converge", seed, res.refused)
		}
	}
	res.elapsed = clk.t.Sub(start)
	st := c.Stats()
	res.limit, res.cuts = st.Limit, st.Cuts
	return res
}
