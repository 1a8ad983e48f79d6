package pace

import (
	"context"
	"math"
	"slices"
	"time"
)

// The window: a portal that counts the requests it accepted over a sliding span (the cloud:
// 500 in any 10 s; the emulator: --rate-limit in any second) refuses exactly when that count
// is reached. From its first refusal the Controller reads the portal's window off its own
// log of accepted requests, then admits a request only while fewer than the window's count
// were sent within its span (plus a margin): the portal is filled and not overrun.
//
// What the log keeps: the portal counts a request when it arrives, somewhere between the
// send and the answer. The log keeps each success's answer less the shortest latency seen:
// for the quickest attempt its send, for a slower one its send moved by what it took more,
// as its arrival moved when the delay was on the way there (a stalled machine, the portal's
// own latency) and later than its arrival when the delay was on the way back, which only
// makes the count conservative. So the client's window is the portal's shifted by the
// shortest way there, and a small margin covers the rest. A request is admitted before it
// is sent (the limiter's wait follows), which only makes the count conservative too.
//
// A refusal in the window is an overrun (jitter, or a span learned too short) or a limit
// that moved (windowRefused tells which). A count cut more than maxMoves times is not a
// window: the Controller falls back on the AIMD of the rate.

// spans are the windows a portal is likely to count over, shortest first. Retry-After is in
// whole seconds, so the refusal only brackets the span within a second; among the spans it
// allows, the one that allows the lowest rate is taken.
var spans = []time.Duration{
	250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 3 * time.Second, 5 * time.Second, 10 * time.Second,
	15 * time.Second, 20 * time.Second, 30 * time.Second, time.Minute,
}

const (
	// maxSpan is the longest window learned; the log of accepted requests reaches this far
	// back before the first refusal (at most maxLog entries).
	maxSpan = time.Minute
	maxLog  = 1 << 17
	// minMargin and marginShare make the margin added to the span at first: the jitter of the
	// way to the portal on a busy machine.
	minMargin   = 5 * time.Millisecond
	marginShare = 0.005
	// pendingTTL: a released attempt that is neither a success nor a refusal after this long
	// was a transport error; it counts as accepted at its release (the portal may have
	// counted it).
	pendingTTL = time.Second
	// maxMoves is how many times the count may be cut before the portal is taken for one
	// whose limit moves (a token bucket, a limit shared with others): the AIMD then steers.
	maxMoves = 8
	// nearExpiry: a refusal is an overrun when the window's oldest request was sent at
	// least this share of the span before the refused one.
	nearExpiry = 0.9
	// cutAfter overruns in a row, none accepted between, on a proven span cut the count.
	cutAfter = 2
	// jumpAfter overruns in a row, none accepted between, on a span not yet proven take the
	// next of spans (measured: at one, a stall under load 12 halved the pace for good).
	jumpAfter = 3
	// moveCut is the share of the count a moved limit leaves: each cut costs the refusals
	// of the attempts in flight, so few and deep.
	moveCut = 0.85
	// verifyAfter spans without a refusal prove a window: an overrun then is a limit that
	// moved, not a span learned too short.
	verifyAfter = 4
)

// mode is how the Controller paces: by the rate alone until the portal refuses, learning
// its window on the first refusal, by the window once learned; by the AIMD of the rate when
// the portal is not a window.
type mode int

const (
	modeFree mode = iota
	modeLearning
	modeWindow
	modeAIMD
)

// window is the learned window and the log it is kept on. c.mu guards it.
type window struct {
	n      int           // requests the portal accepts within span
	span   time.Duration // the portal's span as learned
	margin time.Duration // added to span: the jitter of the way to the portal
	moves  int           // times the count was cut

	sent     []time.Time // send times of the accepted requests, ascending
	inFlight int         // admitted, not released
	pending  []time.Time // released, not yet known accepted or refused: release times, ascending
}

// Window describes the learned window.
type Window struct {
	Requests int           // accepted within Span; 0 = no window learned
	Span     time.Duration // the portal's span, as learned
	Margin   time.Duration // added to the span by the client
}

