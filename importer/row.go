package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/state"
)

// Outcomes a row can have besides Created, Invalid, Failed and Valid.
const (
	Updated   = "updated"
	Unchanged = "unchanged"
	Skipped   = "skipped"
)

// Modes of a run with state.
const (
	ModeCreate = "create" // a row already imported is skipped
	ModeSync   = "sync"   // a changed row is updated, an unchanged one left
)

// Ledger is the run's view of the state database: one portal, one run.
type Ledger struct {
	DB     *state.DB
	Portal string // state.Portal of the base URL
	Run    int64
	// SettleAfter is how long after a request was sent the portal may still act on it,
	// though the client gave up at its timeout: a row is searched for on the portal only once
	// that has passed, so that "not found" proves it was never created.
	SettleAfter time.Duration
	// Indexed says the state database holds the portal's key index (key_field): a row the
	// state does not know is looked up there before it is created, and taken over if found.
	Indexed bool
}

// content is a record's canonical form: its hash tells a changed row from an unchanged one,
// and the state database keeps it to settle a row by and to undo.
func content(rec mapping.Record) (body []byte, hash string) {
	body, _ = json.Marshal(rec) // a plain struct of strings, numbers and slices: never fails
	sum := sha256.Sum256(body)
	return body, hex.EncodeToString(sum[:16])
}

// handle takes one valid row to the portal and records what came of it: the per-row path
// of an import. Without a ledger every row is created.
func handle(ctx context.Context, cfg *Config, it *item) {
	l := cfg.Ledger
	if l == nil {
		create(ctx, cfg, it, nil)
		return
	}
	row, known, err := l.DB.Row(ctx, l.Portal, it.key)
	if err != nil {
		fail(it, Fatal(err))
		return
	}
	switch {
	case known && row.Pending():
		fail(it, fmt.Errorf("in doubt since run %d: %s; candidates on the portal: %v (see oppimport status)",
			row.IntentRun, row.Doubt, row.Candidates))
	case known && row.OpportunityID != 0 && cfg.Mode != ModeSync:
		it.res.Status, it.res.OpportunityID = Skipped, row.OpportunityID
		record(ctx, l, it, state.Answer{Outcome: Skipped})
	case known && row.OpportunityID != 0 && row.Hash == it.hash:
		it.res.Status, it.res.OpportunityID = Unchanged, row.OpportunityID
		record(ctx, l, it, state.Answer{Outcome: Unchanged})
	case known && row.OpportunityID != 0:
		update(ctx, cfg, it, row.OpportunityID)
	default:
		if id, note, ok := onPortal(ctx, l, it); ok {
			adopt(ctx, cfg, it, id, note)
			return
		}
		create(ctx, cfg, it, nil)
	}
}

// onPortal looks the row's key up in the portal's key index: the oldest deal that holds it,
// and a note saying so (and how many copies there are).
func onPortal(ctx context.Context, l *Ledger, it *item) (int64, string, bool) {
	if !l.Indexed || it.key == "" || it.key[0] == '#' {
		return 0, "", false
	}
	ids, err := l.DB.PortalIDs(ctx, l.Portal, mapping.KeyValue(it.key))
	if err != nil {
		fail(it, Fatal(err))
		return 0, "", true
	}
	if len(ids) == 0 {
		return 0, "", false
	}
	note := fmt.Sprintf("already on the portal as opportunity %d (key_field)", ids[0])
	if len(ids) > 1 {
		note += fmt.Sprintf("; %d deals hold this key (%v): oppimport dedupe keeps the oldest", len(ids), ids)
	}
	return ids[0], note, true
}

// adopt takes over the deal the portal holds for the row: skipped in create mode, updated
// in sync mode (what it holds is not known here, so it is compared in full).
func adopt(ctx context.Context, cfg *Config, it *item, id int64, note string) {
	if it.res.Status == Failed {
		return // the index could not be read
	}
	if cfg.Mode == ModeSync {
		update(ctx, cfg, it, id)
	} else {
		it.res.Status, it.res.OpportunityID = Skipped, id
		record(ctx, cfg.Ledger, it, state.Answer{OpportunityID: id, Outcome: Skipped})
	}
	if it.res.Error == "" {
		it.res.Error = note
	}
}

