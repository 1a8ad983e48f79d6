package undo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/emulator"
	"github.com/oppimport/oppimport/importer"
	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/onlyoffice"
	"github.com/oppimport/oppimport/record"
	"github.com/oppimport/oppimport/state"
)

const anna = "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41"

// portal is the client as an undo's Portal, classifying errors as main's poster does.
type portal struct {
	c *onlyoffice.Client
	// deletes, when set, answers every DELETE with this error instead of sending it.
	deletes error
}

func classify(out onlyoffice.Outcome, err error) (importer.Posted, error) {
	p := importer.Posted{ID: out.ID, Attempts: out.Attempts, HTTPStatus: out.HTTPStatus}
	var apiErr *onlyoffice.APIError
	if errors.As(err, &apiErr) {
		p.HTTPStatus = apiErr.StatusCode
		if apiErr.StatusCode == 401 {
			return p, importer.Fatal(err)
		}
	}
	return p, err
}

func (p portal) Get(ctx context.Context, id int64) (onlyoffice.StoredOpportunity, importer.Posted, error) {
	o, err := p.c.GetOpportunity(ctx, id)
	posted, err := classify(onlyoffice.Outcome{ID: id, Attempts: 1, HTTPStatus: 200}, err)
	return o, posted, err
}

func (p portal) Delete(ctx context.Context, id int64) (importer.Posted, error) {
	if p.deletes != nil {
		return importer.Posted{Attempts: 1}, p.deletes
	}
	return classify(p.c.DeleteOpportunity(ctx, id))
}

func (p portal) Update(ctx context.Context, id int64, rec mapping.Record) (importer.Posted, error) {
	return classify(p.c.UpdateOpportunity(ctx, id, record.Body(rec)))
}

