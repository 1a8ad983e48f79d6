package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Outcomes the state database gives a meaning to. Every other outcome
// (created, updated, unchanged, skipped, failed, restored...) is the caller's
// word, stored and returned as it is.
const (
	// Pending is a run row's outcome between Intent and Answer.
	Pending = "pending"
	// Deleted, as an Answer's outcome, says the opportunity is gone: the row
	// forgets its id and hash, so that a later import creates it again.
	Deleted = "deleted"
	// Failed is what Forget makes of a pending run row: the request created nothing.
	Failed = "failed"
)

// Row is what the state database knows of one row key on one portal.
type Row struct {
	Portal        string
	Key           string
	OpportunityID int64     // 0: none known
	Hash          string    // hash of the content the portal holds, as of the last answer
	Outcome       string    // the last answer's outcome (a row a run left as it stood keeps it: see Leave)
	AnsweredAt    time.Time // zero: never answered
	Sent          []byte    // the pending request's body, else the last body sent

	// The request written and not answered, if IntentRun is not 0: the run
	// that sent it died, or got no answer. It must be settled before the row
	// is sent again.
	IntentRun    int64
	IntentAt     time.Time
	IntentMethod string // POST creates (settle by searching the portal); PUT and DELETE name OpportunityID
	IntentHash   string // hash of the content sent

	// In doubt (Doubt not empty): settlement could not decide, see MarkInDoubt.
	Candidates []int64
	Doubt      string
}

// Pending reports whether a request for the row was written and not answered.
func (r Row) Pending() bool { return r.IntentRun != 0 }

// Request is a request about to be sent for a row.
type Request struct {
	Method string // POST, PUT or DELETE
	Hash   string // hash of the mapped content sent
	Body   []byte // the exact body sent, to settle by and for undo to compare with
	Before []byte // for an update: the portal's record as it stood, for undo to restore
	// InputRow is the row's number in the input as the spreadsheet shows it, Title the
	// mapped record's title; 0 and "" keep what the run row holds.
	InputRow int
	Title    string
}

// Answer is what came of a row in a run.
type Answer struct {
	OpportunityID int64  // the row's opportunity; 0 keeps the one stored
	Outcome       string // created, updated, unchanged, skipped, failed, Deleted...
	Hash          string // hash of the content the portal now holds; "" keeps the stored one
	Sent          []byte // the body sent, if no Intent recorded it; nil keeps the intent's
	Before        []byte // the record before an update, if no Intent recorded it
	// InputRow and Title are as in Request: 0 and "" keep what the run row holds.
	InputRow int
	Title    string
}

// Intent records, durably, that req is about to be sent for the row key of
// portal in run: it is on disk when Intent returns, so that a crash at any
// later moment leaves the row pending (see Unsettled) rather than unknown.
// It replaces a pending intent of the row and clears its doubt.
func (db *DB) Intent(ctx context.Context, run int64, portal, key string, req Request) error {
	if req.Method == "" {
		return fmt.Errorf("intent for key %q: no method", key)
	}
	return db.writeRow(ctx, "record intent", key, func(tx *sql.Tx, now string) error {
		if _, err := db.exec(tx, `
INSERT INTO rows (portal, key, intent_run, intent_at, intent_method, intent_hash, sent)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (portal, key) DO UPDATE SET
	intent_run = excluded.intent_run, intent_at = excluded.intent_at,
	intent_method = excluded.intent_method, intent_hash = excluded.intent_hash,
	sent = excluded.sent, candidates = NULL, doubt = NULL`,
			portal, key, run, now, req.Method, req.Hash, req.Body); err != nil {
			return err
		}
		_, err := db.exec(tx, `
INSERT INTO run_rows (run_id, key, outcome, opportunity_id, method, prev_hash, sent, before, at, input_row, title)
SELECT ?, key, ?, opportunity_id, ?, hash, ?, ?, ?, ?, ? FROM rows WHERE portal = ? AND key = ?
ON CONFLICT (run_id, key) DO UPDATE SET
	outcome = excluded.outcome, method = excluded.method, sent = excluded.sent,
	before = coalesce(run_rows.before, excluded.before), at = excluded.at,
	input_row = coalesce(excluded.input_row, run_rows.input_row),
	title = coalesce(excluded.title, run_rows.title)`,
			run, Pending, req.Method, req.Body, req.Before, now, nullRow(req.InputRow), nullText(req.Title), portal, key)
		return err
	})
}

// writeRow runs fn in a write transaction (see write) with the time of the write as
// stored, and names what failed and the row's key in its error.
func (db *DB) writeRow(ctx context.Context, what, key string, fn func(tx *sql.Tx, now string) error) error {
	now := formatTime(time.Now())
	if err := db.write(ctx, func(tx *sql.Tx) error { return fn(tx, now) }); err != nil {
		return fmt.Errorf("%s for key %q: %w", what, key, err)
	}
	return nil
}

