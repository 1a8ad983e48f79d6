// Package dedupe finds the opportunities of a portal that hold one row key in the key
// custom field (key_field) — two runs at once on two state databases, an old web import run
// twice, creates a proxy answered for after the portal had acted — keeps the oldest of each
// key and deletes the later copies, each after keeping its record. It is a run like any
// other: every delete is recorded in the state database (intent before, answer after, the
// record kept for undo), so that status shows it and undo can take it back.
package dedupe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"slices"
	"strings"
	"time"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/onlyoffice"
	"github.com/oppimport/oppimport/pool"
	"github.com/oppimport/oppimport/state"
)

// Statuses of a deal in a dedupe.
const (
	Kept        = "kept"         // the oldest deal of its key: left alone
	Deleted     = state.Deleted  // a later copy, deleted after its record was kept
	WouldDelete = "would-delete" // the dry run's word for it
	Gone        = "gone"         // a later copy no longer on the portal (or no longer visible)
	Failed      = "failed"       // left alone: it no longer holds the key, or the delete failed
)

// Portal is what a dedupe needs of the portal; *onlyoffice.Client is one.
type Portal interface {
	KeyIndex(ctx context.Context, fieldID, afterID int64, fn func(page []onlyoffice.KeyedOpportunity) error) (newest int64, requests int, err error)
	GetOpportunity(ctx context.Context, id int64) (onlyoffice.StoredOpportunity, error)
	DeleteOpportunity(ctx context.Context, id int64) (onlyoffice.Outcome, error)
}

// Config is one dedupe.
type Config struct {
	DB      *state.DB
	Portal  string // state.Portal of the portal
	FieldID int64  // the key field's id on the portal
	Client  Portal
	Run     int64 // the dedupe's own run; 0 with DryRun
	DryRun  bool  // find and report, delete nothing
	// OnResult receives each deal's result, key by key in input order (see Find), the kept
	// one first, from one goroutine.
	OnResult func(Result)
	// Concurrency is the deals read and deleted at once; <1 means 1. They are reported in
	// order whatever order they finish in (the ordered pool of import and undo).
	Concurrency int
	// Abort, when done, cancels requests in flight; cancelling Run's context only stops new
	// deals from starting.
	Abort context.Context
}

// Result is what became of one deal that shares its key with another.
type Result struct {
	Key           string // the key as the portal holds it
	OpportunityID int64
	KeptID        int64 // the deal of the same key that is kept
	Title         string
	Created       time.Time // as the portal says; zero when it did not
	Status        string
	Error         string

	row int // the key's input row (Group.Row)
}

// Group is one key held by several deals, oldest first: the first is kept.
type Group struct {
	Key   string
	Deals []state.PortalKey
	// Row is the key's row in the input of the latest run that recorded one (state.DB.InputRows);
	// 0 if none did.
	Row int
}

// Stats is the whole dedupe.
type Stats struct {
	Keys     int            // keys held by more than one deal
	Counts   map[string]int // deals by status
	Requests int            // requests of the index read
	Elapsed  time.Duration
}

// Find reads the portal's key index in full into the state database (an index read before
// may miss deals deleted or changed since) and returns the keys held by more than one deal,
// oldest deal first (the lowest id, the first the portal made). The keys come in input
// order (Group.Row), then those no run recorded a row for, by key.
func Find(ctx context.Context, cfg Config) ([]Group, int, error) {
	if err := cfg.DB.ResetIndex(ctx, cfg.Portal); err != nil {
		return nil, 0, err
	}
	keys := make([]state.PortalKey, 0, 1000)
	newest, requests, err := cfg.Client.KeyIndex(ctx, cfg.FieldID, 0, func(page []onlyoffice.KeyedOpportunity) error {
		keys = keys[:0]
		for _, o := range page {
			keys = append(keys, state.PortalKey{Value: o.Key, OpportunityID: o.ID, Created: o.Created})
		}
		return cfg.DB.AddPortalKeys(ctx, cfg.Portal, keys)
	})
	if err != nil {
		return nil, requests, fmt.Errorf("reading the portal's key index: %w", err)
	}
	if err := cfg.DB.FinishIndex(ctx, cfg.Portal, cfg.FieldID, newest); err != nil {
		return nil, requests, err
	}
	stored, err := cfg.DB.InputRows(ctx, cfg.Portal)
	if err != nil {
		return nil, requests, err
	}
	rowOf := make(map[string]int, len(stored))
	for key, n := range stored {
		rowOf[mapping.KeyValue(key)] = n
	}
	var groups []Group
	err = cfg.DB.Duplicates(ctx, cfg.Portal, func(value string, deals []state.PortalKey) error {
		groups = append(groups, Group{Key: value, Deals: deals, Row: rowOf[value]})
		return nil
	})
	slices.SortStableFunc(groups, func(a, b Group) int {
		switch {
		case a.Row == b.Row:
			return 0
		case a.Row == 0:
			return 1
		case b.Row == 0:
			return -1
		}
		return a.Row - b.Row
	})
	return groups, requests, err
}

