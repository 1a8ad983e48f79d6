package progress

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Handler is the slog handler for a person at a terminal: each record is one sentence,
//
//	warning: row 19 invalid: column "Deal Name" (title): is required
//	took over the lock of a run that died (state: deals.state.db, run: 3, pid: 4242)
//
// the level as a word before it (none for info), a "row" attribute before the message
// (the record of Warn("invalid", "row", 19, ...)), an "error" attribute after a colon, the
// other attributes in brackets, no time and no quoting. It writes each record with one
// Write, which a Terminal prints above its bar. Safe for concurrent use.
type Handler struct {
	w     *Terminal
	level slog.Leveler
	attrs []slog.Attr
	group string // prefix of the keys of attributes added later, "a.b."
}

// NewHandler returns a Handler writing to t the records at level or above.
func NewHandler(t *Terminal, level slog.Leveler) *Handler {
	return &Handler{w: t, level: level}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(h.attrs[:len(h.attrs):len(h.attrs)], prefixed(h.group, as)...)
	return &c
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group = h.group + name + "."
	return &c
}

func prefixed(group string, as []slog.Attr) []slog.Attr {
	if group == "" {
		return as
	}
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = slog.Attr{Key: group + a.Key, Value: a.Value}
	}
	return out
}

// Handle implements slog.Handler.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	color := h.w.Color()
	switch {
	case r.Level >= slog.LevelError:
		b.WriteString(paint(color, "\x1b[31m", "error: "))
	case r.Level >= slog.LevelWarn:
		b.WriteString(paint(color, "\x1b[33m", "warning: "))
	case r.Level < slog.LevelInfo:
		b.WriteString("debug: ")
	}
	var errText, row string
	var rest []string
	add := func(a slog.Attr) {
		a.Value = a.Value.Resolve()
		if a.Equal(slog.Attr{}) {
			return
		}
		if a.Value.Kind() == slog.KindGroup {
			for _, g := range a.Value.Group() {
				rest = append(rest, a.Key+"."+g.Key+": "+show(g.Value))
			}
			return
		}
		if a.Key == "error" && errText == "" {
			errText = show(a.Value)
			return
		}
		if a.Key == "row" && row == "" {
			row = show(a.Value)
			return
		}
		rest = append(rest, a.Key+": "+show(a.Value))
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(func(a slog.Attr) bool {
		add(slog.Attr{Key: h.group + a.Key, Value: a.Value})
		return true
	})
	if row != "" {
		b.WriteString("row " + row + " ")
	}
	b.WriteString(r.Message)
	if errText != "" {
		b.WriteString(": ")
		b.WriteString(errText)
	}
	if len(rest) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(rest, ", "))
		b.WriteString(")")
	}
	b.WriteByte('\n')
	_, err := h.w.Write([]byte(b.String()))
	return err
}

// show writes a value as a person reads it: durations rounded, times in the local zone.
func show(v slog.Value) string {
	switch v.Kind() {
	case slog.KindDuration:
		return Measured(v.Duration()).String()
	case slog.KindTime:
		return v.Time().Local().Format("2006-01-02 15:04:05")
	case slog.KindFloat64:
		return fmt.Sprintf("%.4g", v.Float64())
	}
	return v.String()
}

// Measured rounds a duration to what reads as measured: 444ms and 357ms stay apart, 12.34s,
// 2m3s.
func Measured(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d
}

func paint(color bool, code, s string) string {
	if !color {
		return s
	}
	return code + s + "\x1b[0m"
}
