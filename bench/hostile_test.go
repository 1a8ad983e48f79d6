package main

import (
	"archive/zip"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oppimport/oppimport/source"
)

// TestWriteBook: a part of repeated pieces unzips to head, the copies and tail, its CRC
// checked by archive/zip, and the default parts make a workbook whose header is Title.
func TestWriteBook(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "book.xlsx")
	sheet := part{name: "xl/worksheets/sheet1.xml",
		head:  `<worksheet ` + mainNS + `><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>`,
		chunk: "abc", copies: 5, tail: `</t></is></c></row></sheetData></worksheet>`}
	if err := writeBook(path, sheet); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open(sheet.name)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f) // a wrong CRC is an error here
	if err != nil {
		t.Fatal(err)
	}
	if want := sheet.head + strings.Repeat("abc", 5) + sheet.tail; string(got) != want {
		t.Errorf("the sheet unzips to %q, want %q", got, want)
	}

	r, err := source.Open(path, source.Options{Sheet: "Deals"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := r.Header(); len(got) != 1 || got[0] != "Title" {
		t.Errorf("header %q, want [Title]", got)
	}
	row, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("abc", 5); len(row.Cells) != 1 || row.Cells[0] != want {
		t.Errorf("row 2 %q, want [%s]", row.Cells, want)
	}
}