// Acquire admits one attempt: a slot of the Gate, if there is one, room in the window once
// one is learned, and the rate limiter's slot; the limiter is waited here, so a client
// that takes the Controller as its gate must not wait on the limiter again. Before a
// window is learned, the hold of the first refusal is checked again after the limiter's
// wait: an attempt queued on the limiter is not sent into a full window. It returns ctx's
// error, holding nothing, when ctx is done first. Every Acquire that returns nil is
// followed by one Release once the answer is in, before Succeeded or Throttled for it.
func (c *Controller) Acquire(ctx context.Context) error {
	if c.gate != nil {
		if err := c.gate.Acquire(ctx); err != nil {
			return err
		}
	}
	err := c.acquire(ctx)
	if err != nil && c.gate != nil {
		c.gate.Release()
	}
	return err
}

func (c *Controller) acquire(ctx context.Context) error {
	for {
		if err := c.waitRoom(ctx); err != nil {
			return err
		}
		// In the window, the room is taken before the limiter's wait (an attempt waiting
		// for its slot is counted, so it cannot overrun): the limiter only spreads the
		// sends. Out of it, the room (none, or the learning's hold) is checked after.
		c.mu.Lock()
		windowed := c.mode == modeWindow
		held := false
		if windowed {
			if _, ok := c.room(c.now()); ok {
				c.win.inFlight++
				held = true
			}
		}
		c.mu.Unlock()
		if windowed && !held {
			continue // another took the room
		}
		if err := c.lim.Wait(ctx); err != nil {
			if held {
				c.mu.Lock()
				c.win.inFlight--
				c.signal()
				c.mu.Unlock()
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if held {
			return nil
		}
		c.mu.Lock()
		_, ok := c.room(c.now())
		if ok {
			c.win.inFlight++
		}
		c.mu.Unlock()
		if ok {
			return nil
		}
	}
}

// waitRoom waits until the window has room (or there is no window).
func (c *Controller) waitRoom(ctx context.Context) error {
	for {
		c.mu.Lock()
		now := c.now()
		at, ok := c.room(now)
		wake := c.wake
		c.mu.Unlock()
		if ok {
			return nil
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if !at.IsZero() {
			timer = time.NewTimer(max(at.Sub(now), 0))
			fire = timer.C
		}
		select {
		case <-wake:
		case <-fire:
		case <-ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// Release gives back what Acquire took: the attempt's answer is in.
func (c *Controller) Release() {
	c.mu.Lock()
	c.win.inFlight--
	c.win.pending = append(c.win.pending, c.now())
	c.signal()
	c.mu.Unlock()
	if c.gate != nil {
		c.gate.Release()
	}
}

// Window returns the learned window; Requests is 0 before the first refusal, and after the
// Controller fell back on the AIMD.
func (c *Controller) Window() Window {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mode != modeWindow {
		return Window{}
	}
	return Window{Requests: c.win.n, Span: c.win.span, Margin: c.win.margin}
}

// room says whether the window has room for an attempt at now, or when to ask again
// (zero: on the next change). c.mu is held.
func (c *Controller) room(now time.Time) (retryAt time.Time, ok bool) {
	if c.mode == modeLearning {
		if now.Before(c.learnAt) {
			return c.learnAt, false
		}
		c.learn(now)
	}
	c.expirePending(now)
	if c.mode != modeWindow {
		return time.Time{}, true
	}
	w := &c.win
	span := w.span + w.margin
	c.trim(now.Add(-2 * span))
	i, _ := slices.BinarySearchFunc(w.sent, now.Add(-span), func(t, from time.Time) int {
		if t.After(from) {
			return 1
		}
		return -1
	})
	busy := w.inFlight + len(w.pending) + len(w.sent) - i
	if busy < w.n {
		return time.Time{}, true
	}
	// The entry whose ageing out makes room: the (busy-n+1)-th oldest in the window.
	if k := i + busy - w.n; k < len(w.sent) {
		return w.sent[k].Add(span), false
	}
	return time.Time{}, false // all in flight: wait for an answer
}

// logAccepted takes the oldest pending release as a success sent at sent. c.mu is held.
func (c *Controller) logAccepted(sent time.Time) {
	c.classified()
	c.insert(sent)
	if !sent.Before(c.adjusted) {
		c.sinceAdjust++
	}
	c.signal()
}

// logRefused takes the oldest pending release as a refusal, and says whether it was of an
// attempt out before the window's last change. c.mu is held.
func (c *Controller) logRefused() (stale bool) {
	stale = c.stale > 0
	c.classified()
	c.signal()
	return stale
}

// classified takes the oldest pending release off: its answer is known. c.mu is held.
func (c *Controller) classified() {
	if len(c.win.pending) > 0 {
		c.win.pending = c.win.pending[1:]
	}
	if c.stale > 0 {
		c.stale--
	}
}

// expirePending counts the releases never classified (transport errors) as accepted at
// their release. c.mu is held.
func (c *Controller) expirePending(now time.Time) {
	for len(c.win.pending) > 0 && now.Sub(c.win.pending[0]) >= pendingTTL {
		t := c.win.pending[0]
		c.classified()
		c.insert(t)
	}
}

// insert adds a send time to the log, kept in order (answers come back nearly in order).
// c.mu is held.
func (c *Controller) insert(t time.Time) {
	s := c.win.sent
	i := len(s)
	for i > 0 && s[i-1].After(t) {
		i--
	}
	c.win.sent = slices.Insert(s, i, t)
	if c.mode != modeWindow {
		c.trim(t.Add(-maxSpan))
		if over := len(c.win.sent) - maxLog; over > 0 {
			c.win.sent = slices.Delete(c.win.sent, 0, over)
		}
	}
}

// trim drops the log's entries sent before from. c.mu is held.
func (c *Controller) trim(from time.Time) {
	s := c.win.sent
	i := 0
	for i < len(s) && s[i].Before(from) {
		i++
	}
	if i > 0 {
		c.win.sent = slices.Delete(s, 0, i)
	}
}

// signal wakes the Acquires waiting for a change. c.mu is held.
func (c *Controller) signal() {
	close(c.wake)
	c.wake = make(chan struct{})
}

// startLearning begins the congestion event of the first refusal: no attempt is admitted
// until the attempts in flight have answered (a few latencies), then the window is read
// off the log. c.mu is held.
func (c *Controller) startLearning(now time.Time, retryAfter time.Duration) {
	c.mode = modeLearning
	c.event = now
	c.eventSend = now.Add(-c.rtt)
	c.eventRetry = retryAfter
	wait := min(max(3*c.rtt, 50*time.Millisecond), max(retryAfter, minWindow))
	c.learnAt = now.Add(wait)
}

// learn reads the portal's window off the log at the end of the first congestion event:
// for each likely span, the requests accepted within it before the refused one, and when
// the portal would then have room again, which must agree with its Retry-After (whole
// seconds, rounded up: room again within (Retry-After - 1 s, Retry-After]; none sent is
// read as 1 s). Of the spans that agree, the one allowing the lowest rate; of those within
// 2 %, the shortest (it allows the smallest burst). No span agrees: the shortest of 1 s or
// more that saw a request. Nothing accepted at all: the AIMD. c.mu is held.
func (c *Controller) learn(now time.Time) {
	ra := c.eventRetry
	if ra <= 0 {
		ra = time.Second
	}
	slop := c.rtt + 20*time.Millisecond
	ref := c.eventSend
	bestN, bestSpan, fallbackN, fallbackSpan := 0, time.Duration(0), 0, time.Duration(0)
	bestRate := math.Inf(1)
	for _, span := range spans {
		from := ref.Add(-span)
		i := 0
		for i < len(c.win.sent) && !c.win.sent[i].After(from) {
			i++
		}
		n := len(c.win.sent) - i
		if n == 0 {
			continue
		}
		if fallbackN == 0 && span >= minWindow {
			fallbackN, fallbackSpan = n, span
		}
		free := c.win.sent[i].Add(span)
		if !free.After(ref.Add(ra-time.Second).Add(-slop)) || free.After(ref.Add(ra).Add(slop)) {
			continue
		}
		r := float64(n) / span.Seconds()
		if r < bestRate*0.98 {
			bestRate, bestN, bestSpan = r, n, span
		}
	}
	if bestN == 0 {
		bestN, bestSpan = fallbackN, fallbackSpan
	}
	if bestN == 0 {
		c.mode = modeAIMD
		c.cut(now, c.eventRetry)
		return
	}
	c.mode = modeWindow
	c.win.n, c.win.span = bestN, bestSpan
	c.win.margin = c.initialMargin(bestSpan)
	c.spanSet = now
	c.adjust(now)
}

// windowRefused handles a refusal in the window. Refusals of attempts admitted before the
// window's last change are of the old model and change nothing. Of the others:
//   - the window was not full in the client's reckoning: the portal takes fewer now, the
//     count is cut to what it took;
//   - an overrun (the window's oldest had just aged out) on its own, or with requests
//     accepted since the last change: the jitter of the way to the portal, the margin grows;
//   - overruns in a row with none accepted between, on a window that had run for
//     verifyAfter spans: the margin grows faster, then (at cutAfter) the limit moved, the
//     count is cut to moveCut of it;
//   - the same (at jumpAfter) on a window not yet proven: the span is longer, the next of
//     spans is taken.
//
// c.mu is held.
func (c *Controller) windowRefused(now time.Time, retryAfter time.Duration, stale bool) {
	sent := now.Add(-c.rtt)
	if stale || sent.Before(c.adjusted) {
		return
	}
	w := &c.win
	span := w.span + w.margin
	recent := now.Sub(c.lastRefusal) < span
	c.lastRefusal = now
	// The log before the refused request: the n-th most recent is the window's oldest.
	j := len(w.sent)
	for j > 0 && w.sent[j-1].After(sent) {
		j--
	}
	k := j - w.n
	near := k >= 0 && sent.Sub(w.sent[k]) >= time.Duration(nearExpiry*float64(span))
	switch {
	case !near:
		k := j
		for k > 0 && w.sent[k-1].After(sent.Add(-span)) {
			k--
		}
		w.n = max(1, min(w.n-1, j-k))
		w.moves++
	case !recent || c.sinceAdjust > 0:
		// Requests sent since the last change were accepted: this one came early.
		c.streak = 0
		w.margin += max(minMargin, time.Duration(marginShare*float64(w.span)))
	case c.verified && c.streak+1 < cutAfter, !c.verified && c.streak+1 < jumpAfter:
		// Overruns in a row: a stall of the machine or the way (whose requests of a span
		// ago arrived late), a limit that moved, or a span learned too short. The margin
		// grows faster while they last.
		c.streak++
		w.margin += max(minMargin, time.Duration(marginShare*float64(w.span))) << c.streak
	case c.verified:
		c.streak = 0
		w.n = max(1, int(float64(w.n)*moveCut))
		w.moves++
	default:
		c.streak = 0
		i, _ := slices.BinarySearch(spans, span)
		for i < len(spans) && spans[i] <= span {
			i++
		}
		if i == len(spans) {
			w.moves = maxMoves + 1
			break
		}
		w.span = spans[i]
		w.margin = c.initialMargin(w.span)
		c.spanSet = now
	}
	if w.moves > maxMoves {
		c.mode = modeAIMD
		c.cut(now, retryAfter)
		return
	}
	c.adjust(now)
}

// adjust marks a change of the window: the attempts still out are of the old one. The
// limiter stays at the ceiling: a window is filled as fast as --rate allows as soon as it
// has room (spreading the sends over the span would leave the last span of a run half
// used: measured, 0.97 of the allowance instead of 0.99 over 2,000 rows into 50/s, 0.82
// instead of 0.99 into 500 per 10 s). c.mu is held.
func (c *Controller) adjust(now time.Time) {
	c.adjusted = now
	c.sinceAdjust = 0
	c.stale = c.win.inFlight + len(c.win.pending)
	c.signal()
}

// initialMargin is the margin a span starts with: minMargin or marginShare of the span,
// whichever is more. The way's jitter needs none (the log keeps the answer less the
// shortest latency: a late arrival makes a late entry); the margin covers the way back's
// jitter and the clocks' resolution. c.mu is held.
func (c *Controller) initialMargin(span time.Duration) time.Duration {
	return max(minMargin, time.Duration(marginShare*float64(span)))
}

// clean notes a success in the window: a span that ran verifyAfter spans is proven. c.mu is
// held.

func (c *Controller) clean(now time.Time) {
	if c.mode == modeWindow && !c.verified && now.Sub(c.spanSet) >= verifyAfter*c.win.span {
		c.verified = true
	}
}
