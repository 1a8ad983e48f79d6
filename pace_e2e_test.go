package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oppimport/oppimport/emulator"
)

// TestImportAdaptsToThePortalsRate imports at --rate 200, with --concurrency auto, into a
// portal that allows 40 requests a second: the pace must come down to what the portal
// allows, wasting few requests, and the summary must say so. The bounds are loose: this is a
// test of behaviour on a busy machine, not a measurement (go run ./bench measures).
func TestImportAdaptsToThePortalsRate(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("about 6 s")
	}
	const rows = 240
	var b strings.Builder
	b.WriteString("Title\n")
	for i := range rows {
		fmt.Fprintf(&b, "deal %d\n", i)
	}
	m := keyedTitleMapping
	srv, url := startEmulator(t, emulator.Options{RateLimit: 40})
	dir := t.TempDir()
	in := writeFile(t, dir, "in.csv", b.String())
	mp := writeFile(t, dir, "m.yaml", m)
	rep := filepath.Join(dir, "r.json")
	res := runCmd(t, "import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--rate", "200",
		"--concurrency", "auto", "--report", rep, "--progress", "never", in)
	if res.code != exitOK {
		t.Fatalf("got exit %d, want 0:\n%s", res.code, res.stderr)
	}
	if got := len(srv.Opportunities()); got != rows {
		t.Errorf("the portal holds %d opportunities, want %d", got, rows)
	}
	data, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		Summary struct {
			Requests    int     `json:"requests"`
			Refused     int     `json:"refused"`
			RateReached float64 `json:"rate_reached"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatal(err)
	}
	s := report.Summary
	t.Logf("%d requests, %d refused, rate reached %.1f/s; the emulator refused %d", s.Requests, s.Refused, s.RateReached, srv.Stats().Refused)
	if s.Refused == 0 {
		t.Errorf("got no refusal: the test proves nothing")
	}
	// Without adapting, 200/s against 40/s is refused four times in five.
	if share := float64(s.Refused) / float64(s.Requests); share > 0.2 {
		t.Errorf("got %d of %d requests refused (%.0f %%), want the pace to come down to the portal's", s.Refused, s.Requests, 100*share)
	}
	if s.RateReached <= 0 || s.RateReached > 60 {
		t.Errorf("got rate reached %.1f/s, want it adapted to about 40/s", s.RateReached)
	}
	if !strings.Contains(res.stderr, "rate adapted to") {
		t.Errorf("the summary on stderr does not tell the rate reached:\n%s", res.stderr)
	}
}

func TestParseConcurrency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		workers int
		auto    bool
		ok      bool
	}{
		{"8", 8, false, true},
		{"1", 1, false, true},
		{"auto", maxAuto, true, true},
		{"AUTO", maxAuto, true, true},
		{"0", 0, false, false},
		{"-2", 0, false, false},
		{"lots", 0, false, false},
		{"", 0, false, false},
	}
	for _, tt := range tests {
		workers, auto, err := parseConcurrency(tt.in)
		if (err == nil) != tt.ok || workers != tt.workers || auto != tt.auto {
			t.Errorf("parseConcurrency(%q) = %d, %v, %v; want %d, %v, ok %v", tt.in, workers, auto, err, tt.workers, tt.auto, tt.ok)
		}
	}
}
