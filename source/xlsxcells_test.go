package source

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A workbook is a hand-written XLSX: the parts that matter, XML as a program writes it.
type workbook struct {
	sheetData string // the <sheetData> content
	sheetXML  string // the whole sheet part, when set (instead of sheetData)
	sst       []string
	sstXML    string // the whole shared strings part, when set
	numFmts   string // <numFmt .../> elements
	xfs       []int  // the numFmtId of each cell style
	date1904  bool
	// hiddenSheet is a <sheet> element put before Deals (its part is Deals' own).
	hiddenSheet string
	// understate, when set, names a part whose declared uncompressed size is one byte short.
	understate string
}

const mainNS = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`

func (w workbook) bytes(t testing.TB) []byte {
	t.Helper()
	pr := ""
	if w.date1904 {
		pr = `<workbookPr date1904="1"/>`
	}
	sheet := w.sheetXML
	if sheet == "" {
		sheet = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet ` + mainNS + `><sheetData>` + w.sheetData + `</sheetData></worksheet>`
	}
	sst := w.sstXML
	if sst == "" {
		var b strings.Builder
		for _, s := range w.sst {
			b.WriteString("<si><t>" + s + "</t></si>")
		}
		sst = `<sst ` + mainNS + `>` + b.String() + `</sst>`
	}
	var xfs strings.Builder
	for _, id := range append([]int{0}, w.xfs...) {
		xfs.WriteString(`<xf numFmtId="` + strconv.Itoa(id) + `" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>`)
	}
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
		{"_rels/.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<workbook ` + mainNS + `>` + pr + `<sheets>` + w.hiddenSheet + `<sheet name="Deals" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
			`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`},
		{"xl/styles.xml", `<styleSheet ` + mainNS + `><numFmts>` + w.numFmts + `</numFmts><cellStyleXfs count="1"><xf numFmtId="10"/></cellStyleXfs><cellXfs>` + xfs.String() + `</cellXfs></styleSheet>`},
		{"xl/sharedStrings.xml", sst},
		{"xl/worksheets/sheet1.xml", sheet},
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, p := range parts {
		var comp bytes.Buffer
		fw, _ := flate.NewWriter(&comp, flate.DefaultCompression)
		fw.Write([]byte(p.body))
		fw.Close()
		h := &zip.FileHeader{Name: p.name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE([]byte(p.body)),
			CompressedSize64: uint64(comp.Len()), UncompressedSize64: uint64(len(p.body))}
		if p.name == w.understate {
			h.UncompressedSize64--
		}
		pw, err := zw.CreateRaw(h)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(pw, &comp)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func (w workbook) open(t testing.TB) (*Reader, string, error) {
	t.Helper()
	path := writeFile(t, "book.xlsx", w.bytes(t))
	r, err := Open(path, Options{})
	return r, path, err
}

const header = `<row r="1"><c r="A1" t="inlineStr"><is><t>Title</t></is></c><c r="B1" t="inlineStr"><is><t>Value</t></is></c></row>`

// TestXLSXCellsAsShown reads each kind of cell as the spreadsheet shows it to its user.
func TestXLSXCellsAsShown(t *testing.T) {
	t.Parallel()
	// Cell styles 1.. in order: 0%, 0.00%, mm-dd-yy, m/d/yy h:mm, h:mm, dd.mm.yyyy hh:mm:ss,
	// #,##0.00 €, 0.0%, General with a date-like literal.
	numFmts := `<numFmt numFmtId="164" formatCode="dd\.mm\.yyyy\ hh:mm:ss"/><numFmt numFmtId="165" formatCode="#,##0.00\ &quot;€&quot;"/>` +
		`<numFmt numFmtId="166" formatCode="0.0%"/><numFmt numFmtId="167" formatCode="0&quot; days&quot;"/>`
	xfs := []int{9, 10, 14, 22, 20, 164, 165, 166, 167}
	tests := []struct {
		name     string
		cell     string // the B2 cell's XML
		sst      []string
		date1904 bool
		want     string
		wantErr  string
	}{
		{name: "percent", cell: `<c r="B2" s="1"><v>0.65</v></c>`, want: "65%"},
		{name: "percent 100", cell: `<c r="B2" s="1"><v>1</v></c>`, want: "100%"},
		{name: "percent stored inexactly", cell: `<c r="B2" s="1"><v>0.56999999999999995</v></c>`, want: "57%"},
		{name: "percent two decimals", cell: `<c r="B2" s="2"><v>0.655</v></c>`, want: "65.50%"},
		{name: "percent custom", cell: `<c r="B2" s="8"><v>0.125</v></c>`, want: "12.5%"},
		{name: "date", cell: `<c r="B2" s="3"><v>45366</v></c>`, want: "2024-03-15"},
		{name: "date with a fraction shows the date", cell: `<c r="B2" s="3"><v>45366.57</v></c>`, want: "2024-03-15"},
		{name: "date 1904", cell: `<c r="B2" s="3"><v>43904</v></c>`, date1904: true, want: "2024-03-15"},
		{name: "date-time", cell: `<c r="B2" s="4"><v>45299.38333333333</v></c>`, want: "2024-01-08 09:12"},
		{name: "time", cell: `<c r="B2" s="5"><v>0.5</v></c>`, want: "12:00"},
		{name: "custom date-time with seconds", cell: `<c r="B2" s="6"><v>45366.569999999</v></c>`, want: "2024-03-15 13:40:48"},
		{name: "negative number in a date format", cell: `<c r="B2" s="3"><v>-3</v></c>`, want: "-3"},
		{name: "number past the last date", cell: `<c r="B2" s="3"><v>1E10</v></c>`, want: "10000000000"},
		{name: "ISO date cell", cell: `<c r="B2" t="d" s="3"><v>2024-03-15T00:00:00</v></c>`, want: "2024-03-15"},
		{name: "money stays a number", cell: `<c r="B2" s="7"><v>1234.5</v></c>`, want: "1234.5"},
		{name: "literal text is no date", cell: `<c r="B2" s="9"><v>3</v></c>`, want: "3"},
		{name: "whole number without exponent", cell: `<c r="B2"><v>1.5583649437E10</v></c>`, want: "15583649437"},
		{name: "15 significant digits", cell: `<c r="B2"><v>0.30000000000000004</v></c>`, want: "0.3"},
		{name: "small number", cell: `<c r="B2"><v>1.5E-7</v></c>`, want: "0.00000015"},
		{name: "negative", cell: `<c r="B2"><v>-42</v></c>`, want: "-42"},
		{name: "cached formula result", cell: `<c r="B2"><f>A2*2</f><v>84</v></c>`, want: "84"},
		{name: "cached formula string", cell: `<c r="B2" t="str"><f>A2&amp;"x"</f><v>dealx</v></c>`, want: "dealx"},
		{name: "formula without a cached result", cell: `<c r="B2"><f>A2*2</f></c>`, want: ""},
		{name: "inline rich text without phonetics", cell: `<c r="B2" t="inlineStr"><is><r><t>東</t></r><r><t xml:space="preserve">京 </t></r><rPh sb="0" eb="1"><t>トウ</t></rPh></is></c>`, want: "東京 "},
		{name: "shared string", cell: `<c r="B2" t="s"><v>0</v></c>`, sst: []string{"Müller &amp; Söhne"}, want: "Müller & Söhne"},
		{name: "boolean", cell: `<c r="B2" t="b"><v>1</v></c>`, want: "TRUE"},
		{name: "boolean false", cell: `<c r="B2" t="b"><v>0</v></c>`, want: "FALSE"},
		{name: "formula error", cell: `<c r="B2" t="e"><f>VLOOKUP(A2,X:Y,2,0)</f><v>#N/A</v></c>`, want: "#N/A", wantErr: "row 2: Deals!B2 holds the formula error #N/A"},
		{name: "cell without a reference", cell: `<c><v>7</v></c>`, want: "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			row := `<row r="2"><c r="A2" t="inlineStr"><is><t>deal</t></is></c>` + tt.cell + `</row>`
			if !strings.Contains(tt.cell, `r="B2"`) {
				row = `<row r="2"><c t="inlineStr"><is><t>deal</t></is></c>` + tt.cell + `</row>`
			}
			r, _, err := workbook{sheetData: header + row, sst: tt.sst, numFmts: numFmts, xfs: xfs, date1904: tt.date1904}.open(t)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			want := []got{{N: 2, Cells: []string{"deal", tt.want}, Err: tt.wantErr}}
			if diff := cmp.Diff(want, readAll(t, r)); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

// TestXLSXDamaged refuses a workbook that cannot be read through, whatever stands before
// the damage, and a text over Excel's limit.
func TestXLSXDamaged(t *testing.T) {
	t.Parallel()
	rows := header + `<row r="2"><c r="A2" t="inlineStr"><is><t>a</t></is></c></row><row r="3"><c r="A3" t="inlineStr"><is><t>b</t></is></c></row>`
	full := `<worksheet ` + mainNS + `><sheetData>` + rows + `</sheetData></worksheet>`
	long := strings.Repeat("x", maxCellChars+1)
	tests := []struct {
		name string
		book workbook
		want string
	}{
		{"sheet cut after a row", workbook{sheetXML: full[:strings.Index(full, `<row r="3">`)+12]}, "damaged workbook: xl/worksheets/sheet1.xml: it ends in the middle"},
		{"sheet cut after sheetData", workbook{sheetXML: full[:len(full)-len("</worksheet>")]}, "damaged workbook: xl/worksheets/sheet1.xml: it ends in the middle"},
		{"undefined entity", workbook{sheetData: header + `<row r="2"><c r="A2" t="inlineStr"><is><t>a&nbsp;b</t></is></c></row>`}, "damaged workbook: xl/worksheets/sheet1.xml: XML syntax error on line 1: invalid character entity &nbsp;"},
		{"internal DTD entity", workbook{sheetXML: `<!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet ` + mainNS + `><sheetData>` + header + `<row r="2"><c r="A2" t="inlineStr"><is><t>&a;</t></is></c></row></sheetData></worksheet>`}, "invalid character entity &a;"},
		{"zip understates the sheet", workbook{sheetData: rows, understate: "xl/worksheets/sheet1.xml"}, "damaged workbook: xl/worksheets/sheet1.xml: it unzips to more than the zip says"},
		{"zip understates the shared strings", workbook{sheetData: rows, sst: []string{"a", "b"}, understate: "xl/sharedStrings.xml"}, "damaged workbook: xl/sharedStrings.xml: it unzips to more than the zip says"},
		{"shared string out of range", workbook{sheetData: header + `<row r="2"><c r="A2" t="s"><v>5</v></c></row>`, sst: []string{"a"}}, "damaged workbook: xl/worksheets/sheet1.xml: cell Deals!A2 refers to shared string 6, the workbook has 1"},
		{"rows out of order", workbook{sheetData: header + `<row r="3"><c r="A3"><v>1</v></c></row><row r="2"><c r="A2"><v>1</v></c></row>`}, `row number "2" after row 3`},
		{"cells out of order", workbook{sheetData: header + `<row r="2"><c r="B2"><v>1</v></c><c r="A2"><v>1</v></c></row>`}, `cell "A2" in row 2 after column 2`},
		{"not a number", workbook{sheetData: header + `<row r="2"><c r="A2"><v>12abc</v></c></row>`}, `cell Deals!A2 holds "12abc", not a number`},
		{"unknown cell type", workbook{sheetData: header + `<row r="2"><c r="A2" t="q"><v>1</v></c></row>`}, `cell Deals!A2 has the unknown type "q"`},
		{"deep nesting", workbook{sheetData: header + strings.Repeat("<x>", maxDepth+1)}, "elements nested over 64 deep"},
		{"inline string over the limit", workbook{sheetData: header + `<row r="2"><c r="A2" t="inlineStr"><is><t>` + long + `</t></is></c></row>`}, "cell Deals!A2 holds over 32,767 characters, Excel's limit for a cell"},
		{"rich text over the limit in runs", workbook{sheetData: header + `<row r="2"><c r="B2" t="inlineStr"><is><r><t>` + long[:20000] + `</t></r><r><t>` + long[:20000] + `</t></r></is></c></row>`}, "cell Deals!B2 holds over 32,767 characters"},
		{"value over the limit without markup", workbook{sheetData: header + `<row r="2"><c r="A2" t="str"><v>` + strings.Repeat("x", maxRun+10) + `</v></c></row>`}, "cell Deals!A2 holds over 32,767 characters"},
		{"shared string over the limit", workbook{sheetData: rows, sst: []string{"a", long}}, "shared string 2 holds over 32,767 characters"},
		{"no sheetData", workbook{sheetXML: `<worksheet ` + mainNS + `/>`}, "it has no sheetData"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, path, err := tt.book.open(t)
			if err == nil {
				defer r.Close()
				for err == nil {
					_, err = r.Next()
				}
				if err == io.EOF {
					t.Fatalf("read through, want %q", tt.want)
				}
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), `"`+path+`": `) {
				t.Errorf("got %q, want the file name and %q", err, tt.want)
			}
		})
	}
}

// TestXLSXSharedStringsSpill reads a table bigger than what is kept in memory.
func TestXLSXSharedStringsSpill(t *testing.T) {
	t.Parallel()
	var s sharedStrings
	want := make([]string, 0, 3*sstBlock)
	for i := range cap(want) {
		v := strings.Repeat(string(rune('a'+i%26)), 1+i%7)
		if i == 5000 {
			v = strings.Repeat("z", sstMemLimit) // pushes the table past memory
		}
		want = append(want, v)
		if err := s.add(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.finish(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.file == nil {
		t.Fatal("the table was not spilled")
	}
	for _, i := range []int{0, 1, 4095, 4096, 4999, 5000, 5001, 8191, 8192, len(want) - 1} {
		got, ok, err := s.get(i)
		if err != nil || !ok || got != want[i] {
			t.Errorf("get(%d) = %.20q, %v, %v; want %.20q", i, got, ok, err, want[i])
		}
	}
	if _, ok, _ := s.get(len(want)); ok {
		t.Errorf("get(%d) found a string past the end", len(want))
	}
}

// TestClassifyFormat reads format codes as Excel displays numbers with them; the cases
// include those calamine and openpyxl test their classifiers with.
func TestClassifyFormat(t *testing.T) {
	t.Parallel()
	date, dateTime, number := cellFormat{kind: fDate}, cellFormat{kind: fDateTime}, cellFormat{}
	tests := []struct {
		code string
		want cellFormat
	}{
		{"General", number},
		{"0", number},
		{"#,##0.00", number},
		{"0.00E+00", number},
		{"0%", cellFormat{kind: fPercent}},
		{"0.00%", cellFormat{kind: fPercent, decimals: 2}},
		{`#,##0.0%;[Red]-#,##0.0%`, cellFormat{kind: fPercent, decimals: 1}},
		{"DD/MM/YY", date},
		{"yyyy-mm-dd", date},
		{"d-mmm-yy", date},
		{"mmm-yy", date},
		{"[$-407]dd. mmmm yyyy", date},
		{`yyyy"年"m"月"d"日"`, date},
		{`m"M"d"D";@`, date},
		{`[$-404]e"\xfc"m"\xfc"d"\xfc"`, date},
		{"dd.mm.yyyy hh:mm", dateTime},
		{"m/d/yy h:mm AM/PM", dateTime},
		{"yyyy-mm-dd hh:mm:ss", cellFormat{kind: fDateTime, seconds: true}},
		{"H:MM:SS;@", cellFormat{kind: fTime, seconds: true}},
		{"h:mm", cellFormat{kind: fTime}},
		{"mm:ss", cellFormat{kind: fTime, seconds: true}},
		{"ha/p\\\\m", cellFormat{kind: fTime}},
		{"[h]:mm:ss", number},
		{"[mm]", number},
		{`[Blue]\+[h]:mm;[Red]\-[h]:mm`, number},
		{`#,##0\ [$\u20bd-46D]`, number},
		{`"Y: "0.00"m";"Y: "-0.00"m"`, number},
		{`"$"#,##0_);[Red]("$"#,##0)`, number},
		{`0_ ;[Red]\-0\ `, number},
		{`\Y000000`, number},
		{`#,##0.0####" YMD"`, number},
		{`[>=100][Magenta].00`, number},
		{`[>=100][Magenta]General`, number},
		{`#,##0.00\ _M"H"_);[Red]#,##0.00\ _M"S"_)`, number},
		{`#,##0*y`, number},
		{`0"x"*d`, number},
		{`*-yyyy-mm-dd`, date},
		{`#,##0 "руб."`, number},
		{`#,##0.00 [$€-407]`, number},
	}
	for _, tt := range tests {
		if got := classifyFormat(tt.code); got != tt.want {
			t.Errorf("classifyFormat(%q) = %+v, want %+v", tt.code, got, tt.want)
		}
	}
}

// TestXLSXFirstVisibleSheet reads the first sheet its user sees when the mapping names none.
func TestXLSXFirstVisibleSheet(t *testing.T) {
	t.Parallel()
	r, _, err := workbook{sheetData: header, hiddenSheet: `<sheet name="Lists" sheetId="2" state="hidden" r:id="rId1"/>`}.open(t)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Sheet() != "Deals" {
		t.Errorf("Sheet() = %q, want Deals", r.Sheet())
	}
}
