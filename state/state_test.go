package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.uber.org/goleak"
)

// The crash tests re-run the test binary as a child that does one thing and
// dies without closing anything: childEnv names the thing, pathEnv the file.
const (
	childEnv = "STATE_TEST_CHILD"
	pathEnv  = "STATE_TEST_PATH"
)

const testPortal = "https://example.onlyoffice.com"

func TestMain(m *testing.M) {
	if what := os.Getenv(childEnv); what != "" {
		child(what, os.Getenv(pathEnv))
		return
	}
	goleak.VerifyTestMain(m)
}

// child commits something and exits at once, as a kill -9 would leave it.
func child(what, path string) {
	ctx := context.Background()
	db, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	switch what {
	case "intent":
		run, err := db.StartRun(ctx, Run{Portal: testPortal, Input: "deals.csv", Mode: "create"})
		if err == nil {
			err = db.Intent(ctx, run, testPortal, "D-1", Request{Method: "POST", Hash: "h1", Body: []byte(`{"title":"one"}`)})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	case "lock":
		host, _ := os.Hostname()
		if _, err := db.Lock(ctx, os.Getpid(), host); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	os.Exit(1) // no Close, no Unlock
}

// runChild runs child what on path and wants it to have exited with 1.
func runChild(t *testing.T, what, path string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+what, pathEnv+"="+path)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("child %s: got %v, want exit status 1; output:\n%s", what, err, out)
	}
	return cmd.Process.Pid
}

func openTest(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return db
}

func tempPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "m.state.db")
}

func startRun(t testing.TB, db *DB) int64 {
	t.Helper()
	id, err := db.StartRun(context.Background(), Run{Portal: testPortal, Input: "deals.csv", Mode: "create"})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func userVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenMigrates(t *testing.T) {
	path := tempPath(t)
	ctx := context.Background()

	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	run := startRun(t, db)
	if err := db.Answer(ctx, run, testPortal, "D-1", Answer{OpportunityID: 7, Outcome: "created", Hash: "h"}); err != nil {
		t.Fatal(err)
	}
	if got := db.Path(); got != path {
		t.Errorf("Path() = %q, want %q", got, path)
	}
	for _, name := range []string{path, path + "-wal"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("mode of %s: got %v, want -rw-------", filepath.Base(name), got)
		}
	}
	var mode string
	if err := db.r.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode: got %q, want wal", mode)
	}
	var sync int
	if err := db.w.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if sync != 2 {
		t.Errorf("synchronous: got %d, want 2 (FULL)", sync)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := userVersion(t, path), len(migrations); got != want {
		t.Errorf("user_version after first open: got %d, want %d", got, want)
	}

	// Opening again migrates nothing and keeps the data.
	db = openTest(t, path)
	row, ok, err := db.Row(ctx, testPortal, "D-1")
	if err != nil || !ok || row.OpportunityID != 7 {
		t.Errorf("Row after reopen: got %+v, %v, %v, want id 7", row, ok, err)
	}
	if got, want := userVersion(t, path), len(migrations); got != want {
		t.Errorf("user_version after reopen: got %d, want %d", got, want)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := tempPath(t)
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1)); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := Open(path)
	if err == nil {
		db.Close()
		t.Fatal("Open: got no error, want one for a newer schema")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open: got %q, want it to say the schema is newer", err)
	}
}

func TestOpenOddFileName(t *testing.T) {
	// A name SQLite would read as a URI if it were not escaped.
	path := filepath.Join(t.TempDir(), "a?b#c%20.db")
	db := openTest(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not at %s: %v", path, err)
	}
	startRun(t, db)
}

// rowOpts compares rows without the times the database sets.
var rowOpts = cmpopts.IgnoreFields(Row{}, "AnsweredAt", "IntentAt")

