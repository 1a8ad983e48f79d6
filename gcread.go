package main

import (
	"os"
	"runtime/debug"
	"sync"

	"github.com/oppimport/oppimport/source"
)

// xlsxGCPercent is the collector's GOGC while a workbook is read, unless the user set GOGC.
// An XLSX validate's live heap is a few MB (the key set, the mapping's window) and what it
// allocates is garbage at once: collecting when the heap has grown by half its live size
// instead of all of it kept the peak resident set of a 100,000-row validate 3-4 MB lower
// (31.0 MB to 27.2-28.1 MB at load 17, with the sheet scanner; 33.5 to 29.0 at load 9
// with encoding/xml reading every cell) for a tenth more CPU; lower settings gained
// nothing more that could be measured. A CSV row costs a fraction of an XLSX row to
// read and the CSV read is CPU-bound: CSV keeps the default.
const xlsxGCPercent = 50

var readGC struct {
	sync.Mutex
	runs    int // runs reading a workbook now (tests run several in one process)
	restore int // the GOGC before the first of them
}

// lowerGCForXLSX sets xlsxGCPercent while src, a workbook, is read; the returned function
// puts back the setting from before (once the last such run in the process ends).
func lowerGCForXLSX(src *source.Reader) (restore func()) {
	if src.Kind() != "xlsx" || os.Getenv("GOGC") != "" {
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
