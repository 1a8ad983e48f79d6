// Command bare reads a file with the library alone, as the bench's yardstick: a bare
// encoding/csv read (ReuseRecord, 1 MiB buffer) or a bare excelize Rows loop (raw values).
// It prints the number of records read.
//
//	go run ./bench/bare csv FILE
//	go run ./bench/bare xlsx FILE [SHEET]
package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/xuri/excelize/v2"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: bare csv|xlsx FILE [SHEET]")
		os.Exit(2)
	}
	var (
		n   int
		err error
	)
	switch os.Args[1] {
	case "csv":
		n, err = readCSV(os.Args[2])
	case "xlsx":
		sheet := ""
		if len(os.Args) > 3 {
			sheet = os.Args[3]
		}
		n, err = readXLSX(os.Args[2], sheet)
	default:
		err = fmt.Errorf("unknown kind %q: want csv or xlsx", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
	fmt.Println(n)
}

func readCSV(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	r.ReuseRecord = true
	n := 0
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

func readXLSX(path, sheet string) (int, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if sheet == "" {
		sheet = f.GetSheetName(0)
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if _, err := rows.Columns(excelize.Options{RawCellValue: true}); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Error()
}