func TestRowLifecycle(t *testing.T) {
	ctx := context.Background()
	body := []byte(`{"title":"Deal"}`)
	body2 := []byte(`{"title":"Deal 2"}`)
	before := []byte(`{"id":41,"title":"Deal"}`)

	tests := []struct {
		name string
		do   func(db *DB, run int64) error
		want Row
	}{
		{
			name: "intent",
			do: func(db *DB, run int64) error {
				return db.Intent(ctx, run, testPortal, "K", Request{Method: "POST", Hash: "h1", Body: body})
			},
			want: Row{Portal: testPortal, Key: "K", Sent: body, IntentRun: 1, IntentMethod: "POST", IntentHash: "h1"},
		},
		{
			name: "intent then answer",
			do: func(db *DB, run int64) error {
				if err := db.Intent(ctx, run, testPortal, "K", Request{Method: "POST", Hash: "h1", Body: body}); err != nil {
					return err
				}
				return db.Answer(ctx, run, testPortal, "K", Answer{OpportunityID: 41, Outcome: "created", Hash: "h1"})
			},
			want: Row{Portal: testPortal, Key: "K", OpportunityID: 41, Hash: "h1", Outcome: "created", Sent: body},
		},
		{
			name: "update keeps the id, takes the new hash",
			do: func(db *DB, run int64) error {
				if err := db.Answer(ctx, run, testPortal, "K", Answer{OpportunityID: 41, Outcome: "created", Hash: "h1", Sent: body}); err != nil {
					return err
				}
				if err := db.Intent(ctx, run, testPortal, "K", Request{Method: "PUT", Hash: "h2", Body: body2, Before: before}); err != nil {
					return err
				}
				return db.Answer(ctx, run, testPortal, "K", Answer{Outcome: "updated", Hash: "h2"})
			},
			want: Row{Portal: testPortal, Key: "K", OpportunityID: 41, Hash: "h2", Outcome: "updated", Sent: body2},
		},
		{
			name: "a pending update keeps the hash the portal had",
			do: func(db *DB, run int64) error {
				if err := db.Answer(ctx, run, testPortal, "K", Answer{OpportunityID: 41, Outcome: "created", Hash: "h1", Sent: body}); err != nil {
					return err
				}
				return db.Intent(ctx, run, testPortal, "K", Request{Method: "PUT", Hash: "h2", Body: body2})
			},
			want: Row{Portal: testPortal, Key: "K", OpportunityID: 41, Hash: "h1", Outcome: "created", Sent: body2,
				IntentRun: 1, IntentMethod: "PUT", IntentHash: "h2"},
		},
		{
			name: "a failed request keeps id and hash",
			do: func(db *DB, run int64) error {
				if err := db.Answer(ctx, run, testPortal, "K", Answer{OpportunityID: 41, Outcome: "created", Hash: "h1", Sent: body}); err != nil {
					return err
				}
				if err := db.Intent(ctx, run, testPortal, "K", Request{Method: "PUT", Hash: "h2", Body: body2}); err != nil {
					return err
				}
				return db.Answer(ctx, run, testPortal, "K", Answer{Outcome: "failed"})
			},
			want: Row{Portal: testPortal, Key: "K", OpportunityID: 41, Hash: "h1", Outcome: "failed", Sent: body2},
		},
		{
			name: "deleted forgets id and hash",
			do: func(db *DB, run int64) error {
				if err := db.Answer(ctx, run, testPortal, "K", Answer{OpportunityID: 41, Outcome: "created", Hash: "h1", Sent: body}); err != nil {
					return err
				}
				return db.Answer(ctx, run, testPortal, "K", Answer{OpportunityID: 41, Outcome: Deleted})
			},
			want: Row{Portal: testPortal, Key: "K", Outcome: Deleted, Sent: body},
		},
		{
			name: "forget clears the intent",
			do: func(db *DB, run int64) error {
				if err := db.Intent(ctx, run, testPortal, "K", Request{Method: "POST", Hash: "h1", Body: body}); err != nil {
					return err
				}
				if err := db.MarkInDoubt(ctx, testPortal, "K", []int64{3, 4}, "2 candidates"); err != nil {
					return err
				}
				return db.Forget(ctx, testPortal, "K")
			},
			want: Row{Portal: testPortal, Key: "K", Sent: body},
		},
		{
			name: "in doubt keeps the intent",
			do: func(db *DB, run int64) error {
				if err := db.Intent(ctx, run, testPortal, "K", Request{Method: "POST", Hash: "h1", Body: body}); err != nil {
					return err
				}
				return db.MarkInDoubt(ctx, testPortal, "K", []int64{3, 4}, "2 candidates")
			},
			want: Row{Portal: testPortal, Key: "K", Sent: body, IntentRun: 1, IntentMethod: "POST", IntentHash: "h1",
				Candidates: []int64{3, 4}, Doubt: "2 candidates"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTest(t, tempPath(t))
			run := startRun(t, db)
			if err := tt.do(db, run); err != nil {
				t.Fatal(err)
			}
			got, ok, err := db.Row(ctx, testPortal, "K")
			if err != nil || !ok {
				t.Fatalf("Row: got %v, %v, want the row", ok, err)
			}
			if diff := cmp.Diff(tt.want, got, rowOpts); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
			if got.Pending() && got.IntentAt.IsZero() {
				t.Errorf("IntentAt: got zero, want the time of the intent")
			}
			if got.Outcome != "" && got.AnsweredAt.IsZero() {
				t.Errorf("AnsweredAt: got zero, want the time of the answer")
			}
		})
	}
}

