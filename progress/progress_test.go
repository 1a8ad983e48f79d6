package progress

import (
	"bytes"
	"encoding/json"
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

// syncBuffer is a bytes.Buffer safe for the logger's goroutine and the test.
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

func TestNever(t *testing.T) {
	for _, term := range []bool{false, true} {
		var out, logs syncBuffer
		b := New(&out, "never", term, 100, jsonLogger(&logs), Interval(time.Millisecond))
		for i := range int64(100) {
			b.Update(Counts{Done: i + 1, Created: i + 1})
		}
		time.Sleep(20 * time.Millisecond)
		b.Finish()
		if out.String() != "" || logs.String() != "" {
			t.Errorf("terminal %v: never wrote %q and logged %q", term, out.String(), logs.String())
		}
	}
}

func TestAutoNoTerminalLogs(t *testing.T) {
	var out, logs syncBuffer
	b := New(&out, "auto", false, 1000, jsonLogger(&logs), Interval(10*time.Millisecond))
	b.Update(Counts{Done: 300, Created: 290, Failed: 4, Invalid: 6})
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(logs.String(), "\n") < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	b.Finish()
	if out.String() != "" {
		t.Errorf("auto on no terminal wrote %q to the bar's writer", out.String())
	}
	text := logs.String()
	if strings.Contains(text, "\r") {
		t.Errorf("log holds a carriage return: %q", text)
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) < 2 {
		t.Fatalf("got %d log lines within 5s at a 10ms interval, want at least 2:\n%s", len(lines), text)
	}
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

	// Finish stopped the ticker: no line comes after it.
	n := len(logs.String())
	time.Sleep(50 * time.Millisecond)
	if len(logs.String()) != n {
		t.Errorf("a log line came after Finish")
	}
}

func TestAlwaysDrawsBar(t *testing.T) {
	var out, logs syncBuffer
	b := New(&out, "always", false, 10, jsonLogger(&logs))
	b.Update(Counts{Done: 3, Created: 2, Invalid: 1})
	b.Update(Counts{Done: 4, Created: 3, Invalid: 1}) // within the throttle: not drawn
	b.Update(Counts{Done: 10, Created: 9, Invalid: 1})
	b.Finish()
	got := out.String()
	for _, want := range []string{"\r", "3/10 rows: 2 created, 1 invalid", "10/10 rows: 9 created, 1 invalid", "100%"} {
		if !strings.Contains(got, want) {
			t.Errorf("bar output lacks %q:\n%q", want, got)
		}
	}
	if strings.Contains(got, "4/10") {
		t.Errorf("an update within the throttle was drawn:\n%q", got)
	}
	if !strings.HasSuffix(got, "\n") {
		t.Errorf("bar output does not end with a newline:\n%q", got)
	}
	if logs.String() != "" {
		t.Errorf("always mode logged %q", logs.String())
	}
}

func TestTerminalStoppedShort(t *testing.T) {
	var out syncBuffer
	b := New(&out, "auto", true, 100, nil)
	b.Update(Counts{Done: 40, Created: 40})
	b.Finish()
	b.Finish() // a second call does nothing
	got := out.String()
	if strings.Contains(got, "100%") {
		t.Errorf("a run stopped at 40 of 100 shows a full bar:\n%q", got)
	}
	if !strings.Contains(got, "40%") || !strings.HasSuffix(got, "\n") {
		t.Errorf("want the bar at 40%% and a final newline:\n%q", got)
	}
}

func TestSpinnerWhenTotalUnknown(t *testing.T) {
	for _, total := range []int64{0, -1} {
		var out syncBuffer
		b := New(&out, "always", false, total, nil)
		b.Update(Counts{Done: 7, Created: 7})
		time.Sleep(250 * time.Millisecond) // the spinner turns on its own
		b.Finish()
		got := out.String()
		if !strings.Contains(got, "7 rows: 7 created") || strings.Contains(got, "%") {
			t.Errorf("total %d: want a spinner with the counts, no percentage:\n%q", total, got)
		}
		// goleak in TestMain proves the spinner's goroutine ended.
	}
}

func TestBytes(t *testing.T) {
	var out syncBuffer
	b := New(&out, "always", true, 1000, nil, InBytes())
	b.Update(Counts{Done: 5, Created: 5, Bytes: 500})
	b.Finish()
	got := out.String()
	if !strings.Contains(got, "50%") || !strings.Contains(got, "5 rows: 5 created") {
		t.Errorf("want 50%% by bytes and the row count:\n%q", got)
	}
}

func TestUpdateAllocatesNothingWithoutBar(t *testing.T) {
	var logs syncBuffer
	b := New(&bytes.Buffer{}, "auto", false, 100, jsonLogger(&logs))
	defer b.Finish()
	c := Counts{Done: 1}
	if n := testing.AllocsPerRun(1000, func() { c.Done++; b.Update(c) }); n != 0 {
		t.Errorf("Update allocates %v times per call, want 0", n)
	}
}
