// Package progress shows how far a run is and carries its messages to the user: a bar on a
// terminal, under the log (Terminal), a plain log line at an interval otherwise (cron, CI, a
// redirected stderr), where a bar's carriage returns would pile up as noise; and the log
// handler that writes sentences on a terminal (Handler).
package progress

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

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

// Outcomes sets the order in which the bar and the log line list the outcomes counted by
// Add; an outcome not listed comes after, in the order first seen. The default is the
// import's: created, updated, unchanged, skipped, valid, invalid, failed.
func Outcomes(words ...string) Option {
	return func(b *Bar) { b.order = words }
}

// Import's outcomes, in the report's order.
var importOutcomes = []string{"created", "updated", "unchanged", "skipped", "valid", "invalid", "failed"}

// redraw is how often the bar is drawn again: its counts, rate and time left.
const redraw = 200 * time.Millisecond

// Bar shows a run's progress. Add is called from one goroutine (the run's result sink),
// Finish once when the run is over, after the last Add; Add and the drawing goroutine
// share the counts under a lock.
type Bar struct {
	term     *Terminal
	logger   *slog.Logger
	total    int64 // rows expected; <= 0 unknown
	order    []string
	interval time.Duration
	start    time.Time
	draw     bool                     // a bar on the terminal; else log lines, or nothing
	gauge    *progressbar.ProgressBar // draws the gauge and percentage when total is known

	mu     sync.Mutex
	done   int64
	counts []int64 // by index in order

	stop     chan struct{}
	stopped  chan struct{}
	finished sync.Once
}

// New starts showing progress on t. mode is "auto" (a bar when t is a terminal, otherwise a
// log line through logger every 10 seconds), "always" (the bar even when t is no
// terminal... which then draws nothing but the final line), or "never" (nothing); anything
// else counts as "auto". total is the number of rows expected, 0 or less when unknown (no
// bar then: counts and rate alone). A nil logger is slog.Default().
//
// Unless mode is "never", New starts a goroutine that Finish stops.
func New(t *Terminal, mode string, total int64, logger *slog.Logger, opts ...Option) *Bar {
	if logger == nil {
		logger = slog.Default()
	}
	b := &Bar{term: t, logger: logger, total: total, order: importOutcomes, interval: 10 * time.Second, start: time.Now()}
	for _, o := range opts {
		o(b)
	}
	b.counts = make([]int64, len(b.order), len(b.order)+4)
	if total > 0 {
		// progressbar renders the gauge into its own state (String), never to the screen:
		// the Terminal owns the line, so that a log line can clear it and draw it again.
		b.gauge = progressbar.NewOptions64(total, progressbar.OptionSetWriter(io.Discard),
			progressbar.OptionSetWidth(gaugeWidth), progressbar.OptionThrottle(0),
			progressbar.OptionSetElapsedTime(false), progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetTheme(progressbar.Theme{Saucer: "=", SaucerHead: ">", SaucerPadding: " ", BarStart: "[", BarEnd: "]"}))
	}
	switch {
	case mode == "never":
		return b
	case t.IsTerminal():
		b.draw = true
	case mode == "always":
		// No terminal to draw on: the bar's final line is written by Finish.
		b.draw = true
		return b
	}
	b.stop = make(chan struct{})
	b.stopped = make(chan struct{})
	go b.loop()
	return b
}

// Add counts one row's outcome (a report status).
func (b *Bar) Add(outcome string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done++
	for i, w := range b.order {
		if w == outcome {
			b.counts[i]++
			return
		}
	}
	b.order = append(b.order[:len(b.order):len(b.order)], outcome)
	b.counts = append(b.counts, 1)
}

// loop draws the bar, or writes the log line, until Finish.
func (b *Bar) loop() {
	defer close(b.stopped)
	every := b.interval
	if b.draw {
		every = redraw
		b.term.SetStatus(b.line(time.Now()))
	}
	t := time.NewTicker(every)
	defer t.Stop()
	lastDone, last := int64(0), b.start
	for {
		select {
		case <-b.stop:
			return
		case now := <-t.C:
			if b.draw {
				b.term.SetStatus(b.line(now))
				continue
			}
			b.mu.Lock()
			done := b.done
			b.mu.Unlock()
			b.log(done, rate(done-lastDone, now.Sub(last)))
			lastDone, last = done, now
		}
	}
}

// gaugeWidth is the gauge's width in characters.
const gaugeWidth = 20

