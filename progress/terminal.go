package progress

import (
	"bytes"
	"io"
	"sync"
	"unicode/utf8"
)

// Terminal is a process's stderr, shared by the log and a status line (the bar) drawn under
// it, in the way of restic's termstatus: on a terminal, a log line clears the status line,
// is printed, and the status line is drawn again below it, so that a warning never shares
// the bar's line and no dead bar is left behind. Elsewhere it passes log lines through and
// draws nothing. Safe for concurrent use.
type Terminal struct {
	mu     sync.Mutex
	w      io.Writer
	tty    bool
	color  bool
	width  func() int
	status string // the status line shown, "" none
	buf    []byte
}

// NewTerminal wraps w. tty says whether w is a terminal (status lines are drawn only then);
// color whether it may be written in colour (a terminal, and NO_COLOR unset). width gives
// the terminal's width in columns (nil, or a result below 20: 80); a status line is cut to
// fit it, since a line that wraps can no longer be cleared.
func NewTerminal(w io.Writer, tty, color bool, width func() int) *Terminal {
	return &Terminal{w: w, tty: tty, color: color && tty, width: width}
}

// IsTerminal reports whether status lines are drawn.
func (t *Terminal) IsTerminal() bool { return t.tty }

// Color reports whether colour may be written.
func (t *Terminal) Color() bool { return t.color }

// clearLine moves to the start of the line and erases it.
const clearLine = "\r\x1b[K"

// Write prints p, whole lines as a logger writes them, above the status line.
func (t *Terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.tty || t.status == "" {
		return t.w.Write(p)
	}
	b := append(t.buf[:0], clearLine...)
	b = append(b, p...)
	if len(p) > 0 && p[len(p)-1] != '\n' {
		b = append(b, '\n')
	}
	b = append(b, t.status...)
	t.buf = b
	if _, err := t.w.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

// SetStatus draws line as the status line, replacing the one shown; "" removes it. On no
// terminal it does nothing. line must hold no newline.
func (t *Terminal) SetStatus(line string) {
	if !t.tty {
		return
	}
	line = t.fit(line)
	t.mu.Lock()
	defer t.mu.Unlock()
	if line == t.status {
		return
	}
	t.status = line
	io.WriteString(t.w, clearLine+line)
}

// Keep ends the status line where it stands: it stays on the screen, and what is written
// next starts on a line of its own.
func (t *Terminal) Keep() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status != "" {
		io.WriteString(t.w, "\n")
		t.status = ""
	}
}

// fit cuts line to the terminal's width less one column, counting the characters that
// show (not the colour escapes).
func (t *Terminal) fit(line string) string {
	w := 80
	if t.width != nil {
		if n := t.width(); n >= 20 {
			w = n
		}
	}
	w-- // the cursor's column: a line of the full width wraps on some terminals
	if utf8.RuneCountInString(line) <= w {
		return line
	}
	var b bytes.Buffer
	shown, esc := 0, false
	for _, r := range line {
		switch {
		case esc:
			b.WriteRune(r)
			if r == 'm' {
				esc = false
			}
			continue
		case r == '\x1b':
			esc = true
			b.WriteRune(r)
			continue
		}
		if shown < w {
			b.WriteRune(r)
			shown++
		}
	}
	return b.String()
}
