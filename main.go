// Command oppimport moves opportunities (deals) from CSV and XLSX spreadsheets into an
// ONLYOFFICE CRM portal. See README.md for the contract.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], stdio())) }
