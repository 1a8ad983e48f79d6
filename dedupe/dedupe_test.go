package dedupe

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/oppimport/oppimport/emulator"
	"github.com/oppimport/oppimport/onlyoffice"
	"github.com/oppimport/oppimport/state"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// portal starts an emulator with the key field and, for each key, as many deals holding it
// as copies says, created in the order of keys; it returns the ids by key, oldest first.
func portal(t *testing.T, copies map[string]int, order []string) (*emulator.Server, *onlyoffice.Client, int64, map[string][]int64) {
	t.Helper()
	srv := emulator.New(emulator.Options{})
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := onlyoffice.NewClient(onlyoffice.Config{BaseURL: url, Token: srv.Token()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	field := srv.AddCustomField("Legacy ID", 0, "")
	ids := map[string][]int64{}
	for round := 0; ; round++ {
		made := false
		for _, k := range order {
			if round >= copies[k] {
				continue
			}
			made = true
			out, err := c.CreateOpportunity(context.Background(), onlyoffice.Opportunity{
				Title: "Deal " + k + " & Co", ResponsibleID: srv.Users()[0].ID, StageID: 1, BidCurrencyAbbr: "EUR",
				CustomFields: []onlyoffice.CustomField{{ID: int64(field.ID), Value: k}},
			})
			if err != nil {
				t.Fatal(err)
			}
			ids[k] = append(ids[k], out.ID)
		}
		if !made {
			return srv, c, int64(field.ID), ids
		}
	}
}

func openState(t *testing.T) *state.DB {
	t.Helper()
	db, err := state.Open(filepath.Join(t.TempDir(), "m.state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestDedupe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	copies := map[string]int{"D1": 3, "D2": 1, "D3": 2}
	srv, c, field, ids := portal(t, copies, []string{"D1", "D2", "D3"})
	db := openState(t)
	const name = "http://localhost"
	// An import's row that knows the copy that goes: it must know the kept deal after.
	run0, _ := db.StartRun(ctx, state.Run{Portal: name, Input: "a.csv", Mode: "create"})
	if err := db.Answer(ctx, run0, name, "D3", state.Answer{OpportunityID: ids["D3"][1], Outcome: "created"}); err != nil {
		t.Fatal(err)
	}

	// The dry run lists, deletes nothing.
	var listed []string
	cfg := Config{DB: db, Portal: name, FieldID: field, Client: c, DryRun: true, OnResult: func(r Result) {
		listed = append(listed, fmt.Sprintf("%s %d %s %s", r.Key, r.OpportunityID, r.Status, r.Title))
	}}
	st, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("D1 %d kept Deal D1 & Co", ids["D1"][0]),
		fmt.Sprintf("D1 %d would-delete Deal D1 & Co", ids["D1"][1]),
		fmt.Sprintf("D1 %d would-delete Deal D1 & Co", ids["D1"][2]),
		fmt.Sprintf("D3 %d kept Deal D3 & Co", ids["D3"][0]),
		fmt.Sprintf("D3 %d would-delete Deal D3 & Co", ids["D3"][1]),
	}
	if diff := cmp.Diff(want, listed); diff != "" {
		t.Errorf("dry run (-want +got):\n%s", diff)
	}
	if st.Keys != 2 || len(srv.Opportunities()) != 6 {
		t.Errorf("dry run: %d keys, %d deals left; want 2 keys, all 6 deals", st.Keys, len(srv.Opportunities()))
	}

	// The real one.
	run, err := db.StartRun(ctx, state.Run{Portal: name, Input: "(dedupe)", Mode: "dedupe"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.DryRun, cfg.Run, cfg.OnResult = false, run, nil
	st, err = Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{Kept: 2, Deleted: 3}, st.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	got := srv.CountByField(int(field))
	if diff := cmp.Diff(map[string]int{"D1": 1, "D2": 1, "D3": 1}, got); diff != "" {
		t.Errorf("keys on the portal (-want +got):\n%s", diff)
	}
	left := map[int64]bool{}
	for _, o := range srv.Opportunities() {
		left[int64(o.ID)] = true
	}
	for k, list := range ids {
		if !left[list[0]] {
			t.Errorf("%s: the oldest deal %d is gone, want it kept", k, list[0])
		}
	}
	// The run's rows keep each deleted copy's record for undo.
	var rows []string
	err = db.RunRows(ctx, run, func(rr state.RunRow) error {
		rows = append(rows, fmt.Sprintf("%s %s %d %v", rr.Key, rr.Outcome, rr.OpportunityID, len(rr.Before) > 0))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantRows := []string{
		fmt.Sprintf("D1 (copy %d) deleted %d true", ids["D1"][1], ids["D1"][1]),
		fmt.Sprintf("D1 (copy %d) deleted %d true", ids["D1"][2], ids["D1"][2]),
		fmt.Sprintf("D3 (copy %d) deleted %d true", ids["D3"][1], ids["D3"][1]),
		fmt.Sprintf("D3 kept %d false", ids["D3"][0]),
	}
	if diff := cmp.Diff(wantRows, rows); diff != "" {
		t.Errorf("the run's rows (-want +got):\n%s", diff)
	}
	if r, _, _ := db.Row(ctx, name, "D3"); r.OpportunityID != ids["D3"][0] {
		t.Errorf("state row D3 knows opportunity %d, want the kept %d", r.OpportunityID, ids["D3"][0])
	}
	// Run again: nothing left to do.
	st, err = Run(ctx, cfg)
	if err != nil || st.Keys != 0 {
		t.Errorf("second dedupe: %d keys, %v; want none", st.Keys, err)
	}
}

// A copy changed since the index was read to hold another key is left alone.
func TestDedupeLeavesAChangedCopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, c, field, ids := portal(t, map[string]int{"D1": 2}, []string{"D1"})
	db := openState(t)
	changed := false
	cfg := Config{DB: db, Portal: "http://localhost", FieldID: field, Client: editing{c, func() {
		if !changed {
			changed = true
			srv.Edit("anna.berg", int(ids["D1"][1]), func(o *emulator.Opportunity) { o.CustomFields[int(field)] = "D9" })
		}
	}}, Run: 1}
	if _, err := db.StartRun(ctx, state.Run{Portal: cfg.Portal, Input: "(dedupe)", Mode: "dedupe"}); err != nil {
		t.Fatal(err)
	}
	var statuses []string
	cfg.OnResult = func(r Result) { statuses = append(statuses, r.Status) }
	if _, err := Run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{Kept, Failed}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if n := len(srv.Opportunities()); n != 2 {
		t.Errorf("%d deals left, want both", n)
	}
}

// editing is a client that lets a portal user act right after the index is read.
type editing struct {
	*onlyoffice.Client
	after func()
}

func (e editing) KeyIndex(ctx context.Context, fieldID, afterID int64, fn func([]onlyoffice.KeyedOpportunity) error) (int64, int, error) {
	n, r, err := e.Client.KeyIndex(ctx, fieldID, afterID, fn)
	e.after()
	return n, r, err
}

// The keys come in the order of the input rows the state recorded for them, the keys no run
// recorded a row for after them, and the dedupe's own run rows keep that order.
func TestDedupeInputOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c, field, ids := portal(t, map[string]int{"A0": 2, "D1": 2, "D3": 2}, []string{"A0", "D1", "D3"})
	db := openState(t)
	const name = "http://localhost"
	run0, _ := db.StartRun(ctx, state.Run{Portal: name, Input: "a.csv", Mode: "create"})
	for key, row := range map[string]int{"D3": 2, "D1": 4} {
		if err := db.Answer(ctx, run0, name, key, state.Answer{Outcome: "skipped", InputRow: row}); err != nil {
			t.Fatal(err)
		}
	}
	run, _ := db.StartRun(ctx, state.Run{Portal: name, Input: "(dedupe)", Mode: "dedupe"})
	var listed []string
	cfg := Config{DB: db, Portal: name, FieldID: field, Client: c, Run: run, Concurrency: 4, OnResult: func(r Result) {
		listed = append(listed, fmt.Sprintf("%s %d %s", r.Key, r.OpportunityID, r.Status))
	}}
	if _, err := Run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("D3 %d kept", ids["D3"][0]), fmt.Sprintf("D3 %d deleted", ids["D3"][1]),
		fmt.Sprintf("D1 %d kept", ids["D1"][0]), fmt.Sprintf("D1 %d deleted", ids["D1"][1]),
		fmt.Sprintf("A0 %d kept", ids["A0"][0]), fmt.Sprintf("A0 %d deleted", ids["A0"][1]),
	}
	if diff := cmp.Diff(want, listed); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	var rows []string
	if err := db.RunRows(ctx, run, func(rr state.RunRow) error {
		rows = append(rows, fmt.Sprintf("%s %d %s", rr.Key, rr.InputRow, rr.Title))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	wantRows := []string{
		fmt.Sprintf("D3 (copy %d) 2 Deal D3 & Co", ids["D3"][1]),
		fmt.Sprintf("D1 (copy %d) 4 Deal D1 & Co", ids["D1"][1]),
		fmt.Sprintf("A0 (copy %d) 0 Deal A0 & Co", ids["A0"][1]),
	}
	if diff := cmp.Diff(wantRows, rows); diff != "" {
		t.Errorf("the run's rows (-want +got):\n%s", diff)
	}
}
