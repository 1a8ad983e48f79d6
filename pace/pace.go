// Package pace adapts the pace of an import to what the portal allows. A Controller paces
// by a shared *rate.Limiter at the configured ceiling until the portal first refuses (429 or
// 503); it then learns the portal's window (how many requests it accepted over how long,
// window.go) and admits an attempt only while the window has room, so that the portal is
// filled and never overrun. A portal that is not a window (its limit moves) is paced by
// AIMD: a refusal cuts the limit, once per congestion event, to just below the rate the
// portal accepted over its Retry-After window; clean answers raise it again, slowly near
// the point of the last cut and faster the longer the answers stay clean, up to the
// ceiling. With a Gate, it also sizes the requests in flight from the limit and the
// latency observed (Little's law), so that a user only sets the rate.
//
// The Controller knows nothing of HTTP: the API client takes Controller.Acquire before
// every attempt and Controller.Release after it, and reports answers through
// Controller.Throttled and Controller.Succeeded.
package pace

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Options configure a Controller. Only Ceiling is required.
type Options struct {
	// Ceiling is the configured rate (--rate), requests per second; the limit never
	// goes above it.
	Ceiling float64
	// Floor is the lowest limit a cut sets; 0 = Ceiling/100.
	Floor float64
	// Gate, when set, is resized to limit x latency x headroom (Little's law, with room for
	// the latency's jitter), within [1, MaxInFlight], once a latency is known. A slot is
	// meant to be held from the limiter's wait to the answer, not through a backoff.
	Gate *Gate
	// MaxInFlight bounds the gate; 0 = 64.
	MaxInFlight int
	// NoWindow paces by the AIMD of the rate alone, from the first refusal: for a portal
	// known to move its limit. The default learns the portal's window (window.go).
	NoWindow bool
	// Now is the clock; nil = time.Now. Tests inject one.
	Now func() time.Time
}

const (
	// backoff is the share of the measured allowance a cut sets: just below it, so that
	// the jitter of a busy machine does not run into the portal's limit at once.
	backoff = 0.95
	// headroom over Little's law. A slot also waits for the limiter, and the latency
	// doubles for a moment when the machine or the portal stalls (measured: 30 ms answers
	// taking 63 ms on a busy 2-core machine); at 1.2 every such stall left a gap in the
	// pace. A spare slot costs a reserved token, nothing more.
	headroom = 2
	// The congestion window: one cut per window, no rise within it. It is the portal's
	// Retry-After, within these bounds.
	minWindow = time.Second
	maxWindow = 5 * time.Second
	// The rise after a cut starts at riseShare of the cut's limit per second and doubles
	// every probeEvery seconds of clean answers: slow where the portal refused last, fast
	// when the refusal was a passing one.
	riseShare  = 0.01
	probeEvery = 2 * time.Second
	// The accepted answers are counted in buckets of bucketSpan over the last maxWindow.
	bucketSpan = 10 * time.Millisecond
	buckets    = int(maxWindow/bucketSpan) + 1
)

// Controller adapts a rate limiter (and optionally a Gate) to the portal's answers.
// Safe for concurrent use.
type Controller struct {
	lim     *rate.Limiter
	gate    *Gate
	now     func() time.Time
	ceiling float64
	floor   float64
	maxIn   int

	mu          sync.Mutex
	mode        mode
	win         window
	wake        chan struct{} // closed and replaced on every change of the window
	event       time.Time     // the first refusal's answer
	eventSend   time.Time     // its send, as estimated from the latency
	eventRetry  time.Duration // its Retry-After
	learnAt     time.Time     // when the window is read off the log
	adjusted    time.Time     // the window's last change
	lastRefusal time.Time     // the last refusal in the window
	stale       int           // attempts out since the window's last change
	sinceAdjust int           // accepted attempts sent since the window's last change
	verified    bool          // the window's span ran verifyAfter spans
	spanSet     time.Time     // when the window's span was last set
	streak      int           // overruns in a row on a proven span
	minLatency  time.Duration // the shortest latency of a success
	start       time.Time
	limit       float64
	rise        float64   // per second, at the start of the clean period
	quietUntil  time.Time // end of the current congestion window
	lastRise    time.Time
	accepted    [buckets]bucket
	rtt         time.Duration // smoothed latency of a successful attempt; 0 = none yet
	size        int           // the gate's size as last set
	stats       Stats
}

