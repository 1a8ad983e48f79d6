package state

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
)

// The rows a run leaves as they stood (Leave) are most of a re-run's rows, and only
// status --run N, undo --run N and dedupe read them back. Each is not a run_rows line of
// its own (two B-tree inserts, eight values bound, about 400 bytes): a line of run_left
// holds the rows of one outcome of a Leave call (1,024 from the importer's leave log),
// consecutive in the input, packed in one value. RunRows, JournalCounts and InputRows
// read them as if they were run rows.
//
// A packed row is, in order: its input row (uvarint), its key, its opportunity id
// (varint, 0: none), its hash, its title (each text a uvarint length and its bytes). The
// line says the outcome, the time and the input rows of its first and last row: a line's
// rows stand in increasing input order, and each line of a run comes after the one before
// it in the input, so that reading the lines by their first row reads the rows in order.

// appendLeft packs r onto b.
func appendLeft(b []byte, r Left) []byte {
	b = binary.AppendUvarint(b, uint64(r.InputRow))
	b = appendText(b, r.Key)
	b = binary.AppendVarint(b, r.OpportunityID)
	b = appendText(b, r.Hash)
	return appendText(b, r.Title)
}

func appendText(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// errPacked is a packed row that does not read back: the file was damaged.
var errPacked = errors.New("damaged packed run rows")

// leftLine is one line of run_left, read.
type leftLine struct {
	first   int // input row of its first row
	outcome string
	at      sql.NullString
	packed  []byte
}

// next unpacks the line's next row into rr, and reports whether there was one.
func (l *leftLine) next(rr *RunRow) (bool, error) {
	if len(l.packed) == 0 {
		return false, nil
	}
	u := unpacker{b: l.packed}
	row, key, id, hash, title := u.uvarint(), u.text(), u.varint(), u.text(), u.text()
	if u.bad {
		return false, errPacked
	}
	l.packed = u.b
	at, err := parseTime(l.at)
	if err != nil {
		return false, err
	}
	*rr = RunRow{Key: key, Outcome: l.outcome, OpportunityID: id, PrevHash: hash, At: at, InputRow: int(row), Title: title}
	return true, nil
}

// unpacker reads appendLeft's values off b in turn; once one does not read, bad is set
// and the rest read as zero.
type unpacker struct {
	b   []byte
	bad bool
}

func (u *unpacker) uvarint() uint64 {
	v, n := binary.Uvarint(u.b)
	return took(u, v, n)
}

func (u *unpacker) varint() int64 {
	v, n := binary.Varint(u.b)
	return took(u, v, n)
}

// took passes over the n bytes v was read from (n <= 0: it did not read, and gives 0).
func took[T uint64 | int64](u *unpacker, v T, n int) T {
	if u.bad = u.bad || n <= 0; u.bad {
		return 0
	}
	u.b = u.b[n:]
	return v
}

func (u *unpacker) text() string {
	n := u.uvarint()
	if u.bad = u.bad || n > uint64(len(u.b)); u.bad {
		return ""
	}
	s := string(u.b[:n])
	u.b = u.b[n:]
	return s
}

// leftRows reads the packed rows of run id in input order, a line at a time: each line is
// a query of its own, so that a reader of them holds no connection between two lines.
type leftRows struct {
	db    *DB
	ctx   context.Context
	run   int64
	after int // the first row of the last line read; 0 before the first
	line  leftLine
	done  bool
}

// next returns the run's next packed row, false after the last.
func (lr *leftRows) next() (RunRow, bool, error) {
	var rr RunRow
	for !lr.done {
		ok, err := lr.line.next(&rr)
		if err != nil {
			return rr, false, fmt.Errorf("read rows of run %d: %w", lr.run, err)
		}
		if ok {
			return rr, true, nil
		}
		q, err := lr.db.readRow(lr.ctx, `SELECT first_row, outcome, at, rows FROM run_left
WHERE run_id = ? AND first_row > ? ORDER BY first_row LIMIT 1`, lr.run, lr.after)
		if err != nil {
			return rr, false, fmt.Errorf("read rows of run %d: %w", lr.run, err)
		}
		l := leftLine{}
		switch err := q.Scan(&l.first, &l.outcome, &l.at, &l.packed); {
		case errors.Is(err, sql.ErrNoRows):
			lr.done = true
		case err != nil:
			return rr, false, fmt.Errorf("read rows of run %d: %w", lr.run, err)
		default:
			lr.line, lr.after = l, l.first
		}
	}
	return rr, false, nil
}

// leftInsert is one line of packed rows.
const leftInsert = `INSERT INTO run_left (run_id, first_row, last_row, outcome, n, at, rows) VALUES (?, ?, ?, ?, ?, ?, ?)`

// pack records, in tx, rows (none of them recorded by run yet, in increasing input order,
// after every row of run packed so far) in lines of one outcome each.
func (db *DB) pack(tx *sql.Tx, run int64, rows []Left, now string) error {
	for start := 0; start < len(rows); {
		end := start + 1
		for end < len(rows) && rows[end].Outcome == rows[start].Outcome {
			end++
		}
		buf := make([]byte, 0, 96*(end-start))
		for _, r := range rows[start:end] {
			buf = appendLeft(buf, r)
		}
		if _, err := db.exec(tx, leftInsert, run, rows[start].InputRow, rows[end-1].InputRow, rows[start].Outcome, end-start, now, buf); err != nil {
			return err
		}
		start = end
	}
	return nil
}
