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
	"slices"
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
	// OnResult receives each row's result, in the run's input order (see state.DB.RunRows),
	// from one goroutine.
	OnResult func(Result)
}

// Result is what the undo did, or would do, to one row of the run.
type Result struct {
	Row           int // the row's place among the run's rows (in input order), from 1
	Key           string
	Status        string
	OpportunityID int64
	Attempts      int
	HTTPStatus    int
	Error         string // why it failed, or a note (what could not be restored)

	fatal error
	// The row's input row and title in the run taken back: the undo's own run rows keep
	// them, so that they list in the same order.
	inputRow int
	title    string
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
	hist, err := history(ctx, cfg)
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
		j.res = take(ctx, &cfg, j.rr, hist)
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
// runs is what later runs did to the keys of the run taken back.
type runs struct {
	undone map[string]int64 // keys an earlier undo of it took back, with that undo's number
	later  map[string]int64 // keys a later import or sync changed, with the last such run
	// laterUndone are the keys of later that an undo of that later run took back, with
	// the undo's number.
	laterUndone map[string]int64
}

func history(ctx context.Context, cfg Config) (runs, error) {
	all, err := cfg.DB.Runs(ctx)
	if err != nil {
		return runs{}, err
	}
	h := runs{undone: map[string]int64{}, later: map[string]int64{}, laterUndone: map[string]int64{}}
	undoOf := map[int64][]int64{} // run -> the undos of it
	for _, r := range all {
		if r.UndoOf != 0 && r.ID != cfg.Run {
			undoOf[r.UndoOf] = append(undoOf[r.UndoOf], r.ID)
		}
	}
	for _, r := range all {
		var into map[string]int64
		var outcomes []string
		switch {
		case r.ID == cfg.Run:
			continue
		case r.UndoOf == cfg.Of:
			// Created: a create of the undo's whose answer was lost, found by the settling.
			into, outcomes = h.undone, []string{Deleted, Restored, importer.Created}
		case r.ID > cfg.Of && r.UndoOf == 0:
			into, outcomes = h.later, []string{importer.Created, importer.Updated}
		default:
			continue
		}
		err := cfg.DB.RunRows(ctx, r.ID, func(rr state.RunRow) error {
			if slices.Contains(outcomes, rr.Outcome) {
				into[rr.Key] = r.ID
			}
			return nil
		})
		if err != nil {
			return runs{}, err
		}
	}
	for key, by := range h.later {
		for _, u := range undoOf[by] {
			err := cfg.DB.RunRows(ctx, u, func(rr state.RunRow) error {
				if rr.Key == key && (rr.Outcome == Deleted || rr.Outcome == Restored) {
					h.laterUndone[key] = u
				}
				return nil
			})
			if err != nil {
				return runs{}, err
			}
		}
	}
	return h, nil
}

// take is one row's path: decide from the state what the run did, check the portal still
// holds what the run sent, then delete or restore, recording intent and answer.
func take(ctx context.Context, cfg *Config, rr state.RunRow, hist runs) Result {
	res := Result{Key: rr.Key, OpportunityID: rr.OpportunityID, inputRow: rr.InputRow, title: rr.Title}
	skip := func(format string, a ...any) Result {
		res.Status, res.Error = Skipped, fmt.Sprintf(format, a...)
		return res
	}
	leave := func(format string, a ...any) Result {
		res.Status, res.Error = Failed, fmt.Sprintf(format, a...)
		return res
	}
	if by, ok := hist.undone[rr.Key]; ok {
		return skip("undone already by run %d", by)
	}
	if rr.Method == "DELETE" && rr.Outcome == Deleted && rr.Before != nil {
		// A recreate an earlier undo sent and could not settle may exist already: never
		// posted again blindly.
		row, _, err := cfg.DB.Row(ctx, cfg.Portal, rr.Key)
		if err != nil {
			res.Status, res.Error, res.fatal = Failed, err.Error(), err
			return res
		}
		if row.Pending() && !cfg.DryRun {
			return leave("in doubt since run %d: %s (see oppimport status)", row.IntentRun, row.Doubt)
		}
		return recreate(ctx, cfg, res, rr)
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
		if r, ok := untagOnly(ctx, cfg, rr, res); ok {
			return r
		}
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
	var kept *mapping.Record // the record before the run, if it updated one
	if restore {
		err := json.Unmarshal(rr.Before, &before)
		if err == nil {
			beforeRec, err = record.FromPortal(before)
		}
		if err != nil {
			return leave("the record kept before run %d cannot be put back: %v", cfg.Of, err)
		}
		kept = &beforeRec
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

	// What the run left on the portal, and what the portal holds now, field by field,
	// custom fields and participants included. The tool wrote it as the token's user, who
	// created it: on a private deal the portal put that user on the access list.
	left := record.WithCaller(record.Applied(kept, sent), now.CreatedBy)
	nowRec, err := record.FromPortal(now)
	if err != nil && !gone {
		return leave("opportunity %d as the portal holds it cannot be read: %v", rr.OpportunityID, err)
	}
	changed := record.Diff(nowRec, left)
	var note string
	switch {
	case gone && !restore:
		if cfg.DryRun {
			return skip("gone from the portal already")
		}
		return answered(ctx, cfg, res, state.Answer{Outcome: Deleted}, Deleted, "gone from the portal already")
	case gone:
		return refuse(ctx, cfg, res, fmt.Sprintf("opportunity %d is no longer on the portal: nothing to restore", rr.OpportunityID))
	case len(changed) == 0:
	case restore && len(record.Diff(nowRec, record.WithCaller(record.Applied(&left, beforeRec), now.CreatedBy))) == 0:
		if rr.Outcome != importer.Updated {
			return skip("nothing to undo: run %d's update did not reach the portal", cfg.Of)
		}
		if cfg.DryRun {
			return skip("restored already")
		}
		// An undo that died after its PUT: the portal holds the old record again.
		return untag(ctx, cfg, answered(ctx, cfg, res, state.Answer{OpportunityID: rr.OpportunityID, Outcome: Restored, Hash: rr.PrevHash}, Restored, ""))
	case hist.laterUndone[rr.Key] != 0 && residue(changed, left):
		// Custom fields a later run of this tool set and its undo could not clear: the
		// tool's own doing, not a person's.
		note = fmt.Sprintf("%s set by run %d stay: its undo (run %d) could not clear them, the portal never clears custom fields",
			strings.Join(changed, ", "), hist.later[rr.Key], hist.laterUndone[rr.Key])
	case hist.laterUndone[rr.Key] != 0 && !cfg.Force:
		by := hist.later[rr.Key]
		return refuse(ctx, cfg, res, fmt.Sprintf("changed on the portal since run %d: %s (run %d of this tool changed it too, and run %d took that back; --force to undo anyway)",
			cfg.Of, record.Changes(left, nowRec, changed), by, hist.laterUndone[rr.Key]))
	case hist.later[rr.Key] != 0 && !cfg.Force:
		by := hist.later[rr.Key]
		return refuse(ctx, cfg, res, fmt.Sprintf("changed since run %d by run %d of this tool (%s): undo run %d first, or --force",
			cfg.Of, by, record.Changes(left, nowRec, changed), by))
	case !cfg.Force:
		return refuse(ctx, cfg, res, fmt.Sprintf("changed on the portal since run %d: %s (--force to undo anyway)",
			cfg.Of, record.Changes(left, nowRec, changed)))
	default:
		note = fmt.Sprintf("changed on the portal since run %d (%s): undone anyway (--force)", cfg.Of, strings.Join(changed, ", "))
	}

	if !restore {
		if cfg.DryRun {
			res.Status, res.Error = WouldDelete, note
			return res
		}
		if err := cfg.DB.Intent(ctx, cfg.Run, cfg.Portal, rr.Key, state.Request{Method: "DELETE", InputRow: rr.InputRow, Title: rr.Title}); err != nil {
			return failure(res, importer.Fatal(err))
		}
		posted, err := cfg.Client.Delete(ctx, rr.OpportunityID)
		res.Attempts += posted.Attempts
		res.HTTPStatus = posted.HTTPStatus
		switch {
		case err == nil:
			return answered(ctx, cfg, res, state.Answer{Outcome: Deleted}, Deleted, note)
		case posted.HTTPStatus == 404:
			return answered(ctx, cfg, res, state.Answer{Outcome: Deleted}, Deleted, record.AddNote(note, "gone from the portal already"))
		}
		return unanswered(ctx, cfg, res, err)
	}

	if lost := notRestored(now, before); len(lost) > 0 {
		note = record.AddNote(note, "not restored: "+strings.Join(lost, "; ")+": the portal cannot clear them")
	}
	if added := record.WithCaller(beforeRec, now.CreatedBy); !record.Same(added, beforeRec, record.AccessList) {
		note = record.AddNote(note, fmt.Sprintf("private: the portal adds the user who writes it (%s) to the access list, which it was not on before run %d", now.CreatedBy, cfg.Of))
	}
	if cfg.DryRun {
		res.Status, res.Error = WouldRestore, record.AddNote(note, wouldUntag(ctx, cfg, rr.Key))
		return res
	}
	body, _ := json.Marshal(beforeRec) // plain data: never fails
	nowBody, _ := json.Marshal(now)
	req := state.Request{Method: "PUT", Hash: rr.PrevHash, Body: body, Before: nowBody, InputRow: rr.InputRow, Title: rr.Title}
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

// creator is a Portal that can create, as main's can: what takes back a delete (a dedupe's).
type creator interface {
	Create(ctx context.Context, rec mapping.Record) (importer.Posted, error)
}

// recreate takes back a delete whose record the run kept (a dedupe deletes so): the deal is
// created again from that record, under a new id (the portal gives no other), intent before
// and answer after as an import's create.
func recreate(ctx context.Context, cfg *Config, res Result, rr state.RunRow) Result {
	var kept onlyoffice.StoredOpportunity
	err := json.Unmarshal(rr.Before, &kept)
	var rec mapping.Record
	if err == nil {
		rec, err = record.FromPortal(kept)
	}
	if err != nil {
		res.Status, res.Error = Failed, fmt.Sprintf("the record kept before run %d deleted it cannot be read: %v", cfg.Of, err)
		return res
	}
	c, ok := cfg.Client.(creator)
	switch {
	case cfg.DryRun:
		res.Status, res.Error = WouldRestore, fmt.Sprintf("deleted by run %d: created again from the record kept", cfg.Of)
		return res
	case !ok:
		res.Status, res.Error = Failed, fmt.Sprintf("deleted by run %d: this undo cannot create it again", cfg.Of)
		return res
	}
	body, _ := json.Marshal(rec) // plain data: never fails
	if err := cfg.DB.Intent(ctx, cfg.Run, cfg.Portal, rr.Key, state.Request{Method: "POST", Body: body, InputRow: rr.InputRow, Title: rr.Title}); err != nil {
		return failure(res, importer.Fatal(err))
	}
	posted, err := c.Create(ctx, rec)
	res.Attempts += posted.Attempts
	res.HTTPStatus = posted.HTTPStatus
	if err != nil && posted.InDoubt {
		// It may exist: the intent stays, and the next undo settles it before anything else.
		return failure(res, fmt.Errorf("%w; in doubt: run the undo again to settle it", err))
	}
	if err != nil {
		return unanswered(ctx, cfg, res, err)
	}
	res.OpportunityID = posted.ID
	return answered(ctx, cfg, res, state.Answer{OpportunityID: posted.ID, Outcome: Restored}, Restored,
		fmt.Sprintf("deleted by run %d as opportunity %d: created again as opportunity %d", cfg.Of, rr.OpportunityID, posted.ID))
}

// answered writes the row's answer and reports status; failing that, the undo stops.
func answered(ctx context.Context, cfg *Config, res Result, a state.Answer, status, note string) Result {
	a.InputRow, a.Title = res.inputRow, res.title
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
		if aerr := cfg.DB.Answer(context.WithoutCancel(ctx), cfg.Run, cfg.Portal, res.Key, state.Answer{Outcome: Failed, InputRow: res.inputRow, Title: res.title}); aerr != nil {
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

func orNothing(outcome string) string {
	if outcome == "" {
		return "untouched"
	}
	return outcome
}

// residue says whether every field in changed is a custom field that left does not hold:
// one that a later run set and the portal cannot clear.
func residue(changed []string, left mapping.Record) bool {
	for _, f := range changed {
		if !strings.HasPrefix(f, "customField:") || record.Value(left, f) != "" {
			return false
		}
	}
	return true
}
