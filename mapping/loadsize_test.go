package mapping

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// bigMap is a mapping whose bidType map has n entries, the entry at line bad (0 = none)
// indented one space short.
func bigMap(n, bad int) (string, int) {
	var b strings.Builder
	b.WriteString("version: 1\nfields:\n  title: { column: T }\n  responsibleid: { column: R }\n  stageid: { value: 1 }\n  bidCurrencyAbbr: { value: EUR }\n  bidType:\n    column: V\n    map:\n")
	line, badLine := 10, 0
	for i := range n {
		indent := "      "
		if i == bad {
			indent = "     "
			badLine = line
		}
		fmt.Fprintf(&b, "%sk%d: PerHour\n", indent, i)
		line++
	}
	return b.String(), badLine
}

func TestLoadBigMapSyntax(t *testing.T) {
	t.Parallel()
	yaml, line := bigMap(10000, 7000)
	_, err := Parse([]byte(yaml), "m.yaml")
	want := []string{fmt.Sprintf("m.yaml:%d: YAML syntax: did not find expected key", line)}
	var got []string
	if errs, ok := err.(*Errors); ok {
		for _, e := range *errs {
			got = append(got, e.Error())
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestLoadTooBig(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, []byte("version: 1\n#"+strings.Repeat("x", maxMappingBytes)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if want := path + ":1: the mapping is over 8 MiB"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}

// BenchmarkLoadBigMapSyntax finds the mistake in a 10,000-entry map (75 s when every
// prefix was parsed).
func BenchmarkLoadBigMapSyntax(b *testing.B) {
	yaml, _ := bigMap(10000, 7000)
	for b.Loop() {
		if _, err := Parse([]byte(yaml), "m.yaml"); err == nil {
			b.Fatal("parsed")
		}
	}
}
