package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/oppimport/oppimport/emulator"
)

// badCase is one hostile input: a file of testdata/bad/ or one the test makes, read with a
// mapping, and what validate and import must answer.
type badCase struct {
	name    string
	input   string                                // a file of testdata/bad/, or "" when make writes it
	make    func(t *testing.T, path string) error // writes the input at path (its name: ext)
	ext     string                                // extension of a made input
	mapping string                                // a file of testdata/bad/; "" = mapping.yaml
	code    int                                   // the exit code of both validate and import
	want    []string                              // in stderr; "$INPUT" and "$MAPPING" stand for the files' names
	posted  int                                   // creates the import must make (0 for broken files)
}

// badCases are the ways a bad input goes through the commands: broken at opening or while
// read (CSV and XLSX), too big, in a code page, with bad rows; each file's own message is
// source's to prove, where the rest of the bad files are: the empty file, a picture named
// .csv and invalid UTF-8 sniffed (TestCSVFatal), a sep= line (TestCSVAsExcelWrites), a
// damaged zip and an encrypted workbook (TestXLSXNotAWorkbook), an undefined entity and a
// zip understating the sheet (TestXLSXDamaged), the styles bomb and the 900 MiB cell
// (TestHostileWorkbooks), duplicate and unnamed columns (TestOpenErrors).
var badCases = []badCase{
	// Broken files: exit 2, the file named, nothing posted.
	{name: "unterminated quote", input: "unterminated_quote.csv", code: exitNothing,
		want: []string{`"$INPUT": row 3: a quoted cell opened on this row is never closed`, "nothing was posted"}},
	{name: "invalid UTF-8 past the first MiB", ext: ".csv", make: badLateUTF8, code: exitNothing,
		want: []string{`"$INPUT": row 2402 is not valid UTF-8`, "nothing was posted"}},
	{name: "an XLSX named .csv", ext: ".csv", make: badWorkbook(nil), code: exitNothing,
		want: []string{`"$INPUT": is an XLSX workbook (a zip archive), not CSV`}},
	{name: "xlsx that is not a zip", input: "not_a_zip.xlsx", code: exitNothing,
		want: []string{`"$INPUT": is not an XLSX file (not a zip archive)`}},
	{name: "xlsx sheet bomb", ext: ".xlsx", make: badBomb("xl/worksheets/sheet1.xml", 2<<30+1<<20), code: exitNothing,
		want: []string{`"$INPUT": unzips to more than 2048 MiB, the limit for a workbook (a zip bomb`}},
	{name: "xlsx sheet cut after a row", ext: ".xlsx", make: badPart(badSheet[:len(badSheet)-40], false), code: exitNothing,
		want: []string{`"$INPUT": damaged workbook: xl/worksheets/sheet1.xml: it ends in the middle`, "nothing was posted"}},
	{name: "xlsx formula error", ext: ".xlsx", make: badPart(strings.Replace(badSheet, `t="inlineStr"><is><t>Other deal</t></is>`, `t="e"><f>VLOOKUP(1,X:Y,2,0)</f><v>#N/A</v>`, 1), false), code: exitRows, posted: 1,
		want: []string{"row 3: Sheet1!A3 holds the formula error #N/A"}},
	{name: "csv in windows-1251", ext: ".csv", make: badBytes("Title,Amount\n\xcf\xee\xf1\xf2\xe0\xe2\xea\xe0 \xee\xe1\xee\xf0\xf3\xe4\xee\xe2\xe0\xed\xe8\xff,100\n"), code: exitNothing,
		want: []string{`"$INPUT": row 2 is not valid UTF-8: it is most likely windows-1251`, `encoding: windows-1251`, "nothing was posted"}},
	{name: "csv with CR line ends", ext: ".csv", make: badBytes("Title,Amount\rFirst deal,100\rSecond deal,200\r"), code: exitOK, posted: 2},

	// Mapping mistakes: exit 2, the mapping file and line named, nothing posted: one the
	// loader finds, the rest found binding to the input's header. mapping's
	// TestLoadBadMappings holds every other mapping of testdata/bad/ to its messages.
	{name: "mapping: bad YAML", input: "good.csv", mapping: "mapping_bad_yaml.yaml", code: exitNothing,
		want: []string{"$MAPPING:3: YAML syntax: did not find expected ',' or '}'"}},
	{name: "mapping: columns the input lacks", input: "good.csv", mapping: "mapping_missing_column.yaml", code: exitNothing,
		want: []string{`$MAPPING:2: key: column "Deal ID" is not in the input`, `$MAPPING:4: title: column "Titel" is not in the input (did you mean "Title"?)`}},
	{name: "mapping: columns missing from 10,000", ext: ".csv", make: badWide, mapping: "mapping_missing_column.yaml", code: exitNothing,
		want: []string{`$MAPPING:4: title: column "Titel" is not in the input`, "and 9950 more"}},

	// Bad rows in a good file: the row is reported, the others go on.
	{name: "header only", input: "header_only.csv", code: exitOK, want: []string{"(0 rows)"}},
	{name: "ragged rows", input: "ragged.csv", code: exitRows, posted: 2,
		want: []string{"row 3 has 3 cells, the header has 2", "row 4 has 1 cells, the header has 2"}},
	{name: "5 MB cell", ext: ".csv", make: badHugeCell, code: exitRows, posted: 1,
		want: []string{"row=3", "row 3: column A holds 5242880 characters, over 32,767 (Excel's limit for a cell)"}},
	{name: "10,000 columns", ext: ".csv", make: badWide, code: exitOK, posted: 2},
}

