package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// Run is one run of oppimport on the state database.
type Run struct {
	ID      int64  // 1, 2, 3... in each database; set by StartRun
	Portal  string // see Portal
	Input   string
	Mode    string // create, sync, undo...
	UndoOf  int64  // for an undo run: the run it takes back; else 0
	Started time.Time
	Ended   time.Time // zero: still running, or the process died
	PID     int
	Host    string
	Counts  map[string]int // rows per outcome, as FinishRun recorded them
	Stopped string         // why the run stopped early; "" if it did not
}

// RunRow is what a run did to one row.
type RunRow struct {
	Key           string
	Outcome       string // Pending if the run never got an answer
	OpportunityID int64
	Method        string // the request's method, "" if none was sent
	PrevHash      string // the row's hash before the run touched it
	Sent          []byte // the body the run sent, nil if none
	Before        []byte // the portal's record before the run updated it, nil if none
	At            time.Time
	InputRow      int    // the row's number in the input as the spreadsheet shows it; 0: not recorded
	Title         string // the mapped record's title as the run had it; "" if not recorded
}

// StartRun records the start of a run and returns its number. A zero Started,
// PID or Host is filled in with now, this process and this host. If this
// handle holds the lock, the lock names the run.
func (db *DB) StartRun(ctx context.Context, r Run) (int64, error) {
	if r.Started.IsZero() {
		r.Started = time.Now()
	}
	if r.PID == 0 {
		r.PID = os.Getpid()
	}
	if r.Host == "" {
		r.Host, _ = os.Hostname()
	}
	var id int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRow(`
INSERT INTO runs (portal, input, mode, undo_of, started, pid, host) VALUES (?, ?, ?, ?, ?, ?, ?)
RETURNING id`,
			r.Portal, r.Input, r.Mode, nullID(r.UndoOf), formatTime(r.Started), r.PID, r.Host).Scan(&id)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE lock SET run_id = ? WHERE token = ?`, id, db.token())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("record run start: %w", err)
	}
	return id, nil
}

// FinishRun records the end of run id: its counts per outcome, when it ended,
// and why it stopped early ("" if it did not).
func (db *DB) FinishRun(ctx context.Context, id int64, counts map[string]int, ended time.Time, stopped string) error {
	cj, err := json.Marshal(counts)
	if err != nil {
		return fmt.Errorf("record end of run %d: %w", id, err)
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		return updateOne(tx, "no such run", `UPDATE runs SET counts = ?, ended = ?, stopped = ? WHERE id = ?`,
			string(cj), formatTime(ended), stopped, id)
	})
	if err != nil {
		return fmt.Errorf("record end of run %d: %w", id, err)
	}
	// The state at rest is one file: a copy of it alone misses nothing.
	if err := db.Checkpoint(ctx); err != nil && !errors.Is(err, errCheckpointBusy) {
		return err
	}
	return nil
}

const runColumns = `id, portal, input, mode, undo_of, started, ended, pid, host, counts, stopped`

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var (
		r      Run
		undoOf sql.NullInt64
		counts sql.NullString
	)
	if err := sc.Scan(&r.ID, &r.Portal, &r.Input, &r.Mode, &undoOf, storedTime{&r.Started}, storedTime{&r.Ended},
		&r.PID, &r.Host, &counts, &r.Stopped); err != nil {
		return Run{}, err
	}
	r.UndoOf = undoOf.Int64
	if counts.Valid {
		if err := json.Unmarshal([]byte(counts.String), &r.Counts); err != nil {
			return Run{}, fmt.Errorf("stored counts of run %d: %w", r.ID, err)
		}
	}
	return r, nil
}

// Runs returns every run, in order.
func (db *DB) Runs(ctx context.Context) ([]Run, error) {
	var out []Run
	err := db.each(ctx, func(rows *sql.Rows) error {
		run, err := scanRun(rows)
		out = append(out, run)
		return err
	}, `SELECT `+runColumns+` FROM runs ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	return out, nil
}

