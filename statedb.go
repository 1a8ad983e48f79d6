package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/oppimport/oppimport/importer"
	"github.com/oppimport/oppimport/state"
)

// openState opens the state database and takes its lock: a second run on it at once is
// refused, and a lock left by a dead process is taken over with a warning.
func openState(path string, log *slog.Logger) (*state.DB, error) {
	db, err := state.Open(path)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	dead, err := db.Lock(context.Background(), os.Getpid(), host)
	if err != nil {
		db.Close()
		var locked *state.LockedError
		if errors.As(err, &locked) {
			return nil, fmt.Errorf("%s is locked: %v; wait for it to finish, or if it is gone and this system cannot tell, run oppimport unlock", path, err)
		}
		return nil, err
	}
	if dead != nil {
		log.Warn("took over the lock of a run that died", "state", path, "run", dead.RunID, "pid", dead.PID, "since", dead.Since)
	}
	return db, nil
}

// finishRun records the end of the run, whatever interrupted it.
func finishRun(l *importer.Ledger, counts map[string]int, stopped string, log *slog.Logger) {
	if err := l.DB.FinishRun(context.Background(), l.Run, counts, time.Now(), stopped); err != nil {
		log.Error("recording the end of the run", "error", err)
	}
}
