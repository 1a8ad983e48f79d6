// Package progress shows how far a run is: a bar on a terminal, a plain log line at an
// interval otherwise (cron, CI, a redirected stderr), where a bar's carriage returns
// would pile up as noise.
package progress

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Counts is where a run stands.
type Counts struct {
	Done    int64 // rows with an outcome
	Created int64
	Failed  int64
	Invalid int64
	Bytes   int64 // input bytes read; fills the bar when the Bar counts in bytes (InBytes)
}

// Option adjusts a Bar.
type Option func(*Bar)

// Interval sets how often the plain log line is written when no bar is drawn; the
// default is 10 seconds.
func Interval(d time.Duration) Option {
	return func(b *Bar) {
		if d > 0 {
			b.interval = d
		}
	}
}

// InBytes makes total the input's size in bytes and fills the bar by Counts.Bytes: the
// way to a percentage and an ETA when the number of rows is not known in advance (the
// reader's Progress gives both numbers).
func InBytes() Option {
	return func(b *Bar) { b.bytes = true }
}

// Word names what Counts.Created counts, in the bar and the log line: "created" unless
// set (an undo counts what it undid).
func Word(w string) Option {
	return func(b *Bar) {
		if w != "" {
			b.word = w
		}
	}
}

// throttle is the least time between two redraws of the bar.
const throttle = 150 * time.Millisecond

// Bar shows a run's progress. Update is called from one goroutine (the run's result
// sink); Finish once, when the run is over, from any goroutine after the last Update.
type Bar struct {
	w        io.Writer
	logger   *slog.Logger
	total    int64 // rows, or bytes with InBytes; <= 0 = unknown
	bytes    bool
	word     string // what Counts.Created counts
	interval time.Duration
	start    time.Time

	// drawing
	bar      *progressbar.ProgressBar
	lastDraw time.Time
	desc     []byte

	// logging: Update stores, the ticker goroutine reads
	counts   [5]atomic.Int64 // Done Created Failed Invalid Bytes
	stop     chan struct{}
	stopped  chan struct{}
	finished sync.Once
}

// New starts showing progress on w. mode is "auto" (a bar when isTerminal, otherwise a
// log line through logger every 10 seconds), "always" (the bar even when w is no
// terminal) or "never" (nothing); anything else counts as "auto". total is the number
// of rows expected (bytes with InBytes); 0 or less when unknown, which shows a spinner
// instead of a bar. A nil logger is slog.Default().
//
// In auto mode on no terminal, New starts a goroutine that Finish stops.
func New(w io.Writer, mode string, isTerminal bool, total int64, logger *slog.Logger, opts ...Option) *Bar {
	if logger == nil {
		logger = slog.Default()
	}
	b := &Bar{w: w, logger: logger, total: total, word: "created", interval: 10 * time.Second, start: time.Now()}
	for _, o := range opts {
		o(b)
	}
	switch {
	case mode == "never":
	case mode == "always" || isTerminal:
		b.bar = b.newBar()
	default:
		b.stop = make(chan struct{})
		b.stopped = make(chan struct{})
		go b.logEvery()
	}
	return b
}

func (b *Bar) newBar() *progressbar.ProgressBar {
	max := b.total
	if max <= 0 {
		max = -1 // the library's "length unknown": a spinner
	}
	return progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(b.w),
		// Only ever built to be seen: the caller decided (terminal, or "always").
		progressbar.OptionSetVisibility(true),
		// The Bar throttles itself, so that the description is built once per redraw.
		progressbar.OptionThrottle(0),
		progressbar.OptionSetPredictTime(max > 0),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetWidth(20),
	)
}

// Update records where the run stands and, on a terminal, redraws the bar at most every
// 150 ms. It allocates nothing unless it redraws.
func (b *Bar) Update(c Counts) {
	b.counts[0].Store(c.Done)
	b.counts[1].Store(c.Created)
	b.counts[2].Store(c.Failed)
	b.counts[3].Store(c.Invalid)
	b.counts[4].Store(c.Bytes)
	if b.bar == nil {
		return
	}
	now := time.Now()
	if now.Sub(b.lastDraw) < throttle {
		return
	}
	b.lastDraw = now
	b.draw(c, now)
}

