package state

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtCache keeps each statement of one *sql.DB prepared once. SQLite parses a statement
// every time it is run otherwise: parsing was 15 % of the CPU of the suite's command
// tests, most of it the few statements every row's intent and answer run.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt

	wanted map[string]bool // queries run unprepared, to prepare (see cached)
}

// get returns query prepared on c's database. It does not hold the lock while it prepares,
// so a reader holding a connection never waits on one that waits for a connection.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	s, ok := c.m[query]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if have, ok := c.m[query]; ok { // prepared meanwhile by another reader
		s.Close()
		return have, nil
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = s
	return s, nil
}

// cached returns query's statement if it is prepared; if not, query is wanted, and
// prepareWanted prepares it.
func (c *stmtCache) cached(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[query]
	if !ok {
		if c.wanted == nil {
			c.wanted = map[string]bool{}
		}
		c.wanted[query] = true
	}
	return s
}

// prepareWanted prepares the statements cached asked for; the writer calls it between
// transactions, when its connection is free. A statement that does not prepare is run
// unprepared, as before, and asked for again at its next use.
func (c *stmtCache) prepareWanted() {
	c.mu.Lock()
	wanted := c.wanted
	c.wanted = nil
	c.mu.Unlock()
	for q := range wanted {
		_, _ = c.get(context.Background(), q) // a failure: see above
	}
}

// close closes every statement prepared; the cache is empty after it.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, s := range c.m {
		errs = append(errs, s.Close())
	}
	c.m = nil
	return errors.Join(errs...)
}

// exec runs query in the writer's transaction tx: prepared once, from its second use on.
// The writer's one connection is tx's while it runs, so a statement is prepared between
// transactions (prepareWanted), never inside one.
func (db *DB) exec(tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if s := db.ws.cached(query); s != nil {
		return tx.Stmt(s).Exec(args...)
	}
	return tx.Exec(query, args...)
}

// queryRow is exec's QueryRow.
func (db *DB) queryRow(tx *sql.Tx, query string, args ...any) *sql.Row {
	if s := db.ws.cached(query); s != nil {
		return tx.Stmt(s).QueryRow(args...)
	}
	return tx.QueryRow(query, args...)
}

// readRow runs query on the read connections, prepared once.
func (db *DB) readRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	s, err := db.rs.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryRowContext(ctx, args...), nil
}
