package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The hostile files of issue 13's memory table, each a class of input that once took
// gigabytes or minutes: validate must end each (refused, or read through) within
// hostileTime and hostileRSS, the bounds.
const (
	hostileTime = 10 * time.Second
	hostileRSS  = 256 << 20
)

// hostileMapping maps the hostile files' one column, Title.
const hostileMapping = `version: 1
input:
  sheet: Deals
fields:
  title:           { column: Title }
  responsibleid:   { value: 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41 }
  stageid:         { value: 1 }
  bidCurrencyAbbr: { value: EUR }
`

const mainNS = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`

// part is a workbook part of head, copies of chunk and tail. Deflated as separate pieces,
// each copy's compressed bytes refer only to themselves, so that a part of gigabytes is a
// few KB in the zip, as a zip bomb's.
type part struct {
	name, head, chunk, tail string
	copies                  int
}

// writeBook writes a workbook of one sheet, Deals, whose parts are the default ones but
// for those in parts.
func writeBook(path string, parts ...part) error {
	all := []part{
		{name: "[Content_Types].xml", head: `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
		{name: "_rels/.rels", head: `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{name: "xl/workbook.xml", head: `<workbook ` + mainNS + `><sheets><sheet name="Deals" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{name: "xl/_rels/workbook.xml.rels", head: `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
			`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`},
		{name: "xl/styles.xml", head: `<styleSheet ` + mainNS + `><cellXfs><xf numFmtId="0"/></cellXfs></styleSheet>`},
		{name: "xl/sharedStrings.xml", head: `<sst ` + mainNS + `><si><t>Title</t></si></sst>`},
		{name: "xl/worksheets/sheet1.xml", head: `<worksheet ` + mainNS + `><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>`},
	}
	for _, p := range parts {
		for i := range all {
			if all[i].name == p.name {
				all[i] = p
			}
		}
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, p := range all {
		var stream bytes.Buffer
		piece := func(s string, final bool) {
			w, _ := flate.NewWriter(&stream, flate.BestCompression)
			w.Write([]byte(s))
			if final {
				w.Close()
			} else {
				w.Flush()
			}
		}
		crc := crc32.ChecksumIEEE([]byte(p.head))
		piece(p.head, false)
		if p.copies > 0 {
			before := stream.Len()
			piece(p.chunk, false)
			one := bytes.Clone(stream.Bytes()[before:])
			for range p.copies - 1 {
				stream.Write(one)
			}
			for range p.copies {
				crc = crc32.Update(crc, crc32.IEEETable, []byte(p.chunk))
			}
		}
		piece(p.tail, true)
		crc = crc32.Update(crc, crc32.IEEETable, []byte(p.tail))
		size := len(p.head) + p.copies*len(p.chunk) + len(p.tail)
		w, err := zw.CreateRaw(&zip.FileHeader{Name: p.name, Method: zip.Deflate, CRC32: crc,
			CompressedSize64: uint64(stream.Len()), UncompressedSize64: uint64(size)})
		if err != nil {
			return err
		}
		if _, err := w.Write(stream.Bytes()); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, out.Bytes(), 0o600)
}

// hostileFile is one class of hostile input: how to write it, and what validate must say
// about it (want in its stderr, its exit code).
type hostileFile struct {
	what, name string
	write      func(path string) error
	mapping    string // "" = hostileMapping
	want       string
	exit       int
}

var hostileFiles = []hostileFile{
	{what: "XLSX, one 900 MiB cell", name: "cell.xlsx", write: func(path string) error {
		return writeBook(path, part{name: "xl/worksheets/sheet1.xml",
			head:  `<worksheet ` + mainNS + `><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>`,
			chunk: strings.Repeat("x", 1<<20), copies: 900, tail: `</t></is></c></row></sheetData></worksheet>`})
	}, want: "holds over 32,767 characters", exit: 2},
	{what: "XLSX, one 100 MB shared string used in 60 rows", name: "sst.xlsx", write: func(path string) error {
		var rows strings.Builder
		for i := 2; i < 62; i++ {
			fmt.Fprintf(&rows, `<row r="%d"><c r="A%d" t="s"><v>1</v></c></row>`, i, i)
		}
		return writeBook(path,
			part{name: "xl/sharedStrings.xml", head: `<sst ` + mainNS + `><si><t>Title</t></si><si><t>`,
				chunk: strings.Repeat("y", 1<<20), copies: 100, tail: `</t></si></sst>`},
			part{name: "xl/worksheets/sheet1.xml", head: `<worksheet ` + mainNS + `><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>` +
				rows.String() + `</sheetData></worksheet>`})
	}, want: "holds over 32,767 characters", exit: 2},
	{what: "XLSX, a 200 MB styles.xml", name: "styles.xlsx", write: func(path string) error {
		return writeBook(path, part{name: "xl/styles.xml", head: `<styleSheet ` + mainNS + `><cellXfs>`,
			chunk: strings.Repeat(`<xf numFmtId="14"/>`, 1<<16), copies: 160, tail: `</cellXfs></styleSheet>`})
	}, want: "xl/styles.xml unzips to", exit: 2},
	{what: "XLSX, 10 million shared strings", name: "strings.xlsx", write: func(path string) error {
		return writeBook(path,
			part{name: "xl/sharedStrings.xml", head: `<sst ` + mainNS + `><si><t>Title</t></si>`,
				chunk: strings.Repeat(`<si><t>ab</t></si>`, 1000), copies: 10000, tail: `</sst>`},
			part{name: "xl/worksheets/sheet1.xml", head: `<worksheet ` + mainNS + `><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>` +
				`<row r="2"><c r="A2" t="s"><v>9999999</v></c></row></sheetData></worksheet>`})
	}, want: "", exit: 0},
	{what: "CSV, a 64 MB header line", name: "header.csv", write: func(path string) error {
		return os.WriteFile(path, []byte(strings.Repeat("Title", 64<<20/5)+"\nx\n"), 0o600)
	}, want: "header", exit: 2},
	{what: "a mapping of a 10,000-entry map with one line mis-indented", name: "deals.csv", write: func(path string) error {
		return os.WriteFile(path, []byte("Title\nA deal\n"), 0o600)
	}, mapping: bigMap(10000, 7000), want: "YAML syntax", exit: 2},
}

// bigMap is a mapping whose bidType map has n entries, the entry bad indented one space
// short (a hand-edited file's slip).
func bigMap(n, bad int) string {
	var b strings.Builder
	b.WriteString("version: 1\nfields:\n  title: { column: Title }\n  responsibleid: { value: 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41 }\n  stageid: { value: 1 }\n  bidCurrencyAbbr: { value: EUR }\n  bidType:\n    column: Title\n    map:\n")
	for i := range n {
		indent := "      "
		if i == bad {
			indent = "     "
		}
		fmt.Fprintf(&b, "%sk%d: PerHour\n", indent, i)
	}
	return b.String()
}

// hostileInputs runs validate on each hostile file: each must end as it should (refused
// naming the problem, or read through) within hostileTime and hostileRSS.
func (b *bench) hostileInputs() error {
	dir := filepath.Join(b.dir, "hostile")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, h := range hostileFiles {
		input := filepath.Join(dir, h.name)
		if err := h.write(input); err != nil {
			return fmt.Errorf("%s: %w", h.what, err)
		}
		mapping := filepath.Join(dir, strings.TrimSuffix(h.name, filepath.Ext(h.name))+".yaml")
		text := h.mapping
		if text == "" {
			text = hostileMapping
		}
		if err := os.WriteFile(mapping, []byte(text), 0o600); err != nil {
			return err
		}
		sized := input // the file that is hostile: the mapping, when it is
		if h.mapping != "" {
			sized = mapping
		}
		info, err := os.Stat(sized)
		if err != nil {
			return err
		}
		step("validate %s (%s)", h.name, h.what)
		stderr := filepath.Join(dir, h.name+".stderr")
		p, err := b.measureTo(stderr, []int{h.exit}, b.bin, "validate", "--mapping", mapping,
			"--report", filepath.Join(dir, h.name+".report.csv"), "--rejects", filepath.Join(dir, h.name+".rejects.csv"),
			"--progress", "never", input)
		if err != nil {
			return fmt.Errorf("%s: %w", h.what, err)
		}
		said, err := os.ReadFile(stderr)
		if err != nil {
			return err
		}
		ended := "read through"
		if h.exit != 0 {
			ended = "refused"
		}
		ok := strings.Contains(string(said), h.want)
		if !ok {
			ended = fmt.Sprintf("exit %d without %q", h.exit, h.want)
		}
		b.add(fmt.Sprintf("hostile input: %s (a %s file), validate's time and peak RSS", h.what, size(info.Size())),
			fmt.Sprintf("≤ %.0f s, ≤ %d MB", hostileTime.Seconds(), hostileRSS>>20),
			fmt.Sprintf("%.2f s, %s, %s (exit %d)", p.wall.Seconds(), mb(p.rss), ended, h.exit),
			ok && p.wall <= hostileTime && p.rss <= hostileRSS)
	}
	return nil
}

// size is a file's size as a person reads it.
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MB", float64(n)/1e6)
	case n >= 1000:
		return fmt.Sprintf("%.0f KB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d byte", n)
}