func (b *Bar) draw(c Counts, now time.Time) {
	n := c.Done
	if b.bytes {
		n = c.Bytes
	}
	if b.total > 0 {
		// Never at or past the end before Finish: the library would mark the bar done.
		n = min(n, b.total-1)
	}
	// Describe redraws; Set64 redraws only when the percentage changes, so most
	// updates write the line once.
	b.bar.Describe(b.describe(c, now))
	b.bar.Set64(max(n, 0))
}

// describe builds "120/300 rows, 24/s: 118 created, 1 failed, 1 invalid ", short enough
// for the bar to fit an 80-column terminal: failed and invalid only once there are any,
// and the rate once a second has passed.
func (b *Bar) describe(c Counts, now time.Time) string {
	d := b.desc[:0]
	d = strconv.AppendInt(d, c.Done, 10)
	if b.total > 0 && !b.bytes {
		d = append(d, '/')
		d = strconv.AppendInt(d, b.total, 10)
	}
	d = append(d, " rows"...)
	if elapsed := now.Sub(b.start); elapsed >= time.Second {
		d = append(d, ", "...)
		d = strconv.AppendFloat(d, rate(c.Done, elapsed), 'f', 0, 64)
		d = append(d, "/s"...)
	}
	d = append(d, ": "...)
	d = strconv.AppendInt(d, c.Created, 10)
	d = append(d, ' ')
	d = append(d, b.word...)
	if c.Failed > 0 {
		d = append(d, ", "...)
		d = strconv.AppendInt(d, c.Failed, 10)
		d = append(d, " failed"...)
	}
	if c.Invalid > 0 {
		d = append(d, ", "...)
		d = strconv.AppendInt(d, c.Invalid, 10)
		d = append(d, " invalid"...)
	}
	d = append(d, ' ')
	b.desc = d
	return string(d)
}

func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// logEvery writes a progress line every interval until Finish.
func (b *Bar) logEvery() {
	defer close(b.stopped)
	t := time.NewTicker(b.interval)
	defer t.Stop()
	lastDone, last := int64(0), b.start
	for {
		select {
		case <-b.stop:
			return
		case now := <-t.C:
			done := b.counts[0].Load()
			b.log(done, rate(done-lastDone, now.Sub(last)))
			lastDone, last = done, now
		}
	}
}

// log writes one progress line; rate is rows per second over the last interval.
func (b *Bar) log(done int64, rowsPerSecond float64) {
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, slog.Int64("done", done))
	if b.total > 0 && !b.bytes {
		attrs = append(attrs, slog.Int64("total", b.total))
	}
	attrs = append(attrs,
		slog.Int64(b.word, b.counts[1].Load()),
		slog.Int64("failed", b.counts[2].Load()),
		slog.Int64("invalid", b.counts[3].Load()),
		slog.Float64("rate", math.Round(rowsPerSecond*10)/10),
	)
	if b.total > 0 {
		n := done
		if b.bytes {
			n = b.counts[4].Load()
		}
		attrs = append(attrs, slog.Float64("percent", math.Round(float64(n)*1000/float64(b.total))/10))
		if r := rate(n, time.Since(b.start)); r > 0 && n < b.total {
			eta := time.Duration(float64(b.total-n) / r * float64(time.Second))
			attrs = append(attrs, slog.Duration("eta", eta.Round(time.Second)))
		}
	}
	b.logger.LogAttrs(context.Background(), slog.LevelInfo, "progress", attrs...)
}

// Finish stops the progress display. A bar is drawn one last time with the final
// counts and ends with a newline, so what follows starts on a line of its own; the bar
// is full only when the run got to the end (total reached, or total unknown). The log
// goroutine is stopped and waited for. Later calls do nothing.
func (b *Bar) Finish() {
	b.finished.Do(func() {
		if b.stop != nil {
			close(b.stop)
			<-b.stopped
		}
		if b.bar == nil {
			return
		}
		c := Counts{
			Done: b.counts[0].Load(), Created: b.counts[1].Load(), Failed: b.counts[2].Load(),
			Invalid: b.counts[3].Load(), Bytes: b.counts[4].Load(),
		}
		n := c.Done
		if b.bytes {
			n = c.Bytes
		}
		b.bar.Describe(b.describe(c, time.Now()))
		if b.total > 0 && n < b.total {
			// Stopped short: show where it stopped, not a full bar. Exit keeps the
			// library from drawing again.
			b.bar.Set64(max(n, 0))
			b.bar.Exit()
		} else {
			// Finish marks the bar done, which also ends the spinner's own goroutine.
			b.bar.Finish()
		}
		io.WriteString(b.w, "\n")
	})
}
