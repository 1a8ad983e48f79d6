package main

import "testing"

// The pace itself is tested in package pace, against the emulator too
// (TestAdaptsToTheEmulatorsRate); TestFaults holds the summary to what it reached.

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
