package main

import (
	"path/filepath"
	"runtime/debug"
	"testing"
)

// gcPercent reads GOGC without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// TestLowerGCForXLSX: a workbook is opened and read at xlsxGCPercent and the setting from before
// comes back when the last run reading one ends; a CSV, or a GOGC the user set, is left
// alone. Not parallel: GOGC is the process's.
func TestLowerGCForXLSX(t *testing.T) {
	before := gcPercent()
	defer debug.SetGCPercent(before)
	debug.SetGCPercent(100)
	book, csv := filepath.Join("testdata", "exports", "libreoffice.xlsx"), filepath.Join("testdata", "exports", "hubspot.csv")

	restoreCSV := lowerGCForXLSX(csv)
	if got := gcPercent(); got != 100 {
		t.Errorf("reading a CSV: GOGC %d, want 100", got)
	}
	restoreStdin := lowerGCForXLSX("-")
	if got := gcPercent(); got != 100 {
		t.Errorf("reading stdin: GOGC %d, want 100", got)
	}
	restoreStdin()
	first := lowerGCForXLSX(book)
	if got := gcPercent(); got != xlsxGCPercent {
		t.Errorf("reading a workbook: GOGC %d, want %d", got, xlsxGCPercent)
	}
	second := lowerGCForXLSX(book)
	first()
	first() // twice: the second call does nothing
	if got := gcPercent(); got != xlsxGCPercent {
		t.Errorf("one of two runs reading a workbook ended: GOGC %d, want %d", got, xlsxGCPercent)
	}
	second()
	restoreCSV()
	if got := gcPercent(); got != 100 {
		t.Errorf("after the runs: GOGC %d, want 100", got)
	}

	t.Setenv("GOGC", "100")
	restore := lowerGCForXLSX(book)
	if got := gcPercent(); got != 100 {
		t.Errorf("GOGC set by the user: GOGC %d, want 100", got)
	}
	restore()
}
