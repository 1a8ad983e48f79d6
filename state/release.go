package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Release removes the lock of the state database whoever holds it, for `oppimport unlock`:
// a run that crashed on another host, or where this system cannot tell whether it lives,
// leaves a lock no run takes over. It refuses, with a *LockedError, when the holder is a
// process of this host that the system says is alive. held is false when there was no lock.
func (db *DB) Release(ctx context.Context, host string) (h Holder, held bool, err error) {
	err = db.write(ctx, func(tx *sql.Tx) error {
		var (
			since sql.NullString
			runID sql.NullInt64
		)
		err := tx.QueryRow(`SELECT pid, host, since, run_id FROM lock WHERE id = 1`).Scan(&h.PID, &h.Host, &since, &runID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return err
		}
		held, h.RunID = true, runID.Int64
		if h.Since, err = parseTime(since); err != nil {
			return err
		}
		if h.Host == host && alive(h.PID) {
			return &LockedError{Holder: h}
		}
		_, err = tx.Exec(`DELETE FROM lock WHERE id = 1`)
		return err
	})
	if err != nil {
		if le := (*LockedError)(nil); errors.As(err, &le) {
			return h, true, le
		}
		return h, held, fmt.Errorf("release lock: %w", err)
	}
	return h, held, nil
}
