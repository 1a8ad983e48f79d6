package main

import (
	"os"
	"runtime/debug"
	"sync"

	"github.com/oppimport/oppimport/source"
)

// xlsxGCPercent is the collector's GOGC while a workbook is read, unless the user set GOGC.
// Four fifths of what an XLSX run allocates is encoding/xml's tokens, garbage at once, over
// a live heap of a few MB (the key set, the mapping's window): collecting when the heap has
// grown by half its live size instead of all of it kept the peak resident set of a
// 100,000-row validate 4.5 MB lower (33.5 MB to 29.0 MB, load 9) for 10 % more CPU. A CSV
// row costs a tenth of an XLSX row to read, so there the same setting would cost a larger
// share of a read that is CPU-bound: CSV keeps the default.
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