// TestBadInput runs validate and import on every bad input: the exit code, a message naming
// the file (and row, column or line), never a panic, nothing posted from a broken file.
func TestBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range badCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, url := startEmulator(t, emulator.Options{})
			dir := t.TempDir()
			input := filepath.Join(dir, "input"+tc.ext)
			if tc.input != "" {
				input = copyTestdata(t, dir, "bad", tc.input)
			} else if err := tc.make(t, input); err != nil {
				t.Fatal(err)
			}
			mappingFile := tc.mapping
			if mappingFile == "" {
				mappingFile = "mapping.yaml"
			}
			mappingPath := copyTestdata(t, dir, "bad", mappingFile)
			replacer := strings.NewReplacer("$INPUT", input, "$MAPPING", mappingPath)

			for _, cmd := range []string{"validate", "import"} {
				t.Run(cmd, func(t *testing.T) {
					srv.Reset()
					args := []string{cmd, "--mapping", mappingPath, "--report", filepath.Join(dir, cmd+".report.csv"),
						"--rejects", filepath.Join(dir, cmd+".rejects.csv"), "--progress", "never"}
					if cmd == "import" {
						args = append(args, "--url", url, "--token", srv.Token(), "--retries", "0", "--rate", "1000")
					}
					code, stdout, stderr := badRun(t, append(args, input)...)
					if code != tc.code {
						t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.code, badShort(stderr))
					}
					for _, w := range tc.want {
						if w = replacer.Replace(w); !strings.Contains(stderr, w) {
							t.Errorf("stderr lacks %q:\n%s", w, badShort(stderr))
						}
					}
					if len(stderr) > 16<<10 {
						t.Errorf("stderr is %d bytes: a message must not dump the input", len(stderr))
					}
					if stdout != "" {
						t.Errorf("stdout: %q, want nothing", badShort(stdout))
					}
					posted := srv.Stats().ByRoute["POST crm/opportunity"]
					if cmd == "validate" && posted != 0 || cmd == "import" && posted != tc.posted {
						t.Errorf("%d creates posted, want %d", posted, map[bool]int{true: tc.posted}[cmd == "import"])
					}
				})
			}
		})
	}
}

// badRun runs oppimport's entry point with buffers for streams; a panic or a goroutine dump
// in stderr fails the test.
func badRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb syncBuffer
	code = run(args, streams{in: strings.NewReader(""), out: &out, err: &errb, signals: make(chan os.Signal)})
	if s := errb.String(); strings.Contains(s, "goroutine ") || strings.Contains(s, "panic") {
		t.Errorf("stderr shows a panic:\n%s", badShort(s))
	}
	return code, out.String(), errb.String()
}

// syncBuffer is a bytes.Buffer that the logger, the progress bar and the test may share, as
// they share stderr.

