package state

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A version 1 database, as oppimport wrote it before portal names were canonical, opens
// with its portals renamed: two spellings of one portal become one, and a key both hold
// stays under the canonical name once, the other kept under its old name.
func TestMigratePortalNames(t *testing.T) {
	path := tempPath(t)
	raw, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		migrations[0],
		`PRAGMA user_version = 1`,
		`INSERT INTO runs (portal, input, mode, started, pid, host) VALUES ('http://127.0.0.1:8089', 'a.csv', 'create', '2026-01-01T00:00:00.000000000Z', 1, 'h')`,
		`INSERT INTO runs (portal, input, mode, started, pid, host) VALUES ('http://localhost:8089/api/2.0', 'a.csv', 'create', '2026-01-02T00:00:00.000000000Z', 1, 'h')`,
		`INSERT INTO rows (portal, key, opportunity_id) VALUES ('http://127.0.0.1:8089', 'A', 1)`,
		`INSERT INTO rows (portal, key, opportunity_id) VALUES ('http://127.0.0.1:8089', 'B', 2)`,
		`INSERT INTO rows (portal, key, opportunity_id) VALUES ('http://localhost:8089/api/2.0', 'B', 3)`,
		`INSERT INTO rows (portal, key, opportunity_id) VALUES ('http://localhost:8089/api/2.0', 'C', 4)`,
		`INSERT INTO rows (portal, key, opportunity_id) VALUES ('https://other.example', 'A', 5)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	db := openTest(t, path)
	ctx := context.Background()
	runs, err := db.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Portal != "http://localhost:8089" {
			t.Errorf("run %d: portal %q, want http://localhost:8089", r.ID, r.Portal)
		}
	}
	got := map[string]int64{}
	for _, portal := range []string{"http://localhost:8089", "http://127.0.0.1:8089", "http://localhost:8089/api/2.0", "https://other.example"} {
		if err := db.Keys(ctx, portal, func(key string, id int64) error {
			got[portal+" "+key] = id
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int64{
		"http://localhost:8089 A": 1, "http://localhost:8089 C": 4,
		// B is held under both spellings: one wins the canonical name, the other keeps its old one.
		"http://localhost:8089 B": got["http://localhost:8089 B"],
		"https://other.example A": 5,
	}
	if b := got["http://localhost:8089 B"]; b == 2 {
		want["http://localhost:8089/api/2.0 B"] = 3
	} else {
		want["http://127.0.0.1:8089 B"] = 2
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keys after the migration (-want +got):\n%s", diff)
	}
}

func TestCheckKey(t *testing.T) {
	t.Parallel()
	id := []string{"Deal ID"}
	tests := []struct {
		name     string
		stored   *KeyDef // nil: a new database
		given    KeyDef
		changed  bool
		recorded KeyDef // what the next check compares with
	}{
		{name: "new database", given: KeyDef{Columns: id}, recorded: KeyDef{Columns: id}},
		{name: "same key", stored: &KeyDef{Columns: id, Field: "Legacy ID"}, given: KeyDef{Columns: id, Field: "Legacy ID"},
			recorded: KeyDef{Columns: id, Field: "Legacy ID"}},
		{name: "key_field added to the same columns", stored: &KeyDef{Columns: id}, given: KeyDef{Columns: id, Field: "Legacy ID"},
			recorded: KeyDef{Columns: id, Field: "Legacy ID"}},
		{name: "columns changed", stored: &KeyDef{Columns: id}, given: KeyDef{Columns: []string{"Title"}}, changed: true, recorded: KeyDef{Columns: id}},
		{name: "columns reordered", stored: &KeyDef{Columns: []string{"A", "B"}}, given: KeyDef{Columns: []string{"B", "A"}}, changed: true,
			recorded: KeyDef{Columns: []string{"A", "B"}}},
		{name: "key removed", stored: &KeyDef{Columns: id}, given: KeyDef{}, changed: true, recorded: KeyDef{Columns: id}},
		{name: "key_field changed", stored: &KeyDef{Columns: id, Field: "Legacy ID"}, given: KeyDef{Columns: id, Field: "Old ID"}, changed: true,
			recorded: KeyDef{Columns: id, Field: "Legacy ID"}},
		{name: "key_field dropped", stored: &KeyDef{Columns: id, Field: "Legacy ID"}, given: KeyDef{Columns: id}, changed: true,
			recorded: KeyDef{Columns: id, Field: "Legacy ID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := openTest(t, tempPath(t))
			if tt.stored != nil {
				if err := db.CheckKey(ctx, *tt.stored); err != nil {
					t.Fatal(err)
				}
			}
			err := db.CheckKey(ctx, tt.given)
			var ke *KeyChangedError
			if errors.As(err, &ke) != tt.changed {
				t.Fatalf("CheckKey(%v) = %v, want a key change: %v", tt.given, err, tt.changed)
			}
			if tt.changed {
				for _, want := range []string{tt.stored.String(), tt.given.String(), "--state"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
			}
			// What is recorded now: the same definition passes, another does not.
			if err := db.CheckKey(ctx, tt.recorded); err != nil {
				t.Errorf("CheckKey(%v) after: %v, want it recorded", tt.recorded, err)
			}
		})
	}
}

func TestPortalKeyIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTest(t, tempPath(t))
	if _, ok, err := db.PortalIndex(ctx, testPortal); err != nil || ok {
		t.Fatalf("PortalIndex of a new database: %v, %v, want none", ok, err)
	}
	day := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := db.AddPortalKeys(ctx, testPortal, []PortalKey{
		{Value: "K1", OpportunityID: 30, Created: day.Add(time.Hour)}, {Value: "K2", OpportunityID: 20}, {Value: "K1", OpportunityID: 10, Created: day},
		{Value: "", OpportunityID: 5},
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddPortalKeys(ctx, "https://other.example", []PortalKey{{Value: "K1", OpportunityID: 99}}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.PortalIndex(ctx, testPortal); ok {
		t.Error("PortalIndex before FinishIndex: read, want not yet")
	}
	if err := db.FinishIndex(ctx, testPortal, 7, 30); err != nil {
		t.Fatal(err)
	}
	ir, ok, err := db.PortalIndex(ctx, testPortal)
	if err != nil || !ok || ir.FieldID != 7 || ir.MaxID != 30 || ir.ReadAt.IsZero() {
		t.Errorf("PortalIndex = %+v, %v, %v, want field 7 read up to 30", ir, ok, err)
	}
	for value, want := range map[string][]int64{"K1": {10, 30}, "K2": {20}, "K3": nil, "": nil} {
		got, err := db.PortalIDs(ctx, testPortal, value)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("PortalIDs(%q) (-want +got):\n%s", value, diff)
		}
	}
	var dups []string
	err = db.Duplicates(ctx, testPortal, func(value string, keys []PortalKey) error {
		for _, k := range keys {
			dups = append(dups, value+" "+k.Created.Format(time.RFC3339))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"K1 2026-01-02T03:04:05Z", "K1 2026-01-02T04:04:05Z"}, dups); diff != "" {
		t.Errorf("Duplicates (-want +got):\n%s", diff)
	}

	// A deal recorded deleted leaves the index: no later run adopts it.
	run := startRun(t, db)
	if err := db.Answer(ctx, run, testPortal, "K2", Answer{OpportunityID: 20, Outcome: "created"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Answer(ctx, run, testPortal, "K2", Answer{Outcome: Deleted}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.PortalIDs(ctx, testPortal, "K2"); len(got) != 0 {
		t.Errorf("PortalIDs(K2) after its deal was deleted: %v, want none", got)
	}
	if err := db.ResetIndex(ctx, testPortal); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.PortalIDs(ctx, testPortal, "K1"); len(got) != 0 {
		t.Errorf("PortalIDs(K1) after ResetIndex: %v, want none", got)
	}
	if got, _ := db.PortalIDs(ctx, "https://other.example", "K1"); len(got) != 1 {
		t.Errorf("PortalIDs on another portal after ResetIndex: %v, want [99]", got)
	}
}

// At rest the state is one file: a run's end and Close leave no write-ahead log to lose.
func TestCheckpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := tempPath(t)
	db := openTest(t, path)
	run := startRun(t, db)
	if err := db.Answer(ctx, run, testPortal, "A", Answer{OpportunityID: 1, Outcome: "created"}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("-wal during the run: %v, %v; want a non-empty one (the test means nothing otherwise)", fi, err)
	}
	if err := db.FinishRun(ctx, run, map[string]int{"created": 1}, time.Now(), ""); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Errorf("-wal after FinishRun: %d bytes, want none", fi.Size())
	}
	// The file alone, copied without its -wal, holds the row.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := tempPath(t)
	if err := os.WriteFile(copyPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cp := openTest(t, copyPath)
	if r, ok, err := cp.Row(ctx, testPortal, "A"); err != nil || !ok || r.OpportunityID != 1 {
		t.Errorf("row A in a copy of the file alone: %+v, %v, %v, want opportunity 1", r, ok, err)
	}
	if cp.LeftoverWAL() != 0 {
		t.Errorf("LeftoverWAL of a clean copy = %d, want 0", cp.LeftoverWAL())
	}
}

func TestJournalCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTest(t, tempPath(t))
	run := startRun(t, db)
	for _, k := range []string{"A", "B", "C"} {
		if err := db.Intent(ctx, run, testPortal, k, Request{Method: "POST"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"A", "B"} {
		if err := db.Answer(ctx, run, testPortal, k, Answer{OpportunityID: 1, Outcome: "created"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Answer(ctx, run, testPortal, "D", Answer{OpportunityID: 4, Outcome: "updated"}); err != nil {
		t.Fatal(err)
	}
	got, err := db.JournalCounts(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"created": 2, "updated": 1, Pending: 1}, got); diff != "" {
		t.Errorf("JournalCounts (-want +got):\n%s", diff)
	}
}

func TestHolder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTest(t, tempPath(t))
	if _, held, _, err := db.Holder(ctx); err != nil || held {
		t.Fatalf("Holder of an unlocked database: held %v, %v, want not held", held, err)
	}
	host, _ := os.Hostname()
	if _, err := db.Lock(ctx, os.Getpid(), host); err != nil {
		t.Fatal(err)
	}
	h, held, live, err := db.Holder(ctx)
	if err != nil || !held || !live || h.PID != os.Getpid() {
		t.Errorf("Holder = %+v, held %v, live %v, %v; want this process, alive", h, held, live, err)
	}
}

// A process that died mid-run leaves its -wal: the next Open says how large it was, and
// folds it into the file.
func TestLeftoverWAL(t *testing.T) {
	path := tempPath(t)
	runChild(t, "intent", path)
	db := openTest(t, path)
	if db.LeftoverWAL() == 0 {
		t.Error("LeftoverWAL after a process died mid-run = 0, want its size")
	}
	if _, held, _, err := db.Holder(context.Background()); err != nil || held {
		t.Errorf("Holder: held %v, %v, want none (the child never locked)", held, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Errorf("-wal after Close: %d bytes, want none", fi.Size())
	}
}