// line is the bar, e.g.
//
//	45% [========>           ] 135/300 rows: 120 created, 3 invalid, 2 failed · 24 rows/s · about 7 s left
func (b *Bar) line(now time.Time) string {
	b.mu.Lock()
	done := b.done
	parts := make([]string, 0, len(b.order))
	for i, w := range b.order {
		if n := b.counts[i]; n > 0 {
			parts = append(parts, b.paint(w, strconv.FormatInt(n, 10)+" "+w))
		}
	}
	b.mu.Unlock()

	var s strings.Builder
	if b.gauge != nil {
		_ = b.gauge.Set64(min(done, b.total)) // renders to io.Discard: no error to have
		s.WriteString(strings.TrimSpace(b.gauge.String()))
		fmt.Fprintf(&s, " %d/%d rows", done, b.total)
	} else {
		fmt.Fprintf(&s, "%d rows", done)
	}
	if len(parts) > 0 {
		s.WriteString(": ")
		s.WriteString(strings.Join(parts, ", "))
	}
	elapsed := now.Sub(b.start)
	if elapsed >= time.Second && done > 0 {
		r := rate(done, elapsed)
		fmt.Fprintf(&s, " · %s rows/s", strconv.FormatFloat(r, 'f', 0, 64))
		if b.total > done && elapsed >= 2*time.Second {
			s.WriteString(" · ")
			s.WriteString(Left(time.Duration(float64(b.total-done) / r * float64(time.Second))))
		}
	}
	return s.String()
}

// paint colours the count of failed rows red and of invalid ones yellow, on a terminal that
// takes colour.
func (b *Bar) paint(outcome, text string) string {
	if !b.term.Color() {
		return text
	}
	switch outcome {
	case "failed":
		return "\x1b[31m" + text + "\x1b[0m"
	case "invalid":
		return "\x1b[33m" + text + "\x1b[0m"
	}
	return text
}

// Left words the time left so that it reads at a glance and does not swing with every
// row: "a few seconds left", "about 40 s left", "about 3 min left", "about 2 h 10 min left".
func Left(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return "a few seconds left"
	case d < time.Minute:
		return fmt.Sprintf("about %d s left", int(math.Round(d.Seconds()/10))*10)
	case d < 90*time.Minute:
		return fmt.Sprintf("about %d min left", max(1, int(math.Round(d.Minutes()))))
	}
	h := int(d.Hours())
	return fmt.Sprintf("about %d h %d min left", h, int(d.Minutes())-60*h)
}

func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// log writes one progress line; rowsPerSecond is over the last interval.
func (b *Bar) log(done int64, rowsPerSecond float64) {
	attrs := make([]slog.Attr, 0, 12)
	attrs = append(attrs, slog.Int64("done", done))
	if b.total > 0 {
		attrs = append(attrs, slog.Int64("total", b.total))
	}
	b.mu.Lock()
	for i, w := range b.order {
		if b.counts[i] > 0 || w == "failed" || w == "invalid" {
			attrs = append(attrs, slog.Int64(w, b.counts[i]))
		}
	}
	b.mu.Unlock()
	attrs = append(attrs, slog.Float64("rate", math.Round(rowsPerSecond*10)/10))
	if b.total > 0 {
		attrs = append(attrs, slog.Float64("percent", math.Round(float64(done)*1000/float64(b.total))/10))
		if r := rate(done, time.Since(b.start)); r > 0 && done < b.total {
			eta := time.Duration(float64(b.total-done) / r * float64(time.Second))
			attrs = append(attrs, slog.Duration("eta", eta.Round(time.Second)))
		}
	}
	b.logger.LogAttrs(context.Background(), slog.LevelInfo, "progress", attrs...)
}

// Finish stops the progress display. A bar is drawn one last time with the final counts and
// kept on the screen, so that what follows starts on a line of its own; it is full only when
// the run got to the end (total reached, or total unknown). The goroutine is stopped and
// waited for. Later calls do nothing.
func (b *Bar) Finish() {
	b.finished.Do(func() {
		if b.stop != nil {
			close(b.stop)
			<-b.stopped
		}
		if !b.draw {
			return
		}
		line := b.line(time.Now())
		if !b.term.IsTerminal() {
			b.term.Write([]byte(line + "\n"))
			return
		}
		b.term.SetStatus(line)
		b.term.Keep()
	})
}
