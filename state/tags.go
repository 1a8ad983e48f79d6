package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Tags: what a sync needs to tell the tags the export added or removed since the last sync
// from the tags portal users set (row_tags), and what an undo needs to take a run's tags
// back (run_row_tags), schema version 4. Kept apart from rows and run_rows, which know
// nothing of tags.

// TagChange is what one run did to one row's tags.
type TagChange struct {
	Synced  []string // the export's tags the portal now holds on the deal
	Added   []string // the tags the run put on the deal, its own (--tag) included
	Removed []string // the tags the run took off
	// Complete is false when some tags could not be written: the row's content hash is
	// then forgotten, so that the next sync writes the row, and its tags, again.
	Complete bool
}

// RunTags is what a run did to a row's tags, for an undo: Prev is the export's tags the
// portal held before the run (nil: none known).
type RunTags struct {
	Added, Removed, Prev []string
}

// Tags returns the export's tags the portal holds on key's deal as of the last run that
// wrote them; known is false when no run did.
func (db *DB) Tags(ctx context.Context, portal, key string) (tags []string, known bool, err error) {
	var text string
	err = db.read(func(r *sql.DB) error {
		return r.QueryRowContext(ctx, `SELECT tags FROM row_tags WHERE portal = ? AND key = ?`, portal, key).Scan(&text)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err == nil {
		err = json.Unmarshal([]byte(text), &tags)
	}
	if err != nil {
		return nil, false, fmt.Errorf("read the tags of key %q: %w", key, err)
	}
	return tags, true, nil
}

// SetTags records what run did to key's tags. A run that writes a row's tags again (the
// correction after a batch failed) keeps the first prev.
func (db *DB) SetTags(ctx context.Context, run int64, portal, key string, c TagChange) error {
	return db.SetTagsMany(ctx, run, portal, map[string]TagChange{key: c})
}

// SetTagsMany records what run did to the tags of many keys, in one transaction.
func (db *DB) SetTagsMany(ctx context.Context, run int64, portal string, changes map[string]TagChange) error {
	if len(changes) == 0 {
		return nil
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		for _, key := range slices.Sorted(maps.Keys(changes)) {
			if err := setTags(tx, run, portal, key, changes[key]); err != nil {
				return fmt.Errorf("key %q: %w", key, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record tags: %w", err)
	}
	return nil
}

func setTags(tx *sql.Tx, run int64, portal, key string, c TagChange) error {
	list := func(l []string) string {
		if l == nil {
			l = []string{}
		}
		b, _ := json.Marshal(l) // strings: never fails
		return string(b)
	}
	var prev sql.NullString
	err := tx.QueryRow(`SELECT tags FROM row_tags WHERE portal = ? AND key = ?`, portal, key).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO row_tags (portal, key, tags) VALUES (?, ?, ?)
ON CONFLICT (portal, key) DO UPDATE SET tags = excluded.tags`, portal, key, list(c.Synced)); err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO run_row_tags (run_id, key, added, removed, prev) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (run_id, key) DO UPDATE SET added = excluded.added, removed = excluded.removed`,
		run, key, list(c.Added), list(c.Removed), prev); err != nil {
		return err
	}
	if !c.Complete {
		_, err := tx.Exec(`UPDATE rows SET hash = '' WHERE portal = ? AND key = ?`, portal, key)
		return err
	}
	return nil
}

// RunTags returns what run did to key's tags; found is false when it did nothing to them.
func (db *DB) RunTags(ctx context.Context, run int64, key string) (rt RunTags, found bool, err error) {
	var added, removed string
	var prev sql.NullString
	err = db.read(func(r *sql.DB) error {
		return r.QueryRowContext(ctx, `SELECT added, removed, prev FROM run_row_tags WHERE run_id = ? AND key = ?`, run, key).
			Scan(&added, &removed, &prev)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return RunTags{}, false, nil
	}
	if err == nil {
		err = errors.Join(json.Unmarshal([]byte(added), &rt.Added), json.Unmarshal([]byte(removed), &rt.Removed))
	}
	if err == nil && prev.Valid {
		err = json.Unmarshal([]byte(prev.String), &rt.Prev)
	}
	if err != nil {
		return RunTags{}, false, fmt.Errorf("read the tags run %d wrote for key %q: %w", run, key, err)
	}
	return rt, true, nil
}
