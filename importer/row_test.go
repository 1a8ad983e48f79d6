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

func (p *fakePortal) Find(ctx context.Context, rec mapping.Record, since time.Time) ([]int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.findErr != nil {
		return nil, p.findErr
	}
	var ids []int64
	for id, d := range p.deals {
		if d.Title == rec.Title {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (p *fakePortal) Snapshot(ctx context.Context, id int64) ([]byte, Posted, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d, ok := p.deals[id]
	if !ok {
		return nil, Posted{Attempts: 1, HTTPStatus: 404}, errors.New("HTTP 404: not found")
	}
	b, _ := json.Marshal(d)
	return b, Posted{ID: id, Attempts: 1, HTTPStatus: 200}, nil
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
	t      *testing.T
	db     *state.DB
	portal *fakePortal
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
	return &Ledger{DB: l.db, Portal: "p", Run: run}
}

// run imports rows in mode and returns the results by key and the stats.
func (l *ledgerRun) run(mode string, rows ...[]string) (map[string]Result, Stats) {
	l.t.Helper()
	in := table(rows)
	got := map[string]Result{}
	st, err := Run(context.Background(), Config{Rows: &in, Plan: plan(l.t), Poster: l.portal, Concurrency: 4,
		Ledger: l.ledger(), Mode: mode, OnResult: func(r Result) { got[r.Key] = r }})
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
	// A deal gone from the portal may be hidden from this user, not deleted: reported, never
	// created again without RecreateMissing.
	want := map[string]string{"A": Unchanged, "B": Updated, "C": Failed, "E": Created}
	if diff := cmp.Diff(want, statusOf(got)); diff != "" {
		t.Errorf("sync (-want +got):\n%s", diff)
	}
	if !strings.Contains(got["C"].Error, "deleted or no longer visible to this user: not created again") {
		t.Errorf("C: got %q, want it to say it is gone and not created again", got["C"].Error)
	}
	if st.Absent != 1 || !cmp.Equal(st.AbsentKeys, []string{"D"}) {
		t.Errorf("got %d absent keys %v, want D", st.Absent, st.AbsentKeys)
	}
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
}

func TestLedgerLostAnswers(t *testing.T) {
	l := newLedgerRun(t)
	l.portal.lose["made"] = true
	l.portal.lose["never made"] = false
	got, _ := l.run(ModeCreate, []string{"A", "made", "1"}, []string{"B", "never made", "2"})
	if r := got["A"]; r.Status != Created || !strings.Contains(r.Error, "the answer was lost; found on the portal as opportunity") {
		t.Errorf("A, made but unanswered: got %s %q, want created, found on the portal", r.Status, r.Error)
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

	// A cancelled settle stops at once, saying so.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	l.portal.findErr = fmt.Errorf("interrupted: %w", context.Canceled)
	if _, _, _, err := Settle(cancelled, l.ledger(), l.portal); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled settle: got %v, want context.Canceled", err)
	}
}
