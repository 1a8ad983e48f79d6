package pace

import (
	"math"
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
	c := New(lim, Options{Ceiling: ceiling, Gate: gate, NoWindow: true, Now: clk.now})
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
