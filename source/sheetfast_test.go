package source

import (
	"archive/zip"
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sheetRead is what a reader made of a workbook: its header, its rows (with their own
// errors), the error that ended it, and whether the general reader read the sheet in the
// end.
type sheetRead struct {
	Header  []string
	Rows    []string
	Err     string
	general bool
}

func readBook(t *testing.T, path string, opts Options) sheetRead {
	t.Helper()
	var out sheetRead
	r, err := Open(path, opts)
	if err != nil {
		out.Err = err.Error()
		return out
	}
	defer r.Close()
	out.Header = r.Header()
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			out.Err = err.Error()
			break
		}
		line := strings.Join(row.Cells, "|")
		if row.Err != nil {
			line += " ! " + row.Err.Error()
		}
		out.Rows = append(out.Rows, line)
	}
	out.general = r.x.sheet != nil
	return out
}

// TestSheetScanner reads sheets with the scanner and with the general reader alone: the
// same header, rows and errors, and the scanner reads the forms programs write through,
// giving way to the general reader on any other, where it stands, the rows before it kept.
func TestSheetScanner(t *testing.T) {
	t.Parallel()
	const prolog = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\r\n" +
		`<worksheet ` + mainNS + ` xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"><sheetPr filterMode="false"><pageSetUpPr fitToPage="false"/></sheetPr>` +
		`<dimension ref="A1:D4"/><sheetViews><sheetView workbookViewId="0"><selection activeCell="A1" sqref="A1"/></sheetView></sheetViews>` +
		`<sheetFormatPr defaultRowHeight="15" x14ac:dyDescent="0.25"/><cols><col min="1" max="2" width="20" customWidth="1"/></cols><sheetData>`
	const tail = `</sheetData><mergeCells count="1"><mergeCell ref="C5:D5"/></mergeCells><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>` +
		`<headerFooter><oddHeader>&amp;C&amp;"Arial"Page &amp;P</oddHeader></headerFooter><extLst><ext uri="{X}" xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"><x14:id>1</x14:id></ext></extLst></worksheet>` + "\n"
	const head4 = `<row r="1" spans="1:4" x14ac:dyDescent="0.25"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>Amount</t></is></c><c r="C1" t="str"><v>Close</v></c><c r="D1" t="inlineStr"><is><t>Won</t></is></c></row>`
	const row2 = `<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" s="1"><v>1234.5</v></c><c r="C2" s="2"><v>45366</v></c><c r="D2" t="b"><v>1</v></c></row>`
	const row3 = `<row r="3" ht="30" customHeight="1"><c r="A3" t="inlineStr"><is><r><rPr><b/><sz val="11"/></rPr><t>Müller</t></r><r><t xml:space="preserve"> &amp; Söhne &#x1F680;</t></r><rPh sb="0" eb="1"><t>ミ</t></rPh><phoneticPr fontId="1"/></is></c>` +
		`<c r="B3"><f>B2*2</f><v>2469</v></c><c r="C3" s="2"><f t="shared" si="0"/><v>45367.5</v></c><c r="D3" t="e"><v>#N/A</v></c></row>`
	const row4 = `<row><c t="inlineStr"><is><t xml:space="preserve"> spaced </t></is></c><c/><c r="D4" t="b"><v>0</v></c></row><row r="5"><c r="C5" s="1"/></row><row r="6"/>`
	sst := []string{"Title", "Deal &amp; more"}
	plain := prolog + head4 + row2 + row3 + row4 + tail
	tests := []struct {
		name    string
		book    workbook
		general bool // the scanner gives way
	}{
		{"as programs write it", workbook{sheetXML: plain, sst: sst, xfs: []int{4, 14}}, false},
		{"no declaration, no rows", workbook{sheetXML: `<worksheet ` + mainNS + `><sheetData>` + head4 + `</sheetData></worksheet>`, sst: sst}, false},
		{"a comment in the third row", workbook{sheetXML: strings.Replace(plain, `<c r="B3">`, `<!-- x --><c r="B3">`, 1), sst: sst, xfs: []int{4, 14}}, true},
		{"a CR in a cell", workbook{sheetXML: strings.Replace(plain, " spaced ", "a\r\nb", 1), sst: sst, xfs: []int{4, 14}}, true},
		{"a prefixed type", workbook{sheetXML: strings.Replace(plain, `<c r="D2" t="b">`, `<c r="D2" x:t="b" xmlns:x="urn:x">`, 1), sst: sst, xfs: []int{4, 14}}, true},
		{"a type given twice", workbook{sheetXML: strings.Replace(plain, `<c r="D2" t="b">`, `<c r="D2" t="b" t="s">`, 1), sst: sst, xfs: []int{4, 14}}, true},
		{"a value and an inline string", workbook{sheetXML: strings.Replace(plain, `<c r="D2" t="b"><v>1</v>`, `<c r="D2" t="str"><v>1</v><is><t>2</t></is>`, 1), sst: sst, xfs: []int{4, 14}}, true},
		{"an empty type", workbook{sheetXML: strings.Replace(plain, `<c r="D2" t="b">`, `<c r="D2" t="">`, 1), sst: sst, xfs: []int{4, 14}}, true},
		{"text between cells", workbook{sheetXML: strings.Replace(plain, `<c r="B3">`, `x<c r="B3">`, 1), sst: sst, xfs: []int{4, 14}}, true},
		{"a cell outside the rows", workbook{sheetXML: strings.Replace(plain, `<dimension ref="A1:D4"/>`, `<dimension ref="A1:D4"><c/></dimension>`, 1), sst: sst, xfs: []int{4, 14}}, true},
		{"an odd element in the tail", workbook{sheetXML: strings.Replace(plain, `<x14:id>1</x14:id>`, `<x14:id>1</x14:di>`, 1), sst: sst, xfs: []int{4, 14}}, true},
		{"something after the root", workbook{sheetXML: plain + `<x/>`, sst: sst, xfs: []int{4, 14}}, true},
		{"cells out of order in the third row", workbook{sheetXML: strings.Replace(plain, `<c r="B3">`, `<c r="A3">`, 1), sst: sst, xfs: []int{4, 14}}, true},
		{"a shared string out of range", workbook{sheetXML: strings.Replace(plain, `<c r="A2" t="s"><v>1</v>`, `<c r="A2" t="s"><v>7</v>`, 1), sst: sst, xfs: []int{4, 14}}, true},
		{"a style out of range", workbook{sheetXML: strings.Replace(plain, `<c r="B2" s="1">`, `<c r="B2" s="99">`, 1), sst: sst, xfs: []int{4, 14}}, false},
		{"a bad style", workbook{sheetXML: strings.Replace(plain, `<c r="B2" s="1">`, `<c r="B2" s="-1">`, 1), sst: sst, xfs: []int{4, 14}}, true},
		{"rows out of order", workbook{sheetXML: strings.Replace(plain, `<row r="5">`, `<row r="4">`, 1), sst: sst, xfs: []int{4, 14}}, true},
		{"a text over the limit", workbook{sheetXML: strings.Replace(plain, " spaced ", strings.Repeat("x", maxCellChars+1), 1), sst: sst, xfs: []int{4, 14}}, true},
		{"cut in the tail", workbook{sheetXML: plain[:len(plain)-len("</worksheet>\n")], sst: sst, xfs: []int{4, 14}}, true},
		{"cut in a row", workbook{sheetXML: plain[:strings.Index(plain, `<c r="B3">`)], sst: sst, xfs: []int{4, 14}}, true},
		{"the shared strings in the general form", workbook{sheetXML: plain, sstXML: `<sst ` + mainNS + `><!-- x --><si><t>Title</t></si><si><t>b</t></si></sst>`, xfs: []int{4, 14}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, "book.xlsx", tt.book.bytes(t))
			want := readBook(t, path, Options{generalSheet: true})
			got := readBook(t, path, Options{})
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(sheetRead{}), cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".general" }, cmp.Ignore())); diff != "" {
				t.Errorf("the scanner and the general reader differ (-general +scanner):\n%s", diff)
			}
			if got.general != tt.general {
				t.Errorf("the general reader read the sheet in the end: %v, want %v", got.general, tt.general)
			}
			if len(want.Rows) == 0 && want.Err == "" && tt.name != "no declaration, no rows" {
				t.Errorf("no rows and no error: the case tests nothing")
			}
		})
	}
}

