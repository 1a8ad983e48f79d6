package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/source"
	"github.com/oppimport/oppimport/state"
)

// fakePortal keeps opportunities in memory, as a portal would, with faults on demand.
type fakePortal struct {
	mu      sync.Mutex
	deals   map[int64]mapping.Record
	next    int64
	creates int
	updates int
	// lose answers a create of these titles with a lost answer: made on the portal when
	// true, never made when false.
	lose map[string]bool
	// refuse answers an update of these titles with an error.
	refuse map[string]bool
	// findErr fails every Find.
	findErr error
}

func newFakePortal() *fakePortal {
	return &fakePortal{deals: map[int64]mapping.Record{}, lose: map[string]bool{}, refuse: map[string]bool{}}
}

func (p *fakePortal) Create(ctx context.Context, rec mapping.Record) (Posted, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.creates++
	made, lost := p.lose[rec.Title]
	if lost {
		delete(p.lose, rec.Title) // the next try is answered
		if made {
			p.next++
			p.deals[p.next] = rec
		}
		return Posted{Attempts: 1, InDoubt: true}, errors.New("no answer")
	}
	p.next++
	p.deals[p.next] = rec
	return Posted{ID: p.next, Attempts: 1, HTTPStatus: 201}, nil
}

func (p *fakePortal) Update(ctx context.Context, id int64, rec mapping.Record) (Posted, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.updates++
	if _, ok := p.deals[id]; !ok {
		return Posted{Attempts: 1, HTTPStatus: 404}, errors.New("HTTP 404: not found")
	}
	if p.refuse[rec.Title] {
		return Posted{Attempts: 1, HTTPStatus: 400}, errors.New("HTTP 400: refused")
	}
	p.deals[id] = rec
	return Posted{ID: id, Attempts: 1, HTTPStatus: 200}, nil
}

func (p *fakePortal) Find(ctx context.Context, rec mapping.Record, since time.Time) ([]int64, int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.findErr != nil {
		return nil, 1, p.findErr
	}
	var ids []int64
	for id, d := range p.deals {
		if d.Title == rec.Title {
			ids = append(ids, id)
		}
	}
	return ids, 1, nil
}

func (p *fakePortal) Current(ctx context.Context, want func(int64) bool) (map[int64]Current, Posted, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[int64]Current{}
	for id, d := range p.deals {
		if want(id) {
			b, _ := json.Marshal(d)
			out[id] = Current{Record: d, Raw: b}
		}
	}
	return out, Posted{Attempts: 1, HTTPStatus: 200}, nil
}

func (p *fakePortal) delete(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.deals, id)
}

// table is an input of rows ID, Title, Amount.
type table [][]string

func (t *table) Next() (source.Row, error) {
	if len(*t) == 0 {
		return source.Row{}, io.EOF
	}
	row := (*t)[0]
	*t = (*t)[1:]
	return source.Row{Number: 2, Cells: row}, nil
}

// ledgerRun is one import run with a state database.
type ledgerRun struct {
	t          *testing.T
	db         *state.DB
	portal     *fakePortal
	recreate   bool
	onConflict string
	dry        bool
	plan       *mapping.Plan // nil: plan(t)
	indexed    bool
}

func newLedgerRun(t *testing.T) *ledgerRun {
	t.Helper()
	db, err := state.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &ledgerRun{t: t, db: db, portal: newFakePortal()}
}

func (l *ledgerRun) ledger() *Ledger {
	l.t.Helper()
	run, err := l.db.StartRun(context.Background(), state.Run{Portal: "p", Mode: "import"})
	if err != nil {
		l.t.Fatal(err)
	}
	return &Ledger{DB: l.db, Portal: "p", Run: run, DryRun: l.dry, Indexed: l.indexed}
}

// run imports rows in mode and returns the results by key and the stats.
func (l *ledgerRun) run(mode string, rows ...[]string) (map[string]Result, Stats) {
	l.t.Helper()
	in := table(rows)
	got := map[string]Result{}
	p := l.plan
	if p == nil {
		p = plan(l.t)
	}
	st, err := Run(context.Background(), Config{Rows: &in, Plan: p, Poster: l.portal, Concurrency: 4,
		Ledger: l.ledger(), Mode: mode, RecreateMissing: l.recreate, OnConflict: l.onConflict,
		OnResult: func(r Result) { got[r.Key] = r }})
	if err != nil {
		l.t.Fatal(err)
	}
	return got, st
}

