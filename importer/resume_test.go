package importer

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/source"
	"github.com/oppimport/oppimport/state"
)

var cmpIgnoreAt = cmpopts.IgnoreFields(state.RunRow{}, "At")

// resumeInput is n rows over more than one mapped batch, with keys a JSON list or a
// careless query would not find again: quotes, a separator, bytes that are no UTF-8.
func resumeInput(n int) [][]string {
	var in [][]string
	for i := range n {
		key := fmt.Sprint("R", i)
		switch i % 50 {
		case 1:
			key = fmt.Sprintf(`R"%d"`, i)
		case 2:
			key = fmt.Sprintf("R\xff%d\xfe", i)
		case 3:
			key = fmt.Sprintf("R,%d;|", i)
		}
		in = append(in, []string{key, fmt.Sprint("deal ", i), fmt.Sprint(i)})
	}
	return in
}

// TestResumeNeverPostsAnsweredRows: a run that stopped after part of its input, re-run on
// the whole input, passes every row whose answer the state holds through the batch path
// (skipped, never posted again, recorded in the run's rows; the state's own row of it not
// written again), and creates the others exactly once, in input order.
func TestResumeNeverPostsAnsweredRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := newLedgerRun(t)
	const n, done = 700, 600 // three batches of 256
	in := resumeInput(n)
	first, _ := l.run(ModeCreate, in[:done]...)
	if len(first) != done || l.portal.creates != done {
		t.Fatalf("first run: got %d results, %d creates; want %d", len(first), l.portal.creates, done)
	}
	before := map[string]state.Row{}
	for _, row := range in[:done] {
		r, _, err := l.db.Row(ctx, "p", row[0])
		if err != nil {
			t.Fatal(err)
		}
		before[row[0]] = r
	}

	again, st := l.run(ModeCreate, in...)
	if l.portal.creates != n {
		t.Errorf("after the re-run: got %d creates, want %d: each row once", l.portal.creates, n)
	}
	if diff := cmp.Diff(map[string]int{Skipped: done, Created: n - done}, st.Counts); diff != "" {
		t.Errorf("re-run counts (-want +got):\n%s", diff)
	}
	titles := map[string]int{}
	for _, d := range l.portal.deals {
		titles[d.Title]++
	}
	for title, k := range titles {
		if k != 1 {
			t.Errorf("the portal holds %q %d times, want once", title, k)
		}
	}

	// Each done row was left through the batch path: reported with its id, listed in the
	// run's rows with its place and title, its state row as it stood.
	run := int64(2)
	runRows := map[string]state.RunRow{}
	if err := l.db.RunRows(ctx, run, func(rr state.RunRow) error { runRows[rr.Key] = rr; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(runRows) != n {
		t.Errorf("run %d lists %d rows, want %d", run, len(runRows), n)
	}
	for i, row := range in[:done] {
		key := row[0]
		show := mapping.ShowKey(key)
		if r := again[show]; r.Status != Skipped || r.OpportunityID != first[show].OpportunityID {
			t.Errorf("%q: got %s as %d, want skipped as %d", key, r.Status, r.OpportunityID, first[show].OpportunityID)
		}
		want := state.RunRow{Key: key, Outcome: Skipped, OpportunityID: before[key].OpportunityID, PrevHash: before[key].Hash,
			InputRow: 2, Title: fmt.Sprint("deal ", i)}
		if diff := cmp.Diff(want, runRows[key], cmpIgnoreAt); diff != "" {
			t.Errorf("%q in run %d's rows (-want +got):\n%s", key, run, diff)
		}
		now, _, err := l.db.Row(ctx, "p", key)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before[key], now); diff != "" {
			t.Errorf("%q: the state's row changed (-before +after):\n%s", key, diff)
		}
	}
	for _, row := range in[done:] {
		if r := again[mapping.ShowKey(row[0])]; r.Status != Created {
			t.Errorf("%q: got %s %q, want created", row[0], r.Status, r.Error)
		}
	}

	// And once more: every row done, nothing sent.
	_, st = l.run(ModeCreate, in...)
	if st.Counts[Skipped] != n || l.portal.creates != n {
		t.Errorf("third run: got %v, %d creates; want %d skipped, no create", st.Counts, l.portal.creates, n)
	}
}