func TestRowUnknown(t *testing.T) {
	db := openTest(t, tempPath(t))
	_, ok, err := db.Row(context.Background(), testPortal, "nope")
	if ok || err != nil {
		t.Errorf("Row of an unknown key: got %v, %v, want false, nil", ok, err)
	}
}

func TestMarkInDoubtNeedsPending(t *testing.T) {
	db := openTest(t, tempPath(t))
	if err := db.MarkInDoubt(context.Background(), testPortal, "K", nil, "no portal"); err == nil {
		t.Error("MarkInDoubt of a row with no request: got no error, want one")
	}
}

func TestPortalsAreApart(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, tempPath(t))
	run := startRun(t, db)
	if err := db.Answer(ctx, run, "https://a.example", "K", Answer{OpportunityID: 1, Outcome: "created"}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.Row(ctx, "https://b.example", "K"); ok {
		t.Error("Row on another portal: got the row, want none")
	}
}

func TestUnsettledAfterReopen(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	db := openTest(t, path)
	run := startRun(t, db)
	for _, key := range []string{"B", "A", "C"} {
		if err := db.Intent(ctx, run, testPortal, key, Request{Method: "POST", Hash: "h" + key, Body: []byte(key)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Answer(ctx, run, testPortal, "A", Answer{OpportunityID: 9, Outcome: "created", Hash: "hA"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil { // the run ends without an answer for B and C
		t.Fatal(err)
	}

	db = openTest(t, path)
	rows, err := db.Unsettled(ctx, testPortal)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Key+" "+string(r.Sent)+" "+r.IntentMethod)
	}
	if diff := cmp.Diff([]string{"B B POST", "C C POST"}, got); diff != "" {
		t.Errorf("Unsettled, oldest first (-want +got):\n%s", diff)
	}
	if other, err := db.Unsettled(ctx, "https://other.example"); err != nil || len(other) != 0 {
		t.Errorf("Unsettled of another portal: got %v, %v, want none", other, err)
	}
}

func TestCrashLeavesIntent(t *testing.T) {
	path := tempPath(t)
	runChild(t, "intent", path)

	ctx := context.Background()
	db := openTest(t, path)
	rows, err := db.Unsettled(ctx, testPortal)
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{{Portal: testPortal, Key: "D-1", Sent: []byte(`{"title":"one"}`),
		IntentRun: 1, IntentMethod: "POST", IntentHash: "h1"}}
	if diff := cmp.Diff(want, rows, rowOpts); diff != "" {
		t.Errorf("Unsettled after the child died (-want +got):\n%s", diff)
	}
	runs, err := db.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || !runs[0].Ended.IsZero() {
		t.Errorf("Runs: got %+v, want one run that never ended", runs)
	}
	var rr []RunRow
	if err := db.RunRows(ctx, 1, func(r RunRow) error { rr = append(rr, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(rr) != 1 || rr[0].Outcome != Pending {
		t.Errorf("RunRows of the dead run: got %+v, want D-1 %s", rr, Pending)
	}
}

func TestSettleCreditsTheIntentRun(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, tempPath(t))
	dead := startRun(t, db)
	for _, key := range []string{"found", "absent"} {
		if err := db.Intent(ctx, dead, testPortal, key, Request{Method: "POST", Hash: "h", Body: []byte(key)}); err != nil {
			t.Fatal(err)
		}
	}
	next := startRun(t, db)
	unsettled, err := db.Unsettled(ctx, testPortal)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range unsettled {
		switch r.Key {
		case "found":
			err = db.Answer(ctx, r.IntentRun, testPortal, r.Key, Answer{OpportunityID: 5, Outcome: "created", Hash: r.IntentHash})
		case "absent":
			err = db.Forget(ctx, testPortal, r.Key)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Intent(ctx, next, testPortal, "absent", Request{Method: "POST", Hash: "h", Body: []byte("absent")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Answer(ctx, next, testPortal, "absent", Answer{OpportunityID: 6, Outcome: "created", Hash: "h"}); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		run  int64
		want []string
	}{
		{dead, []string{"found created 5", "absent failed 0"}},
		{next, []string{"absent created 6"}},
	} {
		var got []string
		err := db.RunRows(ctx, tt.run, func(r RunRow) error {
			got = append(got, fmt.Sprintf("%s %s %d", r.Key, r.Outcome, r.OpportunityID))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("RunRows(%d) (-want +got):\n%s", tt.run, diff)
		}
	}
}

func TestRunRowsForUndo(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, tempPath(t))
	run1 := startRun(t, db)
	if err := db.Intent(ctx, run1, testPortal, "K", Request{Method: "POST", Hash: "h1", Body: []byte("v1")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Answer(ctx, run1, testPortal, "K", Answer{OpportunityID: 8, Outcome: "created", Hash: "h1"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Answer(ctx, run1, testPortal, "S", Answer{OpportunityID: 9, Outcome: "skipped"}); err != nil {
		t.Fatal(err)
	}

	run2, err := db.StartRun(ctx, Run{Portal: testPortal, Input: "deals.csv", Mode: "sync"})
	if err != nil {
		t.Fatal(err)
	}
	// The first PUT got no answer and was sent again: the run keeps the first Before.
	if err := db.Intent(ctx, run2, testPortal, "K", Request{Method: "PUT", Hash: "h2", Body: []byte("v2"), Before: []byte("portal v1")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Intent(ctx, run2, testPortal, "K", Request{Method: "PUT", Hash: "h2", Body: []byte("v2"), Before: []byte("portal v2")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Answer(ctx, run2, testPortal, "K", Answer{Outcome: "updated", Hash: "h2"}); err != nil {
		t.Fatal(err)
	}

	collect := func(run int64) []RunRow {
		var rr []RunRow
		if err := db.RunRows(ctx, run, func(r RunRow) error { rr = append(rr, r); return nil }); err != nil {
			t.Fatal(err)
		}
		return rr
	}
	opts := cmpopts.IgnoreFields(RunRow{}, "At")
	want1 := []RunRow{
		{Key: "K", Outcome: "created", OpportunityID: 8, Method: "POST", Sent: []byte("v1")},
		{Key: "S", Outcome: "skipped", OpportunityID: 9},
	}
	if diff := cmp.Diff(want1, collect(run1), opts); diff != "" {
		t.Errorf("RunRows(%d) (-want +got):\n%s", run1, diff)
	}
	want2 := []RunRow{{Key: "K", Outcome: "updated", OpportunityID: 8, Method: "PUT", PrevHash: "h1", Sent: []byte("v2"), Before: []byte("portal v1")}}
	if diff := cmp.Diff(want2, collect(run2), opts); diff != "" {
		t.Errorf("RunRows(%d) (-want +got):\n%s", run2, diff)
	}

	// Undo of run 2 restores the record and the hash it had.
	undo, err := db.StartRun(ctx, Run{Portal: testPortal, Input: "run 2", Mode: "undo", UndoOf: run2})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Intent(ctx, undo, testPortal, "K", Request{Method: "PUT", Hash: "h1", Body: []byte("portal v1")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Answer(ctx, undo, testPortal, "K", Answer{Outcome: "restored", Hash: "h1"}); err != nil {
		t.Fatal(err)
	}
	row, _, err := db.Row(ctx, testPortal, "K")
	if err != nil {
		t.Fatal(err)
	}
	if row.Hash != "h1" || row.OpportunityID != 8 {
		t.Errorf("row after undo: got id %d hash %q, want 8 h1", row.OpportunityID, row.Hash)
	}
	got, ok, err := db.Run(ctx, undo)
	if err != nil || !ok || got.UndoOf != run2 || got.Mode != "undo" {
		t.Errorf("Run(%d): got %+v, %v, %v, want an undo of run %d", undo, got, ok, err, run2)
	}
	if _, ok, err := db.Run(ctx, 99); ok || err != nil {
		t.Errorf("Run(99): got %v, %v, want false, nil", ok, err)
	}
}

func TestInDoubt(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, tempPath(t))
	run := startRun(t, db)
	for _, key := range []string{"A", "B"} {
		if err := db.Intent(ctx, run, testPortal, key, Request{Method: "POST", Body: []byte(key)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.MarkInDoubt(ctx, testPortal, "B", nil, "portal unreachable"); err != nil {
		t.Fatal(err)
	}
	rows, err := db.InDoubt(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Key != "B" || rows[0].Doubt != "portal unreachable" || rows[0].Candidates == nil {
		t.Errorf("InDoubt: got %+v, want B, portal unreachable, no candidates", rows)
	}
	// Sending the row again (after settling it) clears the doubt.
	if err := db.Intent(ctx, run, testPortal, "B", Request{Method: "POST", Body: []byte("B")}); err != nil {
		t.Fatal(err)
	}
	if rows, err := db.InDoubt(ctx); err != nil || len(rows) != 0 {
		t.Errorf("InDoubt after a new intent: got %+v, %v, want none", rows, err)
	}
}

func TestConcurrentIntentAnswer(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, tempPath(t))
	run := startRun(t, db)

	const workers, perWorker = 32, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				key := fmt.Sprintf("K%02d-%02d", w, i)
				id := int64(w*perWorker + i + 1)
				if err := db.Intent(ctx, run, testPortal, key, Request{Method: "POST", Hash: key, Body: []byte(key)}); err != nil {
					errs <- err
					return
				}
				if _, ok, err := db.Row(ctx, testPortal, key); err != nil || !ok {
					errs <- fmt.Errorf("Row(%s) after its intent: got %v, %v", key, ok, err)
					return
				}
				if err := db.Answer(ctx, run, testPortal, key, Answer{OpportunityID: id, Outcome: "created", Hash: key}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	ids := map[string]int64{}
	err := db.Keys(ctx, testPortal, func(key string, id int64) error {
		ids[key] = id
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != workers*perWorker {
		t.Errorf("Keys: got %d keys, want %d", len(ids), workers*perWorker)
	}
	if rows, err := db.Unsettled(ctx, testPortal); err != nil || len(rows) != 0 {
		t.Errorf("Unsettled: got %d rows, %v, want none", len(rows), err)
	}
	n := 0
	if err := db.RunRows(ctx, run, func(RunRow) error { n++; return nil }); err != nil || n != workers*perWorker {
		t.Errorf("RunRows: got %d, %v, want %d", n, err, workers*perWorker)
	}
}

func TestFailedWriteSparesItsBatch(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, tempPath(t))
	run := startRun(t, db)
	var wg sync.WaitGroup
	var bad, good atomic.Int32
	for i := range 40 {
		wg.Go(func() {
			r := run
			if i%2 == 0 {
				r = 999 // no such run: the foreign key refuses it
			}
			err := db.Intent(ctx, r, testPortal, fmt.Sprint("K", i), Request{Method: "POST"})
			switch {
			case err != nil && r == 999:
				bad.Add(1)
			case err == nil && r == run:
				good.Add(1)
			default:
				t.Errorf("Intent(run %d): got %v", r, err)
			}
		})
	}
	wg.Wait()
	if bad.Load() != 20 || good.Load() != 20 {
		t.Errorf("got %d refused and %d recorded, want 20 and 20", bad.Load(), good.Load())
	}
	rows, err := db.Unsettled(ctx, testPortal)
	if err != nil || len(rows) != 20 {
		t.Errorf("Unsettled: got %d rows, %v, want 20", len(rows), err)
	}
}

func TestKeys(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, tempPath(t))
	run := startRun(t, db)
	for i, key := range []string{"c", "a", "b"} {
		if err := db.Answer(ctx, run, testPortal, key, Answer{OpportunityID: int64(i + 1), Outcome: "created"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Intent(ctx, run, testPortal, "pending", Request{Method: "POST"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Answer(ctx, run, "https://other.example", "x", Answer{OpportunityID: 9, Outcome: "created"}); err != nil {
		t.Fatal(err)
	}

	var got []string
	err := db.Keys(ctx, testPortal, func(key string, id int64) error {
		got = append(got, fmt.Sprintf("%s=%d", key, id))
		// The callback may write while the keys stream.
		return db.Answer(ctx, run, testPortal, key, Answer{Outcome: "unchanged"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a=2", "b=3", "c=1"}, got); diff != "" {
		t.Errorf("Keys (-want +got):\n%s", diff)
	}

	stop := errors.New("stop")
	n := 0
	err = db.Keys(ctx, testPortal, func(string, int64) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Keys with a failing callback: got %v after %d keys, want stop after 1", err, n)
	}
}

func TestRunsNumbering(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	db := openTest(t, path)
	started := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	var want []Run
	for i, mode := range []string{"create", "sync", "create"} {
		r := Run{Portal: testPortal, Input: "deals.csv", Mode: mode, Started: started.Add(time.Duration(i) * time.Hour), PID: 100 + i, Host: "h"}
		id, err := db.StartRun(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if id != int64(i+1) {
			t.Errorf("run number: got %d, want %d", id, i+1)
		}
		r.ID = id
		if i < 2 {
			r.Ended = r.Started.Add(time.Minute)
			r.Counts = map[string]int{"created": 3 + i, "failed": i}
			if i == 1 {
				r.Stopped = "interrupted"
			}
			if err := db.FinishRun(ctx, id, r.Counts, r.Ended, r.Stopped); err != nil {
				t.Fatal(err)
			}
		}
		want = append(want, r)
	}
	if err := db.FinishRun(ctx, 42, nil, time.Now(), ""); err == nil {
		t.Error("FinishRun of no run: got no error, want one")
	}
	got, err := db.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Runs (-want +got):\n%s", diff)
	}
}

func TestStartRunDefaults(t *testing.T) {
	db := openTest(t, tempPath(t))
	id := startRun(t, db)
	got, _, err := db.Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if got.PID != os.Getpid() || got.Host != host || time.Since(got.Started) > time.Minute {
		t.Errorf("run: got pid %d host %q started %v, want this process, now", got.PID, got.Host, got.Started)
	}
}

func TestLock(t *testing.T) {
	ctx := context.Background()
	host, _ := os.Hostname()

	t.Run("held by a live process", func(t *testing.T) {
		path := tempPath(t)
		first := openTest(t, path)
		if dead, err := first.Lock(ctx, os.Getpid(), host); err != nil || dead != nil {
			t.Fatalf("first Lock: got %v, %v, want nil, nil", dead, err)
		}
		run := startRun(t, first)
		if dead, err := first.Lock(ctx, os.Getpid(), host); err != nil || dead != nil {
			t.Errorf("Lock again by its holder: got %v, %v, want nil, nil", dead, err)
		}

		second := openTest(t, path)
		_, err := second.Lock(ctx, os.Getpid(), host)
		var le *LockedError
		if !errors.As(err, &le) {
			t.Fatalf("second Lock: got %v, want a *LockedError", err)
		}
		if le.PID != os.Getpid() || le.Host != host || le.RunID != run || time.Since(le.Since) > time.Minute {
			t.Errorf("LockedError: got %+v, want pid %d, host %s, run %d, since now", le.Holder, os.Getpid(), host, run)
		}
		if msg := err.Error(); !strings.Contains(msg, fmt.Sprint("pid ", os.Getpid())) || !strings.Contains(msg, fmt.Sprint("run ", run)) {
			t.Errorf("message: got %q, want the pid and the run", msg)
		}

		// A holder on another host cannot be checked, so it holds.
		if _, err := second.Lock(ctx, os.Getpid(), "elsewhere"); !errors.As(err, &le) {
			t.Errorf("Lock from another host: got %v, want a *LockedError", err)
		}

		if err := first.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		if dead, err := second.Lock(ctx, os.Getpid(), host); err != nil || dead != nil {
			t.Errorf("Lock after Unlock: got %v, %v, want nil, nil", dead, err)
		}
		// Unlock by a handle that lost the lock leaves the holder's lock alone.
		if err := first.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := first.Lock(ctx, os.Getpid(), host); !errors.As(err, &le) {
			t.Errorf("Lock while the second handle holds it: got %v, want a *LockedError", err)
		}
	})

	t.Run("held by a dead process", func(t *testing.T) {
		path := tempPath(t)
		gone := exec.Command("true")
		if err := gone.Run(); err != nil {
			t.Fatal(err)
		}
		pid := gone.Process.Pid

		first := openTest(t, path)
		if _, err := first.Lock(ctx, pid, host); err != nil {
			t.Fatal(err)
		}
		second := openTest(t, path)
		dead, err := second.Lock(ctx, os.Getpid(), host)
		if err != nil {
			t.Fatalf("Lock over a dead holder: got %v, want it taken over", err)
		}
		if dead == nil || dead.PID != pid || dead.Host != host {
			t.Errorf("dead holder: got %+v, want pid %d on %s", dead, pid, host)
		}
	})

	t.Run("left by a crashed process", func(t *testing.T) {
		path := tempPath(t)
		pid := runChild(t, "lock", path)
		db := openTest(t, path)
		dead, err := db.Lock(ctx, os.Getpid(), host)
		if err != nil {
			t.Fatalf("Lock after the holder crashed: got %v, want it taken over", err)
		}
		if dead == nil || dead.PID != pid {
			t.Errorf("dead holder: got %+v, want pid %d", dead, pid)
		}
	})

	t.Run("released by Close", func(t *testing.T) {
		path := tempPath(t)
		first, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := first.Lock(ctx, os.Getpid(), host); err != nil {
			t.Fatal(err)
		}
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}
		second := openTest(t, path)
		if dead, err := second.Lock(ctx, os.Getpid(), host); err != nil || dead != nil {
			t.Errorf("Lock after the holder closed: got %v, %v, want nil, nil", dead, err)
		}
	})
}

// TestLockRace has many handles, as many processes would, try at once: one wins.
func TestLockRace(t *testing.T) {
	ctx := context.Background()
	host, _ := os.Hostname()
	path := tempPath(t)
	openTest(t, path) // create the schema before the race
	var wg sync.WaitGroup
	var won, lost atomic.Int32
	for range 8 {
		db := openTest(t, path)
		wg.Go(func() {
			_, err := db.Lock(ctx, os.Getpid(), host)
			var le *LockedError
			switch {
			case err == nil:
				won.Add(1)
			case errors.As(err, &le):
				lost.Add(1)
			default:
				t.Errorf("Lock: %v", err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 || lost.Load() != 7 {
		t.Errorf("got %d winners and %d losers, want 1 and 7", won.Load(), lost.Load())
	}
}

func TestClosed(t *testing.T) {
	ctx := context.Background()
	db, err := Open(tempPath(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	calls := map[string]error{
		"Intent": db.Intent(ctx, 1, testPortal, "K", Request{Method: "POST"}),
		"Answer": db.Answer(ctx, 1, testPortal, "K", Answer{Outcome: "created"}),
		"Keys":   db.Keys(ctx, testPortal, func(string, int64) error { return nil }),
		"Leave":  db.Leave(ctx, 1, testPortal, []Left{{Known: Known{Key: "K"}, Outcome: "skipped"}}),
	}
	_, _, calls["Row"] = db.Row(ctx, testPortal, "K")
	_, calls["Lookup"] = db.Lookup(ctx, testPortal, []string{"K"})
	_, calls["Lock"] = db.Lock(ctx, 1, "h")
	for name, err := range calls {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: got %v, want ErrClosed", name, err)
		}
	}
}

func TestCancelledWrite(t *testing.T) {
	db := openTest(t, tempPath(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.Intent(ctx, 1, testPortal, "K", Request{Method: "POST"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Intent with a cancelled context: got %v, want context.Canceled", err)
	}
}

func TestPortal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.onlyoffice.com", "https://example.onlyoffice.com"},
		{"https://Example.OnlyOffice.com/", "https://example.onlyoffice.com"},
		{"HTTPS://example.onlyoffice.com:443//", "https://example.onlyoffice.com"},
		{"https://user:secret@example.onlyoffice.com/crm/?token=x#f", "https://example.onlyoffice.com/crm"},
		{"http://127.0.0.1:8089", "http://localhost:8089"},
		{"http://localhost:8089/", "http://localhost:8089"},
		{"http://LocalHost.:8089", "http://localhost:8089"},
		{"http://[::1]:8089", "http://localhost:8089"},
		{"http://[::1]:80/", "http://localhost"},
		{"http://127.0.0.2:8089", "http://127.0.0.2:8089"},
		{"http://[2001:db8::1]:8080", "http://[2001:db8::1]:8080"},
		{"https://example.onlyoffice.com/api/2.0", "https://example.onlyoffice.com"},
		{"https://example.onlyoffice.com/api/2.0/", "https://example.onlyoffice.com"},
		{"https://example.onlyoffice.com/API/2.0.json", "https://example.onlyoffice.com"},
		{"https://example.com/crm/api/2.0", "https://example.com/crm"},
		{"https://example.onlyoffice.com./", "https://example.onlyoffice.com"},
		{"https://example.onlyoffice.com:8443", "https://example.onlyoffice.com:8443"},
		{"  https://example.com/Portal/  ", "https://example.com/Portal"},
		{"user:secret@example.com/", "example.com"},
	}
	for _, tt := range tests {
		if got := Portal(tt.in); got != tt.want {
			t.Errorf("Portal(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// BenchmarkIntentAnswer measures intent+answer pairs from 16 goroutines, as
// the importer's workers send them, with group commit and with one commit
// (one fsync) per write.
func BenchmarkIntentAnswer(b *testing.B) {
	for _, batch := range []int{256, 1} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			defer func(old int) { maxBatch = old }(maxBatch)
			maxBatch = batch
			ctx := context.Background()
			db := openTest(b, tempPath(b))
			run := startRun(b, db)
			body := []byte(strings.Repeat("x", 600))
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range 16 {
				wg.Go(func() {
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						key := fmt.Sprint("K", i)
						if err := db.Intent(ctx, run, testPortal, key, Request{Method: "POST", Hash: key, Body: body}); err != nil {
							b.Error(err)
							return
						}
						if err := db.Answer(ctx, run, testPortal, key, Answer{OpportunityID: i, Outcome: "created", Hash: key}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pairs/s")
		})
	}
}
