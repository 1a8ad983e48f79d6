package undo

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/emulator"
	"github.com/oppimport/oppimport/importer"
	"github.com/oppimport/oppimport/onlyoffice"
	"github.com/oppimport/oppimport/state"
)

// tagPortal is a portal that is a Tagger too, as main's is. refuse, when it names a tag,
// answers the call for that tag ("remove x" or "add x") with the error instead of sending it.
type tagPortal struct {
	portal
	refuse map[string]error
}

func (p tagPortal) AddTag(ctx context.Context, id int64, tag string) (int, error) {
	if err := p.refuse["add "+tag]; err != nil {
		return 1, err
	}
	return p.c.AddTag(ctx, id, tag)
}

func (p tagPortal) RemoveTag(ctx context.Context, id int64, tag string) (int, error) {
	if err := p.refuse["remove "+tag]; err != nil {
		return 1, err
	}
	return p.c.RemoveTag(ctx, id, tag)
}

// tag is run's change of key's tags on opportunity id, as an import makes it: the calls,
// then the record of what it did.
func (f *fixture) tag(t *testing.T, run int64, key string, id int64, synced, added, removed []string) {
	t.Helper()
	ctx := context.Background()
	for _, tag := range added {
		if _, err := f.client.AddTag(ctx, id, tag); err != nil {
			t.Fatal(err)
		}
	}
	for _, tag := range removed {
		if _, err := f.client.RemoveTag(ctx, id, tag); err != nil {
			t.Fatal(err)
		}
	}
	c := state.TagChange{Synced: synced, Added: added, Removed: removed, Complete: true}
	if err := f.db.SetTags(ctx, run, f.portal, key, c); err != nil {
		t.Fatal(err)
	}
}

// dealTags is the tags the portal holds on opportunity id, sorted.
func (f *fixture) dealTags(t *testing.T, id int64) []string {
	t.Helper()
	tags, _, err := f.client.DealTags(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tags)
	return tags
}

// tagged records run 1, which creates A and B and tags them "old", a portal user who tags
// both "mine", and run 2, a sync that renames A and, on both, takes "old" off and puts "new"
// and its --tag "batch-2" on; B's fields the portal held already, its tags alone changed.
func tagged(t *testing.T, f *fixture) (run2 int64, ids map[string]int64) {
	t.Helper()
	run1 := f.startRun(t, "create", 0)
	ids = map[string]int64{"A": f.create(t, run1, "A", deal("deal A", "1")), "B": f.create(t, run1, "B", deal("deal B", "2"))}
	for _, k := range []string{"A", "B"} {
		f.tag(t, run1, k, ids[k], []string{"old"}, []string{"old"}, nil)
		err := f.emu.Edit("viktor.petrov", int(ids[k]), func(o *emulator.Opportunity) { o.Tags = append(o.Tags, "mine") })
		if err != nil {
			t.Fatal(err)
		}
	}
	run2 = f.startRun(t, "sync", 0)
	f.update(t, run2, "A", ids["A"], deal("deal A renamed", "1"))
	if err := f.db.Answer(context.Background(), run2, f.portal, "B", state.Answer{OpportunityID: ids["B"], Outcome: importer.Updated, Sent: body(deal("deal B", "2"))}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"A", "B"} {
		f.tag(t, run2, k, ids[k], []string{"new"}, []string{"new", "batch-2"}, []string{"old"})
	}
	return run2, ids
}

func TestUndoTakesTagsBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	run2, ids := tagged(t, f)
	p := tagPortal{portal: portal{c: f.client}}
	afterRun2 := map[string][]string{"A": f.dealTags(t, ids["A"]), "B": f.dealTags(t, ids["B"])}

	// The dry run names the tags and changes none. Without the portal, A's fields are not
	// compared, and it says so; B's tags alone changed, named from the state.
	names := `would take off tags "new", "batch-2"; would put back tags "old"`
	for _, dry := range []struct {
		client Portal
		want   map[string]string
	}{
		{client: p, want: map[string]string{"A": names, "B": names}},
		{client: nil, want: map[string]string{"A": "not compared with the portal", "B": names}},
	} {
		got, _ := f.undo(t, run2, Config{DryRun: true, Client: dry.client})
		for _, k := range []string{"A", "B"} {
			if r := got[k]; r.Status != WouldRestore || !strings.Contains(r.Error, dry.want[k]) {
				t.Errorf("dry run (portal %v), %s: got %s %q, want %s with %q", dry.client != nil, k, r.Status, r.Error, WouldRestore, dry.want[k])
			}
			if diff := cmp.Diff(afterRun2[k], f.dealTags(t, ids[k])); diff != "" {
				t.Errorf("dry run, %s: tags changed (-before +after):\n%s", k, diff)
			}
		}
	}

	got, st := f.undo(t, run2, Config{Client: p})
	if diff := cmp.Diff(map[string]string{"A": Restored, "B": Restored}, statuses(got)); diff != "" {
		t.Fatalf("undo (-want +got):\n%s", diff)
	}
	// A: a read, the PUT, three tag calls; B: three tag calls and nothing else.
	if st.Requests != 8 {
		t.Errorf("got %d requests, want 8", st.Requests)
	}
	for _, k := range []string{"A", "B"} {
		if diff := cmp.Diff([]string{"mine", "old"}, f.dealTags(t, ids[k])); diff != "" {
			t.Errorf("%s's tags after the undo (-want +got):\n%s", k, diff)
		}
		tags, known, err := f.db.Tags(context.Background(), f.portal, k)
		if err != nil || !known || !cmp.Equal(tags, []string{"old"}) {
			t.Errorf("%s: the state remembers the export's tags as %v (known %v, %v), want [old], as before run %d", k, tags, known, err, run2)
		}
	}
	if title := f.stored(t, ids["A"]).Title; title != "deal A" {
		t.Errorf("A's title after the undo: got %q, want %q", title, "deal A")
	}

	// Again: nothing left to take back, and no tag call.
	got, st = f.undo(t, run2, Config{Client: p})
	if diff := cmp.Diff(map[string]string{"A": Skipped, "B": Skipped}, statuses(got)); diff != "" || st.Requests != 0 {
		t.Errorf("second undo: %d requests (-want +got):\n%s", st.Requests, diff)
	}
}

func TestUndoTagsRefused(t *testing.T) {
	t.Parallel()
	gone := &onlyoffice.APIError{StatusCode: 404, Message: "The tag was not found"}
	tests := []struct {
		name   string
		refuse map[string]error
		want   string   // the status of A and B
		why    string   // in their error
		tags   []string // on the deals after the undo
	}{
		{name: "a tag the portal knows no more", refuse: map[string]error{"remove batch-2": gone},
			want: Restored, tags: []string{"batch-2", "mine", "old"}},
		{name: "take off refused", refuse: map[string]error{"remove new": errors.New("server error")},
			want: Failed, why: `fields restored, but tags: "new" not taken off: server error`, tags: []string{"mine", "new", "old"}},
		{name: "put back refused", refuse: map[string]error{"add old": errors.New("server error")},
			want: Failed, why: `fields restored, but tags: "old" not put back: server error`, tags: []string{"mine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			run2, ids := tagged(t, f)
			got, _ := f.undo(t, run2, Config{Client: tagPortal{portal: portal{c: f.client}, refuse: tt.refuse}})
			for _, k := range []string{"A", "B"} {
				r := got[k]
				if r.Status != tt.want || (tt.why == "") != (r.Error == "") || !strings.Contains(r.Error, tt.why) {
					t.Errorf("%s: got %s %q, want %s with %q", k, r.Status, r.Error, tt.want, tt.why)
				}
				if diff := cmp.Diff(tt.tags, f.dealTags(t, ids[k])); diff != "" {
					t.Errorf("%s's tags after the undo (-want +got):\n%s", k, diff)
				}
			}
			if title := f.stored(t, ids["A"]).Title; title != "deal A" {
				t.Errorf("A's title after the undo: got %q, want its fields restored whatever became of its tags", title)
			}
			row, _, err := f.db.Row(context.Background(), f.portal, "A")
			if err != nil {
				t.Fatal(err)
			}
			if incomplete := tt.want == Failed; (row.Hash == "") != incomplete {
				t.Errorf("A's hash after the undo: %q; want it forgotten only when tags were refused (%v)", row.Hash, incomplete)
			}
		})
	}
}
