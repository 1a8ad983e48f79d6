package source

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A repeated part is a workbook part of head, copies of chunk and tail, deflated as one
// stream of a few KB whatever its size: each copy's compressed bytes refer only to
// themselves, so they chain.
type repeated struct {
	head, chunk, tail string
	copies            int
	declare           int64 // the uncompressed size the zip declares; 0 = the true one
}

func flatePiece(p []byte, final bool) []byte {
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

// hostileBook writes a workbook whose parts in big are repeated streams, the others those
// of w.
func hostileBook(t testing.TB, w workbook, big map[string]repeated) string {
	t.Helper()
	good := w.bytes(t)
	zr, err := zip.NewReader(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, zf := range zr.File {
		if r, ok := big[zf.Name]; ok {
			var stream bytes.Buffer
			crc := crc32.Update(0, crc32.IEEETable, []byte(r.head))
			stream.Write(flatePiece([]byte(r.head), false))
			piece := flatePiece([]byte(r.chunk), false)
			for range r.copies {
				stream.Write(piece)
				crc = crc32.Update(crc, crc32.IEEETable, []byte(r.chunk))
			}
			stream.Write(flatePiece([]byte(r.tail), true))
			crc = crc32.Update(crc, crc32.IEEETable, []byte(r.tail))
			size := int64(len(r.head) + r.copies*len(r.chunk) + len(r.tail))
			if r.declare != 0 {
				size = r.declare
			}
			pw, err := zw.CreateRaw(&zip.FileHeader{Name: zf.Name, Method: zip.Deflate, CRC32: crc,
				CompressedSize64: uint64(stream.Len()), UncompressedSize64: uint64(size)})
			if err != nil {
				t.Fatal(err)
			}
			pw.Write(stream.Bytes())
			continue
		}
		pw, err := zw.Create(zf.Name)
		if err != nil {
			t.Fatal(err)
		}
		rc, _ := zf.Open()
		io.Copy(pw, rc)
		rc.Close()
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hostile.xlsx")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const sheetHead = `<worksheet ` + mainNS + `><sheetData>`
const sheetTail = `</sheetData></worksheet>`

// hostileCases are the files of the memory table, each with the error it ends in
// ("" = read through).
var hostileCases = []struct {
	name      string
	make      func(t testing.TB) string
	want      string
	benchOnly bool // too slow for the test suite (seconds, minutes under -race)
}{
	{"one 900 MiB cell", func(t testing.TB) string {
		return hostileBook(t, workbook{}, map[string]repeated{"xl/worksheets/sheet1.xml": {
			head: sheetHead + header + `<row r="2"><c r="A2" t="inlineStr"><is><t>`, chunk: strings.Repeat("x", 1<<20), copies: 900,
			tail: `</t></is></c></row>` + sheetTail}})
	}, "cell Deals!A2 holds over 32,767 characters", false},
	{"one 100 MB shared string in 60 rows", func(t testing.TB) string {
		var rows strings.Builder
		for i := 2; i < 62; i++ {
			rows.WriteString(`<row r="` + itoa(i) + `"><c r="A` + itoa(i) + `" t="s"><v>1</v></c></row>`)
		}
		return hostileBook(t, workbook{sheetData: `<row r="1"><c r="A1" t="s"><v>0</v></c></row>` + rows.String()}, map[string]repeated{"xl/sharedStrings.xml": {
			head: `<sst ` + mainNS + `><si><t>Title</t></si><si><t>`, chunk: strings.Repeat("y", 1<<20), copies: 100, tail: `</t></si></sst>`}})
	}, "shared string 2 holds over 32,767 characters", false},
	{"200 MB styles", func(t testing.TB) string {
		return hostileBook(t, workbook{sheetData: header}, map[string]repeated{"xl/styles.xml": {
			head: `<styleSheet ` + mainNS + `><cellXfs>`, chunk: strings.Repeat(`<xf numFmtId="14"/>`, 1<<16), copies: 160, tail: `</cellXfs></styleSheet>`}})
	}, "xl/styles.xml unzips to 190 MiB, more than the 16 MiB", false},
	{"200 MB styles declared as 1 MB", func(t testing.TB) string {
		return hostileBook(t, workbook{sheetData: header}, map[string]repeated{"xl/styles.xml": {
			head: `<styleSheet ` + mainNS + `><cellXfs>`, chunk: strings.Repeat(`<xf numFmtId="14"/>`, 1<<16), copies: 160, tail: `</cellXfs></styleSheet>`, declare: 1 << 20}})
	}, "xl/styles.xml: ", false},
	{"10 million shared strings", func(t testing.TB) string {
		return hostileBook(t, workbook{sheetData: `<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>9999999</v></c></row>`}, map[string]repeated{"xl/sharedStrings.xml": {
			head: `<sst ` + mainNS + `>`, chunk: strings.Repeat(`<si><t>ab</t></si>`, 1000), copies: 10000, tail: `</sst>`}})
	}, "", true},
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for ; n > 0 || i == len(b); n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}

// readHostile opens path and reads it through, returning the error it ends in.
func readHostile(path string) error {
	r, err := Open(path, Options{})
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		if _, err := r.Next(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func TestHostileWorkbooks(t *testing.T) {
	t.Parallel()
	for _, tc := range hostileCases {
		if tc.benchOnly {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := readHostile(tc.make(t))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("got %v, want it read through", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// BenchmarkHostile reads each hostile file; with -benchtime 1x under /usr/bin/time -v it
// gives the time and peak memory of one read (see BENCHMARKS.md for the figures).
func BenchmarkHostile(b *testing.B) {
	for _, tc := range hostileCases {
		b.Run(strings.ReplaceAll(tc.name, " ", "_"), func(b *testing.B) {
			path := tc.make(b)
			b.ResetTimer()
			for b.Loop() {
				err := readHostile(path)
				if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
					b.Fatalf("got %v, want %q", err, tc.want)
				}
			}
		})
	}
}

// BenchmarkHostileCSVHeader reads a CSV whose header line is 64 MB (4.7 GB when the
// did-you-mean ran over it): refused once 16 MiB of it are read.
func BenchmarkHostileCSVHeader(b *testing.B) {
	path := filepath.Join(b.TempDir(), "header.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	chunk := []byte(strings.Repeat("Title", 1<<20/5))
	for range 64 {
		f.Write(chunk)
	}
	f.WriteString("\nA\n")
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := readHostile(path); err == nil || !strings.Contains(err.Error(), "row 1 is over 16 MiB long") {
			b.Fatalf("got %v", err)
		}
	}
}

// TestWriteHostileFiles writes the hostile workbooks into $OPPIMPORT_HOSTILE_DIR, to time
// the command on them (go test -run TestWriteHostileFiles ./source with the variable set);
// it does nothing otherwise.
func TestWriteHostileFiles(t *testing.T) {
	dir := os.Getenv("OPPIMPORT_HOSTILE_DIR")
	if dir == "" {
		t.Skip("OPPIMPORT_HOSTILE_DIR is not set")
	}
	for _, tc := range hostileCases {
		data, err := os.ReadFile(tc.make(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".xlsx"), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
