// Package undo takes a run back: it deletes the opportunities the run created and puts
// back, with a full-record PUT, the ones it updated, as the state database kept them. An
// opportunity changed on the portal since the run is left alone unless forced. Every
// request is recorded in the state database as an import's are (intent before, answer
// after), so that an undo killed halfway and run again finishes the job, and an undo run
// twice does nothing the second time.
package undo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oppimport/oppimport/importer"
	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/onlyoffice"
	"github.com/oppimport/oppimport/pool"
	"github.com/oppimport/oppimport/record"
	"github.com/oppimport/oppimport/state"
)

// Outcomes of a row in an undo; the dry run's are WouldDelete and WouldRestore.
const (
	Deleted      = state.Deleted // the opportunity the run created is gone
	Restored     = "restored"    // the opportunity the run updated holds what it held before
	Failed       = "failed"      // left alone (changed since the run, in doubt) or refused
	Skipped      = "skipped"     // nothing to undo, or undone already
	WouldDelete  = "would-delete"
	WouldRestore = "would-restore"
)

// Portal is what an undo needs of the portal. Errors come classified as the importer's
// poster classifies them: importer.IsFatal stops the undo; HTTPStatus 404 is "not there".
type Portal interface {
	Get(ctx context.Context, id int64) (onlyoffice.StoredOpportunity, importer.Posted, error)
	Delete(ctx context.Context, id int64) (importer.Posted, error)
	// Update replaces opportunity id with rec, whole; id is always positive.
	Update(ctx context.Context, id int64, rec mapping.Record) (importer.Posted, error)
}

// Config is one undo.
type Config struct {
	DB     *state.DB
	Portal string // state.Portal of the run's portal
	Of     int64  // the run taken back
	Run    int64  // the undo's own run, which records what it does; 0 with DryRun
	DryRun bool   // decide and report, change nothing
	Force  bool   // undo what changed on the portal since the run, too
	// Client is the portal; nil only with DryRun, which then lists from the state alone.
	Client      Portal
	Concurrency int
	// Abort, when done, cancels requests in flight; cancelling Run's context only stops
	// new rows from starting.
	Abort context.Context
	// OnResult receives each row's result, in the order the run touched the rows, from
	// one goroutine.
	OnResult func(Result)
}

// Result is what the undo did, or would do, to one row of the run.
type Result struct {
	Row           int // the row's place among the run's rows, from 1
	Key           string
	Status        string
	OpportunityID int64
	Attempts      int
	HTTPStatus    int
	Error         string // why it failed, or a note (what could not be restored)

	fatal error
}

// Stats is the whole undo.
type Stats struct {
	Counts   map[string]int
	Rows     int
	Requests int
	Elapsed  time.Duration
	Stopped  error // why it stopped early; nil if it did not
}

// add counts r.
func (st *Stats) add(r Result) {
	st.Rows++
	st.Counts[r.Status]++
	st.Requests += r.Attempts
}

// Run takes back run cfg.Of, one row of it at a time with cfg.Concurrency workers, and hands
// each result to cfg.OnResult in the run's order. It returns when every started row has its
// result; no goroutine outlives it. The error is the state database's; row problems are
// results and an early stop is Stats.Stopped.
func Run(ctx context.Context, cfg Config) (Stats, error) {
	start := time.Now()
	st := Stats{Counts: map[string]int{}}
	done, err := undone(ctx, cfg)
	if err != nil {
		return st, err
	}
	type job struct {
		seq int
		rr  state.RunRow
		res Result
	}
	errStop := errors.New("stop reading")
	feed := func(runCtx context.Context, emit func(job, bool) bool) error {
		seq := 0
		// Not runCtx: a stop must end the reading cleanly, not as a query error.
		err := cfg.DB.RunRows(context.WithoutCancel(ctx), cfg.Of, func(rr state.RunRow) error {
			seq++
			if !emit(job{seq: seq, rr: rr}, true) {
				return errStop
			}
			return nil
		})
		if errors.Is(err, errStop) {
			return nil
		}
		return err
	}
	work := func(ctx context.Context, j job) (job, error) {
		j.res = take(ctx, &cfg, j.rr, done)
		j.res.Row = j.seq
		return j, j.res.fatal
	}
	deliver := func(j job) error {
		if cfg.OnResult != nil {
			cfg.OnResult(j.res)
		}
		st.add(j.res)
		return nil
	}
	opts := pool.Options{Workers: cfg.Concurrency, Window: max(cfg.Concurrency, 1) * 16, Abort: cfg.Abort}
	stopped, readErr := pool.Run(ctx, opts, feed, work, deliver)
	st.Elapsed = time.Since(start)
	if readErr != nil {
		return st, readErr
	}
	st.Stopped = stopped
	return st, nil
}

