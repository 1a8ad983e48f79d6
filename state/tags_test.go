package state

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTest(t, tempPath(t))
	r1, r2 := startRun(t, db), startRun(t, db)
	if _, known, err := db.Tags(ctx, testPortal, "k"); err != nil || known {
		t.Fatalf("Tags of a new key: known %v, %v; want unknown", known, err)
	}
	if err := db.Answer(ctx, r1, testPortal, "k", Answer{OpportunityID: 7, Outcome: "created", Hash: "h1"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetTags(ctx, r1, testPortal, "k", TagChange{Synced: []string{"a", "b"}, Added: []string{"a", "b", "run1"}, Complete: true}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetTags(ctx, r2, testPortal, "k", TagChange{Synced: []string{"b", "c"}, Added: []string{"c"}, Removed: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	tags, known, err := db.Tags(ctx, testPortal, "k")
	if err != nil || !known {
		t.Fatalf("Tags: known %v, %v", known, err)
	}
	if diff := cmp.Diff([]string{"b", "c"}, tags); diff != "" {
		t.Errorf("synced tags (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		run  int64
		want RunTags
	}{
		{r1, RunTags{Added: []string{"a", "b", "run1"}, Removed: []string{}}},
		{r2, RunTags{Added: []string{"c"}, Removed: []string{"a"}, Prev: []string{"a", "b"}}},
	} {
		got, found, err := db.RunTags(ctx, tt.run, "k")
		if err != nil || !found {
			t.Fatalf("RunTags of run %d: found %v, %v", tt.run, found, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("run %d's tags (-want +got):\n%s", tt.run, diff)
		}
	}
	// An incomplete change forgets the row's hash, so that the next sync writes it again.
	row, _, err := db.Row(ctx, testPortal, "k")
	if err != nil {
		t.Fatal(err)
	}
	if row.Hash != "" || row.OpportunityID != 7 {
		t.Errorf("after tags left incomplete: hash %q, id %d; want \"\" and 7 kept", row.Hash, row.OpportunityID)
	}
	if _, found, err := db.RunTags(ctx, r1, "other"); err != nil || found {
		t.Errorf("RunTags of an untouched key: found %v, %v; want nothing", found, err)
	}
}
