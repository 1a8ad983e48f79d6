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

// InputRows gives each key its row in the latest run that recorded one.
func TestInputRows(t *testing.T) {
	t.Parallel()
	db := openTest(t, tempPath(t))
	ctx := context.Background()
	first, second := startRun(t, db), startRun(t, db)
	for _, a := range []struct {
		run int64
		key string
		row int
	}{
		{first, "A", 2}, {first, "B", 3}, {first, "C", 4},
		{second, "B", 9}, {second, "A", 0}, // A: no row recorded in the second run
	} {
		if err := db.Answer(ctx, a.run, testPortal, a.key, Answer{Outcome: "skipped", InputRow: a.row}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.InputRows(ctx, testPortal)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"A": 2, "B": 9, "C": 4}, got); diff != "" {
		t.Errorf("input rows (-want +got):\n%s", diff)
	}
	other, err := db.InputRows(ctx, "https://other.example")
	if err != nil || len(other) != 0 {
		t.Errorf("another portal's input rows: got %v, %v; want none", other, err)
	}
}
