// Package state is the SQLite state database of an import: per portal and row key
// the opportunity id, the hash of the content the portal holds and the last
// outcome; the intent committed before each request, so that a run that died
// mid-request can be settled instead of posted twice; every run with its counts
// and its rows (for status and undo); and the lock that keeps two runs apart.
//
// The create endpoint is not idempotent: the state database is what stops a
// crash, a timeout or a second run from creating duplicates. A write method
// (Intent, Answer, Leave, Forget, MarkInDoubt, StartRun, FinishRun, Lock,
// Unlock) returns only once its change is on disk (WAL, synchronous=FULL).
// Concurrent writes are committed together, one fsync for all of them (group
// commit); Lookup and Leave take many rows in one statement.
//
// The database never holds a secret: portals are base URLs without userinfo
// (see Portal), and request bodies never carry the token.
package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("state database is closed")

// maxBatch bounds the writes committed in one transaction; a variable so that
// the benchmark can compare with one commit per write.
var maxBatch = 256

// busyTimeout is how long a write waits for another process's write
// transaction on the same file before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// DB is an open state database. Its methods are safe for concurrent use by
// many goroutines. Close waits for the calls in progress, so it must not be
// called from inside a Keys or RunRows callback.
type DB struct {
	path string
	w    *sql.DB // one connection, owned by the writer goroutine
	r    *sql.DB // read-only connections; WAL lets them read while w writes

	reqs       chan *writeReq
	writerDone chan struct{}

	mu     sync.RWMutex // held for reading by every write, for writing by Close
	closed atomic.Bool

	lockMu    sync.Mutex
	lockToken string // non-empty while this handle holds the lock

	leftover int64 // the size of the -wal file found at Open

	lookupOnce sync.Once // see lookupStmt
	lookup     *sql.Stmt
	span       *sql.Stmt
	lookupErr  error
	spanMisses atomic.Int32 // look-ups to go without a span (see lookupSpan)
	ws, rs     stmtCache    // statements prepared once, of w and of r
	leaveOnce  sync.Once    // see leaveStmt
	leave      *sql.Stmt
	touched    *sql.Stmt
	leaveErr   error
}

// Open opens the state database at path, creating it with mode 0600 if it does
// not exist, and brings its schema up to date. A database written by a newer
// oppimport, whose schema this code does not know, is refused.
func Open(path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	// Created here rather than by SQLite so that the mode is 0600 whatever the
	// umask; SQLite gives its -wal and -shm files the database file's mode.
	var leftover int64
	if fi, err := os.Stat(abs + "-wal"); err == nil {
		leftover = fi.Size()
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open state: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open state: %w", err)
	}

	ms := busyTimeout.Milliseconds()
	w, err := sql.Open("sqlite", dsn(abs,
		fmt.Sprintf("_pragma=busy_timeout(%d)", ms),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(FULL)",
		"_pragma=foreign_keys(ON)",
		"_txlock=immediate", // take the write lock at BEGIN: no upgrade deadlocks between processes
	))
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", abs, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	r, err := sql.Open("sqlite", dsn(abs,
		fmt.Sprintf("_pragma=busy_timeout(%d)", ms),
		"_pragma=query_only(1)",
	))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open state %s: %w", abs, err)
	}
	r.SetMaxOpenConns(4)

	db := &DB{
		path:       abs,
		w:          w,
		r:          r,
		reqs:       make(chan *writeReq),
		writerDone: make(chan struct{}),
		leftover:   leftover,
		ws:         stmtCache{db: w},
		rs:         stmtCache{db: r},
	}
	go db.writer()

	if err := db.write(context.Background(), migrate); err != nil {
		db.Close()
		return nil, fmt.Errorf("open state %s: %w", abs, err)
	}
	return db, nil
}

// dsn is the driver's name for the file at the absolute path abs with the
// given query parameters, as a SQLite URI so that any file name works.
func dsn(abs string, params ...string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(abs))
	if !strings.HasPrefix(esc, "/") {
		esc = "/" + esc // a Windows drive letter
	}
	return "file:" + esc + "?" + strings.Join(params, "&")
}

// Path is the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// LeftoverWAL is the size of the write-ahead log (the -wal file beside the
// database) that Open found, 0 if none: changes not yet folded into the file.
// Left by a process that died, or held by one still running (see Holder).
func (db *DB) LeftoverWAL() int64 { return db.leftover }

// Checkpoint folds the write-ahead log into the database file and empties it,
// so that the file alone holds everything: a copy of it without its -wal
// misses nothing. Close does it too; a run does it when it ends.
func (db *DB) Checkpoint(ctx context.Context) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed.Load() {
		return ErrClosed
	}
	return db.checkpoint(ctx)
}

// errCheckpointBusy: another process reads or writes the database; it will checkpoint
// when it is done.
var errCheckpointBusy = errors.New("checkpoint the state database: another process is reading or writing it")

func (db *DB) checkpoint(ctx context.Context) error {
	// Outside any transaction, on the writer's one connection: database/sql hands it over
	// between two of the writer's batches.
	var busy, logFrames, done int
	if err := db.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("checkpoint the state database: %w", err)
	}
	if busy != 0 {
		return errCheckpointBusy
	}
	return nil
}

