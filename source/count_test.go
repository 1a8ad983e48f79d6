package source

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestCount counts the data rows a second pass finds, or the error that would stop the
// first part way, without moving the reader.
func TestCount(t *testing.T) {
	t.Parallel()
	good := header + `<row r="2"><c r="A2" t="s"><v>0</v></c></row><row r="4"><c r="A4" t="s"><v>1</v></c></row>`
	cut := `<worksheet ` + mainNS + `><sheetData>` + good
	tests := []struct {
		name    string
		open    func(t *testing.T) (*Reader, error)
		want    int64
		wantErr string
	}{
		{"csv file", func(t *testing.T) (*Reader, error) {
			return Open(writeFile(t, "in.csv", []byte("Title\nA\n\nB\nC\n")), Options{})
		}, 3, ""},
		{"csv file, quote never closed", func(t *testing.T) (*Reader, error) {
			return Open(writeFile(t, "in.csv", []byte("Title\nA\n\"B\nC\n")), Options{})
		}, 1, `row 3: a quoted cell opened on this row is never closed`},
		{"stdin", func(t *testing.T) (*Reader, error) {
			return OpenReader(strings.NewReader("sep=;\nTitle;Amount\nA;1\nB;2\n"), "stdin", Options{})
		}, 2, ""},
		{"stdin, not UTF-8 far down", func(t *testing.T) (*Reader, error) {
			return OpenReader(io.MultiReader(strings.NewReader("Title\n"), bytes.NewReader(bytes.Repeat([]byte("abc\n"), 300000)), strings.NewReader("M\xfcller\n")), "stdin", Options{})
		}, 300000, `"stdin": row 300002 is not valid UTF-8`},
		{"xlsx", func(t *testing.T) (*Reader, error) {
			r, _, err := workbook{sheetData: good, sst: []string{"a", "b"}}.open(t)
			return r, err
		}, 2, ""},
		{"xlsx cut short", func(t *testing.T) (*Reader, error) {
			r, _, err := workbook{sheetXML: cut, sst: []string{"a", "b"}}.open(t)
			return r, err
		}, 2, "damaged workbook: xl/worksheets/sheet1.xml: it ends in the middle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := tt.open(t)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			n, err := r.Count(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Count() = %d, %v; want %q", n, err, tt.wantErr)
				}
				return
			}
			if err != nil || n != tt.want {
				t.Errorf("Count() = %d, %v; want %d", n, err, tt.want)
			}
			// The reader itself is where it was: at its first data row.
			rows := 0
			for {
				if _, err := r.Next(); err != nil {
					if err != io.EOF {
						t.Fatal(err)
					}
					break
				}
				rows++
			}
			if int64(rows) != n {
				t.Errorf("Next delivered %d rows, Count said %d", rows, n)
			}
		})
	}
}

// TestCountStopsWhenCancelled: a signal while a big file is read through is honoured within
// a moment, not once the whole file is read.
func TestCountStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("Title\n")
	for range 100_000 {
		b.WriteString("deal\n")
	}
	r, err := Open(writeFile(t, "big.csv", []byte(b.String())), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := r.Count(ctx)
	if !errors.Is(err, context.Canceled) || n > 1024 {
		t.Errorf("got %d rows, %v; want at most 1024 rows and context.Canceled", n, err)
	}
}
