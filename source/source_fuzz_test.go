package source

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/xuri/excelize/v2"
)

// FuzzXLSX feeds arbitrary bytes to Open as an .xlsx file: never a panic, every error names
// the file, and a workbook that opens keeps the Row contract. Mutated zips rarely survive
// their checksums, so FuzzXLSXParts fuzzes the XML inside a well-formed zip.
func FuzzXLSX(f *testing.F) {
	f.Add(fuzzWorkbook(f, nil, nil))
	f.Add(fuzzWorkbook(f, []byte(`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row></sheetData></worksheet>`), nil))
	f.Add([]byte("PK\x03\x04"))
	f.Add(append([]byte(nil), oleMagic...))
	f.Add([]byte("a,b\n1,2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzOpenXLSX(t, data)
	})
}

// FuzzXLSXParts puts arbitrary sheet XML and shared strings into an otherwise valid
// workbook: what excelize's streaming reader and ours make of hostile XML.
func FuzzXLSXParts(f *testing.F) {
	const ns = `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`
	for _, seed := range [][2]string{
		{ns + `<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2"><v>1.5</v></c><c r="B2" t="s"><v>2</v></c></row></sheetData></worksheet>`,
			`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>a</t></si><si><t>b</t></si><si><t>c</t></si></sst>`},
		{ns + `<sheetData><row r="3"><c r="C3" t="s"><v>7</v></c></row><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>`, ``},
		{ns + `<sheetData><row r="1"><c r="XFD1" t="inlineStr"><is><t>z</t></is></c><c r="A1" t="s"><v>-1</v></c></row><row r="1048577"><c><v>1</v></c></row></sheetData></worksheet>`, `<sst><si><r><t>x</t></r></si></sst>`},
		{ns + `<sheetData><row><c t="b"><v>1</v></c><c t="e"><v>#N/A</v></c><c t="str"><f>1+1</f><v>2</v></c></row><row><c t="d"><v>2024-03-15</v></c></row></sheetData></worksheet>`, ``},
		{`<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>` + ns + `<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row></sheetData></worksheet>`, ``},
		{ns + `<sheetData><row r="1"><c r="A1" t="s"><v>99999999999999999999</v></c></row></sheetData></worksheet>`, `<sst count="-1"></sst>`},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	f.Fuzz(func(t *testing.T, sheet, sst []byte) {
		fuzzOpenXLSX(t, fuzzWorkbook(t, sheet, sst))
	})
}

// fuzzOpenXLSX opens data as an .xlsx file and reads it through, checking the contract.
func fuzzOpenXLSX(t *testing.T, data []byte) {
	path := filepath.Join(t.TempDir(), "fuzz.xlsx")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, Options{})
	if err != nil {
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("error %q does not name the file", err)
		}
		return
	}
	defer r.Close()
	header := r.Header()
	if len(header) == 0 {
		t.Fatal("opened with an empty header")
	}
	last := 1
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if row.Number <= last {
			t.Fatalf("row %d after row %d", row.Number, last)
		}
		if len(row.Cells) != len(header) {
			t.Fatalf("row %d: %d cells, header %d", row.Number, len(row.Cells), len(header))
		}
		last = row.Number
	}
}

var fuzzTemplate = sync.OnceValues(func() ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetName("Sheet1", "Deals")
	for i, row := range [][]any{{"Title", "Amount"}, {"A", 1.5}, {"B", "x"}} {
		if err := f.SetSheetRow("Deals", "A"+string(rune('1'+i)), &row); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
})

// fuzzWorkbook returns a small valid workbook with its first sheet's XML and its shared
// strings replaced by sheet and sst when they are not nil.
func fuzzWorkbook(t testing.TB, sheet, sst []byte) []byte {
	tmpl, err := fuzzTemplate()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(tmpl), int64(len(tmpl)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, zf := range zr.File {
		w, err := zw.Create(zf.Name)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case zf.Name == "xl/worksheets/sheet1.xml" && sheet != nil:
			w.Write(sheet)
		case zf.Name == "xl/sharedStrings.xml" && sst != nil:
			w.Write(sst)
		default:
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(w, rc)
			rc.Close()
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
