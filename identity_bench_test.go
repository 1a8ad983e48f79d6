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
	"sync"
	"syscall"
	"testing"

	"github.com/oppimport/oppimport/emulator"
	"github.com/oppimport/oppimport/onlyoffice"
)

// BenchmarkKeyIndexRead measures the read of a 100,000-deal portal's key index, as a run
// that does not know a key does it, in a child process (oppimport dedupe --dry-run: the
// full index read, into the state database, and nothing else when no key is doubled) so
// that its peak RSS is its own, not the emulator's:
//
//	go test -run '^$' -bench BenchmarkKeyIndexRead -benchtime 1x .
func BenchmarkKeyIndexRead(b *testing.B) {
	const deals = 100_000
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
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("%v:\n%s", err, out)
		}
		m := read.FindSubmatch(out)
		if m == nil {
			b.Fatalf("no request count in:\n%s", out)
		}
		n, _ := strconv.Atoi(string(m[1]))
		b.ReportMetric(float64(n), "requests/op")
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB")
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
