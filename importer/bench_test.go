package importer

import (
	"context"
	"testing"
)

// BenchmarkRunDry is a validate run through the whole pipeline (read, map and validate,
// results in input order) over in-memory rows, one in a hundred invalid: the pipeline's own
// cost, without a file or a report. mapping.BenchmarkApply is the mapping alone, and
// source's benchmarks the readers alone.
func BenchmarkRunDry(b *testing.B) {
	const n = 100_000
	bad := map[int]bool{}
	for i := 0; i < n; i += 100 {
		bad[i] = true
	}
	p := plan(b)
	b.ReportAllocs()
	for b.Loop() {
		results := 0
		st, err := Run(context.Background(), Config{
			Rows: &rows{n: n, bad: bad}, Plan: p,
			OnResult: func(Result) { results++ },
		})
		if err != nil {
			b.Fatal(err)
		}
		if st.Rows != n || results != n || st.Counts[Invalid] != n/100 {
			b.Fatalf("got %d rows, %d results, %d invalid; want %d, %d, %d", st.Rows, results, st.Counts[Invalid], n, n, n/100)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