// fixture is a portal, a client and a state database on which runs are recorded as an
// import records them.
type fixture struct {
	emu    *emulator.Server
	client *onlyoffice.Client
	db     *state.DB
	portal string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	emu := emulator.New(emulator.Options{Location: time.FixedZone("portal", 2*3600)})
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	c, err := onlyoffice.NewClient(onlyoffice.Config{BaseURL: srv.URL, Token: emu.Token(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	db, err := state.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &fixture{emu: emu, client: c, db: db, portal: state.Portal(srv.URL)}
}

func (f *fixture) startRun(t *testing.T, mode string, undoOf int64) int64 {
	t.Helper()
	id, err := f.db.StartRun(context.Background(), state.Run{Portal: f.portal, Mode: mode, UndoOf: undoOf})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func deal(title string, amount string) mapping.Record {
	return mapping.Record{Title: title, ResponsibleID: anna, StageID: 1, BidCurrencyAbbr: "EUR", BidValue: &amount,
		CustomFields: []mapping.CustomValue{{ID: 11, Value: "North"}}}
}

func body(rec mapping.Record) []byte {
	b, _ := json.Marshal(rec)
	return b
}

// create is run's create of key: intent, POST, answer.
func (f *fixture) create(t *testing.T, run int64, key string, rec mapping.Record) int64 {
	t.Helper()
	ctx := context.Background()
	if err := f.db.Intent(ctx, run, f.portal, key, state.Request{Method: "POST", Hash: "h-" + rec.Title, Body: body(rec)}); err != nil {
		t.Fatal(err)
	}
	out, err := f.client.CreateOpportunity(ctx, record.Body(rec))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.Answer(ctx, run, f.portal, key, state.Answer{OpportunityID: out.ID, Outcome: importer.Created, Hash: "h-" + rec.Title}); err != nil {
		t.Fatal(err)
	}
	return out.ID
}

// update is run's update of key's opportunity id to rec: the record kept, intent, PUT, answer.
func (f *fixture) update(t *testing.T, run int64, key string, id int64, rec mapping.Record) {
	t.Helper()
	ctx := context.Background()
	before, err := f.client.GetOpportunity(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(before)
	if err := f.db.Intent(ctx, run, f.portal, key, state.Request{Method: "PUT", Hash: "h-" + rec.Title, Body: body(rec), Before: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.UpdateOpportunity(ctx, id, record.Body(rec)); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Answer(ctx, run, f.portal, key, state.Answer{OpportunityID: id, Outcome: importer.Updated, Hash: "h-" + rec.Title}); err != nil {
		t.Fatal(err)
	}
}

// edit changes opportunity id on the portal as a person in the web UI does: read it whole,
// change it, put it back whole.
func (f *fixture) edit(t *testing.T, id int64, change func(r *mapping.Record)) {
	t.Helper()
	ctx := context.Background()
	o, err := f.client.GetOpportunity(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	r, err := record.FromPortal(o)
	if err != nil {
		t.Fatal(err)
	}
	change(&r)
	if _, err := f.client.UpdateOpportunity(ctx, id, record.Body(r)); err != nil {
		t.Fatal(err)
	}
}

// undo runs an undo of run of with cfg's flags and returns its results by key.
func (f *fixture) undo(t *testing.T, of int64, cfg Config) (map[string]Result, Stats) {
	t.Helper()
	cfg.DB, cfg.Portal, cfg.Of = f.db, f.portal, of
	if cfg.Client == nil && !cfg.DryRun {
		cfg.Client = portal{c: f.client}
	}
	if !cfg.DryRun {
		cfg.Run = f.startRun(t, "undo", of)
	}
	cfg.Concurrency = 3
	got := map[string]Result{}
	var order []int
	cfg.OnResult = func(r Result) {
		got[r.Key] = r
		order = append(order, r.Row)
	}
	st, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(order); i++ {
		if order[i] <= order[i-1] { // rows not started after a stop are left out
			t.Errorf("results in the order %v, want the run's order", order)
			break
		}
	}
	return got, st
}

// stored is opportunity id as the portal holds it, in the form an import sends.
func (f *fixture) stored(t *testing.T, id int64) mapping.Record {
	t.Helper()
	o, err := f.client.GetOpportunity(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	r, err := record.FromPortal(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func statuses(rs map[string]Result) map[string]string {
	out := map[string]string{}
	for k, r := range rs {
		out[k] = r.Status
	}
	return out
}

func TestUndoDeletesAndRestores(t *testing.T) {
	f := newFixture(t)
	run1 := f.startRun(t, "create", 0)
	ids := map[string]int64{}
	for _, k := range []string{"A", "B", "C", "D"} {
		ids[k] = f.create(t, run1, k, deal("deal "+k, "100"))
	}
	afterRun1 := map[string]mapping.Record{}
	for k, id := range ids {
		afterRun1[k] = f.stored(t, id)
	}
	run2 := f.startRun(t, "sync", 0)
	f.update(t, run2, "A", ids["A"], deal("deal A renamed", "150"))
	changed := deal("deal B", "250")
	changed.CustomFields = []mapping.CustomValue{{ID: 11, Value: "South"}, {ID: 12, Value: "Web"}}
	f.update(t, run2, "B", ids["B"], changed)
	f.update(t, run2, "C", ids["C"], deal("deal C", "350"))
	ids["E"] = f.create(t, run2, "E", deal("deal E", "500"))
	if err := f.db.Answer(context.Background(), run2, f.portal, "D", state.Answer{Outcome: importer.Unchanged}); err != nil {
		t.Fatal(err)
	}
	// A person changes C's stage after the sync.
	f.edit(t, ids["C"], func(r *mapping.Record) { r.StageID = 5 })

	got, st := f.undo(t, run2, Config{})
	want := map[string]string{"A": Restored, "B": Restored, "C": Failed, "D": Skipped, "E": Deleted}
	if diff := cmp.Diff(want, statuses(got)); diff != "" {
		t.Fatalf("undo of the sync (-want +got):\n%s", diff)
	}
	if e := got["C"].Error; !strings.Contains(e, "changed on the portal since run 2: stageid") || !strings.Contains(e, "--force") {
		t.Errorf("C: got %q, want the stage named and --force offered", e)
	}
	if e := got["B"].Error; !strings.Contains(e, `custom field 12 ("Web", empty before)`) {
		t.Errorf("B: got %q, want custom field 12 named as not restored", e)
	}
	if st.Rows != 5 || st.Counts[Restored] != 2 || st.Requests != 7 {
		t.Errorf("got %d rows, %v, %d requests; want 5 rows, 2 restored, 7 requests (3 reads, 2 PUTs, a read and a DELETE)", st.Rows, st.Counts, st.Requests)
	}
	for _, k := range []string{"A", "B"} {
		w := afterRun1[k]
		if k == "B" {
			w.CustomFields = append(w.CustomFields, mapping.CustomValue{ID: 12, Value: "Web"})
		}
		if diff := cmp.Diff(w, f.stored(t, ids[k])); diff != "" {
			t.Errorf("%s after the undo (-want +got):\n%s", k, diff)
		}
	}
	if _, err := f.client.GetOpportunity(context.Background(), ids["E"]); err == nil {
		t.Errorf("E, created by the sync, is still on the portal")
	}

	// Again: what was undone is skipped without a request; C is still refused.
	got, st = f.undo(t, run2, Config{})
	want = map[string]string{"A": Skipped, "B": Skipped, "C": Failed, "D": Skipped, "E": Skipped}
	if diff := cmp.Diff(want, statuses(got)); diff != "" {
		t.Errorf("second undo (-want +got):\n%s", diff)
	}
	if !strings.Contains(got["A"].Error, "undone already by run 3") || st.Requests != 1 {
		t.Errorf("second undo: A %q, %d requests; want undone already by run 3, 1 request (C's read)", got["A"].Error, st.Requests)
	}

	// --force puts C back too.
	got, _ = f.undo(t, run2, Config{Force: true})
	if got["C"].Status != Restored || !strings.Contains(got["C"].Error, "undone anyway (--force)") {
		t.Errorf("undo --force: C %+v, want restored, saying it was forced", got["C"])
	}
	if diff := cmp.Diff(afterRun1["C"], f.stored(t, ids["C"])); diff != "" {
		t.Errorf("C after undo --force (-want +got):\n%s", diff)
	}

	// Undo of run 1 deletes everything it created, B too: the custom field the sync set
	// and its undo could not clear is the tool's own doing, and the note says so.
	got, _ = f.undo(t, run1, Config{})
	want = map[string]string{"A": Deleted, "B": Deleted, "C": Deleted, "D": Deleted}
	if diff := cmp.Diff(want, statuses(got)); diff != "" {
		t.Errorf("undo of run 1 (-want +got):\n%s", diff)
	}
	if e := got["B"].Error; !strings.Contains(e, "customField:12 set by run 2 stay: its undo (run 3) could not clear them") {
		t.Errorf("B: got %q, want it to name the custom field, run 2 and its undo", e)
	}
	if n := len(f.emu.Opportunities()); n != 0 {
		t.Errorf("the portal holds %d opportunities after both undos, want none", n)
	}
}

func TestUndoDryRun(t *testing.T) {
	f := newFixture(t)
	run1 := f.startRun(t, "create", 0)
	a := f.create(t, run1, "A", deal("deal A", "1"))
	b := f.create(t, run1, "B", deal("deal B", "2"))
	run2 := f.startRun(t, "sync", 0)
	f.update(t, run2, "A", a, deal("deal A2", "1"))
	f.create(t, run2, "C", deal("deal C", "3"))
	f.edit(t, b, func(r *mapping.Record) { r.Title = "edited" })
	before := f.emu.Stats()

	live := portal{c: f.client}
	got, _ := f.undo(t, run2, Config{DryRun: true, Client: live})
	if diff := cmp.Diff(map[string]string{"A": WouldRestore, "C": WouldDelete}, statuses(got)); diff != "" {
		t.Errorf("dry run (-want +got):\n%s", diff)
	}
	got, _ = f.undo(t, run1, Config{DryRun: true, Client: live})
	if diff := cmp.Diff(map[string]string{"A": Failed, "B": Failed}, statuses(got)); diff != "" {
		t.Errorf("dry run of run 1 (-want +got):\n%s", diff)
	}
	// Without the portal: from the state alone, and said so.
	got, _ = f.undo(t, run2, Config{DryRun: true, Client: nil})
	for k, r := range got {
		if !strings.Contains(r.Error, "not compared with the portal") {
			t.Errorf("dry run without the portal, %s: got %q, want it to say nothing was compared", k, r.Error)
		}
	}
	after := f.emu.Stats()
	for _, route := range []string{"PUT crm/opportunity/{id}", "DELETE crm/opportunity/{id}", "POST crm/opportunity"} {
		if n := after.ByRoute[route] - before.ByRoute[route]; n != 0 {
			t.Errorf("the dry runs sent %d %s", n, route)
		}
	}
	runs, err := f.db.Runs(context.Background())
	if err != nil || len(runs) != 2 {
		t.Errorf("the dry runs recorded runs: got %d runs, %v, want 2", len(runs), err)
	}
}

// TestUndoUnreadableBefore: a kept record that cannot be read is never put back as an
// empty record.
func TestUndoUnreadableBefore(t *testing.T) {
	for _, before := range []string{`{"ID": "not a number"`, `{"BidValue": "lots"}`} {
		t.Run(before, func(t *testing.T) {
			f := newFixture(t)
			run1 := f.startRun(t, "create", 0)
			id := f.create(t, run1, "A", deal("deal A", "1"))
			run2 := f.startRun(t, "sync", 0)
			ctx := context.Background()
			sent := deal("deal A2", "1")
			if err := f.db.Intent(ctx, run2, f.portal, "A", state.Request{Method: "PUT", Hash: "h2", Body: body(sent), Before: []byte(before)}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.client.UpdateOpportunity(ctx, id, record.Body(sent)); err != nil {
				t.Fatal(err)
			}
			if err := f.db.Answer(ctx, run2, f.portal, "A", state.Answer{OpportunityID: id, Outcome: importer.Updated, Hash: "h2"}); err != nil {
				t.Fatal(err)
			}
			puts := f.emu.Stats().ByRoute["PUT crm/opportunity/{id}"]
			got, _ := f.undo(t, run2, Config{Force: true})
			if r := got["A"]; r.Status != Failed || !strings.Contains(r.Error, "cannot be put back") {
				t.Errorf("got %s %q, want failed: the record kept cannot be put back", r.Status, r.Error)
			}
			if n := f.emu.Stats().ByRoute["PUT crm/opportunity/{id}"] - puts; n != 0 {
				t.Errorf("the undo sent %d PUTs, want none", n)
			}
			if now := f.stored(t, id); now.Title != "deal A2" {
				t.Errorf("the portal holds %q, want the sync's title left alone", now.Title)
			}
		})
	}
}

func TestUndoLeavesAlone(t *testing.T) {
	ctx := context.Background()
	s := func(v string) *string { return &v }
	tests := []struct {
		name string
		// setup records run 1 (and more) and returns the run to undo.
		setup func(t *testing.T, f *fixture) int64
		cfg   Config
		want  string // the status of key A
		why   string // in its error
	}{
		{name: "pending", setup: func(t *testing.T, f *fixture) int64 {
			run := f.startRun(t, "create", 0)
			if err := f.db.Intent(ctx, run, f.portal, "A", state.Request{Method: "POST", Hash: "h", Body: body(deal("a", "1"))}); err != nil {
				t.Fatal(err)
			}
			return run
		}, want: Failed, why: "never saw the answer"},
		{name: "in doubt since", setup: func(t *testing.T, f *fixture) int64 {
			run := f.startRun(t, "create", 0)
			f.create(t, run, "A", deal("a", "1"))
			later := f.startRun(t, "sync", 0)
			if err := f.db.Intent(ctx, later, f.portal, "A", state.Request{Method: "PUT", Hash: "h", Body: body(deal("a", "2"))}); err != nil {
				t.Fatal(err)
			}
			if err := f.db.MarkInDoubt(ctx, f.portal, "A", nil, "no answer"); err != nil {
				t.Fatal(err)
			}
			return run
		}, want: Failed, why: "in doubt since run 2"},
		{name: "in doubt, dry run", setup: func(t *testing.T, f *fixture) int64 {
			run := f.startRun(t, "create", 0)
			f.create(t, run, "A", deal("a", "1"))
			later := f.startRun(t, "sync", 0)
			if err := f.db.Intent(ctx, later, f.portal, "A", state.Request{Method: "PUT", Hash: "h", Body: body(deal("a", "2"))}); err != nil {
				t.Fatal(err)
			}
			return run
		}, cfg: Config{DryRun: true}, want: Failed, why: "the undo settles it first"},
		{name: "the key moved on", setup: func(t *testing.T, f *fixture) int64 {
			run := f.startRun(t, "create", 0)
			id := f.create(t, run, "A", deal("a", "1"))
			if _, err := f.client.DeleteOpportunity(ctx, id); err != nil {
				t.Fatal(err)
			}
			f.create(t, f.startRun(t, "create", 0), "A", deal("a", "1"))
			return run
		}, want: Failed, why: "belongs to opportunity"},
		{name: "nothing done", setup: func(t *testing.T, f *fixture) int64 {
			run := f.startRun(t, "create", 0)
			if err := f.db.Answer(ctx, run, f.portal, "A", state.Answer{Outcome: importer.Failed}); err != nil {
				t.Fatal(err)
			}
			return run
		}, want: Skipped, why: "left it failed"},
		{name: "gone, created", setup: func(t *testing.T, f *fixture) int64 {
			run := f.startRun(t, "create", 0)
			id := f.create(t, run, "A", deal("a", "1"))
			if _, err := f.client.DeleteOpportunity(ctx, id); err != nil {
				t.Fatal(err)
			}
			return run
		}, want: Deleted, why: "gone from the portal already"},
		{name: "gone, created, dry run", setup: func(t *testing.T, f *fixture) int64 {
			run := f.startRun(t, "create", 0)
			id := f.create(t, run, "A", deal("a", "1"))
			if _, err := f.client.DeleteOpportunity(ctx, id); err != nil {
				t.Fatal(err)
			}
			return run
		}, cfg: Config{DryRun: true}, want: Skipped, why: "gone from the portal already"},
		{name: "gone, updated", setup: func(t *testing.T, f *fixture) int64 {
			id := f.create(t, f.startRun(t, "create", 0), "A", deal("a", "1"))
			run := f.startRun(t, "sync", 0)
			f.update(t, run, "A", id, deal("a", "2"))
			if _, err := f.client.DeleteOpportunity(ctx, id); err != nil {
				t.Fatal(err)
			}
			return run
		}, want: Failed, why: "nothing to restore"},
		{name: "restored already", setup: func(t *testing.T, f *fixture) int64 {
			id := f.create(t, f.startRun(t, "create", 0), "A", deal("a", "1"))
			run := f.startRun(t, "sync", 0)
			f.update(t, run, "A", id, deal("a", "2"))
			// An undo that died after its PUT: the portal holds the old record again.
			if _, err := f.client.UpdateOpportunity(ctx, id, record.Body(deal("a", "1"))); err != nil {
				t.Fatal(err)
			}
			return run
		}, want: Restored},
		{name: "restored already, dry run", setup: func(t *testing.T, f *fixture) int64 {
			id := f.create(t, f.startRun(t, "create", 0), "A", deal("a", "1"))
			run := f.startRun(t, "sync", 0)
			f.update(t, run, "A", id, deal("a", "2"))
			if _, err := f.client.UpdateOpportunity(ctx, id, record.Body(deal("a", "1"))); err != nil {
				t.Fatal(err)
			}
			return run
		}, cfg: Config{DryRun: true}, want: Skipped, why: "restored already"},
		{name: "a person changed a custom field", setup: func(t *testing.T, f *fixture) int64 {
			run := f.startRun(t, "create", 0)
			id := f.create(t, run, "A", deal("a", "1"))
			f.edit(t, id, func(r *mapping.Record) { r.CustomFields = []mapping.CustomValue{{ID: 11, Value: "South"}} })
			return run
		}, want: Failed, why: `changed on the portal since run 1: customField:11 "North" -> "South" (--force`},
		{name: "a later sync of this tool", setup: func(t *testing.T, f *fixture) int64 {
			run := f.startRun(t, "create", 0)
			id := f.create(t, run, "A", deal("a", "1"))
			f.update(t, f.startRun(t, "sync", 0), "A", id, deal("a", "2"))
			return run
		}, want: Failed, why: `changed since run 1 by run 2 of this tool (bidValue "1" -> "2"): undo run 2 first, or --force`},
		{name: "a person changed what a later run's undo left", setup: func(t *testing.T, f *fixture) int64 {
			run := f.startRun(t, "create", 0)
			id := f.create(t, run, "A", deal("a", "1"))
			sync := f.startRun(t, "sync", 0)
			f.update(t, sync, "A", id, deal("a", "2"))
			f.edit(t, id, func(r *mapping.Record) { r.BidValue = s("1") }) // as an undo would
			if err := f.db.Answer(ctx, f.startRun(t, "undo", sync), f.portal, "A", state.Answer{Outcome: Restored}); err != nil {
				t.Fatal(err)
			}
			f.edit(t, id, func(r *mapping.Record) { r.Title = "by hand" })
			return run
		}, want: Failed, why: `changed on the portal since run 1: title "a" -> "by hand" (run 2 of this tool changed it too, and run 3 took that back`},
		{name: "delete refused", setup: func(t *testing.T, f *fixture) int64 {
			run := f.startRun(t, "create", 0)
			f.create(t, run, "A", deal("a", "1"))
			return run
		}, cfg: Config{Client: portal{deletes: errors.New("refused")}}, want: Failed, why: "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			of := tt.setup(t, f)
			cfg := tt.cfg
			if p, ok := cfg.Client.(portal); ok {
				p.c = f.client
				cfg.Client = p
			} else if cfg.DryRun {
				cfg.Client = portal{c: f.client}
			}
			got, _ := f.undo(t, of, cfg)
			if r := got["A"]; r.Status != tt.want || !strings.Contains(r.Error, tt.why) {
				t.Errorf("got %s %q, want %s with %q", r.Status, r.Error, tt.want, tt.why)
			}
		})
	}
}

func TestUndoStopsOnAFatalError(t *testing.T) {
	f := newFixture(t)
	run := f.startRun(t, "create", 0)
	for i := range 20 {
		f.create(t, run, fmt.Sprint("K", i), deal(fmt.Sprint("deal ", i), "1"))
	}
	f.emu.ExpireToken()
	got, st := f.undo(t, run, Config{})
	if st.Stopped == nil || !importer.IsFatal(st.Stopped) {
		t.Fatalf("got stopped %v, want the refused token", st.Stopped)
	}
	if len(got) == 0 || len(got) == 20 {
		t.Errorf("got %d results, want the few started before the stop", len(got))
	}
	for k, r := range got {
		if r.Status != Failed {
			t.Errorf("%s: got %s, want failed", k, r.Status)
		}
	}
}
