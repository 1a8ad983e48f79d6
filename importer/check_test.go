package importer

import (
	"context"
	"slices"
	"testing"

	"github.com/oppimport/oppimport/mapping"
)

// Config.Check runs on rows that mapped cleanly: its errors make the row invalid and it is
// never posted; what it changes in the record is what gets posted.
func TestRunCheck(t *testing.T) {
	p := &poster{}
	var checked []string
	var got []Result
	_, err := Run(context.Background(), Config{
		Rows: &rows{n: 4, bad: map[int]bool{1: true}}, Plan: plan(t), Poster: p, Concurrency: 2,
		Check: func(rec *mapping.Record) []mapping.FieldError {
			checked = append(checked, rec.Title)
			if rec.Title == "deal 2" {
				return []mapping.FieldError{{Field: "stageid", Col: -1, Value: "1", Reason: "is no stage of the portal"}}
			}
			rec.Title += " (checked)"
			return nil
		},
		OnResult: func(r Result) { got = append(got, r) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"deal 0", "deal 2", "deal 3"}; !slices.Equal(checked, want) {
		t.Errorf("checked %q, want %q: rows with field errors are not checked", checked, want)
	}
	wantStatus := []string{Created, Invalid, Invalid, Created}
	for i, r := range got {
		if r.Status != wantStatus[i] {
			t.Errorf("row %d: status %s (%s), want %s", r.Row, r.Status, r.Error, wantStatus[i])
		}
	}
	if got[2].Error != `stageid: "1" is no stage of the portal` {
		t.Errorf("row 4: error %q, want the check's", got[2].Error)
	}
	slices.Sort(p.titles)
	if want := []string{"deal 0 (checked)", "deal 3 (checked)"}; !slices.Equal(p.titles, want) {
		t.Errorf("posted %q, want %q", p.titles, want)
	}
}
