// Command oppimport moves opportunities (deals) from CSV and XLSX spreadsheets into an
// ONLYOFFICE CRM portal. See README.md for the contract.
package main

import (
	"os"
	"runtime/debug"
)

func main() {
	softMemoryLimit()
	os.Exit(run(os.Args[1:], stdio()))
}

// softMemoryLimit asks the garbage collector to keep the heap near 44 MiB unless the user set
// GOMEMLIMIT: streaming keeps the live heap small, and without a limit the collector lets
// garbage grow to twice the live heap (the key set of a million-row input is 24 MB of it).
// It is soft: a run that needs more memory gets it, at the cost of more collections.
func softMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(44 << 20)
	}
}
