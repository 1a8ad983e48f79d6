package state

import (
	"context"
	"database/sql"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A version 2 database opens migrated: its run rows keep their order and come after the
// rows recorded since, which are listed by their input row, whatever order they were
// answered in, with the title as sent.
func TestRunRowsInputOrder(t *testing.T) {
	path := tempPath(t)
	raw, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		migrations[0],
		migrations[1],
		`PRAGMA user_version = 2`,
		`INSERT INTO runs (portal, input, mode, started, pid, host) VALUES ('` + testPortal + `', 'a.csv', 'create', '2026-01-01T00:00:00.000000000Z', 1, 'h')`,
		`INSERT INTO run_rows (run_id, key, outcome, at) VALUES (1, 'old-z', 'created', '2026-01-01T00:00:01.000000000Z')`,
		`INSERT INTO run_rows (run_id, key, outcome, at) VALUES (1, 'old-a', 'created', '2026-01-01T00:00:02.000000000Z')`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	db := openTest(t, path)
	if got, want := userVersion(t, path), len(migrations); got != want {
		t.Errorf("user_version: got %d, want %d", got, want)
	}
	ctx := context.Background()
	// The migrated run goes on (a resumed run): rows answered out of input order.
	for _, a := range []struct {
		key   string
		row   int
		title string
		sent  bool
	}{
		{"k7", 7, "Seven", true},
		{"k3", 3, "Three", false},
		{"k12", 12, "Twelve", true},
		{"k5", 5, "", false},
	} {
		if a.sent {
			if err := db.Intent(ctx, 1, testPortal, a.key, Request{Method: "POST", Hash: "h", Body: []byte(`{}`), InputRow: a.row, Title: a.title}); err != nil {
				t.Fatal(err)
			}
			// The answer names neither: the intent's are kept.
			if err := db.Answer(ctx, 1, testPortal, a.key, Answer{OpportunityID: int64(a.row), Outcome: "created", Hash: "h"}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := db.Answer(ctx, 1, testPortal, a.key, Answer{Outcome: "skipped", InputRow: a.row, Title: a.title}); err != nil {
			t.Fatal(err)
		}
	}
	type line struct {
		Key   string
		Row   int
		Title string
	}
	var got []line
	if err := db.RunRows(ctx, 1, func(rr RunRow) error {
		got = append(got, line{rr.Key, rr.InputRow, rr.Title})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []line{
		{"k3", 3, "Three"}, {"k5", 5, ""}, {"k7", 7, "Seven"}, {"k12", 12, "Twelve"},
		{"old-z", 0, ""}, {"old-a", 0, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("run rows (-want +got):\n%s", diff)
	}
}
