//go:build unix

package report

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A report whose file stops taking writes (a pipe whose reader left, as a full disk would)
// says so from Write as soon as its 64 KiB buffer is full, not only at Close a whole run
// later: the command stops the run on that error (the root's TestReportWriteFailureStops).
func TestWriteFailsOnceTheBufferIsFull(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "r.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	left := make(chan error, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			left <- err
			return
		}
		_, err = bufio.NewReader(f).ReadString('\n') // the header, written at once
		f.Close()
		left <- err
	}()
	w, err := NewWriter(fifo) // opens once the reader has, and writes the header
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(Summary{})
	if err := <-left; err != nil {
		t.Fatalf("the pipe's reader: %v", err)
	}
	const titleLen = 1000
	r := Result{Row: 2, Status: "created", OpportunityID: 7, Attempts: 1, HTTPStatus: 201, Title: strings.Repeat("x", titleLen)}
	written := 0
	for ; written < 1000; written++ {
		if err = w.Write(r); err != nil {
			break
		}
	}
	if !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("after %d rows Write returned %v, want EPIPE", written, err)
	}
	// The buffer holds 64 KiB: the write that does not fit is the one that fails.
	if most := 64 << 10 / titleLen; written > most {
		t.Errorf("Write failed after %d rows of %d bytes, want within the 64 KiB buffer (%d rows)", written, titleLen, most)
	}
	if !strings.Contains(err.Error(), fifo) {
		t.Errorf("the error %q does not name the report", err)
	}
}
