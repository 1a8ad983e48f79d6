package state

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// leftCase is a re-run's rows as the run under test meets them: some sent (Intent and
// Answer), most left as they stood, a Leave call at a time.
type leftCase struct {
	answered []Left   // answered with a request: a run row of their own
	calls    [][]Left // Leave calls, in order
}

// record writes c into db as a run: rows left through Leave when leave, else each through
// Answer one by one (what Leave must amount to). It returns the run.
func (c leftCase) record(t *testing.T, db *DB, leave bool) int64 {
	t.Helper()
	ctx := context.Background()
	first := startRun(t, db)
	for i := range 20 {
		key := fmt.Sprint("k", i)
		if err := db.Answer(ctx, first, testPortal, key, Answer{OpportunityID: int64(100 + i), Outcome: "created", Hash: "h" + key}); err != nil {
			t.Fatal(err)
		}
	}
	run := startRun(t, db)
	for _, a := range c.answered {
		if err := db.Intent(ctx, run, testPortal, a.Key, Request{Method: "POST", Hash: "new", Body: []byte("{}"), InputRow: a.InputRow, Title: a.Title}); err != nil {
			t.Fatal(err)
		}
		if err := db.Answer(ctx, run, testPortal, a.Key, Answer{OpportunityID: 7, Outcome: "created", Hash: "new"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, rows := range c.calls {
		if leave {
			if err := db.Leave(ctx, run, testPortal, rows); err != nil {
				t.Fatal(err)
			}
			continue
		}
		for _, l := range rows {
			if err := db.Answer(ctx, run, testPortal, l.Key, Answer{Outcome: l.Outcome, InputRow: l.InputRow, Title: l.Title}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return run
}

func left(key string, row int, outcome string) Left {
	return Left{Known: Known{Key: key, OpportunityID: int64(100 + keyNumber(key)), Hash: "h" + key}, Outcome: outcome, InputRow: row, Title: "deal " + key}
}

func keyNumber(key string) int {
	var n int
	fmt.Sscan(strings.TrimPrefix(key, "k"), &n)
	return n
}

// TestLeavePacked: the rows Leave packs many to a line read back, through RunRows,
// JournalCounts and InputRows, as the run rows Answer makes of them one by one, in input
// order among the rows the run sent; a row Leave cannot pack (out of input order, no input
// row, twice in a call, recorded by the run already) gets a run row of its own.
func TestLeavePacked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := leftCase{
		answered: []Left{{Known: Known{Key: "k3"}, InputRow: 4, Title: "deal k3"}, {Known: Known{Key: "k8"}, InputRow: 9, Title: "deal k8"}},
		calls: [][]Left{
			{left("k1", 2, "skipped"), left("k2", 3, "skipped"), left("k4", 5, "skipped"), left("k5", 6, "unchanged"), left("k6", 7, "unchanged")},
			{left("k7", 8, "skipped"), left("k9", 10, "skipped"), left("k10", 0, "skipped")},                                         // no input row
			{left("k0", 1, "skipped"), left("k11", 12, "skipped")},                                                                   // k0 before the rows packed
			{left("k12", 13, "skipped"), left("k12", 14, "unchanged"), left("k13", 15, "skipped")},                                   // k12 twice
			{{Known: Known{Key: "k3", OpportunityID: 7, Hash: "new"}, Outcome: "skipped", InputRow: 16}, left("k14", 17, "skipped")}, // k3 sent by this run
		},
	}
	one := openTest(t, tempPath(t))
	oneRun := c.record(t, one, false)
	db := openTest(t, tempPath(t))
	run := c.record(t, db, true)
	if run != oneRun {
		t.Fatalf("got run %d, want %d", run, oneRun)
	}
	all := func(db *DB) []RunRow {
		var out []RunRow
		if err := db.RunRows(ctx, run, func(r RunRow) error { out = append(out, r); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := all(one)
	if diff := cmp.Diff(want, all(db), cmpopts.IgnoreFields(RunRow{}, "At")); diff != "" {
		t.Errorf("run rows (-Answer one by one +Leave):\n%s", diff)
	}
	var order []string
	for _, r := range all(db) {
		order = append(order, r.Key)
	}
	if diff := cmp.Diff([]string{"k0", "k1", "k2", "k4", "k5", "k6", "k7", "k8", "k9", "k11", "k12", "k13", "k3", "k14", "k10"}, order); diff != "" {
		t.Errorf("run rows' keys (-want +got):\n%s", diff)
	}
	for _, q := range []struct {
		name string
		fn   func(*DB) (map[string]int, error)
	}{
		{"JournalCounts", func(db *DB) (map[string]int, error) { return db.JournalCounts(ctx, run) }},
		{"InputRows", func(db *DB) (map[string]int, error) { return db.InputRows(ctx, testPortal) }},
	} {
		want, err := q.fn(one)
		if err != nil {
			t.Fatal(err)
		}
		got, err := q.fn(db)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-Answer one by one +Leave):\n%s", q.name, diff)
		}
	}
	// Packed: k1 k2 k4 (skipped), k5 k6 (unchanged), k7 k9, k11, k13, k14; the others a
	// run row each.
	var lines, packed int
	if err := db.r.QueryRow(`SELECT count(*), coalesce(sum(n), 0) FROM run_left WHERE run_id = ?`, run).Scan(&lines, &packed); err != nil {
		t.Fatal(err)
	}
	if lines != 6 || packed != 10 {
		t.Errorf("run_left: got %d rows in %d lines, want 10 in 6", packed, lines)
	}
}

// A line of packed rows that does not read back is an error of RunRows, naming the run.
func TestLeavePackedDamaged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTest(t, tempPath(t))
	run := startRun(t, db)
	if err := db.Leave(ctx, run, testPortal, []Left{left("k1", 2, "skipped"), left("k2", 3, "skipped")}); err != nil {
		t.Fatal(err)
	}
	if err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE run_left SET rows = substr(rows, 1, length(rows) - 3)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	err := db.RunRows(ctx, run, func(r RunRow) error { keys = append(keys, r.Key); return nil })
	if want := fmt.Sprintf("read rows of run %d: damaged packed run rows", run); err == nil || err.Error() != want {
		t.Errorf("RunRows of a damaged line: got %v, want %q", err, want)
	}
	if diff := cmp.Diff([]string{"k1"}, keys); diff != "" {
		t.Errorf("rows read before the damage (-want +got):\n%s", diff)
	}
}

// A version 4 database (tags: as main had it before; run rows of skipped rows one a line)
// opens migrated: its runs read
// as before, and a new run's rows left are packed.
func TestMigrateToPacked(t *testing.T) {
	path := tempPath(t)
	raw, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		migrations[0], migrations[1], migrations[2], migrations[3],
		`PRAGMA user_version = 4`,
		`INSERT INTO runs (portal, input, mode, started, pid, host) VALUES ('` + testPortal + `', 'a.csv', 'create', '2026-01-01T00:00:00.000000000Z', 1, 'h')`,
		`INSERT INTO rows (portal, key, opportunity_id, hash, outcome) VALUES ('` + testPortal + `', 'k1', 101, 'hk1', 'created')`,
		`INSERT INTO run_rows (run_id, key, outcome, opportunity_id, prev_hash, at, input_row, title) VALUES (1, 'k1', 'skipped', 101, 'hk1', '2026-01-01T00:00:01.000000000Z', 2, 'deal k1')`,
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
	run := startRun(t, db)
	if err := db.Leave(ctx, run, testPortal, []Left{left("k1", 2, "skipped")}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{1, run} {
		var got []RunRow
		if err := db.RunRows(ctx, id, func(r RunRow) error { got = append(got, r); return nil }); err != nil {
			t.Fatal(err)
		}
		want := []RunRow{{Key: "k1", Outcome: "skipped", OpportunityID: 101, PrevHash: "hk1", InputRow: 2, Title: "deal k1"}}
		if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(RunRow{}, "At")); diff != "" {
			t.Errorf("rows of run %d (-want +got):\n%s", id, diff)
		}
	}
	var packed int
	if err := db.r.QueryRow(`SELECT coalesce(sum(n), 0) FROM run_left WHERE run_id = ?`, run).Scan(&packed); err != nil {
		t.Fatal(err)
	}
	if packed != 1 {
		t.Errorf("rows packed by the run on the migrated database: got %d, want 1", packed)
	}
}

// Keys in increasing order are read as one span of the index: what it finds is what the
// IN list finds, keys the span holds and the chunk does not are not returned, and a span
// that holds many more keys than the chunk is given up for the IN list.
func TestLookupSpan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTest(t, tempPath(t))
	run := startRun(t, db)
	var all []string
	for i := range 600 {
		key := fmt.Sprintf("K%04d", i)
		all = append(all, key)
		if i%7 == 3 { // pending: an intent, no answer
			if err := db.Intent(ctx, run, testPortal, key, Request{Method: "POST", Hash: "h", Body: []byte("{}")}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := db.Answer(ctx, run, testPortal, key, Answer{OpportunityID: int64(i + 1), Outcome: "created", Hash: fmt.Sprint("h", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// Bytes that are no UTF-8 sort after every ASCII key, bytewise, as in the index.
	for _, key := range []string{"K\xff", "K\xff\xfe"} {
		all = append(all, key)
		if err := db.Answer(ctx, run, testPortal, key, Answer{OpportunityID: 9, Outcome: "created", Hash: "h"}); err != nil {
			t.Fatal(err)
		}
	}
	// What Row says of each key, one by one.
	want := func(keys []string) []Known {
		var out []Known
		for _, key := range keys {
			row, ok, err := db.Row(ctx, testPortal, key)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				out = append(out, Known{Key: key, OpportunityID: row.OpportunityID, Hash: row.Hash, Pending: row.Pending()})
			}
		}
		return out
	}
	every := func(keys []string, n int) []string {
		var out []string
		for i := 0; i < len(keys); i += n {
			out = append(out, keys[i])
		}
		return out
	}
	for _, c := range []struct {
		name   string
		keys   []string
		missed bool // the span is given up
	}{
		{"dense", all[10:260], false},
		{"gaps and unknown keys", append(every(all[:300], 2), "K0299x", "K03"), false},
		{"every third", every(all[:600], 3), true},
		{"no UTF-8", []string{"K0599", "K\xff", "K\xff\xfe"}, false},
	} {
		db.spanMisses.Store(0)
		got, err := db.Lookup(ctx, testPortal, c.keys)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(got, func(a, b Known) int { return strings.Compare(a.Key, b.Key) })
		if diff := cmp.Diff(want(c.keys), got); diff != "" {
			t.Errorf("%s: Lookup (-Row one by one +Lookup):\n%s", c.name, diff)
		}
		if missed := db.spanMisses.Load() > 0; missed != c.missed {
			t.Errorf("%s: span given up: got %v, want %v", c.name, missed, c.missed)
		}
	}
}
