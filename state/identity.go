package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// KeyDef is how the rows' keys are made: the mapping's key columns, and the
// custom field of the portal's opportunities that holds the key ("" = none).
type KeyDef struct {
	Columns []string
	Field   string
}

func (d KeyDef) String() string {
	cols := make([]string, len(d.Columns))
	for i, c := range d.Columns {
		cols[i] = strconv.Quote(c)
	}
	s := "key: [" + strings.Join(cols, ", ") + "]"
	if d.Field == "" {
		return s + " without key_field"
	}
	return s + " with key_field: " + strconv.Quote(d.Field)
}

// KeyChangedError is CheckKey's error when the database's rows were keyed
// another way: their keys would match no row of the input, and every row would
// be created again.
type KeyChangedError struct {
	Stored, Given KeyDef
}

func (e *KeyChangedError) Error() string {
	return fmt.Sprintf("the mapping's key changed: the state database's rows were made with %s, the mapping has %s; "+
		"with the new key no row would be recognised and every row would be created again. "+
		"Put the mapping's key back as it was, or, to start over with the new key, give a new --state FILE "+
		"(with key_field, the new run finds on the portal the deals that hold a key it knows)", e.Stored, e.Given)
}

// CheckKey compares def with the key definition the database holds, recording
// def when it holds none (a new database, or one from before key definitions
// were kept) and when it only adds a key field to the same key columns. Any
// other difference is a *KeyChangedError, and nothing is recorded.
func (db *DB) CheckKey(ctx context.Context, def KeyDef) error {
	cols, err := json.Marshal(append([]string{}, def.Columns...))
	if err != nil {
		return err
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		var storedCols, storedField string
		err := tx.QueryRow(`SELECT columns, key_field FROM key_def WHERE id = 1`).Scan(&storedCols, &storedField)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err == nil {
			var stored KeyDef
			if err := json.Unmarshal([]byte(storedCols), &stored.Columns); err != nil {
				return fmt.Errorf("stored key columns: %w", err)
			}
			stored.Field = storedField
			if !slices.Equal(stored.Columns, def.Columns) || stored.Field != "" && stored.Field != def.Field {
				return &KeyChangedError{Stored: stored, Given: def}
			}
			if stored.Field == def.Field {
				return nil
			}
		}
		_, err = tx.Exec(`INSERT OR REPLACE INTO key_def (id, columns, key_field) VALUES (1, ?, ?)`, string(cols), def.Field)
		return err
	})
	if ke := (*KeyChangedError)(nil); errors.As(err, &ke) {
		return ke
	}
	if err != nil {
		return fmt.Errorf("check the key definition: %w", err)
	}
	return nil
}

// PortalKey is one opportunity of the portal's key index.
type PortalKey struct {
	Value         string // the key as the portal holds it in the key field
	OpportunityID int64
	Created       time.Time // zero when the portal did not say
}

// IndexRead is how far the portal's key index was read.
type IndexRead struct {
	FieldID int64     // the key field's id
	MaxID   int64     // the newest opportunity read
	ReadAt  time.Time // when the read finished
}

// PortalIndex returns how far the key index of portal was last read, and
// whether it ever was in full.
func (db *DB) PortalIndex(ctx context.Context, portal string) (IndexRead, bool, error) {
	var (
		ir     IndexRead
		readAt sql.NullString
	)
	err := db.read(func(r *sql.DB) error {
		return r.QueryRowContext(ctx, `SELECT field_id, max_id, read_at FROM portal_index WHERE portal = ?`, portal).
			Scan(&ir.FieldID, &ir.MaxID, &readAt)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return IndexRead{}, false, nil
	}
	if err == nil {
		ir.ReadAt, err = parseTime(readAt)
	}
	if err != nil {
		return IndexRead{}, false, fmt.Errorf("read the portal's key index: %w", err)
	}
	return ir, true, nil
}

// ResetIndex forgets the key index of portal, before it is read again in full.
func (db *DB) ResetIndex(ctx context.Context, portal string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM portal_keys WHERE portal = ?`, portal); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM portal_index WHERE portal = ?`, portal)
		return err
	})
	if err != nil {
		return fmt.Errorf("reset the portal's key index: %w", err)
	}
	return nil
}

// AddPortalKeys adds one page of the portal's key index; keys with an empty
// value are left out. The index counts as read only once FinishIndex says so.
func (db *DB) AddPortalKeys(ctx context.Context, portal string, keys []PortalKey) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		st, err := tx.Prepare(`INSERT OR REPLACE INTO portal_keys (portal, value, opportunity_id, created) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, k := range keys {
			if k.Value == "" {
				continue
			}
			if _, err := st.Exec(portal, k.Value, k.OpportunityID, nullTime(k.Created)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record the portal's key index: %w", err)
	}
	return nil
}

// FinishIndex records that the key index of portal (key field fieldID) has
// been read up to opportunity maxID: the next read needs only newer ones.
func (db *DB) FinishIndex(ctx context.Context, portal string, fieldID, maxID int64) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`
INSERT INTO portal_index (portal, field_id, max_id, read_at) VALUES (?, ?, ?, ?)
ON CONFLICT (portal) DO UPDATE SET field_id = excluded.field_id,
	max_id = max(portal_index.max_id, excluded.max_id), read_at = excluded.read_at`,
			portal, fieldID, maxID, formatTime(time.Now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("record the portal's key index: %w", err)
	}
	return nil
}

// PortalIDs returns the opportunities of portal whose key field holds value,
// oldest first (by id, which the portal gives in creation order).
func (db *DB) PortalIDs(ctx context.Context, portal, value string) ([]int64, error) {
	var ids []int64
	err := db.read(func(r *sql.DB) error {
		rows, err := r.QueryContext(ctx, `SELECT opportunity_id FROM portal_keys WHERE portal = ? AND value = ? ORDER BY opportunity_id`, portal, value)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read the portal's key index for %q: %w", value, err)
	}
	return ids, nil
}

// Duplicates calls fn with each key value that more than one opportunity of
// portal holds, in value order, with their ids and creation times, oldest first.
func (db *DB) Duplicates(ctx context.Context, portal string, fn func(value string, keys []PortalKey) error) error {
	return db.read(func(r *sql.DB) error {
		rows, err := r.QueryContext(ctx, `
SELECT value, opportunity_id, created FROM portal_keys
WHERE portal = ? AND value IN (SELECT value FROM portal_keys WHERE portal = ? GROUP BY value HAVING count(*) > 1)
ORDER BY value, opportunity_id`, portal, portal)
		if err != nil {
			return fmt.Errorf("read duplicate keys: %w", err)
		}
		defer rows.Close()
		var (
			cur   string
			group []PortalKey
		)
		flush := func() error {
			if len(group) == 0 {
				return nil
			}
			err := fn(cur, group)
			group = nil
			return err
		}
		for rows.Next() {
			var (
				k       PortalKey
				created sql.NullString
			)
			if err := rows.Scan(&k.Value, &k.OpportunityID, &created); err != nil {
				return fmt.Errorf("read duplicate keys: %w", err)
			}
			if k.Created, err = parseTime(created); err != nil {
				return err
			}
			if k.Value != cur {
				if err := flush(); err != nil {
					return err
				}
				cur = k.Value
			}
			group = append(group, k)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read duplicate keys: %w", err)
		}
		return flush()
	})
}

// nullTime stores a zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return formatTime(t)
}