// badShort keeps a failure message readable when the output is large.
func badShort(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

func badBytes(data string) func(*testing.T, string) error {
	return func(_ *testing.T, path string) error { return os.WriteFile(path, []byte(data), 0o644) }
}

// badLateUTF8 writes invalid UTF-8 after the first MiB, which Open sniffs: the import's
// read-through must stop it before anything is posted. The rows are long (an unmapped
// column of padding) so that the MiB takes 2,400 rows to map, not 50,000.
func badLateUTF8(_ *testing.T, path string) error {
	var b strings.Builder
	b.WriteString("Title,Amount,Padding\n")
	pad := strings.Repeat("p", 500)
	for range 2400 { // rows 2 to 2401: 1.3 MB
		b.WriteString("A valid deal with ü,100," + pad + "\n")
	}
	b.WriteString("M\xfcller GmbH,200,p\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// badHugeCell writes a 5 MB title between two good rows.
func badHugeCell(_ *testing.T, path string) error {
	data := "Title,Amount\nGood deal,1\n" + strings.Repeat("x", 5<<20) + ",2\n"
	return os.WriteFile(path, []byte(data), 0o644)
}

// badWide writes 10,000 columns, Title and Amount among them, and two rows.
func badWide(_ *testing.T, path string) error {
	const n = 10000
	var b strings.Builder
	for row := 0; row < 3; row++ {
		for col := 0; col < n; col++ {
			if col > 0 {
				b.WriteByte(',')
			}
			switch {
			case row == 0 && col == 4321:
				b.WriteString("Title")
			case row == 0 && col == n-1:
				b.WriteString("Amount")
			case row == 0:
				b.WriteString("C" + strconv.Itoa(col))
			case col == 4321:
				b.WriteString("Wide deal " + strconv.Itoa(row))
			case col == n-1:
				b.WriteString(strconv.Itoa(row * 100))
			default:
				b.WriteString("v")
			}
		}
		b.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// badWorkbook writes a good workbook (Title, Amount and a row), encrypted when opts has a
// password.
func badWorkbook(opts *excelize.Options) func(*testing.T, string) error {
	return func(_ *testing.T, path string) error {
		f := excelize.NewFile()
		defer f.Close()
		f.SetSheetRow("Sheet1", "A1", &[]any{"Title", "Amount"})
		f.SetSheetRow("Sheet1", "A2", &[]any{"Good deal", 100})
		var buf bytes.Buffer
		var err error
		if opts != nil {
			err = f.Write(&buf, *opts)
		} else {
			err = f.Write(&buf)
		}
		if err != nil {
			return err
		}
		return os.WriteFile(path, buf.Bytes(), 0o644)
	}
}

// badBomb writes a good workbook whose part named part really inflates to size bytes of
// XML while the file stays a few MB: one compressed chunk repeated. Each copy is a
// byte-aligned run of deflate blocks referring only to itself, so the copies chain into
// one valid stream.
func badBomb(part string, size int64) func(*testing.T, string) error {
	return func(t *testing.T, path string) error {
		if err := badWorkbook(nil)(t, path); err != nil {
			return err
		}
		good, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		zr, err := zip.NewReader(bytes.NewReader(good), int64(len(good)))
		if err != nil {
			return err
		}
		head := []byte(`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
		tail := []byte(`</sheetData></worksheet>`)
		if part == "xl/styles.xml" {
			head = []byte(`<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><!--`)
			tail = []byte(`--></styleSheet>`)
		}
		chunk := bytes.Repeat([]byte(`<row><c t="inlineStr"><is><t>x</t></is></c></row>`), 1<<20/50)
		body := size - int64(len(head)+len(tail))
		copies, rest := body/int64(len(chunk)), body%int64(len(chunk))

		var stream bytes.Buffer
		crc := uint32(0)
		piece := func(p []byte, final bool) []byte {
			var b bytes.Buffer
			w, _ := flate.NewWriter(&b, flate.BestCompression)
			w.Write(p)
			if final {
				w.Close()
			} else {
				w.Flush()
			}
			return b.Bytes()
		}
		stream.Write(piece(head, false))
		crc = crc32.Update(crc, crc32.IEEETable, head)
		compressed := piece(chunk, false)
		for i := int64(0); i < copies; i++ {
			stream.Write(compressed)
		}
		crc = crcRepeated(crc, chunk, copies)
		last := append(bytes.Repeat([]byte(" "), int(rest)), tail...)
		stream.Write(piece(last, true))
		crc = crc32.Update(crc, crc32.IEEETable, last)

		var out bytes.Buffer
		zw := zip.NewWriter(&out)
		for _, zf := range zr.File {
			if zf.Name == part {
				w, err := zw.CreateRaw(&zip.FileHeader{Name: part, Method: zip.Deflate, CRC32: crc,
					CompressedSize64: uint64(stream.Len()), UncompressedSize64: uint64(size)})
				if err != nil {
					return err
				}
				w.Write(stream.Bytes())
				continue
			}
			w, err := zw.Create(zf.Name)
			if err != nil {
				return err
			}
			rc, err := zf.Open()
			if err != nil {
				return err
			}
			io.Copy(w, rc)
			rc.Close()
		}
		if err := zw.Close(); err != nil {
			return err
		}
		if out.Len() > 8<<20 {
			t.Errorf("the bomb is %d bytes: meant to be small", out.Len())
		}
		return os.WriteFile(path, out.Bytes(), 0o644)
	}
}

// badSheet is a sheet of Title and Amount with two rows, as a program writes it.
const badSheet = `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
	`<row r="1"><c r="A1" t="inlineStr"><is><t>Title</t></is></c><c r="B1" t="inlineStr"><is><t>Amount</t></is></c></row>` +
	`<row r="2"><c r="A2" t="inlineStr"><is><t>Good deal</t></is></c><c r="B2"><v>100</v></c></row>` +
	`<row r="3"><c r="A3" t="inlineStr"><is><t>Other deal</t></is></c><c r="B3"><v>200</v></c></row></sheetData></worksheet>`

// badPart writes a good workbook whose sheet is sheet, its size declared one byte short
// when understate.
func badPart(sheet string, understate bool) func(*testing.T, string) error {
	return func(t *testing.T, path string) error {
		if err := badWorkbook(nil)(t, path); err != nil {
			return err
		}
		good, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		zr, err := zip.NewReader(bytes.NewReader(good), int64(len(good)))
		if err != nil {
			return err
		}
		var out bytes.Buffer
		zw := zip.NewWriter(&out)
		for _, zf := range zr.File {
			if zf.Name != "xl/worksheets/sheet1.xml" {
				if err := zw.Copy(zf); err != nil {
					return err
				}
				continue
			}
			var comp bytes.Buffer
			fw, _ := flate.NewWriter(&comp, flate.BestCompression)
			fw.Write([]byte(sheet))
			fw.Close()
			size := uint64(len(sheet))
			if understate {
				size--
			}
			w, err := zw.CreateRaw(&zip.FileHeader{Name: zf.Name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE([]byte(sheet)),
				CompressedSize64: uint64(comp.Len()), UncompressedSize64: size})
			if err != nil {
				return err
			}
			w.Write(comp.Bytes())
		}
		if err := zw.Close(); err != nil {
			return err
		}
		return os.WriteFile(path, out.Bytes(), 0o644)
	}
}

// crcRepeated is crc32.Update(crc, crc32.IEEETable, chunk) n times over, without reading
// the n copies (gigabytes for a bomb): the CRC of the chunk shifted over each copy's length
// (zlib's crc32_combine), so that making the bombs costs next to nothing.
func crcRepeated(crc uint32, chunk []byte, n int64) uint32 {
	one := crc32.ChecksumIEEE(chunk)
	shift := crcShift(int64(len(chunk)))
	for range n {
		crc = crcMul(shift, crc) ^ one
	}
	return crc
}

// crcMul multiplies a and b modulo the CRC-32 polynomial (bit-reflected, as crc32 keeps it).
func crcMul(a, b uint32) uint32 {
	const poly = 0xedb88320
	p := uint32(0)
	for m := uint32(1) << 31; m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
		}
		if b&1 != 0 {
			b = b>>1 ^ poly
		} else {
			b >>= 1
		}
	}
	return p
}

// crcShift is x^(8 len) modulo the polynomial: what appending len zero bytes multiplies a
// CRC by.
func crcShift(len int64) uint32 {
	p, sq := uint32(1)<<31, uint32(1)<<30 // x^0; x^1, squared to x^(2^k) as the bits go
	for n := len * 8; n != 0; n >>= 1 {
		if n&1 != 0 {
			p = crcMul(sq, p)
		}
		sq = crcMul(sq, sq)
	}
	return p
}

// crcRepeated, which the bombs of badinput_test.go are made with, is the CRC of the copies.
func TestCRCRepeated(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		head, chunk string
		n           int
	}{
		{"", "x", 1}, {"<head>", "<row>x</row>", 7}, {"h", string(bytes.Repeat([]byte{0, 0xff, 'a'}, 1000)), 33}, {"h", "y", 0},
	} {
		start := crc32.ChecksumIEEE([]byte(tt.head))
		want := crc32.Update(start, crc32.IEEETable, bytes.Repeat([]byte(tt.chunk), tt.n))
		if got := crcRepeated(start, []byte(tt.chunk), int64(tt.n)); got != want {
			t.Errorf("crcRepeated(%q, %d copies of %d bytes) = %08x, want %08x", tt.head, tt.n, len(tt.chunk), got, want)
		}
	}
}
