package main

import (
	"os"
	"runtime/debug"
	"sync"

	"github.com/oppimport/oppimport/source"
)

// xlsxGCPercent is the collector's GOGC while a workbook is read, unless the user set GOGC.
// An XLSX validate's live heap is a few MB (the key set, the mapping's window) and what it
// allocates is garbage at once: the resident heap follows the collector's goal, and the
// scavenger keeps a tenth over it. Collecting when the heap has grown by a quarter of its
// live size kept the peak resident set of a 100,000-row validate 1.3-1.7 MB under GOGC 50
// (five runs each at load 4-6: 23.6-24.5 MB against 24.4-26.7 MB; heap objects + unused +
// free at the peak, in-process: 7.9 MB against 9.1 MB) for a few tenths of a second more
// CPU (2.2-2.5 s against 2.0-2.6 s); 10 and 15 gained nothing over 25 (23.6-24.4 MB).
// Before, 50 had kept it 3-4 MB under 100 (31.0 to 27.2-28.1 MB at load 17). A CSV row
// costs a fraction of an XLSX row to read and the CSV read is CPU-bound: CSV keeps the
// default.
const xlsxGCPercent = 25

var readGC struct {
	sync.Mutex
	runs    int // runs reading a workbook now (tests run several in one process)
	restore int // the GOGC before the first of them
}

// lowerGCForXLSX sets xlsxGCPercent while the input, a workbook, is opened and read (its
// shared strings are read at opening); the returned function puts back the setting from
// before (once the last such run in the process ends).
func lowerGCForXLSX(input string) (restore func()) {
	if input == "-" || !source.IsWorkbook(input) || os.Getenv("GOGC") != "" {
		return func() {}
	}
	readGC.Lock()
	defer readGC.Unlock()
	if readGC.runs++; readGC.runs == 1 {
		readGC.restore = debug.SetGCPercent(xlsxGCPercent)
	}
	return sync.OnceFunc(func() {
		readGC.Lock()
		defer readGC.Unlock()
		if readGC.runs--; readGC.runs == 0 {
			debug.SetGCPercent(readGC.restore)
		}
	})
}