// answerRunRow is how an answer updates the run's row of a key it touched already: the
// latest outcome, the earliest Before, and what the answer does not say kept.
const answerRunRow = `
	outcome = excluded.outcome,
	opportunity_id = coalesce(excluded.opportunity_id, run_rows.opportunity_id),
	sent = coalesce(excluded.sent, run_rows.sent),
	before = coalesce(run_rows.before, excluded.before),
	at = excluded.at,
	input_row = coalesce(excluded.input_row, run_rows.input_row),
	title = coalesce(excluded.title, run_rows.title)`

// settled is the assignments that leave a row with no request pending and no doubt.
const settled = `
	intent_run = NULL, intent_at = NULL, intent_method = NULL, intent_hash = NULL,
	candidates = NULL, doubt = NULL`

// Answer records, durably, what came of the row key of portal in run: the
// answer to its request (which stops it being pending), or an outcome reached
// without one (skipped, unchanged). When settling a row left pending by an
// earlier run, pass that run (Row.IntentRun): the row is that run's doing, and
// undoing that run must take it back.
//
// A run row keeps the earliest Before and the latest outcome; the row's id and
// hash change only as a says (see Answer).
//
// An answer lost to a cancelled ctx leaves the row pending, for the next run
// to settle: after an interrupt, record the answers of the requests that were
// in flight with a context the interrupt does not cancel (context.WithoutCancel).
func (db *DB) Answer(ctx context.Context, run int64, portal, key string, a Answer) error {
	if a.Outcome == "" {
		return fmt.Errorf("answer for key %q: no outcome", key)
	}
	return db.writeRow(ctx, "record answer", key, func(tx *sql.Tx, now string) error {
		var (
			id   sql.NullInt64
			hash string
			sent []byte
		)
		err := db.queryRow(tx, `SELECT opportunity_id, hash, sent FROM rows WHERE portal = ? AND key = ?`, portal, key).
			Scan(&id, &hash, &sent)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		prevHash := hash
		if a.OpportunityID != 0 {
			id = sql.NullInt64{Int64: a.OpportunityID, Valid: true}
		}
		runRowID := id
		if a.Hash != "" {
			hash = a.Hash
		}
		if a.Sent != nil {
			sent = a.Sent
		}
		if a.Outcome == Deleted {
			if id.Valid {
				// Gone from the portal: the key index must not hand it to a later run.
				if _, err := db.exec(tx, `DELETE FROM portal_keys WHERE portal = ? AND opportunity_id = ?`, portal, id.Int64); err != nil {
					return err
				}
			}
			id, hash = sql.NullInt64{}, ""
		}
		if _, err := db.exec(tx, `
INSERT INTO rows (portal, key, opportunity_id, hash, outcome, answered_at, sent)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (portal, key) DO UPDATE SET
	opportunity_id = excluded.opportunity_id, hash = excluded.hash,
	outcome = excluded.outcome, answered_at = excluded.answered_at, sent = excluded.sent,`+settled,
			portal, key, id, hash, a.Outcome, now, sent); err != nil {
			return err
		}
		_, err = db.exec(tx, `
INSERT INTO run_rows (run_id, key, outcome, opportunity_id, prev_hash, sent, before, at, input_row, title)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id, key) DO UPDATE SET`+answerRunRow,
			run, key, a.Outcome, runRowID, prevHash, a.Sent, a.Before, now, nullRow(a.InputRow), nullText(a.Title))
		return err
	})
}

// Forget clears the pending request of the row key of portal, once settlement
// has proved that it created nothing, so that it can be sent again; the run
// that sent it records it Failed. Forgetting a row that is not pending does nothing.
func (db *DB) Forget(ctx context.Context, portal, key string) error {
	return db.writeRow(ctx, "forget request", key, func(tx *sql.Tx, now string) error {
		if _, err := db.exec(tx, `
UPDATE run_rows SET outcome = ?, at = ?
WHERE outcome = ? AND key = ? AND run_id = (SELECT intent_run FROM rows WHERE portal = ? AND key = ?)`,
			Failed, now, Pending, key, portal, key); err != nil {
			return err
		}
		_, err := db.exec(tx, `UPDATE rows SET`+settled+`
WHERE portal = ? AND key = ?`, portal, key)
		return err
	})
}

// MarkInDoubt records that settlement could not decide whether the pending
// request of the row key of portal created an opportunity: several candidates,
// or the portal could not be asked. The row stays pending, so that no run
// sends it again before it is settled. It fails if the row is not pending.
func (db *DB) MarkInDoubt(ctx context.Context, portal, key string, candidates []int64, reason string) error {
	if reason == "" {
		reason = "in doubt"
	}
	if candidates == nil {
		candidates = []int64{}
	}
	cj, err := json.Marshal(candidates)
	if err != nil {
		return err
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		return updateOne(tx, "no request pending", `UPDATE rows SET candidates = ?, doubt = ? WHERE portal = ? AND key = ? AND intent_run IS NOT NULL`,
			string(cj), reason, portal, key)
	})
	if err != nil {
		return fmt.Errorf("mark key %q in doubt: %w", key, err)
	}
	return nil
}

