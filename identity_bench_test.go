package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oppimport/oppimport/emulator"
	"github.com/oppimport/oppimport/onlyoffice"
)

// BenchmarkKeyIndexRead measures the read of a 100,000-deal portal's key index, as a run
// that does not know a key does it, in a child process (oppimport dedupe --dry-run: the
// full index read, into the state database, and nothing else when no key is doubled) so
// that its peak RSS is its own, not the emulator's (BENCH_DEALS=N for another size):
//
//	go test -run '^$' -bench BenchmarkKeyIndexRead -benchtime 1x .
func BenchmarkKeyIndexRead(b *testing.B) {
	deals := 100_000
	if n, err := strconv.Atoi(os.Getenv("BENCH_DEALS")); err == nil {
		deals = n
	}
	srv := emulator.New(emulator.Options{})
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	field := srv.AddCustomField("Legacy ID", 0, "")
	c, err := onlyoffice.NewClient(onlyoffice.Config{BaseURL: url, Token: srv.Token(), MaxConns: 16})
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseIdleConnections()
	next := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				_, err := c.CreateOpportunity(context.Background(), onlyoffice.Opportunity{
					Title: fmt.Sprintf("Deal number %d", i), ResponsibleID: srv.Users()[0].ID, StageID: 1, BidCurrencyAbbr: "EUR",
					CustomFields: []onlyoffice.CustomField{{ID: int64(field.ID), Value: fmt.Sprintf("D%d", i)}},
				})
				if err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := 1; i <= deals; i++ {
		next <- i
	}
	close(next)
	wg.Wait()

	dir := b.TempDir()
	mp := filepath.Join(dir, "deals.yaml")
	if err := os.WriteFile(mp, []byte(keyedMapping), 0o644); err != nil {
		b.Fatal(err)
	}
	read := regexp.MustCompile(`(\d+) requests read in`)
	b.ResetTimer()
	for range b.N {
		cmd := childCmd(b, "dedupe", "--mapping", mp, "--state", filepath.Join(b.TempDir(), "s.db"), "--url", url,
			"--token", srv.Token(), "--rate", "1000000", "--dry-run", "--log-level", "warn")
		out, hwm, err := runWatched(cmd)
		if err != nil {
			b.Fatalf("%v:\n%s", err, out)
		}
		m := read.FindSubmatch(out)
		if m == nil {
			b.Fatalf("no request count in:\n%s", out)
		}
		n, _ := strconv.Atoi(string(m[1]))
		b.ReportMetric(float64(n), "requests/op")
		b.ReportMetric(float64(hwm)/1024, "peak-RSS-MB")
		b.ReportMetric((cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds(), "child-CPU-s")
	}
}

// runWatched runs cmd and returns its output and its peak resident set in KiB, VmHWM of
// /proc/PID/status read until it exits. Not the rusage of the wait: a child forked from
// this process counts this process's pages (the emulator's deals) until its exec.
func runWatched(cmd *exec.Cmd) ([]byte, int, error) {
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	hwm := 0
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return []byte(out.String()), hwm, err
		case <-tick.C:
			data, err := os.ReadFile(status)
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(data), "\n") {
				if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					if kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB")); err == nil {
						hwm = max(hwm, kb)
					}
				}
			}
		}
	}
}

// childCmd is oppimport args in a child process of its own (see TestMain).
func childCmd(b *testing.B, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	argv, _ := json.Marshal(args)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "OPPIMPORT_ARGS="+string(argv))
	return cmd
}
