//go:build linux || darwin

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/oppimport/oppimport/emulator"
)

// onTerminal runs oppimport args in a child process (the test binary, see TestMain) whose
// stdin, stdout and stderr are a pseudo-terminal 120 columns wide, and returns the screen
// it leaves: the lines as a terminal shows them once carriage returns and erases are
// applied.
func onTerminal(t *testing.T, args ...string) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	argv, _ := json.Marshal(args)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "OPPIMPORT_ARGS="+string(argv), "NO_COLOR=", "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 120, Rows: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	// A run that hangs is killed, and fails the test, instead of hanging it.
	hung := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer hung.Stop()
	var raw []byte
	buf := make([]byte, 4096)
	for {
		n, err := tty.Read(buf)
		raw = append(raw, buf[:n]...)
		if err != nil {
			// Linux answers EIO once the child has closed its side.
			if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "input/output error") {
				t.Fatal(err)
			}
			break
		}
	}
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatal(err)
		}
	}
	if !hung.Stop() {
		t.Fatalf("oppimport %v ran for more than 60s on the terminal:\n%s", args, raw)
	}
	return screen(string(raw))
}

var ansiColor = regexp.MustCompile(`^\x1b\[[0-9;]*m`)

// screen applies what a terminal does with \r (back to the line's start), ESC[K (erase to
// the line's end) and colours (nothing on the text) and returns the lines it shows.
func screen(raw string) []string {
	var lines []string
	var line []rune
	col := 0
	for i := 0; i < len(raw); {
		switch {
		case strings.HasPrefix(raw[i:], "\x1b[K"):
			line = line[:min(col, len(line))]
			i += 3
			continue
		case ansiColor.MatchString(raw[i:]):
			i += len(ansiColor.FindString(raw[i:]))
			continue
		}
		r := []rune(raw[i:])[0]
		i += len(string(r))
		switch r {
		case '\r':
			col = 0
		case '\n':
			lines = append(lines, string(line))
			line, col = nil, 0
		default:
			if col < len(line) {
				line[col] = r
			} else {
				line = append(line, r)
			}
			col++
		}
	}
	if len(line) > 0 {
		lines = append(lines, string(line))
	}
	return lines
}

var barLine = regexp.MustCompile(`^\d+% \[[= >]{20}\] \d+/\d+ rows`)

// On a terminal, warnings printed while the bar is live never share its line and leave no
// dead bar behind; a sync's bar counts what the sync did (updates, not creates).
func TestTerminalBarAndWarnings(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	t.Parallel()
	// 40 rows at 30ms, two at a time: the bar redraws (every 200ms) a few times among the warnings.
	srv, url := startEmulator(t, emulator.Options{Latency: 30 * time.Millisecond})
	dir := t.TempDir()
	mp := writeFile(t, dir, "m.yaml", `version: 1
key: ["Deal ID"]
fields:
  title:           { column: Title }
  responsibleid:   { value: 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41 }
  stageid:         { value: 1 }
  bidCurrencyAbbr: { value: EUR }
`)
	deals := func(suffix func(i int) string) string {
		var b strings.Builder
		b.WriteString("Deal ID,Title\n")
		for i := 1; i <= 40; i++ {
			title := fmt.Sprintf("Deal %d%s", i, suffix(i))
			if i%4 == 0 {
				title = "" // invalid: the title is required
			}
			fmt.Fprintf(&b, "D%d,%s\n", i, title)
		}
		return b.String()
	}
	in := writeFile(t, dir, "deals.csv", deals(func(int) string { return "" }))
	args := []string{"import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--concurrency", "2", "--rate", "1000",
		"--report", filepath.Join(dir, "r.csv"), "--rejects", filepath.Join(dir, "rej.csv"), in}

	check := func(name string, lines []string, want string) {
		t.Helper()
		var bars []string
		warnings := 0
		for _, l := range lines {
			if barLine.MatchString(l) {
				bars = append(bars, l)
			}
			if i := strings.Index(l, "warning: "); i >= 0 {
				warnings++
				if i > 0 || strings.Contains(l, "% ") {
					t.Errorf("%s: a warning shares a line with something else: %q", name, l)
				}
			}
		}
		if warnings != 10 {
			t.Errorf("%s: got %d warning lines, want 10:\n%s", name, warnings, strings.Join(lines, "\n"))
		}
		if len(bars) != 1 || !strings.Contains(bars[0], want) {
			t.Errorf("%s: got bar lines %q, want one, the final, showing %q:\n%s", name, bars, want, strings.Join(lines, "\n"))
		}
	}
	check("import", onTerminal(t, args...), "100% [====================] 40/40 rows: 30 created, 10 invalid")

	// The night's sync: 5 titles changed.
	writeFile(t, dir, "deals.csv", deals(func(i int) string {
		if i%8 == 1 {
			return " (renamed)"
		}
		return ""
	}))
	check("sync", onTerminal(t, append(args[:len(args)-1], "--mode", "sync", in)...), "100% [====================] 40/40 rows: 5 updated, 25 unchanged, 10 invalid")
}
