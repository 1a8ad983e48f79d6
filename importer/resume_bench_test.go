package importer

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oppimport/oppimport/state"
)

// BenchmarkResume is a re-run of an input of which 90 % was imported before, through the
// whole pipeline with a state database and a poster that answers at once: the pass over
// the done rows (look-up, skip, record) to the first new create is what it measures, as
// done rows passed a second. bench/'s resume part measures the command.
func BenchmarkResume(b *testing.B) {
	const n = 50_000
	done := n - n/10
	ctx := context.Background()
	p := plan(b)
	dir := b.TempDir()
	filled := filepath.Join(dir, "filled.db")
	open := func(path string) (*state.DB, *Ledger) {
		db, err := state.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		run, err := db.StartRun(ctx, state.Run{Portal: "p", Mode: "import"})
		if err != nil {
			b.Fatal(err)
		}
		return db, &Ledger{DB: db, Portal: "p", Run: run}
	}
	db, l := open(filled)
	if _, err := Run(ctx, Config{Rows: &rows{n: done}, Plan: p, Poster: &poster{}, Concurrency: 4, Ledger: l}); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}

	var first time.Duration // from each run's start to its first create, summed
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(dir, "resume.db")
		copyFile(b, filled, path)
		db, l := open(path)
		b.StartTimer()
		created := make(chan struct{}, n)
		firstDone := make(chan time.Duration)
		start := time.Now()
		go func() {
			<-created
			firstDone <- time.Since(start)
		}()
		st, err := Run(ctx, Config{Rows: &rows{n: n}, Plan: p, Poster: &poster{started: created}, Concurrency: 4, Ledger: l})
		if err != nil || st.Counts[Skipped] != done || st.Counts[Created] != n-done {
			b.Fatalf("got %v, %v; want %d skipped, %d created", err, st.Counts, done, n-done)
		}
		first += <-firstDone
		b.StopTimer()
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		os.Remove(path)
		b.StartTimer()
	}
	b.ReportMetric(float64(done)/(first.Seconds()/float64(b.N)), "done-rows/s")
}

// BenchmarkResumeDone is a re-run of an input every row of which was imported before: the
// pass over done rows alone (look-up, skip, record, delivery), as CPU per done row.
func BenchmarkResumeDone(b *testing.B) {
	const n = 50_000
	ctx := context.Background()
	p := plan(b)
	dir := b.TempDir()
	filled := filepath.Join(dir, "filled.db")
	open := func(path string) (*state.DB, *Ledger) {
		db, err := state.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		run, err := db.StartRun(ctx, state.Run{Portal: "p", Mode: "import"})
		if err != nil {
			b.Fatal(err)
		}
		return db, &Ledger{DB: db, Portal: "p", Run: run}
	}
	db, l := open(filled)
	if _, err := Run(ctx, Config{Rows: &rows{n: n}, Plan: p, Poster: &poster{}, Concurrency: 4, Ledger: l}); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "resume.db")
	copyFile(b, filled, path)
	db, _ = open(path)
	defer db.Close()
	b.ResetTimer()
	for b.Loop() {
		run, err := db.StartRun(ctx, state.Run{Portal: "p", Mode: "import"})
		if err != nil {
			b.Fatal(err)
		}
		l := &Ledger{DB: db, Portal: "p", Run: run}
		st, err := Run(ctx, Config{Rows: &rows{n: n}, Plan: p, Poster: &poster{}, Concurrency: 4, Ledger: l})
		if err != nil || st.Counts[Skipped] != n {
			b.Fatalf("got %v, %v; want %d skipped", err, st.Counts, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/done-row")
}

func copyFile(b *testing.B, from, to string) {
	b.Helper()
	src, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
}