// TestSheetScannerExports: the exports of spreadsheet programs read by the scanner alone,
// as the general reader reads them.
func TestSheetScannerExports(t *testing.T) {
	t.Parallel()
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "exports", "*.xlsx"))
	if len(paths) == 0 {
		t.Fatal("no workbooks in ../testdata/exports")
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			want := readBook(t, path, Options{generalSheet: true})
			got := readBook(t, path, Options{})
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(sheetRead{}), cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".general" }, cmp.Ignore())); diff != "" {
				t.Errorf("the scanner and the general reader differ (-general +scanner):\n%s", diff)
			}
			if got.general {
				t.Errorf("the scanner gave way to the general reader on a program's export")
			}
		})
	}
}

// FuzzSheetScanner: whatever the sheet's XML, the scanner and the general reader read the
// same rows and the same errors.
func FuzzSheetScanner(f *testing.F) {
	const ns = `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`
	for _, seed := range []string{
		ns + `<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>b &amp; c</t></is></c></row><row r="2"><c r="A2"><v>1.5</v></c><c r="B2" t="s"><v>1</v></c></row></sheetData></worksheet>`,
		ns + `<sheetPr/><dimension ref="A1"/><sheetData><row><c t="b"><v>1</v></c><c t="e"><v>#N/A</v></c><c t="str"><f>1+1</f><v>2</v></c></row><row><c t="d"><v>2024-03-15</v></c><c/><c r="E2"><f t="shared" si="0"/><v>3</v></c></row><row r="4"/></sheetData><mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells></worksheet>`,
		ns + `<sheetData><row r="1"><c r="A1" t="inlineStr"><is><r><rPr><b/></rPr><t>x</t></r><rPh sb="0" eb="1"><t>y</t></rPh></is></c></row><row r="2"><c r="A2" s="1"><v>45366.25</v></c></row></sheetData></worksheet>`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, sheet []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.xlsx")
		if err := os.WriteFile(path, fuzzWorkbook(t, sheet, []byte(`<sst><si><t>a</t></si><si><t>b</t></si></sst>`)), 0o600); err != nil {
			t.Fatal(err)
		}
		want := readBook(t, path, Options{generalSheet: true})
		got := readBook(t, path, Options{})
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(sheetRead{}), cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".general" }, cmp.Ignore())); diff != "" {
			t.Errorf("the scanner and the general reader differ (-general +scanner):\n%s", diff)
		}
	})
}