// undone gives the keys of run cfg.Of that an earlier undo of it already took back, with
// that undo's number.
func undone(ctx context.Context, cfg Config) (map[string]int64, error) {
	runs, err := cfg.DB.Runs(ctx)
	if err != nil {
		return nil, err
	}
	done := map[string]int64{}
	for _, r := range runs {
		if r.UndoOf != cfg.Of || r.ID == cfg.Run {
			continue
		}
		err := cfg.DB.RunRows(ctx, r.ID, func(rr state.RunRow) error {
			if rr.Outcome == Deleted || rr.Outcome == Restored {
				done[rr.Key] = r.ID
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return done, nil
}

// take is one row's path: decide from the state what the run did, check the portal still
// holds what the run sent, then delete or restore, recording intent and answer.
func take(ctx context.Context, cfg *Config, rr state.RunRow, done map[string]int64) Result {
	res := Result{Key: rr.Key, OpportunityID: rr.OpportunityID}
	skip := func(format string, a ...any) Result {
		res.Status, res.Error = Skipped, fmt.Sprintf(format, a...)
		return res
	}
	leave := func(format string, a ...any) Result {
		res.Status, res.Error = Failed, fmt.Sprintf(format, a...)
		return res
	}
	if by, ok := done[rr.Key]; ok {
		return skip("undone already by run %d", by)
	}
	// What the run did: created it; updated it (or sent an update whose answer it never
	// saw: the PUT may have landed, the portal tells); or nothing to take back.
	restore := rr.Method == "PUT" && rr.Before != nil && rr.Outcome != importer.Created
	switch {
	case rr.Outcome == importer.Created && rr.OpportunityID > 0:
	case restore && rr.OpportunityID > 0:
	case rr.Outcome == state.Pending:
		return leave("run %d sent it and never saw the answer: in doubt (see oppimport status)", cfg.Of)
	default:
		return skip("nothing to undo: run %d left it %s", cfg.Of, orNothing(rr.Outcome))
	}

	row, _, err := cfg.DB.Row(ctx, cfg.Portal, rr.Key)
	if err != nil {
		res.Status, res.Error, res.fatal = Failed, err.Error(), err
		return res
	}
	switch {
	case row.Pending() && cfg.DryRun:
		return leave("a request of run %d was never answered: the undo settles it first", row.IntentRun)
	case row.Pending():
		return leave("in doubt since run %d: %s (see oppimport status)", row.IntentRun, row.Doubt)
	case row.OpportunityID != 0 && row.OpportunityID != rr.OpportunityID:
		return leave("left alone: the key belongs to opportunity %d since a later run", row.OpportunityID)
	}

	var sent mapping.Record
	if err := json.Unmarshal(rr.Sent, &sent); err != nil {
		return leave("what run %d sent cannot be read: %v", cfg.Of, err)
	}
	var before onlyoffice.StoredOpportunity
	var beforeRec mapping.Record
	if restore {
		err := json.Unmarshal(rr.Before, &before)
		if err == nil {
			beforeRec, err = record.FromPortal(before)
		}
		if err != nil {
			return leave("the record kept before run %d cannot be put back: %v", cfg.Of, err)
		}
	}

	if cfg.Client == nil { // a dry run without the portal
		res.Status, res.Error = WouldDelete, "not compared with the portal (no --url)"
		if restore {
			res.Status = WouldRestore
		}
		return res
	}

	now, posted, err := cfg.Client.Get(ctx, rr.OpportunityID)
	res.Attempts += posted.Attempts
	res.HTTPStatus = posted.HTTPStatus
	gone := err != nil && posted.HTTPStatus == 404
	if err != nil && !gone {
		return failure(res, err)
	}

	var note string
	switch {
	case gone && !restore:
		if cfg.DryRun {
			return skip("gone from the portal already")
		}
		return answered(ctx, cfg, res, state.Answer{Outcome: Deleted}, Deleted, "gone from the portal already")
	case gone:
		return refuse(ctx, cfg, res, fmt.Sprintf("opportunity %d is no longer on the portal: nothing to restore", rr.OpportunityID))
	case record.Holds(now, sent):
	case restore && record.Holds(now, beforeRec):
		if rr.Outcome != importer.Updated {
			return skip("nothing to undo: run %d's update did not reach the portal", cfg.Of)
		}
		if cfg.DryRun {
			return skip("restored already")
		}
		// An undo that died after its PUT: the portal holds the old record again.
		return untag(ctx, cfg, answered(ctx, cfg, res, state.Answer{OpportunityID: rr.OpportunityID, Outcome: Restored, Hash: rr.PrevHash}, Restored, ""))
	default:
		changed := "some fields"
		if cur, err := record.FromPortal(now); err == nil {
			if d := coreDiff(cur, sent); len(d) > 0 {
				changed = strings.Join(d, ", ")
			}
		}
		if !cfg.Force {
			return refuse(ctx, cfg, res, fmt.Sprintf("changed on the portal since run %d: %s (--force to undo anyway)", cfg.Of, changed))
		}
		note = fmt.Sprintf("changed on the portal since run %d (%s): undone anyway (--force)", cfg.Of, changed)
	}

	if !restore {
		if cfg.DryRun {
			res.Status, res.Error = WouldDelete, note
			return res
		}
		if err := cfg.DB.Intent(ctx, cfg.Run, cfg.Portal, rr.Key, state.Request{Method: "DELETE"}); err != nil {
			return failure(res, importer.Fatal(err))
		}
		posted, err := cfg.Client.Delete(ctx, rr.OpportunityID)
		res.Attempts += posted.Attempts
		res.HTTPStatus = posted.HTTPStatus
		switch {
		case err == nil:
			return answered(ctx, cfg, res, state.Answer{Outcome: Deleted}, Deleted, note)
		case posted.HTTPStatus == 404:
			return answered(ctx, cfg, res, state.Answer{Outcome: Deleted}, Deleted, join(note, "gone from the portal already"))
		}
		return unanswered(ctx, cfg, res, err)
	}

	if lost := notRestored(now, before); len(lost) > 0 {
		note = join(note, "not restored: "+strings.Join(lost, "; ")+": the portal cannot clear them")
	}
	if cfg.DryRun {
		res.Status, res.Error = WouldRestore, join(note, wouldUntag(ctx, cfg, rr.Key))
		return res
	}
	body, _ := json.Marshal(beforeRec) // plain data: never fails
	nowBody, _ := json.Marshal(now)
	req := state.Request{Method: "PUT", Hash: rr.PrevHash, Body: body, Before: nowBody}
	if err := cfg.DB.Intent(ctx, cfg.Run, cfg.Portal, rr.Key, req); err != nil {
		return failure(res, importer.Fatal(err))
	}
	posted, err = cfg.Client.Update(ctx, rr.OpportunityID, beforeRec)
	res.Attempts += posted.Attempts
	res.HTTPStatus = posted.HTTPStatus
	if err != nil {
		return unanswered(ctx, cfg, res, err)
	}
	return untag(ctx, cfg, answered(ctx, cfg, res, state.Answer{OpportunityID: rr.OpportunityID, Outcome: Restored, Hash: rr.PrevHash}, Restored, note))
}

// answered writes the row's answer and reports status; failing that, the undo stops.
func answered(ctx context.Context, cfg *Config, res Result, a state.Answer, status, note string) Result {
	// Not cancelled by an abort: the request was answered, the state must say so.
	if err := cfg.DB.Answer(context.WithoutCancel(ctx), cfg.Run, cfg.Portal, res.Key, a); err != nil {
		return failure(res, importer.Fatal(err))
	}
	res.Status, res.Error = status, note
	return res
}

// refuse leaves the row alone for why, and records it in the undo's run (a dry run records
// nothing), so that status --run shows it; the row keeps its id and hash.
func refuse(ctx context.Context, cfg *Config, res Result, why string) Result {
	if cfg.DryRun {
		res.Status, res.Error = Failed, why
		return res
	}
	return answered(ctx, cfg, res, state.Answer{Outcome: Failed}, Failed, why)
}

// unanswered records a request that failed. One cut short by an abort stays pending, for
// the next run to settle; one the portal refused is answered Failed, which changes nothing.
func unanswered(ctx context.Context, cfg *Config, res Result, err error) Result {
	if ctx.Err() == nil {
		if aerr := cfg.DB.Answer(context.WithoutCancel(ctx), cfg.Run, cfg.Portal, res.Key, state.Answer{Outcome: Failed}); aerr != nil {
			err = errors.Join(err, importer.Fatal(aerr))
		}
	}
	return failure(res, err)
}

func failure(res Result, err error) Result {
	res.Status, res.Error = Failed, err.Error()
	if importer.IsFatal(err) {
		res.fatal = err
	}
	return res
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

func orNothing(outcome string) string {
	if outcome == "" {
		return "untouched"
	}
	return outcome
}

// coreDiff names the fields of record.Core in which a and b differ.
func coreDiff(a, b mapping.Record) []string {
	var out []string
	for _, f := range record.Core {
		if !record.Same(a, b, f) {
			out = append(out, f)
		}
	}
	return out
}