func statusOf(rs map[string]Result) map[string]string {
	out := map[string]string{}
	for k, r := range rs {
		out[k] = r.Status
	}
	return out
}

func TestLedgerCreateSkipSync(t *testing.T) {
	l := newLedgerRun(t)
	first, _ := l.run(ModeCreate, []string{"A", "deal A", "1"}, []string{"B", "deal B", "2"}, []string{"C", "deal C", "3"},
		[]string{"D", "deal D", "4"})
	if diff := cmp.Diff(map[string]string{"A": Created, "B": Created, "C": Created, "D": Created}, statusOf(first)); diff != "" {
		t.Fatalf("first run (-want +got):\n%s", diff)
	}

	again, _ := l.run(ModeCreate, []string{"A", "deal A", "1"}, []string{"B", "deal B", "20"})
	if diff := cmp.Diff(map[string]string{"A": Skipped, "B": Skipped}, statusOf(again)); diff != "" {
		t.Errorf("second run in create mode (-want +got):\n%s", diff)
	}
	if again["B"].OpportunityID != first["B"].OpportunityID || l.portal.creates != 4 {
		t.Errorf("second run: B has id %d (want %d), %d creates (want 4)", again["B"].OpportunityID, first["B"].OpportunityID, l.portal.creates)
	}

	// Sync: A unchanged, B changed, C changed but gone from the portal, D left the input, E new.
	l.portal.delete(first["C"].OpportunityID)
	got, st := l.run(ModeSync, []string{"A", "deal A", "1"}, []string{"B", "deal B", "20"}, []string{"C", "deal C", "30"},
		[]string{"E", "deal E", "5"})
	want := map[string]string{"A": Unchanged, "B": Updated, "C": Failed, "E": Created}
	if diff := cmp.Diff(want, statusOf(got)); diff != "" {
		t.Errorf("sync (-want +got):\n%s", diff)
	}
	if e := got["C"].Error; !strings.Contains(e, "is deleted or no longer visible to this user: not created again") {
		t.Errorf("C: got %q, want it to say it is gone and was not created again", e)
	}
	if st.Absent != 1 || !cmp.Equal(st.AbsentKeys, []string{"D"}) || st.Gone != 1 {
		t.Errorf("got %d absent keys %v, %d gone; want D absent, 1 gone", st.Absent, st.AbsentKeys, st.Gone)
	}
	if st.Requests != 3 || l.portal.updates != 1 {
		t.Errorf("the sync made %d requests, %d updates; want 3: the snapshot, B's update, E's create", st.Requests, l.portal.updates)
	}
	// Gone even when its row did not change; created again only when asked.
	got, _ = l.run(ModeSync, []string{"C", "deal C", "30"})
	if r := got["C"]; r.Status != Failed {
		t.Errorf("C unchanged since: got %s %q, want failed: gone", r.Status, r.Error)
	}
	l.recreate = true
	got, _ = l.run(ModeSync, []string{"C", "deal C", "30"})
	if r := got["C"]; r.Status != Created || !strings.Contains(r.Error, "created again (--recreate-missing)") {
		t.Errorf("C with RecreateMissing: got %s %q, want created again", r.Status, r.Error)
	}
	l.recreate = false
	if v := *l.portal.deals[first["B"].OpportunityID].BidValue; v != "20" {
		t.Errorf("B on the portal: amount %s, want 20", v)
	}
	// The sync kept B's record as it stood, for an undo.
	var before []byte
	if err := l.db.RunRows(context.Background(), 3, func(rr state.RunRow) error {
		if rr.Key == "B" {
			before = rr.Before
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var kept mapping.Record
	if err := json.Unmarshal(before, &kept); err != nil || *kept.BidValue != "2" {
		t.Errorf("the record kept before B's update: %s (%v), want amount 2", before, err)
	}

	// An update the portal refuses fails the row and keeps its id.
	l.portal.refuse["deal B"] = true
	got, _ = l.run(ModeSync, []string{"B", "deal B", "21"})
	if r := got["B"]; r.Status != Failed || r.OpportunityID != first["B"].OpportunityID || r.HTTPStatus != 400 {
		t.Errorf("refused update: got %+v, want failed with the id and 400", r)
	}
	// The export's change that was refused is tried again by the next sync, not taken as
	// done.
	l.portal.refuse["deal B"] = false
	got, _ = l.run(ModeSync, []string{"B", "deal B", "21"})
	if r := got["B"]; r.Status != Updated || *l.portal.deals[first["B"].OpportunityID].BidValue != "21" {
		t.Errorf("the sync after a refused update: got %s %q, want updated to 21", r.Status, r.Error)
	}
}

func TestLedgerLostAnswers(t *testing.T) {
	l := newLedgerRun(t)
	l.portal.lose["made"] = true
	l.portal.lose["never made"] = false
	got, _ := l.run(ModeCreate, []string{"A", "made", "1"}, []string{"B", "never made", "2"})
	if r := got["A"]; r.Status != Created || !strings.Contains(r.Error, "the answer was lost; found on the portal as opportunity") || r.Attempts != 2 {
		t.Errorf("A, made but unanswered: got %s %q after %d requests, want created, found on the portal, 2 requests (the create, the search)", r.Status, r.Error, r.Attempts)
	}
	if r := got["B"]; r.Status != Created || r.Error != "" || l.portal.creates != 3 {
		t.Errorf("B, never made: got %s %q after %d creates, want created by a second create (3 in all)", r.Status, r.Error, l.portal.creates)
	}
	if n := len(l.portal.deals); n != 2 {
		t.Errorf("the portal holds %d deals, want 2: each once", n)
	}

	// The portal cannot be searched: the row stays in doubt and is never posted blindly.
	l.portal.lose["unknown"] = true
	l.portal.findErr = errors.New("portal unreachable")
	got, _ = l.run(ModeCreate, []string{"C", "unknown", "3"})
	if r := got["C"]; r.Status != Failed || !strings.Contains(r.Error, "in doubt") {
		t.Errorf("C: got %s %q, want failed, in doubt", r.Status, r.Error)
	}
	got, _ = l.run(ModeCreate, []string{"C", "unknown", "3"})
	if r := got["C"]; r.Status != Failed || !strings.Contains(r.Error, "in doubt since run 2") {
		t.Errorf("C again: got %s %q, want failed, in doubt since run 2", r.Status, r.Error)
	}

	// Settled once the portal answers: found there, adopted.
	l.portal.findErr = nil
	adopted, forgotten, doubtful, err := Settle(context.Background(), l.ledger(), l.portal)
	if err != nil || adopted != 1 || forgotten+doubtful != 0 {
		t.Errorf("Settle: got %d adopted, %d forgotten, %d doubtful, %v; want 1 adopted", adopted, forgotten, doubtful, err)
	}
	got, _ = l.run(ModeCreate, []string{"C", "unknown", "3"})
	if r := got["C"]; r.Status != Skipped || r.OpportunityID == 0 {
		t.Errorf("C after settling: got %s %d, want skipped with its id", r.Status, r.OpportunityID)
	}
}

// TestSettle decides every request a killed run left unanswered.
func TestSettle(t *testing.T) {
	ctx := context.Background()
	l := newLedgerRun(t)
	killed := l.ledger()
	intent := func(key, method string, rec mapping.Record) {
		b, _ := json.Marshal(rec)
		if err := l.db.Intent(ctx, killed.Run, "p", key, state.Request{Method: method, Hash: "h" + key, Body: b}); err != nil {
			t.Fatal(err)
		}
	}
	rec := func(title string) mapping.Record { return mapping.Record{Title: title} }
	intent("made", "POST", rec("made"))
	l.portal.deals[7] = rec("made")
	intent("lost", "POST", rec("lost"))
	intent("twice", "POST", rec("twice"))
	l.portal.deals[8], l.portal.deals[9] = rec("twice"), rec("twice")
	intent("put", "PUT", rec("put"))

	adopted, forgotten, doubtful, err := Settle(ctx, l.ledger(), l.portal)
	if err != nil || adopted != 1 || forgotten != 2 || doubtful != 1 {
		t.Fatalf("got %d adopted, %d forgotten, %d doubtful, %v; want 1, 2 (lost, put), 1 (twice)", adopted, forgotten, doubtful, err)
	}
	if row, _, err := l.db.Row(ctx, "p", "put"); err != nil || len(row.Sent) != 0 {
		t.Errorf("a PUT left unanswered: the row keeps %q (%v), want no base", row.Sent, err)
	}
	for key, want := range map[string]struct {
		id      int64
		pending bool
		doubt   string
	}{
		"made":  {id: 7},
		"lost":  {},
		"put":   {},
		"twice": {pending: true, doubt: "2 matching opportunities on the portal"},
	} {
		row, _, err := l.db.Row(ctx, "p", key)
		if err != nil {
			t.Fatal(err)
		}
		if row.OpportunityID != want.id || row.Pending() != want.pending || row.Doubt != want.doubt {
			t.Errorf("%s: got id %d, pending %v, doubt %q; want %d, %v, %q", key, row.OpportunityID, row.Pending(), row.Doubt,
				want.id, want.pending, want.doubt)
		}
	}

	// An undo killed midway is the undo's to finish: an import leaves it in doubt, saying
	// which undo to run again; the undo itself sends it again.
	undoRun, err := l.db.StartRun(ctx, state.Run{Portal: "p", Mode: "undo", UndoOf: killed.Run})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.db.Intent(ctx, undoRun, "p", "made", state.Request{Method: "PUT", Hash: "old", Body: []byte(`{"Title":"made"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, _, doubtful, err := Settle(ctx, l.ledger(), l.portal); err != nil || doubtful != 2 {
		t.Errorf("an import's settle: got %d doubtful, %v; want 2 (twice, and the undo's)", doubtful, err)
	}
	row, _, err := l.db.Row(ctx, "p", "made")
	want := fmt.Sprintf("undo run %d was interrupted here: run oppimport undo --run %d again to finish it", undoRun, killed.Run)
	if err != nil || !row.Pending() || row.Doubt != want {
		t.Errorf("after an import's settle: pending %v, doubt %q; want pending, %q (%v)", row.Pending(), row.Doubt, want, err)
	}
	undoing := l.ledger()
	undoing.Undoing = true
	if _, forgotten, _, err := Settle(ctx, undoing, l.portal); err != nil || forgotten != 1 {
		t.Errorf("the undo's settle: got %d forgotten, %v; want 1", forgotten, err)
	}
	if row, _, _ := l.db.Row(ctx, "p", "made"); row.Pending() {
		t.Errorf("after the undo's settle the row is still pending: %+v", row)
	}

	// A cancelled settle stops at once, saying so.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	l.portal.findErr = fmt.Errorf("interrupted: %w", context.Canceled)
	if _, _, _, err := Settle(cancelled, l.ledger(), l.portal); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled settle: got %v, want context.Canceled", err)
	}
}

// TestLedgerPreview: a preview of a sync names what the sync then does, and changes nothing.
func TestLedgerPreview(t *testing.T) {
	ctx := context.Background()
	l := newLedgerRun(t)
	first, _ := l.run(ModeCreate, []string{"A", "deal A", "1"}, []string{"B", "deal B", "2"}, []string{"C", "deal C", "3"})
	l.portal.delete(first["C"].OpportunityID)
	before, _, err := l.db.Row(ctx, "p", "B")
	if err != nil {
		t.Fatal(err)
	}
	input := [][]string{{"A", "deal A", "1"}, {"B", "deal B", "20"}, {"C", "deal C", "3"}, {"D", "deal D", "4"}}

	l.dry = true
	got, _ := l.run(ModeSync, input...)
	want := map[string]string{"A": Unchanged, "B": WouldUpdate, "C": Failed, "D": WouldCreate}
	if diff := cmp.Diff(want, statusOf(got)); diff != "" {
		t.Errorf("preview (-want +got):\n%s", diff)
	}
	if e := got["B"].Error; e != `bidValue "2" -> "20"` {
		t.Errorf("B: got %q, want the amount from 2 to 20", e)
	}
	if l.portal.creates != 3 || l.portal.updates != 0 {
		t.Errorf("the preview sent %d creates and %d updates, want none", l.portal.creates-3, l.portal.updates)
	}
	after, _, err := l.db.Row(ctx, "p", "B")
	if err != nil || after.Hash != before.Hash || after.Outcome != before.Outcome {
		t.Errorf("the preview changed B's state: %+v, want %+v (%v)", after, before, err)
	}

	l.dry = false
	got, _ = l.run(ModeSync, input...)
	want = map[string]string{"A": Unchanged, "B": Updated, "C": Failed, "D": Created}
	if diff := cmp.Diff(want, statusOf(got)); diff != "" {
		t.Errorf("the sync after the preview (-want +got):\n%s", diff)
	}
}

// TestLedgerMappingChange: a field mapped since the last sync is the mapping's change, and
// counted as such; a field no longer mapped is left as the portal holds it.
func TestLedgerMappingChange(t *testing.T) {
	l := newLedgerRun(t)
	first, _ := l.run(ModeCreate, []string{"A", "deal A", "1"}, []string{"B", "deal B", "2"})
	for _, r := range first {
		d := l.portal.deals[r.OpportunityID]
		d.SuccessProbability = new(int64)
		*d.SuccessProbability = 40
		l.portal.deals[r.OpportunityID] = d
	}
	m, err := mapping.Parse([]byte(testMapping+"  description:     { value: from the mapping }\n"), "more.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if l.plan, err = m.Bind([]string{"ID", "Title", "Amount"}, mapping.BindOptions{}); err != nil {
		t.Fatal(err)
	}
	got, st := l.run(ModeSync, []string{"A", "deal A", "1"}, []string{"B", "deal B", "2"})
	if diff := cmp.Diff(map[string]string{"A": Updated, "B": Updated}, statusOf(got)); diff != "" {
		t.Errorf("sync with a field newly mapped (-want +got):\n%s", diff)
	}
	if st.MappingChanged != 2 || !cmp.Equal(st.NewlyMapped, []string{"description"}) {
		t.Errorf("got %d rows changed by the mapping, fields %v; want 2, description", st.MappingChanged, st.NewlyMapped)
	}
	for _, r := range got {
		d := l.portal.deals[r.OpportunityID]
		if *d.Description != "from the mapping" || *d.SuccessProbability != 40 {
			t.Errorf("%s on the portal: description %q, probability %d; want the mapping's, and 40 kept", r.Key, *d.Description, *d.SuccessProbability)
		}
	}
}

// TestLedgerKeyIndex: a row the state does not know, whose key the portal's key index holds,
// is taken over, not created again: skipped in create mode, merged without a base in sync
// mode (the export wins where it differs, the rest is kept).
func TestLedgerKeyIndex(t *testing.T) {
	ctx := context.Background()
	l := newLedgerRun(t)
	l.indexed = true
	notes := "set on the portal"
	l.portal.deals[7] = mapping.Record{Title: "deal A", Description: &notes}
	l.portal.deals[8], l.portal.deals[9] = mapping.Record{Title: "deal B"}, mapping.Record{Title: "deal B copy"}
	l.portal.next = 9
	if err := l.db.AddPortalKeys(ctx, "p", []state.PortalKey{{Value: "A", OpportunityID: 7}, {Value: "B", OpportunityID: 8},
		{Value: "B", OpportunityID: 9}}); err != nil {
		t.Fatal(err)
	}
	got, _ := l.run(ModeCreate, []string{"A", "deal A", "1"}, []string{"B", "deal B", "2"})
	if r := got["A"]; r.Status != Skipped || r.OpportunityID != 7 || r.Error != "already on the portal as opportunity 7 (key_field)" {
		t.Errorf("A: got %+v, want skipped as 7, said so", r)
	}
	if r := got["B"]; r.OpportunityID != 8 || !strings.Contains(r.Error, "2 deals hold this key ([8 9]): oppimport dedupe keeps the oldest") {
		t.Errorf("B: got %+v, want the oldest, 8, and the copies named", r)
	}
	if l.portal.creates != 0 {
		t.Errorf("got %d creates, want none", l.portal.creates)
	}

	l2 := newLedgerRun(t)
	l2.indexed, l2.portal = true, l.portal
	if err := l2.db.AddPortalKeys(ctx, "p", []state.PortalKey{{Value: "A", OpportunityID: 7}}); err != nil {
		t.Fatal(err)
	}
	got, _ = l2.run(ModeSync, []string{"A", "deal A", "10"})
	d := l.portal.deals[7]
	if r := got["A"]; r.Status != Updated || r.OpportunityID != 7 || *d.BidValue != "10" || d.Description == nil || *d.Description != notes {
		t.Errorf("A in sync mode: got %+v, portal %+v; want updated, the amount 10, the notes kept", r, d)
	}
}