// TestSheetScannerMutations: 250 sheets edited at random (bytes cut, markup put in), read by
// the scanner and by the general reader alike: a fixed-seed stand-in for the fuzzer in a
// plain test run (20,000 edits passed when written).
func TestSheetScannerMutations(t *testing.T) {
	t.Parallel()
	const base = `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetPr/><dimension ref="A1"/><sheetData>` +
		`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>b &amp; c</t></is></c><c r="C1" t="str"><v>C</v></c></row>` +
		`<row r="2"><c r="A2" s="1"><v>1.5</v></c><c r="B2" t="s"><v>1</v></c><c r="C2" t="b"><v>1</v></c></row><row><c t="e"><v>#N/A</v></c><c t="str"><f>1+1</f><v>2</v></c><c/></row>` +
		`<row r="5"><c r="A5" t="inlineStr"><is><r><rPr><b/></rPr><t>x</t></r><rPh sb="0" eb="1"><t>y</t></rPh></is></c><c r="B5" t="d"><v>2024-03-15</v></c></row>` +
		`</sheetData><mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells></worksheet>`
	pieces := []string{"<", ">", "/", `"`, "'", " ", "\n", "\r", "&", ";", "&amp;", "&#65;", "<!-- -->", "<v>", "</v>", "<c>", "</c>", "<row>", "</row>",
		"<f/>", `r="A9"`, `t="s"`, `s="2"`, "x:", "é", "\x8f", "]]>", "<?x?>", "=", "9", "0", "-"}
	rng := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	scanned, general := 0, 0
	for i := range 250 {
		s := base
		for range 1 + rng.IntN(3) {
			p := rng.IntN(len(s))
			q := min(len(s), p+1+rng.IntN(8))
			switch rng.IntN(3) {
			case 0:
				s = s[:p] + pieces[rng.IntN(len(pieces))] + s[p:]
			case 1:
				s = s[:p] + s[q:]
			case 2:
				s = s[:p] + pieces[rng.IntN(len(pieces))] + s[q:]
			}
		}
		path := filepath.Join(dir, strconv.Itoa(i)+".xlsx")
		if err := os.WriteFile(path, storedWorkbook(t, s), 0o600); err != nil {
			t.Fatal(err)
		}
		want := readBook(t, path, Options{generalSheet: true})
		got := readBook(t, path, Options{})
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(sheetRead{}), cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".general" }, cmp.Ignore())); diff != "" {
			t.Fatalf("edit %d: the scanner and the general reader differ on %q (-general +scanner):\n%s", i, s, diff)
		}
		if got.general {
			general++
		} else if got.Err == "" {
			scanned++
		}
	}
	if scanned == 0 || general == 0 {
		t.Errorf("%d sheets read through by the scanner, %d given to the general reader: want some of each", scanned, general)
	}
}

// storedWorkbook is fuzzWorkbook's template with its sheet replaced by sheet, stored
// rather than compressed, the other parts copied as they are: cheap enough for hundreds.
func storedWorkbook(t *testing.T, sheet string) []byte {
	t.Helper()
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
		if zf.Name != "xl/worksheets/sheet1.xml" {
			if err := zw.Copy(zf); err != nil {
				t.Fatal(err)
			}
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: zf.Name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, sheet)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