// Close releases the lock if this handle holds it, waits for the calls in
// progress, and closes the database. Calling it again does nothing.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed.Swap(true) {
		return nil
	}

	var errs []error
	db.lockMu.Lock()
	token := db.lockToken
	db.lockMu.Unlock()
	if token != "" {
		if err := db.send(context.Background(), db.unlock); err != nil {
			errs = append(errs, fmt.Errorf("release lock: %w", err))
		}
	}
	close(db.reqs)
	<-db.writerDone
	// A look-up yet to prepare its statement now finds the database closed.
	db.lookupOnce.Do(func() { db.lookupErr = ErrClosed })
	for _, s := range []*sql.Stmt{db.lookup, db.span} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	errs = append(errs, db.rs.close(), db.r.Close())
	for _, s := range []*sql.Stmt{db.leave, db.touched} {
		if s != nil { // under db.mu, as leaveStmt set it
			errs = append(errs, s.Close())
		}
	}
	if err := db.checkpoint(context.Background()); err != nil && !errors.Is(err, errCheckpointBusy) {
		errs = append(errs, err)
	}
	errs = append(errs, db.ws.close(), db.w.Close())
	return errors.Join(errs...)
}

// A writeReq is one write: fn runs inside the writer's transaction, in a
// savepoint of its own, and its result goes to done once the transaction is
// durable (or has failed).
type writeReq struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// write runs fn in a write transaction and returns once the transaction has
// committed to disk. fn must not use ctx for its statements: interrupting a
// statement would roll back the whole batch, other callers' writes included.
// ctx is checked before fn starts; once started, a write runs to the end.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed.Load() {
		return ErrClosed
	}
	return db.send(ctx, fn)
}

// send hands fn to the writer and waits for its result. The caller holds db.mu
// (either way), so the writer is running.
func (db *DB) send(ctx context.Context, fn func(tx *sql.Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-req.done
}

// writer commits the writes sent to it, as many at once as are waiting: while
// one batch is being synced to disk, the next one gathers. It returns when
// Close closes db.reqs.
func (db *DB) writer() {
	defer close(db.writerDone)
	for first := range db.reqs {
		batch := []*writeReq{first}
	gather:
		for len(batch) < maxBatch {
			select {
			case req, ok := <-db.reqs:
				if !ok {
					break gather
				}
				batch = append(batch, req)
			default:
				break gather
			}
		}
		errs := db.commit(batch)
		for i, req := range batch {
			req.done <- errs[i]
		}
		db.ws.prepareWanted()
	}
}

// commit runs a batch of writes in one transaction and returns each one's
// error. A write that fails is rolled back to its savepoint and the others
// still commit; if the transaction itself fails, all of them fail.
func (db *DB) commit(batch []*writeReq) []error {
	errs := make([]error, len(batch))
	fail := func(err error) []error {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return errs
	}

	// Not the callers' contexts: cancelling one must not roll back the others.
	tx, err := db.w.BeginTx(context.Background(), nil)
	if err != nil {
		return fail(fmt.Errorf("begin: %w", err))
	}
	for i, req := range batch {
		if err := req.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := db.exec(tx, "SAVEPOINT w"); err != nil {
			tx.Rollback()
			return fail(fmt.Errorf("savepoint: %w", err))
		}
		if err := req.fn(tx); err != nil {
			errs[i] = err
			if _, err := db.exec(tx, "ROLLBACK TO w"); err != nil {
				tx.Rollback()
				return fail(fmt.Errorf("roll back to savepoint: %w", err))
			}
		}
		if _, err := db.exec(tx, "RELEASE w"); err != nil {
			tx.Rollback()
			return fail(fmt.Errorf("release savepoint: %w", err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(fmt.Errorf("commit: %w", err))
	}
	return errs
}

// read runs fn with the read-only connections unless db is closed. It holds
// no lock, so that a Keys callback may write: a read that races Close fails
// with database/sql's own error, and Close waits for it.
func (db *DB) read(fn func(r *sql.DB) error) error {
	if db.closed.Load() {
		return ErrClosed
	}
	return fn(db.r)
}

// each runs query on the read connection and calls scan on each of its rows, in order,
// stopping at scan's first error.
func (db *DB) each(ctx context.Context, scan func(*sql.Rows) error, query string, args ...any) error {
	return db.read(func(r *sql.DB) error {
		rows, err := r.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// timeLayout stores times in UTC at fixed width, so that text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s sql.NullString) (time.Time, error) {
	if !s.Valid || s.String == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(timeLayout, s.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s.String, err)
	}
	return t, nil
}

// updateOne runs an UPDATE in tx that must change a line: if it changes none, the error
// says none, as given.
func updateOne(tx *sql.Tx, none, query string, args ...any) error {
	res, err := tx.Exec(query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errors.New(none)
	}
	return nil
}

// storedTime scans a time as formatTime stores it into t: NULL or "" is the zero time.
type storedTime struct{ t *time.Time }

func (s storedTime) Scan(v any) error {
	var text sql.NullString
	if err := text.Scan(v); err != nil {
		return err
	}
	var err error
	*s.t, err = parseTime(text)
	return err
}

// nullID is NULL for id 0, which is no id.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