const rowColumns = `portal, key, opportunity_id, hash, outcome, answered_at, sent,
	intent_run, intent_at, intent_method, intent_hash, candidates, doubt`

// scanRow reads the rowColumns of one line.
func scanRow(sc interface{ Scan(...any) error }) (Row, error) {
	var (
		r                       Row
		id, intentRun           sql.NullInt64
		method, ihash, cj, doub sql.NullString
	)
	if err := sc.Scan(&r.Portal, &r.Key, &id, &r.Hash, &r.Outcome, storedTime{&r.AnsweredAt}, &r.Sent,
		&intentRun, storedTime{&r.IntentAt}, &method, &ihash, &cj, &doub); err != nil {
		return Row{}, err
	}
	r.OpportunityID, r.IntentRun = id.Int64, intentRun.Int64
	r.IntentMethod, r.IntentHash, r.Doubt = method.String, ihash.String, doub.String
	if cj.Valid {
		if err := json.Unmarshal([]byte(cj.String), &r.Candidates); err != nil {
			return Row{}, fmt.Errorf("stored candidates of key %q: %w", r.Key, err)
		}
	}
	return r, nil
}

// Row returns what is stored for the row key of portal, and whether anything is.
func (db *DB) Row(ctx context.Context, portal, key string) (Row, bool, error) {
	var (
		row   Row
		found bool
	)
	err := db.read(func(*sql.DB) error {
		q, err := db.readRow(ctx, `SELECT `+rowColumns+` FROM rows WHERE portal = ? AND key = ?`, portal, key)
		if err != nil {
			return err
		}
		row, err = scanRow(q)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return Row{}, false, fmt.Errorf("read key %q: %w", key, err)
	}
	return row, found, nil
}

// KeyOf returns the key that holds opportunity id on portal, if any: an opportunity found on
// the portal that another row already owns is not that row's to adopt.
func (db *DB) KeyOf(ctx context.Context, portal string, id int64) (string, bool, error) {
	var key string
	err := db.read(func(r *sql.DB) error {
		return r.QueryRowContext(ctx, `SELECT key FROM rows WHERE portal = ? AND opportunity_id = ? LIMIT 1`, portal, id).Scan(&key)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read opportunity %d: %w", id, err)
	}
	return key, true, nil
}

// Unsettled returns the rows of portal with a request written and not
// answered, oldest first: each must be settled before it is sent again.
// Rows in doubt are among them.
func (db *DB) Unsettled(ctx context.Context, portal string) ([]Row, error) {
	rows, err := db.rows(ctx, `SELECT `+rowColumns+` FROM rows
WHERE portal = ? AND intent_run IS NOT NULL ORDER BY intent_at, key`, portal)
	if err != nil {
		return nil, fmt.Errorf("read unsettled rows: %w", err)
	}
	return rows, nil
}

// InDoubt returns the rows of every portal that settlement could not decide
// (see MarkInDoubt), by portal, oldest first.
func (db *DB) InDoubt(ctx context.Context) ([]Row, error) {
	rows, err := db.rows(ctx, `SELECT `+rowColumns+` FROM rows
WHERE doubt IS NOT NULL ORDER BY portal, intent_at, key`)
	if err != nil {
		return nil, fmt.Errorf("read rows in doubt: %w", err)
	}
	return rows, nil
}

func (db *DB) rows(ctx context.Context, query string, args ...any) ([]Row, error) {
	var out []Row
	err := db.each(ctx, func(rows *sql.Rows) error {
		row, err := scanRow(rows)
		out = append(out, row)
		return err
	}, query, args...)
	return out, err
}

// Keys calls fn with each key of portal that has an opportunity id, in key
// order, reading them as it goes; it stops at fn's first error and returns it.
// fn may call the other methods of db, but not Close.
func (db *DB) Keys(ctx context.Context, portal string, fn func(key string, id int64) error) error {
	return db.read(func(r *sql.DB) error {
		rows, err := r.QueryContext(ctx, `SELECT key, opportunity_id FROM rows
WHERE portal = ? AND opportunity_id IS NOT NULL ORDER BY key`, portal)
		if err != nil {
			return fmt.Errorf("read keys: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				key string
				id  int64
			)
			if err := rows.Scan(&key, &id); err != nil {
				return fmt.Errorf("read keys: %w", err)
			}
			if err := fn(key, id); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read keys: %w", err)
		}
		return nil
	})
}

// nullRow stores an input row number, NULL for none (0).
func nullRow(n int) any {
	if n <= 0 {
		return nil
	}
	return n
}

// nullText stores a text, NULL for none ("").
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}
