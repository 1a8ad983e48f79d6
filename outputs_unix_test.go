//go:build unix

package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/oppimport/oppimport/emulator"
)

// A report that cannot be written stops the run: no new row starts, exit 3, and the state
// keeps every id, so that the next run creates only the rest, none twice.
func TestReportWriteFailureStops(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	// The report fails at its first flush to the pipe after the reader left: a second or two
	// in, at --rate 20 some 20 to 40 rows of the 120, which take six seconds at that rate
	// (report's TestWriteFailsOnceTheBufferIsFull: a full buffer fails the same way).
	const rows = 120
	var b strings.Builder
	b.WriteString("Title\n")
	for i := range rows {
		fmt.Fprintf(&b, "Deal %04d\n", i)
	}
	in := writeFile(t, dir, "deals.csv", b.String())
	mp := writeFile(t, dir, "m.yaml", keyedTitleMapping)
	// The report is a pipe whose reader leaves after the header: every later write fails,
	// as on a full disk.
	fifo := filepath.Join(dir, "r.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			done <- err
			return
		}
		_, err = bufio.NewReader(f).ReadString('\n')
		f.Close()
		done <- err
	}()
	res := runCmd(t, "import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--progress", "never",
		"--rate", "20", "--report", fifo, in)
	if err := <-done; err != nil {
		t.Fatalf("the pipe's reader: %v", err)
	}
	if res.code != exitStopped {
		t.Fatalf("exit %d, want 3:\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "the report could not be written") {
		t.Errorf("stderr does not say why the run stopped:\n%s", res.stderr)
	}
	posted := len(srv.Opportunities())
	if posted == 0 || posted >= rows {
		t.Fatalf("the portal holds %d deals, want some but not all %d: the run went on after the report failed", posted, rows)
	}
	os.Remove(fifo)
	res = runCmd(t, "import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--progress", "never",
		"--rate", "1000", "--report", fifo, in)
	if res.code != exitOK {
		t.Fatalf("the second run: exit %d, want 0:\n%s", res.code, res.stderr)
	}
	created, skipped := 0, 0
	for _, r := range readReport(t, fifo)[1:] {
		switch r[2] {
		case "created":
			created++
		case "skipped":
			skipped++
		}
	}
	if created != rows-posted || skipped != posted {
		t.Errorf("the second run created %d and skipped %d, want %d and %d", created, skipped, rows-posted, posted)
	}
	if n := len(srv.Opportunities()); n != rows {
		t.Errorf("the portal holds %d deals, want %d: a row was created twice or never", n, rows)
	}
}