// Run returns run id, and whether there is one.
func (db *DB) Run(ctx context.Context, id int64) (Run, bool, error) {
	var (
		run   Run
		found bool
	)
	err := db.read(func(r *sql.DB) error {
		var err error
		run, err = scanRun(r.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return Run{}, false, fmt.Errorf("read run %d: %w", id, err)
	}
	return run, found, nil
}

// RunRows calls fn with each row run id touched, in input order (RunRow.InputRow),
// then the rows with no input row (recorded before the schema kept it, or by a
// run that reads no input) in the order it first touched them, reading them as it goes;
// it stops at fn's first error and returns it. fn may call the other methods of db, but
// not Close.
func (db *DB) RunRows(ctx context.Context, id int64, fn func(RunRow) error) error {
	return db.read(func(r *sql.DB) error {
		// The rows Leave packed (left.go) are merged in by their input row.
		left := &leftRows{db: db, ctx: ctx, run: id}
		head, more, err := left.next()
		if err != nil {
			return err
		}
		// upTo: the packed rows before that input row; 0: every one left.
		packedBefore := func(upTo int) error {
			for more && (upTo == 0 || head.InputRow < upTo) {
				if err := fn(head); err != nil {
					return err
				}
				if head, more, err = left.next(); err != nil {
					return err
				}
			}
			return nil
		}
		rows, err := r.QueryContext(ctx, `SELECT key, outcome, opportunity_id, method, prev_hash, sent, before, at, input_row, title
FROM run_rows WHERE run_id = ? ORDER BY input_row IS NULL, input_row, rowid`, id)
		if err != nil {
			return fmt.Errorf("read rows of run %d: %w", id, err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				rr     RunRow
				oppID  sql.NullInt64
				method sql.NullString
				at     sql.NullString
				input  sql.NullInt64
				title  sql.NullString
			)
			if err := rows.Scan(&rr.Key, &rr.Outcome, &oppID, &method, &rr.PrevHash, &rr.Sent, &rr.Before, &at, &input, &title); err != nil {
				return fmt.Errorf("read rows of run %d: %w", id, err)
			}
			rr.OpportunityID, rr.Method = oppID.Int64, method.String
			rr.InputRow, rr.Title = int(input.Int64), title.String
			if rr.At, err = parseTime(at); err != nil {
				return fmt.Errorf("read rows of run %d: %w", id, err)
			}
			if err := packedBefore(rr.InputRow); err != nil {
				return err
			}
			if err := fn(rr); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read rows of run %d: %w", id, err)
		}
		return packedBefore(0)
	})
}

// JournalCounts counts run id's rows by outcome as its journal shows them: for
// a run that died before FinishRun recorded its counts, what it did (Pending:
// sent and never answered).
func (db *DB) JournalCounts(ctx context.Context, id int64) (map[string]int, error) {
	counts, err := db.readMap(ctx, `SELECT outcome, count(*) FROM run_rows WHERE run_id = ? GROUP BY outcome`, id)
	if err != nil {
		return nil, fmt.Errorf("read the journal of run %d: %w", id, err)
	}
	packed, err := db.readMap(ctx, `SELECT outcome, sum(n) FROM run_left WHERE run_id = ? GROUP BY outcome`, id)
	if err != nil {
		return nil, fmt.Errorf("read the journal of run %d: %w", id, err)
	}
	for outcome, n := range packed {
		counts[outcome] += n
	}
	return counts, nil
}

// InputRows gives each key of portal the input row it had in the latest run that recorded
// one (see RunRow.InputRow): what lists a portal's keys in the spreadsheet's order. Keys no
// run recorded a row for are not in the map.
func (db *DB) InputRows(ctx context.Context, portal string) (map[string]int, error) {
	type place struct {
		run int64
		row int
	}
	places := map[string]place{}
	err := db.each(ctx, func(rows *sql.Rows) error {
		var (
			k string
			p place
		)
		err := rows.Scan(&k, &p.run, &p.row)
		places[k] = p
		return err
	}, `SELECT rr.key, rr.run_id, rr.input_row FROM run_rows rr JOIN runs ON runs.id = rr.run_id
WHERE runs.portal = ? AND rr.input_row IS NOT NULL ORDER BY rr.run_id`, portal)
	if err == nil {
		// The packed rows (left.go): a key's place in a later run wins.
		err = db.each(ctx, func(lines *sql.Rows) error {
			var (
				run int64
				l   leftLine
				rr  RunRow
			)
			if err := lines.Scan(&run, &l.outcome, &l.packed); err != nil {
				return err
			}
			for {
				ok, err := l.next(&rr)
				if !ok || err != nil {
					return err
				}
				if p, ok := places[rr.Key]; !ok || p.run <= run {
					places[rr.Key] = place{run, rr.InputRow}
				}
			}
		}, `SELECT rl.run_id, rl.outcome, rl.rows FROM run_left rl JOIN runs ON runs.id = rl.run_id
WHERE runs.portal = ?`, portal)
	}
	if err != nil {
		return nil, fmt.Errorf("read the rows' places in the input: %w", err)
	}
	out := make(map[string]int, len(places))
	for k, p := range places {
		out[k] = p.row
	}
	return out, nil
}

// readMap reads the rows of a query of two columns, a text and a number, into a map; a
// later row of one text replaces an earlier one.
func (db *DB) readMap(ctx context.Context, query string, args ...any) (map[string]int, error) {
	out := map[string]int{}
	err := db.each(ctx, func(rows *sql.Rows) error {
		var (
			k string
			n int
		)
		err := rows.Scan(&k, &n)
		out[k] = n
		return err
	}, query, args...)
	return out, err
}
