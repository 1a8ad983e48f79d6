package importer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/source"
)

// TestRunCellsFromTheReader runs a dry run over a CSV file read by source, whose cells the
// pipeline copies into a slice per batch and reuses, and holds each result's cells to the
// file's: every invalid row keeps its own, one made invalid by the key check after it was
// mapped too; the valid rows carry none.
func TestRunCellsFromTheReader(t *testing.T) {
	t.Parallel()
	const n = 1000 // batches of readBatch rows, reused
	var in strings.Builder
	in.WriteString("ID,Title,Amount\n")
	want := map[int][]string{}
	for i := range n {
		id, title, amount := fmt.Sprintf("D%d", i), fmt.Sprintf("deal %d", i), fmt.Sprint(i)
		switch {
		case i%97 == 5:
			amount = "lots" // invalid when mapped
		case i%101 == 7:
			id = "D0" // invalid at the key check: row 2's key
		}
		fmt.Fprintf(&in, "%s,%s,%s\n", id, title, amount)
		if amount == "lots" || id == "D0" && i > 0 {
			want[i+2] = []string{id, title, amount}
		}
	}
	path := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(path, []byte(in.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := source.Open(path, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := map[int][]string{}
	st, err := Run(context.Background(), Config{Rows: r, Plan: plan(t), OnResult: func(res Result) {
		switch {
		case res.Status == Invalid:
			got[res.Row] = res.Cells
		case res.Cells != nil:
			t.Errorf("row %d (%s): got cells %q, want none", res.Row, res.Status, res.Cells)
		}
	}})
	if err != nil || st.Rows != n {
		t.Fatalf("got %d rows, error %v; want %d, none", st.Rows, err, n)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("invalid rows' cells (-want +got):\n%s", diff)
	}
}

// TestRunMaxErrorsAtBatchEnd fails only the row that ends the first batch the mapper hands
// on (whose delivery also gives the batch back for reuse): it alone reaches --max-errors.
func TestRunMaxErrorsAtBatchEnd(t *testing.T) {
	t.Parallel()
	last := fmt.Sprintf("deal %d", readBatch-1)
	p := &poster{fail: map[string]error{last: fmt.Errorf("refused")}}
	st, err := Run(context.Background(), Config{Rows: &rows{n: 3 * readBatch}, Plan: plan(t), Poster: p, MaxErrors: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(st.Stopped, ErrMaxErrors) || st.Counts[Failed] != 1 {
		t.Errorf("got stopped %v with %d failed, want %v with 1", st.Stopped, st.Counts[Failed], ErrMaxErrors)
	}
}