// TestResumeSyncThroughBatch: in sync mode the batch path leaves only the rows whose content
// is what was last written and whose opportunity the portal still shows; a changed row is
// still compared and updated, a deleted one still reported.
func TestResumeSyncThroughBatch(t *testing.T) {
	t.Parallel()
	l := newLedgerRun(t)
	in := resumeInput(300)
	first, _ := l.run(ModeCreate, in...)
	in[5] = []string{in[5][0], in[5][1], "changed"}
	in[6] = []string{in[6][0], in[6][1], "555"}
	l.portal.delete(first[mapping.ShowKey(in[7][0])].OpportunityID)
	got, st := l.run(ModeSync, in...)
	want := map[string]int{Unchanged: 297, Updated: 1, Failed: 1, Invalid: 1}
	if diff := cmp.Diff(want, st.Counts); diff != "" {
		t.Errorf("sync counts (-want +got):\n%s", diff)
	}
	if r := got[mapping.ShowKey(in[6][0])]; r.Status != Updated || *l.portal.deals[r.OpportunityID].BidValue != "555" {
		t.Errorf("the changed row: got %s %q, want updated to 555", r.Status, r.Error)
	}
	if r := got[mapping.ShowKey(in[7][0])]; r.Status != Failed || !strings.Contains(r.Error, "deleted or no longer visible") {
		t.Errorf("the deleted row: got %s %q, want failed, gone", r.Status, r.Error)
	}
	if l.portal.updates != 1 {
		t.Errorf("got %d updates, want 1", l.portal.updates)
	}
}

// TestResumeLeaveFails: a run whose record of the rows it left fails stops, saying why.
func TestResumeLeaveFails(t *testing.T) {
	t.Parallel()
	l := newLedgerRun(t)
	in := resumeInput(10)
	l.run(ModeCreate, in...)
	input := table(in)
	// Run 99 does not exist: the state refuses rows of it.
	st, err := Run(context.Background(), Config{Rows: &input, Plan: plan(t), Poster: l.portal, Concurrency: 2,
		Ledger: &Ledger{DB: l.db, Portal: "p", Run: 99}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Stopped == nil || !IsFatal(st.Stopped) || !strings.Contains(st.Stopped.Error(), "record answers for 10 keys") {
		t.Errorf("got stopped %v, want the failed record of the rows left", st.Stopped)
	}
}

// TestResumeRunRowsInInputOrder: a re-run whose done rows and new rows alternate lists
// them all in its run's rows in input order, with their place, outcome, id and title (what
// status --run N and undo --run N read), the done ones packed by the state and the new ones
// recorded by their answers; its journal counts them as the run did.
func TestResumeRunRowsInInputOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := newLedgerRun(t)
	const n = 700 // three batches of 256
	in := resumeInput(n)
	var fill [][]string
	for i, row := range in {
		if i%3 != 0 {
			fill = append(fill, row)
		}
	}
	first, _ := l.run(ModeCreate, fill...)
	numbered := func(rows [][]string) Rows {
		i := 0
		return rowsFunc(func() (source.Row, error) {
			if i == len(rows) {
				return source.Row{}, io.EOF
			}
			i++
			return source.Row{Number: i + 1, Cells: rows[i-1]}, nil
		})
	}
	run, err := l.db.StartRun(ctx, state.Run{Portal: "p", Mode: "import"})
	if err != nil {
		t.Fatal(err)
	}
	again := map[string]Result{}
	st, err := Run(ctx, Config{Rows: numbered(in), Plan: plan(t), Poster: l.portal, Concurrency: 4,
		Ledger: &Ledger{DB: l.db, Portal: "p", Run: run}, OnResult: func(r Result) { again[r.Key] = r }})
	if err != nil || st.Stopped != nil {
		t.Fatalf("re-run: %v, stopped %v", err, st.Stopped)
	}
	var want, got []state.RunRow
	for i, row := range in {
		r := again[mapping.ShowKey(row[0])]
		outcome := Created
		if i%3 != 0 {
			outcome = Skipped
			if id := first[mapping.ShowKey(row[0])].OpportunityID; r.OpportunityID != id {
				t.Errorf("%q: reported as %d, want %d", row[0], r.OpportunityID, id)
			}
		}
		want = append(want, state.RunRow{Key: row[0], Outcome: outcome, OpportunityID: r.OpportunityID, InputRow: i + 2, Title: row[1]})
	}
	if err := l.db.RunRows(ctx, run, func(rr state.RunRow) error { got = append(got, rr); return nil }); err != nil {
		t.Fatal(err)
	}
	opts := cmp.Options{cmpIgnoreAt, cmpopts.IgnoreFields(state.RunRow{}, "Method", "PrevHash", "Sent")}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("run %d's rows (-want +got):\n%s", run, diff)
	}
	counts, err := l.db.JournalCounts(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{Skipped: len(fill), Created: n - len(fill)}, counts); diff != "" {
		t.Errorf("run %d's journal counts (-want +got):\n%s", run, diff)
	}
}
