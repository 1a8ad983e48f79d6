package source

import (
	"archive/zip"
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sstPart zips body as the one part xl/sharedStrings.xml and returns it.
func sstPart(t testing.TB, body string) *zip.File {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("xl/sharedStrings.xml")
	w.Write([]byte(body))
	zw.Close()
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return zr.File[0]
}

func strs(t testing.TB, s *sharedStrings) []string {
	t.Helper()
	var out []string
	for i := range s.len() {
		v, _, err := s.get(i)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// TestSharedStringsScanner reads shared string tables with the scanner and with the
// general reader: the same strings or the same error, and the scanner gives way to the
// general reader on the forms it does not know.
func TestSharedStringsScanner(t *testing.T) {
	t.Parallel()
	const head = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\r\n" + `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3">`
	tests := []struct {
		name     string
		body     string
		fallback bool // the scanner gives way
	}{
		{"plain", head + `<si><t>Title</t></si><si><t>Müller &amp; Söhne</t></si><si><t/></si></sst>`, false},
		{"preserved space and entities", head + `<si><t xml:space="preserve"> a &lt;b&gt; &quot;c&quot; &apos;d&apos; &#233;&#x1F680; </t></si></sst>`, false},
		{"rich text with phonetics", head + `<si><r><rPr><b/><sz val="11"/><rFont val="Calibri"/></rPr><t>東</t></r><r><t xml:space="preserve">京 </t></r><rPh sb="0" eb="1"><t>トウ</t></rPh><phoneticPr fontId="1" type="noConversion"/></si></sst>`, false},
		{"new lines between elements", head + "\n<si>\n  <t>a\nb</t>\n</si>\n</sst>\n", false},
		{"no declaration, empty table", `<sst xmlns="x"></sst>`, false},
		{"a CR in the text", head + "<si><t>a\r\nb</t></si></sst>", true},
		{"a CDATA section", head + `<si><t><![CDATA[a<b]]></t></si></sst>`, true},
		{"a comment", head + `<!-- made by hand --><si><t>a</t></si></sst>`, true},
		{"another prefix", `<x:sst xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:si><x:t>a</x:t></x:si></x:sst>`, true},
		{"an undefined entity", head + `<si><t>a&nbsp;b</t></si></sst>`, true},
		{"a control character", head + "<si><t>a\x01b</t></si></sst>", true},
		{"cut short", head + `<si><t>a</t></si><si><t>b`, false},
		{"unclosed t", head + `<si><t>a</si></sst>`, true},
		{"text after the end", head + `<si><t>a</t></si></sst><si/>`, true},
		{"a string over the limit", head + `<si><t>` + strings.Repeat("é", maxCellChars+1) + `</t></si></sst>`, false},
		{"a string over the limit in runs", head + `<si><r><t>` + strings.Repeat("ab", maxCellChars/3) + `</t></r><r><t>` + strings.Repeat("ab", maxCellChars/3) + `</t></r></si></sst>`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			zf := sstPart(t, tt.body)
			slow, slowErr := readSharedStringsXML(zf)
			rc, _ := zf.Open()
			fast := &sharedStrings{}
			scanErr := scanSharedStrings(&runGuard{r: rc}, fast, zf.Name)
			rc.Close()
			if fell := scanErr == errFallback; fell != tt.fallback {
				t.Fatalf("scanner: %v; want fallback %v", scanErr, tt.fallback)
			}
			got, gotErr := readSharedStrings(zf)
			if (gotErr == nil) != (slowErr == nil) || gotErr != nil && gotErr.Error() != slowErr.Error() {
				t.Fatalf("error %v, the general reader's %v", gotErr, slowErr)
			}
			if gotErr != nil {
				return
			}
			if diff := cmp.Diff(strs(t, slow), strs(t, got)); diff != "" {
				t.Errorf("strings (-general +scanner):\n%s", diff)
			}
		})
	}
}

// FuzzSharedStrings holds the scanner to the general reader on any table: the same strings
// or the same error, whenever the scanner does not give way.
func FuzzSharedStrings(f *testing.F) {
	for _, seed := range []string{
		`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" + `<sst xmlns="x" count="2"><si><t>a &amp; b</t></si><si><r><rPr><b/></rPr><t xml:space="preserve"> c </t></r><rPh sb="0" eb="1"><t>d</t></rPh></si></sst>`,
		`<sst><si><t>&#233;&#x1F680;&lt;</t></si><si><t/></si><si><phoneticPr fontId="1"/></si></sst>`,
		`<sst><si><t>cut`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		zf := sstPart(t, string(body))
		rc, err := zf.Open()
		if err != nil {
			t.Skip()
		}
		fast := &sharedStrings{}
		scanErr := scanSharedStrings(&runGuard{r: rc}, fast, zf.Name)
		rc.Close()
		defer fast.Close()
		if scanErr == errFallback {
			return
		}
		slow, slowErr := readSharedStringsXML(zf)
		if slowErr != nil {
			if scanErr == nil {
				t.Fatalf("the scanner read %q, the general reader failed: %v", strs(t, fast), slowErr)
			}
			return
		}
		defer slow.Close()
		if scanErr != nil {
			t.Fatalf("the scanner failed (%v), the general reader read %q", scanErr, strs(t, slow))
		}
		if diff := cmp.Diff(strs(t, slow), strs(t, fast)); diff != "" {
			t.Fatalf("strings (-general +scanner):\n%s", diff)
		}
	})
}

