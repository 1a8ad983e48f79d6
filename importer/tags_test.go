package importer

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/state"
)

// fakeExtras keeps the deals' tags and creation dates, refusing some tags and dates.
type fakeExtras struct {
	mu         sync.Mutex
	tags       map[int64][]string
	created    map[int64]string
	refuseTag  map[string]bool
	refuseDate map[string]bool
}

func newFakeExtras() *fakeExtras {
	return &fakeExtras{tags: map[int64][]string{}, created: map[int64]string{}, refuseTag: map[string]bool{}, refuseDate: map[string]bool{}}
}

func (x *fakeExtras) TagMany(ctx context.Context, tag string, ids []int64) (int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.refuseTag[tag] {
		return 1, errors.New("HTTP 400: refused")
	}
	for _, id := range ids {
		if !slices.Contains(x.tags[id], tag) {
			x.tags[id] = append(x.tags[id], tag)
		}
	}
	return 1, nil
}

func (x *fakeExtras) AddTag(ctx context.Context, id int64, tag string) (int, error) {
	return x.TagMany(ctx, tag, []int64{id})
}

func (x *fakeExtras) RemoveTag(ctx context.Context, id int64, tag string) (int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.tags[id] = slices.DeleteFunc(x.tags[id], func(t string) bool { return t == tag })
	return 1, nil
}

func (x *fakeExtras) DealTags(ctx context.Context, id int64) ([]string, int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.tags[id]), 1, nil
}

func (x *fakeExtras) SetCreationDate(ctx context.Context, id int64, date string) (int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.refuseDate[date] {
		return 1, errors.New("HTTP 400: invalid date time format")
	}
	x.created[id] = date
	return 1, nil
}

func (x *fakeExtras) sorted(id int64) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Sorted(slices.Values(x.tags[id]))
}

const tagsMapping = `
version: 1
key: [ID]
fields:
  title:           { column: Title }
  responsibleid:   { value: 11111111-2222-3333-4444-555555555555 }
  stageid:         { value: 1 }
  bidCurrencyAbbr: { value: EUR }
tags:    { column: Tags, split: ";" }
created: { column: Created }
`

func (l *ledgerRun) runTags(x *fakeExtras, mode string, rows ...[]string) map[string]Result {
	l.t.Helper()
	m, err := mapping.Parse([]byte(tagsMapping), "tags.yaml")
	if err != nil {
		l.t.Fatal(err)
	}
	p, err := m.Bind([]string{"ID", "Title", "Tags", "Created"}, mapping.BindOptions{})
	if err != nil {
		l.t.Fatal(err)
	}
	in := table(rows)
	got := map[string]Result{}
	_, err = Run(context.Background(), Config{Rows: &in, Plan: p, Poster: l.portal, Extras: x, Tags: []string{"run"},
		Concurrency: 4, Ledger: l.ledger(), Mode: mode, OnResult: func(r Result) { got[r.Key] = r }})
	if err != nil {
		l.t.Fatal(err)
	}
	return got
}

// A creation date or a tag the portal refuses fails the row, which keeps its id; the tags
// not written are written again by the next sync.
func TestTagsAndCreatedAfterCreate(t *testing.T) {
	t.Parallel()
	l := newLedgerRun(t)
	x := newFakeExtras()
	x.refuseTag["bad"], x.refuseDate["2020-01-03"] = true, true
	got := l.runTags(x, ModeCreate,
		[]string{"A", "deal A", "x; y", "2020-01-02"},
		[]string{"B", "deal B", "bad;ok", ""},
		[]string{"C", "deal C", "", "2020-01-03"})
	for key, want := range map[string]struct{ status, err string }{
		"A": {Created, ""},
		"B": {Failed, `was created; tags not added: "bad": HTTP 400: refused`},
		"C": {Failed, "was created, but its creation date 2020-01-03 was not set: HTTP 400"},
	} {
		r := got[key]
		if r.Status != want.status || !strings.Contains(r.Error, want.err) || (want.err == "") != (r.Error == "") || r.OpportunityID == 0 {
			t.Errorf("%s: %s %q (id %d), want %s with %q and its id", key, r.Status, r.Error, r.OpportunityID, want.status, want.err)
		}
	}
	a, b, c := got["A"].OpportunityID, got["B"].OpportunityID, got["C"].OpportunityID
	if diff := cmp.Diff(map[int64][]string{a: {"run", "x", "y"}, b: {"ok", "run"}, c: {"run"}},
		map[int64][]string{a: x.sorted(a), b: x.sorted(b), c: x.sorted(c)}); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[int64]string{a: "2020-01-02"}, x.created); diff != "" {
		t.Errorf("creation dates (-want +got):\n%s", diff)
	}

	// The next sync writes B again, and its refused tag; A and C are unchanged.
	delete(x.refuseTag, "bad")
	got = l.runTags(x, ModeSync,
		[]string{"A", "deal A", "x; y", "2020-01-02"},
		[]string{"B", "deal B", "bad;ok", ""},
		[]string{"C", "deal C", "", "2020-01-03"})
	if diff := cmp.Diff(map[string]string{"A": Unchanged, "B": Updated, "C": Unchanged}, statusOf(got)); diff != "" {
		t.Errorf("sync (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"bad", "ok", "run"}, x.sorted(b)); diff != "" {
		t.Errorf("B's tags after the sync (-want +got):\n%s", diff)
	}
	synced, _, err := l.db.Tags(context.Background(), "p", "B")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"bad", "ok"}, synced); diff != "" {
		t.Errorf("B's tags in the state (-want +got):\n%s", diff)
	}
}

// A deal an earlier run created and never saw answered gets, once adopted, the creation
// date and the tags that run never sent.
func TestSettleAdoptsTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := newLedgerRun(t)
	x := newFakeExtras()
	killed := l.ledger()
	rec := mapping.Record{Title: "made", Tags: []string{"a", "b"}, Created: "2019-05-06"}
	body, _ := json.Marshal(rec)
	if err := l.db.Intent(ctx, killed.Run, "p", "made", state.Request{Method: "POST", Hash: "h", Body: body}); err != nil {
		t.Fatal(err)
	}
	l.portal.deals[7] = rec
	finder := struct {
		*fakePortal
		*fakeExtras
	}{l.portal, x}
	if adopted, _, _, err := Settle(ctx, l.ledger(), finder); err != nil || adopted != 1 {
		t.Fatalf("Settle: %d adopted, %v; want 1", adopted, err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, x.sorted(7)); diff != "" {
		t.Errorf("tags of the adopted deal (-want +got):\n%s", diff)
	}
	if got := x.created[7]; got != "2019-05-06" {
		t.Errorf("creation date of the adopted deal: %q, want 2019-05-06", got)
	}
	synced, _, err := l.db.Tags(ctx, "p", "made")
	if err != nil || !slices.Equal(synced, []string{"a", "b"}) {
		t.Errorf("tags in the state: %v, %v; want [a b]", synced, err)
	}
}
