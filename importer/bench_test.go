package importer

import (
	"context"
	"fmt"
	"hash/maphash"
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

// BenchmarkKeySet is the key check of a 10^6-row input: the keys' hashes (made on the
// mapping goroutines, so before the clock runs) checked a batch at a time, each batch's
// slots touched first, in a set that expects them.
func BenchmarkKeySet(b *testing.B) {
	const n = 1_000_000
	seed := newKeySet().seed
	hashes := make([]uint64, n)
	for i := range hashes {
		hashes[i] = max(maphash.String(seed, fmt.Sprintf("D-%07d", i)), 1)
	}
	b.ReportAllocs()
	for b.Loop() {
		s := newKeySet()
		s.seed = seed
		s.expect(n)
		for start := 0; start < n; start += readBatch {
			batch := hashes[start:min(start+readBatch, n)]
			s.touch(func(yield func(uint64) bool) {
				for _, h := range batch {
					if !yield(h) {
						return
					}
				}
			})
			for i, h := range batch {
				if first := s.addHash(h, start+i+2); first != 0 {
					b.Fatalf("key %d: also row %d's", start+i, first)
				}
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "keys/s")
}
