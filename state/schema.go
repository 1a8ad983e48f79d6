package state

import (
	"database/sql"
	"fmt"
)

// migrations bring the schema from version i (PRAGMA user_version) to i+1.
// They are applied in order, in one transaction with the version bump; a
// released migration is never edited, a change is a new one at the end.
var migrations = []string{
	// 1: runs, rows, run_rows, lock.
	`
CREATE TABLE runs (
	id      INTEGER PRIMARY KEY AUTOINCREMENT, -- 1, 2, 3... never reused
	portal  TEXT NOT NULL,
	input   TEXT NOT NULL,
	mode    TEXT NOT NULL,
	undo_of INTEGER REFERENCES runs (id),      -- the run an undo run takes back
	started TEXT NOT NULL,
	ended   TEXT,                              -- NULL: still running, or died
	pid     INTEGER NOT NULL,
	host    TEXT NOT NULL,
	counts  TEXT,                              -- JSON object: outcome -> rows
	stopped TEXT NOT NULL DEFAULT ''           -- why it stopped early; '' if it did not
);

-- One line per portal and row key: what the portal holds, and the request in
-- flight if there is one (intent_run not NULL).
CREATE TABLE rows (
	portal         TEXT NOT NULL,
	key            TEXT NOT NULL,
	opportunity_id INTEGER,                    -- NULL: none known
	hash           TEXT NOT NULL DEFAULT '',   -- hash of the content the portal holds
	outcome        TEXT NOT NULL DEFAULT '',   -- the last answer's outcome
	answered_at    TEXT,
	intent_run     INTEGER REFERENCES runs (id),
	intent_at      TEXT,
	intent_method  TEXT,
	intent_hash    TEXT,
	sent           BLOB,                       -- the pending request's body, else the last one sent
	candidates     TEXT,                       -- JSON array of ids, when in doubt
	doubt          TEXT,                       -- why it is in doubt; NULL if it is not
	PRIMARY KEY (portal, key)
) WITHOUT ROWID;
CREATE INDEX rows_pending ON rows (portal, intent_at) WHERE intent_run IS NOT NULL;
CREATE INDEX rows_doubt ON rows (portal, intent_at) WHERE doubt IS NOT NULL;

-- What each run did to each row, in the order it first touched them: for
-- status --run N and undo.
CREATE TABLE run_rows (
	run_id         INTEGER NOT NULL REFERENCES runs (id),
	key            TEXT NOT NULL,
	outcome        TEXT NOT NULL,
	opportunity_id INTEGER,
	method         TEXT,
	prev_hash      TEXT NOT NULL DEFAULT '',   -- rows.hash before this run touched the row
	sent           BLOB,
	before         BLOB,                       -- the portal's record before this run's update
	at             TEXT NOT NULL,
	UNIQUE (run_id, key)
);

-- At most one line: the process that holds the database.
CREATE TABLE lock (
	id     INTEGER PRIMARY KEY CHECK (id = 1),
	pid    INTEGER NOT NULL,
	host   TEXT NOT NULL,
	since  TEXT NOT NULL,
	run_id INTEGER,
	token  TEXT NOT NULL
);
`,
}

// migrate applies the migrations the database lacks, or refuses a database
// whose schema is newer than this code.
func migrate(tx *sql.Tx) error {
	var version int
	if err := tx.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this oppimport knows (%d): use the oppimport that wrote it, or a newer one", version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		if _, err := tx.Exec(migrations[v]); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
	}
	if version < len(migrations) {
		// PRAGMA takes no parameters; the number is ours.
		if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
			return fmt.Errorf("set schema version: %w", err)
		}
	}
	return nil
}
