package state

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"
)

// Holder is the process that holds, or held, the lock of a state database.
type Holder struct {
	PID   int
	Host  string
	Since time.Time
	RunID int64 // the run it started, 0 if none yet
}

func (h Holder) String() string {
	s := fmt.Sprintf("pid %d on %s since %s", h.PID, h.Host, h.Since.Local().Format(time.RFC3339))
	if h.RunID != 0 {
		s = fmt.Sprintf("run %d (%s)", h.RunID, s)
	}
	return s
}

// LockedError is Lock's error when another live process holds the lock, or a
// process on another host whose life cannot be checked from here.
type LockedError struct {
	Holder
}

func (e *LockedError) Error() string {
	return "state database in use by " + e.Holder.String()
}

// Lock takes the lock of the state database for the process pid on host, so
// that no other run proceeds on it at the same time; the check and the take
// are one write transaction, exclusive across processes. If another process
// holds it, Lock fails with a *LockedError, unless that process is on the same
// host and no longer exists (it crashed): then Lock takes the lock over and
// returns the dead holder, for the caller to warn about; otherwise dead is nil.
//
// A handle that holds the lock locks again without effect. The lock is
// released by Unlock or Close.
func (db *DB) Lock(ctx context.Context, pid int, host string) (dead *Holder, err error) {
	b := make([]byte, 16)
	rand.Read(b)
	token := hex.EncodeToString(b)
	err = db.write(ctx, func(tx *sql.Tx) error {
		var (
			h         Holder
			since     sql.NullString
			runID     sql.NullInt64
			heldToken string
		)
		err := tx.QueryRow(`SELECT pid, host, since, run_id, token FROM lock WHERE id = 1`).
			Scan(&h.PID, &h.Host, &since, &runID, &heldToken)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case heldToken == db.token():
			token = heldToken
			return nil
		default:
			h.RunID = runID.Int64
			if h.Since, err = parseTime(since); err != nil {
				return err
			}
			if h.Host != host || alive(h.PID) {
				return &LockedError{Holder: h}
			}
			dead = &h
		}
		_, err = tx.Exec(`INSERT OR REPLACE INTO lock (id, pid, host, since, run_id, token) VALUES (1, ?, ?, ?, NULL, ?)`,
			pid, host, formatTime(time.Now()), token)
		return err
	})
	if err != nil {
		if le := (*LockedError)(nil); errors.As(err, &le) {
			return nil, le
		}
		return nil, fmt.Errorf("take lock: %w", err)
	}
	db.lockMu.Lock()
	db.lockToken = token
	db.lockMu.Unlock()
	return dead, nil
}

// Unlock releases the lock if this handle holds it, and does nothing otherwise.
func (db *DB) Unlock(ctx context.Context) error {
	if err := db.write(ctx, db.unlock); err != nil {
		return fmt.Errorf("release lock: %w", err)
	}
	db.lockMu.Lock()
	db.lockToken = ""
	db.lockMu.Unlock()
	return nil
}

// unlock deletes the lock line if it is this handle's.
func (db *DB) unlock(tx *sql.Tx) error {
	token := db.token()
	if token == "" {
		return nil
	}
	_, err := tx.Exec(`DELETE FROM lock WHERE token = ?`, token)
	return err
}

// token is the lock token of this handle, "" if it does not hold the lock.
func (db *DB) token() string {
	db.lockMu.Lock()
	defer db.lockMu.Unlock()
	return db.lockToken
}

// Holder returns the process that holds the lock, if any, and whether it is
// alive: a process on this host that no longer exists is not; one on another
// host cannot be checked from here and counts as alive.
func (db *DB) Holder(ctx context.Context) (h Holder, held, live bool, err error) {
	var since sql.NullString
	var runID sql.NullInt64
	err = db.read(func(r *sql.DB) error {
		return r.QueryRowContext(ctx, `SELECT pid, host, since, run_id FROM lock WHERE id = 1`).Scan(&h.PID, &h.Host, &since, &runID)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Holder{}, false, false, nil
	}
	if err == nil {
		h.RunID = runID.Int64
		h.Since, err = parseTime(since)
	}
	if err != nil {
		return Holder{}, false, false, fmt.Errorf("read the lock: %w", err)
	}
	host, _ := os.Hostname()
	return h, true, h.Host != host || alive(h.PID), nil
}
