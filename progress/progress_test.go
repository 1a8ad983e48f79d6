package progress

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// syncBuffer is a bytes.Buffer safe for the bar's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func jsonLogger(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, nil))
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5s for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func add(b *Bar, outcome string, n int) {
	for range n {
		b.Add(outcome)
	}
}

func TestNever(t *testing.T) {
	t.Parallel()
	for _, tty := range []bool{false, true} {
		var out, logs syncBuffer
		b := New(NewTerminal(&out, tty, false, nil), "never", 100, jsonLogger(&logs), Interval(time.Millisecond))
		add(b, "created", 100)
		b.Finish()
		if out.String() != "" || logs.String() != "" {
			t.Errorf("terminal %v: never wrote %q and logged %q", tty, out.String(), logs.String())
		}
	}
}

func TestAutoNoTerminalLogs(t *testing.T) {
	t.Parallel()
	var out, logs syncBuffer
	b := New(NewTerminal(&out, false, false, nil), "auto", 1000, jsonLogger(&logs), Interval(10*time.Millisecond))
	add(b, "created", 290)
	add(b, "failed", 4)
	add(b, "invalid", 6)
	waitFor(t, "two log lines", func() bool { return strings.Count(logs.String(), "\n") >= 2 })
	b.Finish()
	if out.String() != "" {
		t.Errorf("auto on no terminal wrote %q to the terminal", out.String())
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"msg": "progress", "done": 300.0, "total": 1000.0, "created": 290.0,
		"failed": 4.0, "invalid": 6.0, "percent": 30.0}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("log field %s = %v, want %v (line %s)", k, first[k], v, lines[0])
		}
	}
	for _, k := range []string{"rate", "eta"} {
		if _, ok := first[k]; !ok {
			t.Errorf("log line has no %s: %s", k, lines[0])
		}
	}
	// Finish waited for the goroutine (goleak in TestMain proves it ended): nothing more.
	n := len(logs.String())
	b.Finish()
	if len(logs.String()) != n {
		t.Errorf("a log line came after Finish")
	}
}

func TestBarOnTerminal(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	term := NewTerminal(&out, true, false, func() int { return 200 })
	b := New(term, "auto", 10, nil)
	add(b, "created", 2)
	add(b, "updated", 3)
	add(b, "invalid", 1)
	waitFor(t, "the bar", func() bool { return strings.Contains(out.String(), "6/10 rows") })
	add(b, "unchanged", 4)
	b.Finish()
	got := out.String()
	for _, want := range []string{"\r\x1b[K", "60% [===========>        ] 6/10 rows: 2 created, 3 updated, 1 invalid",
		"100% [====================] 10/10 rows: 2 created, 3 updated, 4 unchanged, 1 invalid"} {
		if !strings.Contains(got, want) {
			t.Errorf("bar output lacks %q:\n%q", want, got)
		}
	}
	if !strings.HasSuffix(got, "\n") {
		t.Errorf("bar output does not end with a newline:\n%q", got)
	}
}

func TestStoppedShort(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	b := New(NewTerminal(&out, true, false, nil), "auto", 100, nil)
	add(b, "created", 40)
	b.Finish()
	b.Finish() // a second call does nothing
	got := out.String()
	if strings.Contains(got, "100%") || !strings.Contains(got, "40% [=======>            ] 40/100 rows") || !strings.HasSuffix(got, "\n") {
		t.Errorf("want the bar at 40%% and a final newline:\n%q", got)
	}
}

func TestTotalUnknown(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	b := New(NewTerminal(&out, true, false, nil), "always", 0, nil)
	add(b, "created", 7)
	b.Finish()
	if got := out.String(); !strings.Contains(got, "7 rows: 7 created") || strings.Contains(got, "%") {
		t.Errorf("want the counts and no percentage:\n%q", got)
	}
}

func TestAlwaysWithoutTerminal(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	b := New(NewTerminal(&out, false, false, nil), "always", 5, nil)
	add(b, "created", 5)
	b.Finish()
	if got, want := out.String(), "100% [====================] 5/5 rows: 5 created\n"; got != want {
		t.Errorf("got %q, want only the final line %q", got, want)
	}
}

// A log line under a live bar clears the bar's line, prints, and draws the bar again below.
func TestLogAboveBar(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	term := NewTerminal(&out, true, false, nil)
	term.SetStatus("[bar] 3/10 rows")
	log := slog.New(NewHandler(term, slog.LevelInfo))
	log.Warn("invalid", "row", 19, "error", `column "Deal Name" (title): is required`)
	term.SetStatus("[bar] 4/10 rows")
	term.Keep()
	want := "\r\x1b[K[bar] 3/10 rows" +
		"\r\x1b[Kwarning: row 19 invalid: column \"Deal Name\" (title): is required\n[bar] 3/10 rows" +
		"\r\x1b[K[bar] 4/10 rows\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		color bool
		log   func(*slog.Logger)
		want  string
	}{
		{"info", false, func(l *slog.Logger) { l.Info("settled", "found_on_portal", 2) }, "settled (found_on_portal: 2)\n"},
		{"warning", false, func(l *slog.Logger) { l.Warn("row 3 failed", "error", errors.New("HTTP 500")) }, "warning: row 3 failed: HTTP 500\n"},
		{"error coloured", true, func(l *slog.Logger) { l.Error("writing", "path", "r.csv") }, "\x1b[31merror: \x1b[0mwriting (path: r.csv)\n"},
		{"debug hidden", false, func(l *slog.Logger) { l.Debug("retrying") }, ""},
		{"duration rounded", false, func(l *slog.Logger) { l.Info("done", "elapsed", 444444*time.Microsecond) }, "done (elapsed: 444ms)\n"},
		{"with attrs and group", false, func(l *slog.Logger) { l.With("run", 3).WithGroup("g").Info("x", "a", "b") }, "x (run: 3, g.a: b)\n"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		tt.log(slog.New(NewHandler(NewTerminal(&out, true, tt.color, nil), slog.LevelInfo)))
		if got := out.String(); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFitsTheWidth(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	term := NewTerminal(&out, true, true, func() int { return 30 })
	term.SetStatus(strings.Repeat("x", 25) + "\x1b[31m12345678\x1b[0m")
	want := "\r\x1b[K" + strings.Repeat("x", 25) + "\x1b[31m1234\x1b[0m"
	if got := out.String(); got != want {
		t.Errorf("got %q, want %q (29 columns shown, the colour closed)", got, want)
	}
}

func TestLeft(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{3 * time.Second, "a few seconds left"},
		{44 * time.Second, "about 40 s left"},
		{46 * time.Second, "about 50 s left"},
		{100 * time.Second, "about 2 min left"},
		{150 * time.Minute, "about 2 h 30 min left"},
	} {
		if got := Left(tt.d); got != tt.want {
			t.Errorf("Left(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
