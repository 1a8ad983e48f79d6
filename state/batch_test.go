package state

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// history is what the state holds before the run under test: A and B created, C in doubt
// (a create with no answer), D's PUT sent by the run under test itself (a run row with its
// Before), E never seen.
func history(t *testing.T, db *DB) (run int64) {
	t.Helper()
	ctx := context.Background()
	first := startRun(t, db)
	for i, key := range []string{"A", "B", "D"} {
		if err := db.Intent(ctx, first, testPortal, key, Request{Method: "POST", Hash: "h" + key, Body: []byte("v " + key)}); err != nil {
			t.Fatal(err)
		}
		if err := db.Answer(ctx, first, testPortal, key, Answer{OpportunityID: int64(i + 1), Outcome: "created", Hash: "h" + key, InputRow: i + 2, Title: "deal " + key}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Intent(ctx, first, testPortal, "C", Request{Method: "POST", Hash: "hC", Body: []byte("v C")}); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkInDoubt(ctx, testPortal, "C", []int64{7, 8}, "2 matching opportunities"); err != nil {
		t.Fatal(err)
	}
	run = startRun(t, db)
	if err := db.Intent(ctx, run, testPortal, "D", Request{Method: "PUT", Hash: "hD2", Body: []byte("v D2"), Before: []byte("portal D"), InputRow: 5, Title: "deal D"}); err != nil {
		t.Fatal(err)
	}
	return run
}

// TestLeave: Leave records in the run's rows, of many rows in one call, what Answer records
// of each given its outcome alone, and leaves the rows themselves as they were.
func TestLeave(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	known := func(key string, id int64) Known { return Known{Key: key, OpportunityID: id, Hash: "h" + key} }
	left := []Left{
		{Known: known("A", 1), Outcome: "skipped", InputRow: 2, Title: "deal A"},
		{Known: known("B", 2), Outcome: "unchanged", InputRow: 3}, // no title: NULL
		{Known: known("D", 3), Outcome: "unchanged"},              // keeps the input row, title and Before of its run row
	}
	keys := []string{"A", "B", "C", "D"}
	type stored struct {
		Rows    []Row
		RunRows []RunRow
	}
	read := func(db *DB, run int64) stored {
		var s stored
		for _, key := range keys {
			row, _, err := db.Row(ctx, testPortal, key)
			if err != nil {
				t.Fatal(err)
			}
			s.Rows = append(s.Rows, row)
		}
		if err := db.RunRows(ctx, run, func(r RunRow) error { s.RunRows = append(s.RunRows, r); return nil }); err != nil {
			t.Fatal(err)
		}
		return s
	}
	opts := cmp.Options{cmpopts.IgnoreFields(Row{}, "IntentAt"), cmpopts.IgnoreFields(RunRow{}, "At")}

	answered := openTest(t, tempPath(t))
	run := history(t, answered)
	for _, l := range left {
		if err := answered.Answer(ctx, run, testPortal, l.Key, Answer{Outcome: l.Outcome, InputRow: l.InputRow, Title: l.Title}); err != nil {
			t.Fatal(err)
		}
	}
	wantRunRows := read(answered, run).RunRows

	db := openTest(t, tempPath(t))
	if got := history(t, db); got != run {
		t.Fatalf("got run %d, want %d", got, run)
	}
	before := read(db, run)
	if err := db.Leave(ctx, run, testPortal, left); err != nil {
		t.Fatal(err)
	}
	got := read(db, run)
	if diff := cmp.Diff(wantRunRows, got.RunRows, opts); diff != "" {
		t.Errorf("run rows after Leave (-Answer one by one +Leave):\n%s", diff)
	}
	if diff := cmp.Diff(before.Rows, got.Rows, opts); diff != "" {
		t.Errorf("rows after Leave (-before +after):\n%s", diff)
	}

	// More rows than one statement takes.
	var many []Left
	for i := range 2*leaveChunk + 1 {
		many = append(many, Left{Known: Known{Key: fmt.Sprint("M", i)}, Outcome: "skipped", InputRow: i + 10})
	}
	if err := db.Leave(ctx, run, testPortal, many); err != nil {
		t.Fatal(err)
	}
	if n := len(read(db, run).RunRows); n != len(wantRunRows)+len(many) {
		t.Errorf("after a Leave of %d rows: got %d run rows, want %d", len(many), n, len(wantRunRows)+len(many))
	}

	if err := db.Leave(ctx, run, testPortal, []Left{{Known: known("A", 1)}}); err == nil || !strings.Contains(err.Error(), `key "A": no outcome`) {
		t.Errorf("Leave without an outcome: got %v, want it refused, naming the key", err)
	}
	if err := db.Leave(ctx, run, testPortal, []Left{{Known: Known{Key: "C", Pending: true}, Outcome: "skipped"}}); err == nil || !strings.Contains(err.Error(), `key "C": a request is pending`) {
		t.Errorf("Leave of a pending row: got %v, want it refused, naming the key", err)
	}
	if err := db.Leave(ctx, run, testPortal, nil); err != nil {
		t.Errorf("Leave of nothing: got %v, want nil", err)
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTest(t, tempPath(t))
	history(t, db)
	var want []Known
	for _, key := range []string{"A", "C", "D"} {
		row, _, err := db.Row(ctx, testPortal, key)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, Known{Key: row.Key, OpportunityID: row.OpportunityID, Hash: row.Hash, Pending: row.Pending()})
	}
	// Keys as they are, bytes that are no UTF-8 and a composite key's separator included.
	for _, key := range []string{"\xffbad \xfe", "a\x1fb"} {
		if err := db.Answer(ctx, 1, testPortal, key, Answer{OpportunityID: 9, Outcome: "created", Hash: "h"}); err != nil {
			t.Fatal(err)
		}
	}
	want = append([]Known{{Key: "\xffbad \xfe", OpportunityID: 9, Hash: "h"}, {Key: "a\x1fb", OpportunityID: 9, Hash: "h"}}, want...)
	keys := []string{"D", "nope", "A", "C", `a "quoted" key`, "A", "\xffbad \xfe", "\ufffdbad \ufffd", "a\x1fb"}
	for i := range 2 * lookupChunk { // more keys than one statement takes
		keys = append(keys, fmt.Sprint("unknown ", i))
	}
	got, err := db.Lookup(ctx, testPortal, keys)
	if err != nil {
		t.Fatal(err)
	}
	byKey := func(a, b Known) int { return strings.Compare(a.Key, b.Key) }
	slices.SortFunc(want, byKey)
	slices.SortFunc(got, byKey)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Lookup of %d keys (-Row one by one +Lookup):\n%s", len(keys), diff)
	}
	if got, err := db.Lookup(ctx, "https://other.example.com", keys); err != nil || len(got) != 0 {
		t.Errorf("Lookup on another portal: got %v, %v, want nothing", got, err)
	}
	if got, err := db.Lookup(ctx, testPortal, nil); err != nil || len(got) != 0 {
		t.Errorf("Lookup of no keys: got %v, %v, want nothing", got, err)
	}
	// Each key is found in the index of what a look-up reads, not in the rows themselves
	// (their bodies make them four to a page).
	var plan []string
	args := make([]any, 1+lookupChunk)
	rows, err := db.r.Query(`EXPLAIN QUERY PLAN `+lookupQuery, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(plan, func(s string) bool { return strings.Contains(s, "USING COVERING INDEX rows_done") }) {
		t.Errorf("Lookup's query plan: got %q, want it to use the covering index rows_done", plan)
	}
}

// BenchmarkLookupLeave is the pass over 256 done rows of a re-run: one Lookup, one Leave.
func BenchmarkLookupLeave(b *testing.B) {
	ctx := context.Background()
	db := openTest(b, tempPath(b))
	first := startRun(b, db)
	const n = 256 * 40
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("K%07d", i)
		if err := db.Answer(ctx, first, testPortal, keys[i], Answer{OpportunityID: int64(i + 1), Outcome: "created", Hash: "h", Sent: []byte(strings.Repeat("x", 300))}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var run int64
	i := 0
	for b.Loop() {
		if i%n == 0 { // each key left once a run
			b.StopTimer()
			run = startRun(b, db)
			b.StartTimer()
		}
		batch := keys[i%n : i%n+256]
		rows, err := db.Lookup(ctx, testPortal, batch)
		if err != nil || len(rows) != 256 {
			b.Fatalf("got %d rows, %v", len(rows), err)
		}
		left := make([]Left, len(rows))
		for j, r := range rows {
			left[j] = Left{Known: r, Outcome: "skipped", InputRow: i%n + j + 2, Title: "deal"}
		}
		if err := db.Leave(ctx, run, testPortal, left); err != nil {
			b.Fatal(err)
		}
		i += 256
	}
	b.ReportMetric(float64(256*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkLookup is the look-up of a re-run's done rows, 256 keys at a time in input
// order, in a state of 102,400 rows with bodies as big as a deal's (some 650 bytes).
func BenchmarkLookup(b *testing.B) {
	ctx := context.Background()
	db := openTest(b, tempPath(b))
	const n = 256 * 400
	keys := make([]string, n)
	body := []byte(strings.Repeat("x", 650))
	for i := range keys {
		keys[i] = fmt.Sprintf("D-%07d", i)
	}
	for chunk := range slices.Chunk(keys, 1000) {
		err := db.write(ctx, func(tx *sql.Tx) error {
			for i, key := range chunk {
				if _, err := tx.Exec(`INSERT INTO rows (portal, key, opportunity_id, hash, outcome, sent) VALUES (?, ?, ?, ?, 'created', ?)`,
					testPortal, key, i+1, fmt.Sprintf("%032x", i), body); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		batch := keys[i%n : i%n+256]
		i += 256
		rows, err := db.Lookup(ctx, testPortal, batch)
		if err != nil || len(rows) != 256 {
			b.Fatalf("got %d rows, %v", len(rows), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(256*b.N), "ns/key")
}