// create posts the row. A create sent and left unanswered is settled at once: found on the
// portal it is adopted, provably absent it is posted again, otherwise it stays in doubt and
// is never posted blindly.
func create(ctx context.Context, cfg *Config, it *item, note error) {
	l := cfg.Ledger
	for try := 0; ; try++ {
		sent := time.Now()
		if l != nil {
			if err := l.DB.Intent(ctx, l.Run, l.Portal, it.key, state.Request{Method: "POST", Hash: it.hash, Body: it.body}); err != nil {
				fail(it, Fatal(err))
				return
			}
		}
		posted, err := cfg.Poster.Create(ctx, it.rec)
		it.res.Attempts += posted.Attempts
		it.res.HTTPStatus = posted.HTTPStatus
		if err == nil {
			it.res.Status, it.res.OpportunityID = Created, posted.ID
			if note != nil {
				it.res.Error = note.Error()
			}
			record(ctx, l, it, state.Answer{OpportunityID: posted.ID, Outcome: Created, Hash: it.hash})
			afterCreate(ctx, cfg, it, posted.ID)
			return
		}
		if !posted.InDoubt || l == nil {
			fail(it, err)
			if l != nil {
				record(ctx, l, it, state.Answer{Outcome: Failed})
			}
			return
		}
		ids, ferr := settle(ctx, l, cfg.Poster, it.key, it.rec, sent)
		switch {
		case ferr == nil && len(ids) == 1:
			it.res.Status, it.res.OpportunityID = Created, ids[0]
			it.res.Error = fmt.Sprintf("the answer was lost; found on the portal as opportunity %d", ids[0])
			record(ctx, l, it, state.Answer{OpportunityID: ids[0], Outcome: Created, Hash: it.hash})
			afterCreate(ctx, cfg, it, ids[0])
			return
		case ferr == nil && len(ids) == 0:
			// Provably never created: send it again, a few times at most.
			if err := l.DB.Forget(ctx, l.Portal, it.key); err != nil {
				fail(it, Fatal(err))
				return
			}
			if try < maxResends {
				continue
			}
			fail(it, fmt.Errorf("%w; sent %d times without an answer, and the portal holds no such opportunity", err, try+1))
			return
		}
		reason := "no answer came and the portal could not be searched: " + errString(ferr)
		if ferr == nil {
			reason = fmt.Sprintf("no answer came; %d matching opportunities on the portal", len(ids))
		}
		if err := l.DB.MarkInDoubt(ctx, l.Portal, it.key, ids, reason); err != nil {
			fail(it, Fatal(err))
			return
		}
		fail(it, fmt.Errorf("%w; in doubt: %s; candidates %v: never posted again until settled (see oppimport status)", err, reason, ids))
		return
	}
}

// update sends the whole record over opportunity id: the portal resets whatever is left out.
// The record as it stood is kept first, so that an undo can put it back.
func update(ctx context.Context, cfg *Config, it *item, id int64) {
	l := cfg.Ledger
	before, posted, err := cfg.Poster.Snapshot(ctx, id)
	it.res.Attempts += posted.Attempts
	if err == nil {
		if err = l.DB.Intent(ctx, l.Run, l.Portal, it.key, state.Request{Method: "PUT", Hash: it.hash, Body: it.body, Before: before}); err != nil {
			fail(it, Fatal(err))
			return
		}
		posted, err = cfg.Poster.Update(ctx, id, it.rec)
		it.res.Attempts += posted.Attempts
	}
	it.res.HTTPStatus = posted.HTTPStatus
	switch {
	case err == nil:
		it.res.Status, it.res.OpportunityID = Updated, id
		record(ctx, l, it, state.Answer{OpportunityID: id, Outcome: Updated, Hash: it.hash})
		afterUpdate(ctx, cfg, it, id)
	case posted.HTTPStatus == 404 && !cfg.RecreateMissing:
		// Deleted, or private and hidden from this user: the server says 404 to both, and a
		// copy made now could be a public twin of a private deal.
		fail(it, fmt.Errorf("opportunity %d is deleted or no longer visible to this user: not created again (--recreate-missing creates it again)", id))
		it.res.OpportunityID = id
		record(ctx, l, it, state.Answer{Outcome: Failed})
	case posted.HTTPStatus == 404:
		// Gone from the portal, and --recreate-missing: the row is created again, and the report says so.
		if err := l.DB.Answer(ctx, l.Run, l.Portal, it.key, state.Answer{Outcome: state.Deleted}); err != nil {
			fail(it, Fatal(err))
			return
		}
		create(ctx, cfg, it, fmt.Errorf("opportunity %d was no longer on the portal: created again", id))
	default:
		fail(it, err)
		it.res.OpportunityID = id
		record(ctx, l, it, state.Answer{Outcome: Failed})
	}
}