// TestSharedStringsChunks: strings kept in memory come back whole wherever they fall: across
// a chunk's end, empty at a full chunk's end, longer than a chunk, past several blocks.
func TestSharedStringsChunks(t *testing.T) {
	t.Parallel()
	fill := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name string
		want []string
	}{
		{"none", nil},
		{"one empty", []string{""}},
		{"a chunk exactly, then empty ones", []string{fill(sstChunk), "", "", "a"}},
		{"across a chunk's end", []string{fill(sstChunk - 3), "abcdef", "g"}},
		{"longer than two chunks", []string{"a", fill(2*sstChunk+5) + "é", "b"}},
	}
	var many []string
	for i := range 3*sstBlock + 7 {
		many = append(many, strings.Repeat(string(rune('a'+i%26)), i%200))
	}
	tests = append(tests, struct {
		name string
		want []string
	}{"past three blocks and several chunks", many})
	for _, tt := range tests {
		for _, spilled := range []bool{false, true} {
			name := tt.name
			if spilled {
				name += ", then spilled"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				var s sharedStrings
				defer s.Close()
				want := tt.want
				for _, v := range want {
					if err := s.add(v); err != nil {
						t.Fatal(err)
					}
				}
				if spilled {
					// as add does when the next string would pass sstMemLimit: the chunks
					// go to the file in order, and strings after them follow.
					if err := s.spill(); err != nil {
						t.Fatal(err)
					}
					want = append(slices.Clip(want), "after", "")
					for _, v := range want[len(want)-2:] {
						if err := s.add(v); err != nil {
							t.Fatal(err)
						}
					}
				}
				if err := s.finish(); err != nil {
					t.Fatal(err)
				}
				if got := s.file != nil; got != spilled {
					t.Fatalf("spilled %v, want %v", got, spilled)
				}
				checkStrings(t, &s, want)
			})
		}
	}
}

// checkStrings holds s to want: each string, the count, nothing past the end.
func checkStrings(t *testing.T, s *sharedStrings, want []string) {
	t.Helper()
	if got := s.len(); got != len(want) {
		t.Errorf("len() = %d, want %d", got, len(want))
	}
	for i, want := range want {
		got, ok, err := s.get(i)
		if err != nil || !ok || got != want {
			t.Errorf("get(%d) = %.20q (%d bytes), %v, %v; want %.20q (%d bytes)", i, got, len(got), ok, err, want, len(want))
		}
	}
	if _, ok, _ := s.get(len(want)); ok {
		t.Errorf("get(%d) found a string past the end", len(want))
	}
}
