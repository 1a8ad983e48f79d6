package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Many rows at once: a re-run of an input that is mostly done passes each done row with a
// look-up and a record that it was left as it stood. One query and one statement per batch,
// not one transaction per row, so that the pass over the done rows is not the run's time.

// Known is what Lookup tells of a key the state knows: enough to pass a row that is done.
type Known struct {
	Key           string
	OpportunityID int64  // 0: none known
	Hash          string // as Row.Hash
	Pending       bool   // as Row.Pending: read the Row before sending anything
}

// lookupChunk is the keys of one statement of Lookup (a parameter each): one statement
// text, prepared once, whatever the batch (a shorter chunk binds NULL, which matches no
// key). Measured: parsing the statement anew cost a third of the look-up.
const lookupChunk = 256

// Lookup returns what the state knows of each of keys on portal, in no particular order;
// a key it does not know is absent. One query for up to 256 keys.
func (db *DB) Lookup(ctx context.Context, portal string, keys []string) ([]Known, error) {
	out := make([]Known, 0, len(keys))
	// Not cut short by ctx: the driver watches a context that can be cancelled on a
	// goroutine of its own, at every step (measured: a tenth of the look-up), and the
	// query is short.
	ctx = context.WithoutCancel(ctx)
	err := db.read(func(r *sql.DB) error {
		stmt, span, err := db.lookupStmt(ctx)
		if err != nil {
			return err
		}
		args := make([]any, 1+lookupChunk)
		args[0] = portal
		for chunk := range slices.Chunk(keys, lookupChunk) {
			if found, ok, err := db.lookupSpan(ctx, span, portal, chunk, out); err != nil {
				return err
			} else if ok {
				out = found
				continue
			}
			// The keys bound as they are (not as JSON, which would change invalid UTF-8),
			// each found through the index.
			for i := range lookupChunk {
				args[1+i] = nil
				if i < len(chunk) {
					args[1+i] = chunk[i]
				}
			}
			rows, err := stmt.QueryContext(ctx, args...)
			if err != nil {
				return err
			}
			if out, err = scanKnown(rows, out, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %d keys: %w", len(keys), err)
	}
	return out, nil
}

// lookupSpan reads the keys of chunk, in increasing order, as one span of the index from
// the first to the last, when the span holds few keys but theirs: the rows of an input in
// key order, as an export often is, are read one after the other, not each sought
// (measured: half the time of the IN list). ok is false when chunk is not in order or the
// span holds more than twice its keys; it is then not tried again for a while.
func (db *DB) lookupSpan(ctx context.Context, span *sql.Stmt, portal string, chunk []string, out []Known) (_ []Known, ok bool, _ error) {
	if len(chunk) < 2 || db.spanMisses.Load() > 0 && db.spanMisses.Add(-1) > 0 {
		return out, false, nil
	}
	for i := 1; i < len(chunk); i++ {
		if chunk[i-1] >= chunk[i] {
			return out, false, nil
		}
	}
	limit := 2 * len(chunk)
	rows, err := span.QueryContext(ctx, portal, chunk[0], chunk[len(chunk)-1], limit+1)
	if err != nil {
		return out, false, err
	}
	n := len(out)
	var read int
	out, err = scanKnown(rows, out, func(key string) bool {
		read++
		// Both in key order: drop the keys of the span that chunk does not hold.
		for len(chunk) > 0 && chunk[0] < key {
			chunk = chunk[1:]
		}
		return len(chunk) > 0 && chunk[0] == key
	})
	if err != nil {
		return out, false, err
	}
	if read > limit {
		db.spanMisses.Store(spanRetry)
		return out[:n], false, nil
	}
	return out, true, nil
}

// spanRetry is the look-ups that go without a span after a span that held too many keys.
const spanRetry = 64

// scanKnown appends the rows of a look-up to out (those keep says to keep, if keep is set),
// and closes rows.
func scanKnown(rows *sql.Rows, out []Known, keep func(key string) bool) ([]Known, error) {
	for rows.Next() {
		var (
			k  Known
			id sql.NullInt64
		)
		if err := rows.Scan(&k.Key, &id, &k.Hash, &k.Pending); err != nil {
			rows.Close()
			return out, err
		}
		if keep != nil && !keep(k.Key) {
			continue
		}
		k.OpportunityID = id.Int64
		out = append(out, k)
	}
	return out, errors.Join(rows.Err(), rows.Close())
}

// lookupQuery is Lookup's statement: through the index of what it reads (rows_done), as the
// rows' bodies make them some 800 bytes each (measured at 10^5 rows: 84 MB for the table,
// every probe a page read). spanQuery reads a span of that index, in key order (the
// index's, BINARY: bytewise, as Go compares strings).
var (
	lookupQuery = `SELECT key, opportunity_id, hash, intent_run IS NOT NULL FROM rows INDEXED BY rows_done
WHERE portal = ? AND key IN (?` + strings.Repeat(",?", lookupChunk-1) + `)`
	spanQuery = `SELECT key, opportunity_id, hash, intent_run IS NOT NULL FROM rows INDEXED BY rows_done
WHERE portal = ? AND key >= ? AND key <= ? ORDER BY key LIMIT ?`
)

// lookupStmt is Lookup's statements, prepared on the read-only connections at its first use.
func (db *DB) lookupStmt(ctx context.Context) (in, span *sql.Stmt, err error) {
	db.lookupOnce.Do(func() {
		db.lookup, db.lookupErr = db.r.PrepareContext(ctx, lookupQuery)
		if db.lookupErr == nil {
			db.span, db.lookupErr = db.r.PrepareContext(ctx, spanQuery)
		}
	})
	return db.lookup, db.span, db.lookupErr
}

// Left is a row that a run leaves as the state holds it, sending nothing: skipped (done in
// an earlier run) or unchanged.
type Left struct {
	Known   // as Lookup found it
	Outcome string
	// InputRow and Title are as in Request: 0 and "" keep what the run row holds.
	InputRow int
	Title    string
}

// leaveChunk bounds the rows of one statement of Leave (8 parameters each; SQLite takes
// 32,766 at most).
const leaveChunk = 1024

// leaveQuery is Leave's statement for n rows.
func leaveQuery(n int) string {
	return `
INSERT INTO run_rows (run_id, key, outcome, opportunity_id, prev_hash, at, input_row, title)
VALUES (?,?,?,?,?,?,?,?)` + strings.Repeat(",(?,?,?,?,?,?,?,?)", n-1) + `
ON CONFLICT (run_id, key) DO UPDATE SET` + answerRunRow
}

// leaveStmt is Leave's statement for a whole chunk, prepared on the writer's connection at
// its first use, with the one that finds which of a chunk's keys the run recorded already.
// Not to be called from inside a write.
func (db *DB) leaveStmt() (full, touched *sql.Stmt, err error) {
	db.mu.RLock() // Close waits, and a later call finds the database closed
	defer db.mu.RUnlock()
	if db.closed.Load() {
		return nil, nil, ErrClosed
	}
	db.leaveOnce.Do(func() {
		db.leave, db.leaveErr = db.w.Prepare(leaveQuery(leaveChunk))
		if db.leaveErr == nil {
			db.touched, db.leaveErr = db.w.Prepare(`SELECT key FROM run_rows WHERE run_id = ? AND key IN (?` + strings.Repeat(",?", leaveChunk-1) + `)`)
		}
	})
	return db.leave, db.touched, db.leaveErr
}

// Leave records, durably and in one transaction, that run left each of rows as Lookup
// found it: the run's row of each key says the outcome, with the row's id and hash, as
// Answer records it given an Answer of the outcome, input row and title alone. The row
// itself is not written: its id, hash, body and last outcome stay those of the last
// answer that changed it. No row may be pending (see Known).
//
// A row that has an input row, that run has not recorded yet and that comes after every
// row run left before in the input (a run's rows left in input order, as a re-run leaves
// them) is packed with others in a line of run_left (left.go); any other a run row of its
// own, as Answer would make it. A packed row is not looked for again: a run leaves a key
// once, and does not answer it after (an import's key is one row of its input), or
// RunRows lists it twice.
func (db *DB) Leave(ctx context.Context, run int64, portal string, rows []Left) error {
	if len(rows) == 0 {
		return nil
	}
	for _, r := range rows {
		switch {
		case r.Outcome == "":
			return fmt.Errorf("answer for key %q: no outcome", r.Key)
		case r.Pending:
			return fmt.Errorf("answer for key %q: a request is pending, it cannot be left as it stands", r.Key)
		}
	}
	// A whole chunk goes through a statement prepared once (measured: parsing it anew was
	// a third of Leave); prepared here, not in the writer's transaction, which holds the
	// one connection it needs.
	full, touched, err := db.leaveStmt()
	if err != nil {
		return fmt.Errorf("record answers for %d keys (%q...): %w", len(rows), rows[0].Key, err)
	}
	now := formatTime(time.Now())
	err = db.write(ctx, func(tx *sql.Tx) error {
		packed, own, err := db.sortLeft(tx, touched, run, rows)
		if err != nil {
			return err
		}
		if err := db.pack(tx, run, packed, now); err != nil {
			return err
		}
		for chunk := range slices.Chunk(own, leaveChunk) {
			// The run and the time are parameters of each row: bound once, in a WITH, they
			// cost more (measured). prev_hash is the hash as it stands, the same before
			// and after.
			args := make([]any, 0, 8*len(chunk))
			for _, r := range chunk {
				args = append(args, run, r.Key, r.Outcome, nullID(r.OpportunityID), r.Hash, now, nullRow(r.InputRow), nullText(r.Title))
			}
			var err error
			if len(chunk) == leaveChunk {
				_, err = tx.Stmt(full).Exec(args...)
			} else {
				_, err = tx.Exec(leaveQuery(len(chunk)), args...)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if len(rows) == 1 {
			return fmt.Errorf("record answer for key %q: %w", rows[0].Key, err)
		}
		return fmt.Errorf("record answers for %d keys (%q...): %w", len(rows), rows[0].Key, err)
	}
	return nil
}

// sortLeft splits rows into those Leave packs and those it records a run row of each.
func (db *DB) sortLeft(tx *sql.Tx, touched *sql.Stmt, run int64, rows []Left) (packed, own []Left, err error) {
	var last int // the input row of the last row of run packed so far
	err = db.queryRow(tx, `SELECT last_row FROM run_left WHERE run_id = ? ORDER BY first_row DESC LIMIT 1`, run).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, err
	}
	// Which keys the run recorded already: none, when it has no run row yet (a re-run's
	// first pass over its done rows), and then no key is looked for.
	var some bool
	if err := db.queryRow(tx, `SELECT EXISTS (SELECT 1 FROM run_rows WHERE run_id = ?)`, run).Scan(&some); err != nil {
		return nil, nil, err
	}
	recorded := map[string]bool{}
	args := make([]any, 1+leaveChunk)
	args[0] = run
	for chunk := range slices.Chunk(rows, leaveChunk) {
		if !some {
			break
		}
		for i := range leaveChunk {
			args[1+i] = nil
			if i < len(chunk) {
				args[1+i] = chunk[i].Key
			}
		}
		found, err := tx.Stmt(touched).Query(args...)
		if err != nil {
			return nil, nil, err
		}
		for found.Next() {
			var key string
			if err := found.Scan(&key); err != nil {
				found.Close()
				return nil, nil, err
			}
			recorded[key] = true
		}
		if err := errors.Join(found.Err(), found.Close()); err != nil {
			return nil, nil, err
		}
	}
	// A key twice in rows gets a run row, which its second updates as Answer would.
	times := make(map[string]int, len(rows))
	for _, r := range rows {
		times[r.Key]++
	}
	packed = make([]Left, 0, len(rows))
	for _, r := range rows {
		if r.InputRow <= last || recorded[r.Key] || times[r.Key] > 1 {
			own = append(own, r)
			continue
		}
		packed = append(packed, r)
		last = r.InputRow
	}
	return packed, own, nil
}