// Run finds the duplicates and, unless DryRun, deletes every later copy, each after its
// record is kept, Concurrency at once. A copy is deleted only if the portal, read just
// before, still shows it holding the key. It stops at the first error of the state database,
// or when ctx is done (the cause is returned); a copy the portal refuses to delete is a
// failed result, and the others go on.
func Run(ctx context.Context, cfg Config) (Stats, error) {
	start := time.Now()
	st := Stats{Counts: map[string]int{}}
	groups, requests, err := Find(ctx, cfg)
	st.Requests = requests
	if err != nil {
		return st, err
	}
	st.Keys = len(groups)
	type job struct {
		res  Result
		kept bool
	}
	feed := func(ctx context.Context, emit func(job, bool) bool) error {
		for _, g := range groups {
			kept := g.Deals[0]
			for i, d := range g.Deals {
				res := Result{Key: g.Key, OpportunityID: d.OpportunityID, KeptID: kept.OpportunityID, Created: d.Created, row: g.Row}
				if !emit(job{res: res, kept: i == 0}, true) {
					return nil
				}
			}
		}
		return nil
	}
	work := func(ctx context.Context, j job) (job, error) {
		if j.kept {
			j.res = keep(ctx, cfg, j.res)
			return j, nil
		}
		var err error
		j.res, err = drop(ctx, cfg, j.res)
		return j, err
	}
	deliver := func(j job) error {
		st.Counts[j.res.Status]++
		if cfg.OnResult != nil {
			cfg.OnResult(j.res)
		}
		return nil
	}
	stopped, err := pool.Run(ctx, pool.Options{Workers: max(cfg.Concurrency, 1), Abort: cfg.Abort}, feed, work, deliver)
	st.Elapsed = time.Since(start)
	if err == nil {
		err = stopped
	}
	return st, err
}

// keep reads the kept deal for its title.
func keep(ctx context.Context, cfg Config, res Result) Result {
	res.Status = Kept
	if o, err := cfg.Client.GetOpportunity(ctx, res.OpportunityID); err == nil {
		res.Title = html.UnescapeString(o.Title)
	} else {
		res.Error = "could not be read: " + err.Error()
	}
	return res
}

// drop deletes one later copy: read, check it still holds the key, record its record and
// the intent, delete, record the answer. The error is one that stops the dedupe.
func drop(ctx context.Context, cfg Config, res Result) (Result, error) {
	o, err := cfg.Client.GetOpportunity(ctx, res.OpportunityID)
	var apiErr *onlyoffice.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.StatusCode == 404:
		res.Status, res.Error = Gone, "no longer on the portal, or no longer visible to this user"
		return res, nil
	case err != nil:
		res.Status, res.Error = Failed, "could not be read: "+err.Error()
		return res, nil
	}
	res.Title = html.UnescapeString(o.Title)
	if holds := keyOf(o, cfg.FieldID); holds != res.Key {
		res.Status, res.Error = Failed, fmt.Sprintf("now holds the key %q, not %q: left alone", holds, res.Key)
		return res, nil
	}
	if cfg.DryRun {
		res.Status = WouldDelete
		return res, nil
	}
	before, err := json.Marshal(o)
	if err != nil {
		return res, err
	}
	key := copyKey(res.Key, res.OpportunityID)
	if err := cfg.DB.Intent(ctx, cfg.Run, cfg.Portal, key, state.Request{Method: "DELETE", Before: before, InputRow: res.row, Title: res.Title}); err != nil {
		return res, err
	}
	out, err := cfg.Client.DeleteOpportunity(ctx, res.OpportunityID)
	// The delete was answered: record it whatever becomes of ctx now.
	rctx := context.WithoutCancel(ctx)
	switch {
	case err == nil, errors.As(err, &apiErr) && apiErr.StatusCode == 404:
		res.Status = Deleted
		if err := cfg.DB.Answer(rctx, cfg.Run, cfg.Portal, key, state.Answer{OpportunityID: res.OpportunityID, Outcome: state.Deleted, InputRow: res.row, Title: res.Title}); err != nil {
			return res, err
		}
		return res, repoint(rctx, cfg, res)
	default:
		res.Status, res.Error = Failed, fmt.Sprintf("delete refused (HTTP %d): %v", out.HTTPStatus, err)
		return res, cfg.DB.Answer(rctx, cfg.Run, cfg.Portal, key, state.Answer{OpportunityID: res.OpportunityID, Outcome: Failed, InputRow: res.row, Title: res.Title})
	}
}

// repoint makes a state row that knew the deleted copy know the kept deal instead.
func repoint(ctx context.Context, cfg Config, res Result) error {
	key, owned, err := cfg.DB.KeyOf(ctx, cfg.Portal, res.OpportunityID)
	if err != nil || !owned {
		return err
	}
	return cfg.DB.Answer(ctx, cfg.Run, cfg.Portal, key, state.Answer{OpportunityID: res.KeptID, Outcome: Kept})
}

// copyKey is the state's name of one copy of a key: a dedupe run may delete several copies
// of one key, and each is a row of the run of its own.
func copyKey(key string, id int64) string { return fmt.Sprintf("%s (copy %d)", key, id) }

// keyOf is the key deal o holds in custom field id, as the index reads it.
func keyOf(o onlyoffice.StoredOpportunity, id int64) string {
	for _, cf := range o.CustomFields {
		if cf.ID == id {
			return strings.TrimSpace(html.UnescapeString(cf.Value))
		}
	}
	return ""
}
