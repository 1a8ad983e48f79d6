package state

import (
	"database/sql"
	"fmt"
)

// migrations bring the schema from version i (PRAGMA user_version) to i+1.
// They are applied in order, in one transaction with the version bump; a
// released migration is never edited, a change is a new one at the end. Each
// is SQL, then optionally Go for what SQL cannot do (goMigrations[i]).
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
	// 2: the key definition; the portal's key index; the portal names of
	// version 1 rewritten in the canonical form of Portal (see renamePortals).
	`
-- At most one line: the key the rows' keys were made by.
CREATE TABLE key_def (
	id        INTEGER PRIMARY KEY CHECK (id = 1),
	columns   TEXT NOT NULL,                   -- JSON array of the mapping's key columns
	key_field TEXT NOT NULL DEFAULT ''         -- the custom field's label; '' = none
);

-- The portal's own index of keys: which opportunities hold which value in the
-- key custom field, as last read from the portal (1000 a page).
CREATE TABLE portal_keys (
	portal         TEXT NOT NULL,
	value          TEXT NOT NULL,              -- the key as the portal holds it
	opportunity_id INTEGER NOT NULL,
	created        TEXT,                       -- when the portal says it was created
	PRIMARY KEY (portal, value, opportunity_id)
) WITHOUT ROWID;
CREATE INDEX portal_keys_id ON portal_keys (portal, opportunity_id);

-- One line per portal whose index was read: up to which opportunity id.
CREATE TABLE portal_index (
	portal   TEXT PRIMARY KEY,
	field_id INTEGER NOT NULL,                 -- the key custom field's id on that portal
	max_id   INTEGER NOT NULL,                 -- the newest opportunity read
	read_at  TEXT NOT NULL
);
`,
	// 3: each run row's place in the input and its title as sent, for listing the rows
	// in input order with their titles. Rows of earlier versions have neither (NULL).
	`
ALTER TABLE run_rows ADD COLUMN input_row INTEGER; -- the row number as the spreadsheet shows it
ALTER TABLE run_rows ADD COLUMN title TEXT;        -- the mapped record's title, as sent
`,
	// 4: the tags of each row and of each run's rows (tags.go).
	`
-- The export's tags the portal holds on each row's deal, as of the last run that wrote it.
CREATE TABLE row_tags (
	portal TEXT NOT NULL,
	key    TEXT NOT NULL,
	tags   TEXT NOT NULL,                      -- JSON array of tag names
	PRIMARY KEY (portal, key)
) WITHOUT ROWID;

-- What each run did to each row's tags.
CREATE TABLE run_row_tags (
	run_id  INTEGER NOT NULL REFERENCES runs (id),
	key     TEXT NOT NULL,
	added   TEXT NOT NULL,                     -- JSON array: tags the run put on the deal (--tag too)
	removed TEXT NOT NULL,                     -- JSON array: tags the run took off
	prev    TEXT,                              -- row_tags.tags before the run; NULL: none
	UNIQUE (run_id, key)
);
`,
	// 5: the rows a run left as they stood, many to a line (see left.go), beside the
	// run_rows of earlier versions, which stay as they are.
	`
CREATE TABLE run_left (
	id        INTEGER PRIMARY KEY,
	run_id    INTEGER NOT NULL REFERENCES runs (id),
	first_row INTEGER NOT NULL,                -- the input row of its first row
	last_row  INTEGER NOT NULL,                -- and of its last
	outcome   TEXT NOT NULL,
	n         INTEGER NOT NULL,                -- rows in it
	at        TEXT NOT NULL,
	rows      BLOB NOT NULL                    -- the rows, packed (left.go)
);
CREATE INDEX run_left_run ON run_left (run_id, first_row);
`,
	// 6: what a re-run's look-up reads of a row (state.DB.Lookup), apart from the row's
	// body: the rows themselves are some 800 bytes each, four to a page.
	`
CREATE INDEX rows_done ON rows (portal, key, opportunity_id, hash, intent_run);
`,
}

// goMigrations are the steps of a migration that SQL cannot do, run after its SQL.
var goMigrations = map[int]func(tx *sql.Tx) error{
	1: renamePortals,
}

// renamePortals rewrites the portal names that version 1 stored (lower-cased
// host, nothing more) in the canonical form of Portal, so that the rows a run
// made through http://localhost:8089/api/2.0 and through http://127.0.0.1:8089
// become one portal's. Where both spellings hold the same key, the row under
// the canonical name stays and the other keeps its old name: nothing is lost,
// and such doubled keys are what dedupe is for.
func renamePortals(tx *sql.Tx) error {
	names := map[string]bool{}
	for _, q := range []string{`SELECT DISTINCT portal FROM runs`, `SELECT DISTINCT portal FROM rows`} {
		rows, err := tx.Query(q)
		if err != nil {
			return err
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return err
			}
			names[name] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for old := range names {
		canon := Portal(old)
		if canon == old {
			continue
		}
		if _, err := tx.Exec(`UPDATE runs SET portal = ? WHERE portal = ?`, canon, old); err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE OR IGNORE rows SET portal = ? WHERE portal = ?`, canon, old); err != nil {
			return err
		}
	}
	return nil
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
		if fn := goMigrations[v]; fn != nil {
			if err := fn(tx); err != nil {
				return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
			}
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