// bucket counts the accepted answers of one bucketSpan; n is the bucket's number since
// the start, so that a stale bucket is recognised.
type bucket struct {
	n     int64
	count int
}

// Stats describe the adaptation so far.
type Stats struct {
	Limit    float64       // the limit now, requests per second
	Lowest   float64       // the lowest limit set
	Cuts     int           // congestion events: times the limit was cut
	Refused  int           // 429 and 503 answers
	Latency  time.Duration // smoothed latency of successful attempts; 0 = none yet
	InFlight int           // the gate's size; 0 without a gate
}

// New returns a Controller that steers lim, which it sets to the ceiling.
func New(lim *rate.Limiter, opts Options) *Controller {
	c := &Controller{
		lim:     lim,
		gate:    opts.Gate,
		now:     opts.Now,
		ceiling: opts.Ceiling,
		floor:   opts.Floor,
		maxIn:   opts.MaxInFlight,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.floor <= 0 || c.floor > c.ceiling {
		c.floor = c.ceiling / 100
	}
	if c.maxIn <= 0 {
		c.maxIn = 64
	}
	c.start = c.now()
	c.wake = make(chan struct{})
	if opts.NoWindow {
		c.mode = modeAIMD
	}
	c.limit = c.ceiling
	c.stats.Lowest = c.ceiling
	lim.SetLimitAt(c.start, rate.Limit(c.limit))
	if c.gate != nil {
		c.size = min(c.gate.Size(), c.maxIn)
		c.gate.Resize(c.size)
	}
	return c
}

// Throttled records a 429 or 503 answer with the wait the portal asked for (0 = none). The
// first starts the learning of the portal's window (window.go); in the window, it is an
// overrun or a limit that moved. Out of it (AIMD), the first refusal of a congestion event
// cuts the limit to backoff x the rate accepted over the window (Retry-After, within 1 s and
// 5 s), or halves it when nothing was accepted; the refusals that follow within the window
// are the same event: requests already on their way at the old pace.
func (c *Controller) Throttled(retryAfter time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.stats.Refused++
	stale := c.logRefused()
	switch c.mode {
	case modeFree:
		c.startLearning(now, retryAfter)
		c.stats.Cuts++
	case modeLearning:
		// The same event: requests sent before the first refusal came back.
	case modeWindow:
		c.windowRefused(now, retryAfter, stale)
	case modeAIMD:
		c.cut(now, retryAfter)
	}
}

// cut is the AIMD's answer to a refusal. c.mu is held.
func (c *Controller) cut(now time.Time, retryAfter time.Duration) {
	window := min(max(retryAfter, minWindow), maxWindow)
	if now.Before(c.quietUntil) {
		return
	}
	target := c.limit / 2
	n, oldest := c.acceptedSince(now, window)
	if n > 0 {
		target = min(c.limit, float64(n)/window.Seconds()) * backoff
	}
	c.set(now, max(target, c.floor))
	if n > 0 {
		// The portal counted n requests over its window, the oldest at oldest: it has room
		// again when that one ages out. A burst (the start of a run at a rate it does not
		// allow) filled the window early: wait for it rather than be refused until then.
		c.pause(now, oldest.Add(window).Sub(now))
	}
	c.rise = c.limit * riseShare
	c.quietUntil = now.Add(window)
	c.lastRise = c.quietUntil
	c.stats.Cuts++
	c.resize()
}

// Succeeded records a successful answer and the attempt's latency: out of a congestion
// window, the limit rises by rise x the time since the last rise (at most a second's
// worth), rise doubling every probeEvery of clean answers.
func (c *Controller) Succeeded(latency time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.count(now)
	// The log keeps the answer less the shortest latency seen: the send, shifted by
	// whatever of this attempt's latency was more than the shortest. The portal counted
	// the attempt on its arrival, between the send and the answer; a delay on the way
	// there (a stalled machine, the portal's own) moves that arrival, and the entry with
	// it; a delay on the way back only makes the entry late, the window's count
	// conservative (measured on a simulated stall of 80 ms: 0.4 % refused instead of 2 %).
	if latency > 0 && (c.minLatency == 0 || latency < c.minLatency) {
		c.minLatency = latency
	}
	c.logAccepted(now.Add(-c.minLatency))
	c.clean(now)
	if latency > 0 {
		if c.rtt == 0 {
			c.rtt = latency
		} else {
			c.rtt += (latency - c.rtt) / 8
		}
	}
	if c.mode == modeAIMD && c.limit < c.ceiling && now.After(c.quietUntil) {
		from := c.lastRise
		dt := min(now.Sub(from), time.Second).Seconds()
		probes := int(now.Sub(c.quietUntil) / probeEvery)
		rise := c.rise * math.Pow(2, float64(min(probes, 20)))
		c.set(now, min(c.limit+min(rise, c.ceiling/4)*dt, c.ceiling))
		c.lastRise = now
	}
	c.resize()
}

// Limit is the limit now, requests per second: the window's rate once one is learned.
func (c *Controller) Limit() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.limitNow()
}