// settle searches the portal for the opportunity that the create of key sent at sent may
// have made, once the portal can no longer be acting on it, and returns the ids of those
// that match it field by field and that no other row owns.
func settle(ctx context.Context, l *Ledger, f Finder, key string, rec mapping.Record, sent time.Time) ([]int64, error) {
	if wait := time.Until(sent.Add(l.SettleAfter)); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	// The portal's clock may differ from ours: look a little further back.
	found, err := f.Find(ctx, rec, sent.Add(-clockSkew))
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, id := range found {
		owner, owned, err := l.DB.KeyOf(ctx, l.Portal, id)
		if err != nil {
			return nil, err
		}
		if !owned || owner == key {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// maxResends is how often a create proven lost is sent again within one run.
const maxResends = 2

// clockSkew is how far the portal's clock may be behind ours.
const clockSkew = 2 * time.Minute

// Settle decides, before a run posts anything, every row an earlier run sent and never saw
// answered (it was killed, or the answer was lost): found once on the portal, the row takes
// that id; provably absent, it is forgotten and posted again if the input still has it;
// otherwise it stays in doubt and is reported. It returns how many rows it settled each way.
// An import and an undo both settle before they start.
func Settle(ctx context.Context, l *Ledger, f Finder) (adopted, forgotten, doubtful int, err error) {
	rows, err := l.DB.Unsettled(ctx, l.Portal)
	if err != nil {
		return 0, 0, 0, err
	}
	for _, row := range rows {
		if row.IntentMethod != "POST" {
			// A full-record PUT (or a DELETE) may simply be sent again.
			if err := l.DB.Forget(ctx, l.Portal, row.Key); err != nil {
				return adopted, forgotten, doubtful, err
			}
			forgotten++
			continue
		}
		var rec mapping.Record
		if err := json.Unmarshal(row.Sent, &rec); err != nil {
			return adopted, forgotten, doubtful, fmt.Errorf("state of key %q: %w", row.Key, err)
		}
		ids, ferr := settle(ctx, l, f, row.Key, rec, row.IntentAt)
		switch {
		case ferr != nil && ctx.Err() != nil:
			return adopted, forgotten, doubtful, ctx.Err()
		case ferr == nil && len(ids) == 1:
			err = l.DB.Answer(ctx, row.IntentRun, l.Portal, row.Key, state.Answer{OpportunityID: ids[0], Outcome: Created, Hash: row.IntentHash})
			if x, ok := f.(Extras); ok && err == nil {
				err = adoptExtras(ctx, l, x, row.IntentRun, row.Key, rec, ids[0])
			}
			adopted++
		case ferr == nil && len(ids) == 0:
			err = l.DB.Forget(ctx, l.Portal, row.Key)
			forgotten++
		default:
			reason := fmt.Sprintf("%d matching opportunities on the portal", len(ids))
			if ferr != nil {
				reason = "the portal could not be searched: " + ferr.Error()
			}
			err = l.DB.MarkInDoubt(ctx, l.Portal, row.Key, ids, reason)
			doubtful++
		}
		if err != nil {
			return adopted, forgotten, doubtful, err
		}
	}
	return adopted, forgotten, doubtful, nil
}

// record writes the row's outcome to the state database; failing that, the run stops.
func record(ctx context.Context, l *Ledger, it *item, a state.Answer) {
	if l == nil {
		return
	}
	if err := l.DB.Answer(ctx, l.Run, l.Portal, it.key, a); err != nil {
		it.fatal = Fatal(err)
		if it.res.Error == "" {
			it.res.Error = err.Error()
		}
	}
}

// fail marks the row failed with err.
func fail(it *item, err error) {
	it.res.Status = Failed
	it.res.Error = err.Error()
	if IsFatal(err) {
		it.fatal = err
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
