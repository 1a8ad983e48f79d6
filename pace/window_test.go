package pace

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// windowed returns a Controller (window learning on) on a manual clock.
func windowed(ceiling float64) (*Controller, *clock) {
	clk := &clock{t: time.Date(2024, 3, 15, 10, 0, 0, 0, time.UTC)}
	return New(rate.NewLimiter(rate.Limit(ceiling), 1), Options{Ceiling: ceiling, Now: clk.now}), clk
}

// checkRoom asks for room at the clock's time, as Acquire does.
func checkRoom(c *Controller) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.room(c.now())
}

// take admits an attempt as Acquire does, without the limiter.
func take(c *Controller) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.room(c.now())
	if ok {
		c.win.inFlight++
	}
	return ok
}

func TestLearnTheWindow(t *testing.T) {
	t.Parallel()
	const latency = 30 * time.Millisecond
	tests := []struct {
		name       string
		accepted   int           // successes, evenly over burst, from the start
		burst      time.Duration //
		retryAfter time.Duration // of the refusal, right after the burst
		want       Window        // Margin not compared
	}{
		{"the emulator: 50 in any second, Retry-After 1", 50, 250 * time.Millisecond, time.Second, Window{Requests: 50, Span: time.Second}},
		{"no Retry-After: read as 1 s", 50, 250 * time.Millisecond, 0, Window{Requests: 50, Span: time.Second}},
		{"the cloud: 500 in any 10 s, Retry-After until room", 500, 2500 * time.Millisecond, 8 * time.Second, Window{Requests: 500, Span: 10 * time.Second}},
		{"30 in any 2 s, Retry-After 2", 30, 500 * time.Millisecond, 2 * time.Second, Window{Requests: 30, Span: 2 * time.Second}},
		{"nothing accepted: the AIMD", 0, 0, time.Second, Window{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, clk := windowed(200)
			for i := range tt.accepted {
				if i > 0 {
					clk.advance(tt.burst / time.Duration(tt.accepted))
				}
				clk.advance(latency)
				c.Succeeded(latency)
				clk.advance(-latency)
			}
			clk.advance(latency)
			c.Throttled(tt.retryAfter)
			if _, ok := checkRoom(c); ok {
				t.Fatalf("got room right after the first refusal, want the hold")
			}
			clk.advance(time.Second)
			checkRoom(c)
			got := c.Window()
			got.Margin = 0
			if got != tt.want {
				t.Errorf("got window %+v, want %+v", got, tt.want)
			}
			if tt.want.Requests == 0 {
				if got := c.Limit(); got != 100 {
					t.Errorf("got limit %v with nothing accepted, want the AIMD's half, 100", got)
				}
			}
		})
	}
}

// learned returns a Controller that learned 50 in any second from a burst of 50 in 250 ms
// from its clock's start (send times 0 to 245 ms), and the start.
func learned(t *testing.T) (*Controller, *clock, time.Time) {
	t.Helper()
	c, clk := windowed(200)
	start := clk.t
	for i := range 50 {
		clk.t = start.Add(time.Duration(i)*5*time.Millisecond + 30*time.Millisecond)
		c.Succeeded(30 * time.Millisecond)
	}
	clk.advance(5 * time.Millisecond)
	c.Throttled(time.Second)
	clk.advance(200 * time.Millisecond)
	checkRoom(c)
	if w := c.Window(); w.Requests != 50 || w.Span != time.Second {
		t.Fatalf("got window %+v, want 50 in 1s", w)
	}
	return c, clk, start
}

func TestRoomInTheWindow(t *testing.T) {
	t.Parallel()
	c, clk, start := learned(t)
	margin := c.Window().Margin
	at, ok := checkRoom(c)
	if ok {
		t.Fatalf("got room with 50 sent in the last second, want none")
	}
	if want := start.Add(time.Second + margin); !at.Equal(want) {
		t.Errorf("got room at %v, want %v (the first send, a span and the margin later)", at.Sub(start), want.Sub(start))
	}
	clk.t = at
	if !take(c) {
		t.Fatalf("got no room at %v", at.Sub(start))
	}
	// The one taken is in flight: the second oldest has not aged out.
	if _, ok := checkRoom(c); ok {
		t.Errorf("got room for a second attempt, want the one in flight counted")
	}
	clk.advance(5 * time.Millisecond)
	if !take(c) {
		t.Errorf("got no room when the second oldest aged out")
	}
}

// An attempt released without an answer (a transport error) counts as sent at its release
// once pendingTTL has passed: the portal may have counted it.
func TestUnansweredAttemptsCount(t *testing.T) {
	t.Parallel()
	c, clk, _ := learned(t)
	clk.advance(2 * time.Second) // the burst aged out
	for range 50 {
		if !take(c) {
			t.Fatal("got no room in an empty window")
		}
	}
	clk.advance(30 * time.Millisecond)
	c.Release() // one without an answer
	for range 49 {
		c.Release()
		c.Succeeded(30 * time.Millisecond)
	}
	released := clk.t
	// The 49 answered age out a span after their send; the unanswered one counts from its
	// release, once pendingTTL has passed.
	clk.t = released.Add(pendingTTL)
	for i := range 50 {
		ok := take(c)
		if want := i < 49; ok != want {
			t.Fatalf("attempt %d: got room %v, want %v (the unanswered one counted)", i+1, ok, want)
		}
	}
	clk.t = released.Add(time.Second + c.Window().Margin)
	if _, ok := checkRoom(c); !ok {
		t.Errorf("got no room with 49 in flight and the unanswered one aged out, want room for one")
	}
}

func TestAcquireReturnsOnCancel(t *testing.T) {
	t.Parallel()
	g := NewGate(2)
	c := New(rate.NewLimiter(100, 1), Options{Ceiling: 100, Gate: g})
	c.Succeeded(time.Second) // a long latency: the learning's hold lasts a second
	c.Throttled(time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v during the hold with ctx done, want context.Canceled", err)
	}
	if got := g.Held(); got != 0 {
		t.Errorf("got %d gate slots held after the cancel, want 0", got)
	}
}

func TestAcquireAndReleaseWithoutRefusals(t *testing.T) {
	t.Parallel()
	g := NewGate(2)
	c := New(rate.NewLimiter(rate.Inf, 1), Options{Ceiling: 1000, Gate: g})
	for range 5 {
		if err := c.Acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := g.Held(); got != 1 {
			t.Errorf("got %d slots held during an attempt, want 1", got)
		}
		c.Release()
		c.Succeeded(time.Millisecond)
	}
	if got := g.Held(); got != 0 {
		t.Errorf("got %d slots held, want 0", got)
	}
	if w := c.Window(); w.Requests != 0 {
		t.Errorf("got window %+v without a refusal, want none", w)
	}
}