// limitNow is Limit. c.mu is held.
func (c *Controller) limitNow() float64 {
	if c.mode == modeWindow {
		return min(c.limit, float64(c.win.n)/(c.win.span+c.win.margin).Seconds())
	}
	return c.limit
}

// Stats returns the adaptation's figures so far.
func (c *Controller) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Limit = c.limitNow()
	s.Latency = c.rtt
	if c.gate != nil {
		s.InFlight = c.size
	}
	return s
}

// set changes the limit. c.mu is held.
func (c *Controller) set(now time.Time, limit float64) {
	c.limit = limit
	c.stats.Lowest = min(c.stats.Lowest, limit)
	c.lim.SetLimitAt(now, rate.Limit(limit))
}

// resize sets the gate from Little's law once a latency is known. c.mu is held.
func (c *Controller) resize() {
	if c.gate == nil || c.rtt == 0 {
		return
	}
	n := int(math.Ceil(c.limit * c.rtt.Seconds() * headroom))
	n = min(max(n, 1), c.maxIn)
	if n != c.size {
		c.size = n
		c.gate.Resize(n)
	}
}

// count adds an accepted answer. c.mu is held.
func (c *Controller) count(now time.Time) {
	n := int64(now.Sub(c.start) / bucketSpan)
	b := &c.accepted[n%int64(buckets)]
	if b.n != n {
		b.n, b.count = n, 0
	}
	b.count++
}

// acceptedSince counts the answers accepted within window before now, and gives the
// start of the bucket of the oldest. c.mu is held.
func (c *Controller) acceptedSince(now time.Time, window time.Duration) (n int, oldest time.Time) {
	last := int64(now.Sub(c.start) / bucketSpan)
	first := last - int64(window/bucketSpan) + 1
	older := last + 1
	for _, b := range c.accepted {
		if b.n >= first && b.n <= last && b.count > 0 {
			n += b.count
			older = min(older, b.n)
		}
	}
	return n, c.start.Add(time.Duration(older) * bucketSpan)
}

// pause makes the limiter's next free slot come no sooner than d from now. The limiter has
// no pause of its own, but its tokens can run into debt: each reservation taken and never
// used pushes every later caller back by one interval. Callers already waiting keep their
// slots. c.mu is held.
func (c *Controller) pause(now time.Time, d time.Duration) {
	if d <= 0 || c.limit <= 0 {
		return
	}
	// The next caller waits (1 - tokens) / limit; k more tokens of debt make that d.
	k := int(math.Ceil(d.Seconds()*c.limit - (1 - c.lim.TokensAt(now))))
	for range k {
		c.lim.ReserveN(now, 1)
	}
}
