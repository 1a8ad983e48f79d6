package undo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/importer"
	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/record"
	"github.com/oppimport/oppimport/state"
)

// createPortal is a portal that can create, as main's can. lose, when set, makes every
// create land on the portal and its answer lost on the way back.
type createPortal struct {
	portal
	lose bool
}

func (p createPortal) Create(ctx context.Context, rec mapping.Record) (importer.Posted, error) {
	posted, err := classify(p.c.CreateOpportunity(ctx, record.Body(rec)))
	if err == nil && p.lose {
		return importer.Posted{Attempts: posted.Attempts, InDoubt: true}, errors.New("no answer: the connection was reset")
	}
	return posted, err
}

// dedupe is run's delete of the copy id of a deal, as a dedupe makes it: the record kept
// (as the portal held it) with the intent, the DELETE, then the answer. It returns the
// record kept, in the form an import sends.
func (f *fixture) dedupe(t *testing.T, run int64, key string, id int64) mapping.Record {
	t.Helper()
	ctx := context.Background()
	o, err := f.client.GetOpportunity(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := record.FromPortal(o)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(o)
	if err := f.db.Intent(ctx, run, f.portal, key, state.Request{Method: "DELETE", Before: before}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.DeleteOpportunity(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Answer(ctx, run, f.portal, key, state.Answer{OpportunityID: id, Outcome: state.Deleted}); err != nil {
		t.Fatal(err)
	}
	return kept
}

// deduped records run 1, which creates the deal K and two copies of it, and run 2, a
// dedupe that keeps K and deletes the copies. It returns run 2 and the copies' records by key.
func deduped(t *testing.T, f *fixture) (run2 int64, copies map[string]mapping.Record) {
	t.Helper()
	run1 := f.startRun(t, "create", 0)
	f.create(t, run1, "K", deal("deal K", "10"))
	ids := map[string]int64{}
	for i, amount := range []string{"20", "30"} {
		// The copies: each once the row K of another state database, say.
		copyOf := deal(fmt.Sprintf("deal K, copy %d", i+1), amount)
		out, err := f.client.CreateOpportunity(context.Background(), record.Body(copyOf))
		if err != nil {
			t.Fatal(err)
		}
		ids[fmt.Sprintf("K#%d", out.ID)] = out.ID
	}
	run2 = f.startRun(t, "dedupe", 0)
	copies = map[string]mapping.Record{}
	for key, id := range ids {
		copies[key] = f.dedupe(t, run2, key, id)
	}
	return run2, copies
}

func TestUndoRecreatesWhatADedupeDeleted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	run2, copies := deduped(t, f)
	p := createPortal{portal: portal{c: f.client}}
	want := map[string]string{}
	for key := range copies {
		want[key] = Restored
	}

	// The dry run says what it would do and sends nothing.
	posts := f.emu.Requests("POST", "crm/opportunity")
	for _, client := range []Portal{p, nil} {
		got, _ := f.undo(t, run2, Config{DryRun: true, Client: client})
		for key, r := range got {
			if r.Status != WouldRestore || !strings.Contains(r.Error, "deleted by run 2: created again from the record kept") {
				t.Errorf("dry run (portal %v), %s: got %s %q, want %s, created again from the record kept", client != nil, key, r.Status, r.Error, WouldRestore)
			}
		}
		if len(got) != len(copies) {
			t.Errorf("dry run: got %d results, want %d", len(got), len(copies))
		}
	}
	if n := f.emu.Requests("POST", "crm/opportunity") - posts; n != 0 {
		t.Errorf("the dry runs sent %d creates, want none", n)
	}

	got, st := f.undo(t, run2, Config{Client: p})
	if diff := cmp.Diff(want, statuses(got)); diff != "" {
		t.Fatalf("undo of the dedupe (-want +got):\n%s", diff)
	}
	if st.Requests != len(copies) {
		t.Errorf("got %d requests, want %d: one create for each copy", st.Requests, len(copies))
	}
	ids := map[int64]bool{}
	for key, r := range got {
		old := strings.TrimPrefix(key, "K#")
		note := fmt.Sprintf("deleted by run 2 as opportunity %s: created again as opportunity %d", old, r.OpportunityID)
		if r.Error != note {
			t.Errorf("%s: got %q, want %q", key, r.Error, note)
		}
		if diff := cmp.Diff(copies[key], f.stored(t, r.OpportunityID)); diff != "" {
			t.Errorf("%s created again (-kept +now):\n%s", key, diff)
		}
		row, _, err := f.db.Row(context.Background(), f.portal, key)
		if err != nil {
			t.Fatal(err)
		}
		if row.Pending() || row.OpportunityID != r.OpportunityID {
			t.Errorf("%s in the state: pending %v, opportunity %d; want answered, opportunity %d", key, row.Pending(), row.OpportunityID, r.OpportunityID)
		}
		ids[r.OpportunityID] = true
	}
	if len(ids) != len(copies) || len(f.emu.Opportunities()) != 1+len(copies) {
		t.Errorf("got %d new ids and %d opportunities on the portal, want %d and %d", len(ids), len(f.emu.Opportunities()), len(copies), 1+len(copies))
	}

	// Again: done already, nothing sent.
	got, st = f.undo(t, run2, Config{Client: p})
	for key, r := range got {
		if r.Status != Skipped || !strings.Contains(r.Error, "undone already by run") {
			t.Errorf("second undo, %s: got %s %q, want skipped, undone already", key, r.Status, r.Error)
		}
	}
	if st.Requests != 0 || len(f.emu.Opportunities()) != 1+len(copies) {
		t.Errorf("second undo: %d requests, %d opportunities on the portal; want none and %d", st.Requests, len(f.emu.Opportunities()), 1+len(copies))
	}
}

func TestUndoCannotRecreate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	run2, copies := deduped(t, f)
	// A portal that cannot create: nothing is sent, nothing recorded as done.
	got, st := f.undo(t, run2, Config{})
	for key, r := range got {
		if r.Status != Failed || !strings.Contains(r.Error, "this undo cannot create it again") {
			t.Errorf("%s: got %s %q, want failed: this undo cannot create it again", key, r.Status, r.Error)
		}
	}
	if len(got) != len(copies) || st.Requests != 0 {
		t.Errorf("got %d results, %d requests; want %d, none", len(got), st.Requests, len(copies))
	}

	// A kept record that cannot be read is never created as an empty deal.
	g := newFixture(t)
	run := g.startRun(t, "dedupe", 0)
	ctx := context.Background()
	if err := g.db.Intent(ctx, run, g.portal, "K#9", state.Request{Method: "DELETE", Before: []byte(`{"ID": "nine"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := g.db.Answer(ctx, run, g.portal, "K#9", state.Answer{OpportunityID: 9, Outcome: state.Deleted}); err != nil {
		t.Fatal(err)
	}
	got, _ = g.undo(t, run, Config{Client: createPortal{portal: portal{c: g.client}}})
	if r := got["K#9"]; r.Status != Failed || !strings.Contains(r.Error, "the record kept before run 1 deleted it cannot be read") {
		t.Errorf("unreadable record: got %s %q, want failed, it cannot be read", r.Status, r.Error)
	}
	if n := len(g.emu.Opportunities()); n != 0 {
		t.Errorf("the portal holds %d opportunities, want none", n)
	}
}

// TestUndoRecreateInDoubt: a create whose answer was lost leaves the row pending, its
// intent kept for the next undo to settle; it is not answered as failed, which would let
// the deal be created twice.
func TestUndoRecreateInDoubt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	run2, copies := deduped(t, f)
	got, _ := f.undo(t, run2, Config{Client: createPortal{portal: portal{c: f.client}, lose: true}})
	undoRun := run2 + 1
	for key := range copies {
		r := got[key]
		if r.Status != Failed || !strings.Contains(r.Error, "in doubt: run the undo again to settle it") {
			t.Errorf("%s: got %s %q, want failed, in doubt", key, r.Status, r.Error)
		}
		row, _, err := f.db.Row(context.Background(), f.portal, key)
		if err != nil {
			t.Fatal(err)
		}
		if !row.Pending() || row.IntentRun != undoRun || row.IntentMethod != "POST" {
			t.Errorf("%s in the state: pending %v, intent %s of run %d; want the POST of run %d pending", key, row.Pending(), row.IntentMethod, row.IntentRun, undoRun)
		}
	}
	if n := len(f.emu.Opportunities()); n != 1+len(copies) {
		t.Errorf("the portal holds %d opportunities, want %d: the lost creates landed", n, 1+len(copies))
	}

	// The next undo settles first, as main's does: each lost create is found on the portal
	// and taken for the row; the undo then has nothing left to create.
	next := f.startRun(t, "undo", run2)
	ledger := &importer.Ledger{DB: f.db, Portal: f.portal, Run: next, Undoing: true}
	adopted, forgotten, doubtful, err := importer.Settle(context.Background(), ledger, titles{f})
	if err != nil || adopted != len(copies) || forgotten+doubtful != 0 {
		t.Fatalf("settling: %d found, %d forgotten, %d in doubt, %v; want %d found", adopted, forgotten, doubtful, err, len(copies))
	}
	got, st := f.undo(t, run2, Config{Client: createPortal{portal: portal{c: f.client}}})
	for key, r := range got {
		if r.Status != Skipped || !strings.Contains(r.Error, fmt.Sprintf("undone already by run %d", undoRun)) {
			t.Errorf("next undo, %s: got %s %q, want skipped, undone already by run %d", key, r.Status, r.Error, undoRun)
		}
	}
	if n := len(f.emu.Opportunities()); n != 1+len(copies) || st.Requests != 0 {
		t.Errorf("after the next undo the portal holds %d opportunities (%d requests), want %d: no copy created twice", n, st.Requests, 1+len(copies))
	}
}

// titles finds a lost create on the portal by its title, as main's finder finds it by
// its content.
type titles struct{ f *fixture }

func (t titles) Find(_ context.Context, rec mapping.Record, _ time.Time) ([]int64, int, error) {
	var ids []int64
	for _, o := range t.f.emu.Opportunities() {
		if o.Title == rec.Title {
			ids = append(ids, int64(o.ID))
		}
	}
	return ids, 1, nil
}

// blind is a search the portal refuses: the settle cannot decide.
type blind struct{}

func (blind) Find(context.Context, mapping.Record, time.Time) ([]int64, int, error) {
	return nil, 1, errors.New("search refused")
}

// A recreate whose answer was lost and that the settle could not decide stays in doubt: the
// next undo never posts it again blindly.
func TestUndoRecreateStillInDoubt(t *testing.T) {
	f := newFixture(t)
	run2, copies := deduped(t, f)
	f.undo(t, run2, Config{Client: createPortal{portal: portal{c: f.client}, lose: true}})
	l := &importer.Ledger{DB: f.db, Portal: f.portal, Run: f.startRun(t, "undo", run2), Undoing: true}
	if _, _, d, err := importer.Settle(context.Background(), l, blind{}); err != nil || d != len(copies) {
		t.Fatalf("settle: %d in doubt, %v; want %d in doubt", d, err, len(copies))
	}
	got, _ := f.undo(t, run2, Config{Client: createPortal{portal: portal{c: f.client}}})
	for k, r := range got {
		if r.Status != Failed || !strings.Contains(r.Error, "in doubt") {
			t.Errorf("%s: got %s %q, want failed, in doubt", k, r.Status, r.Error)
		}
	}
	if n := len(f.emu.Opportunities()); n != 1+len(copies) {
		t.Errorf("the portal holds %d opportunities, want %d", n, 1+len(copies))
	}
}
