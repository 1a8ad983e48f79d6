package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/record"
	"github.com/oppimport/oppimport/state"
)

// Outcomes a row can have besides Created, Invalid, Failed and Valid.
const (
	Updated   = "updated"
	Unchanged = "unchanged"
	Skipped   = "skipped"
)

// Outcomes of a preview (Ledger.DryRun): what a sync would do.
const (
	WouldCreate = "would-create"
	WouldUpdate = "would-update"
)

// Modes of a run with state.
const (
	ModeCreate = "create" // a row already imported is skipped
	ModeSync   = "sync"   // a changed row is merged into the portal's record, an unchanged one left
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
	// DryRun previews the run: the state and the portal are read, nothing is sent and
	// nothing recorded; rows come out WouldCreate, WouldUpdate (the error column names each
	// field that would change, from what to what), Unchanged, or Failed.
	DryRun bool
	// Undoing says the run is an undo: it settles the requests an earlier undo left
	// unanswered by sending them again. Any other run leaves them in doubt, for the undo.
	Undoing bool
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
	if it.hash == "" { // see check
		it.body, it.hash = content(it.rec)
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
		answer(ctx, l, it, state.Answer{Outcome: Skipped})
	case known && row.OpportunityID != 0:
		syncRow(ctx, cfg, it, row)
	default:
		if id, note, ok := onPortal(ctx, l, it); ok {
			adopt(ctx, cfg, it, id, note)
			return
		}
		create(ctx, cfg, it, nil)
	}
}

// done is the outcome of a row the state knows as k that needs nothing sent, as handle
// would decide it: Skipped in create mode, once imported; Unchanged in sync mode, when its
// content is what was last written and the portal still shows its opportunity. "" for
// every other row: it goes to a worker, to handle.
func done(cfg *Config, it *item, k state.Known) string {
	switch {
	case k.Pending || k.OpportunityID == 0:
		return ""
	case cfg.Mode != ModeSync:
		return Skipped
	}
	if _, ok := cfg.current[k.OpportunityID]; ok && k.Hash == it.hash {
		return Unchanged
	}
	return ""
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
		// No base: the export wins where it differs, the unmapped fields are kept.
		syncRow(ctx, cfg, it, state.Row{OpportunityID: id})
	} else {
		it.res.Status, it.res.OpportunityID = Skipped, id
		answer(ctx, cfg.Ledger, it, state.Answer{OpportunityID: id, Outcome: Skipped})
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
	if l != nil && l.DryRun {
		it.res.Status = WouldCreate
		if note != nil {
			it.res.Error = note.Error()
		}
		return
	}
	for try := 0; ; try++ {
		sent := time.Now()
		if l != nil {
			if err := l.DB.Intent(ctx, l.Run, l.Portal, it.key, state.Request{Method: "POST", Hash: it.hash, Body: it.sent(cfg.fields), InputRow: it.res.Row, Title: it.res.Title}); err != nil {
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
			answer(ctx, l, it, state.Answer{OpportunityID: posted.ID, Outcome: Created, Hash: it.hash})
			afterCreate(ctx, cfg, it, posted.ID)
			return
		}
		if !posted.InDoubt || l == nil {
			fail(it, err)
			if l != nil {
				answer(ctx, l, it, state.Answer{Outcome: Failed})
			}
			return
		}
		ids, searched, ferr := settle(ctx, l, cfg.Poster, it.key, it.rec, sent)
		it.res.Attempts += searched
		switch {
		case ferr == nil && len(ids) == 1:
			it.res.Status, it.res.OpportunityID = Created, ids[0]
			it.res.Error = fmt.Sprintf("the answer was lost; found on the portal as opportunity %d", ids[0])
			answer(ctx, l, it, state.Answer{OpportunityID: ids[0], Outcome: Created, Hash: it.hash})
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

// sentBody is what the state database keeps of a sync's PUT: the merged record sent (what
// an undo compares with) and the export's own record, the next sync's base. A create's body
// is the export's record alone, which is its base too.
type sentBody struct {
	mapping.Record
	Export *mapping.Record `json:"export,omitempty"`
	// Fields are the fields the mapping mapped then: a field mapped since is the mapping's
	// change, not the export's.
	Fields []string `json:"fields,omitempty"`
}

// baseOf is what the export said at the row's last create or sync, and the fields mapped
// then (nil when not kept), from the body the state kept; a nil base when none is known (a
// state rebuilt from the portal).
func baseOf(sent []byte) (*mapping.Record, []string) {
	var b sentBody
	if len(sent) == 0 || json.Unmarshal(sent, &b) != nil {
		return nil, nil
	}
	if b.Export != nil {
		return b.Export, b.Fields
	}
	if b.Title == "" { // no record: the portal's title is never empty
		return nil, nil
	}
	return &b.Record, b.Fields
}

// sent is what the state keeps of a create of the row: the record and the fields mapped.
func (it *item) sent(fields []string) []byte {
	if fields == nil {
		return it.body
	}
	b, _ := json.Marshal(sentBody{Record: it.rec, Fields: fields}) // plain data: never fails
	return b
}

// readCurrent reads the portal's records of every opportunity the state knows on it.
func readCurrent(ctx context.Context, cfg Config) (map[int64]Current, Posted, error) {
	l := cfg.Ledger
	ids := map[int64]bool{}
	err := l.DB.Keys(ctx, l.Portal, func(_ string, id int64) error {
		if id > 0 {
			ids[id] = true
		}
		return nil
	})
	if err != nil {
		return nil, Posted{}, err
	}
	if len(ids) == 0 && !l.Indexed {
		return map[int64]Current{}, Posted{}, nil
	}
	// With a key index, a row the state does not know may be taken over from the portal:
	// every deal may be wanted.
	return cfg.Poster.Current(ctx, func(id int64) bool { return l.Indexed || ids[id] })
}

// syncRow brings the row's opportunity id in step with the export, field by field: the body
// is the portal's record now with the fields the export changed since the last sync put
// over it (record.Merge), so that what a person set on the portal, and every field the
// mapping does not map, stays. Nothing is sent when the portal already holds it all.
func syncRow(ctx context.Context, cfg *Config, it *item, row state.Row) {
	l := cfg.Ledger
	id := row.OpportunityID
	cur, ok := cfg.current[id]
	switch {
	case !ok:
		gone(ctx, cfg, it, id)
		return
	case row.Hash == it.hash:
		it.res.Status, it.res.OpportunityID = Unchanged, id
		answer(ctx, l, it, state.Answer{Outcome: Unchanged})
		return
	case cur.Err != nil:
		fail(it, fmt.Errorf("opportunity %d as the portal holds it cannot be read: %w", id, cur.Err))
		it.res.OpportunityID = id
		answer(ctx, l, it, state.Answer{Outcome: Failed})
		return
	}
	onConflict := cfg.OnConflict
	if onConflict == "" {
		onConflict = record.ExportWins
	}
	base, baseFields := baseOf(row.Sent)
	m := record.Merge(base, cur.Record, it.rec, cfg.fields, onConflict)
	if baseFields != nil {
		for _, f := range m.Changed {
			if !slices.Contains(baseFields, f) {
				it.newlyMapped = append(it.newlyMapped, f)
			}
		}
	}
	export := it.rec
	body, _ := json.Marshal(sentBody{Record: m.Body, Export: &export, Fields: cfg.fields}) // plain data: never fails
	it.res.OpportunityID, it.res.Error = id, record.Note(m.Notes)
	if len(m.Changed) == 0 {
		// The portal holds what the export says already: the export's record becomes the base.
		// Its tags may change still: then the deal is updated, by its tags alone.
		it.res.Status = Unchanged
		if note := tagPreview(ctx, cfg, it); note != "" {
			it.res.Status, it.res.Error = WouldUpdate, joinNotes(note, it.res.Error)
			return
		}
		outcome := Unchanged
		if afterUpdate(ctx, cfg, it, id) {
			outcome = Updated
			if it.res.Status == Unchanged {
				it.res.Status = Updated
			}
		}
		answer(ctx, l, it, state.Answer{OpportunityID: id, Outcome: outcome, Hash: it.hash, Sent: body})
		return
	}
	if l.DryRun {
		it.res.Status = WouldUpdate
		it.res.Error = joinNotes(record.Changes(cur.Record, m.Body, m.Changed), tagPreview(ctx, cfg, it), it.res.Error)
		return
	}
	if err := l.DB.Intent(ctx, l.Run, l.Portal, it.key, state.Request{Method: "PUT", Hash: it.hash, Body: body, Before: cur.Raw, InputRow: it.res.Row, Title: it.res.Title}); err != nil {
		fail(it, Fatal(err))
		return
	}
	posted, err := cfg.Poster.Update(ctx, id, m.Body)
	it.res.Attempts += posted.Attempts
	it.res.HTTPStatus = posted.HTTPStatus
	// Not updated: the base stays what it was, so that the next sync tries the export's
	// change again (an empty one: no base).
	unsent := state.Answer{Outcome: Failed, Sent: append([]byte{}, row.Sent...), InputRow: it.res.Row, Title: it.res.Title}
	switch {
	case err == nil:
		it.res.Status = Updated
		answer(ctx, l, it, state.Answer{OpportunityID: id, Outcome: Updated, Hash: it.hash})
		afterUpdate(ctx, cfg, it, id)
	case posted.HTTPStatus == 404:
		// Deleted since the snapshot.
		if err := l.DB.Answer(ctx, l.Run, l.Portal, it.key, unsent); err != nil {
			fail(it, Fatal(err))
			return
		}
		it.res.Error = ""
		gone(ctx, cfg, it, id)
	default:
		fail(it, err)
		answer(ctx, l, it, unsent)
	}
}

// gone reports a row whose opportunity the portal no longer shows (deleted, or hidden from
// this user: the portal answers both alike), and creates it again only when told to.
func gone(ctx context.Context, cfg *Config, it *item, id int64) {
	l := cfg.Ledger
	it.gone = true
	if cfg.RecreateMissing && l.DryRun {
		create(ctx, cfg, it, fmt.Errorf("opportunity %d is no longer on the portal: would be created again (--recreate-missing)", id))
		return
	}
	if cfg.RecreateMissing {
		if err := l.DB.Answer(ctx, l.Run, l.Portal, it.key, state.Answer{Outcome: state.Deleted, InputRow: it.res.Row, Title: it.res.Title}); err != nil {
			fail(it, Fatal(err))
			return
		}
		create(ctx, cfg, it, fmt.Errorf("opportunity %d was no longer on the portal: created again (--recreate-missing)", id))
		return
	}
	// Deleted, or private and hidden from this user: the server says 404 to both, and a
	// copy made now could be a public twin of a private deal.
	fail(it, fmt.Errorf("opportunity %d is deleted or no longer visible to this user: not created again (--recreate-missing creates it again)", id))
	it.res.OpportunityID = id
	answer(ctx, l, it, state.Answer{Outcome: Failed})
}

// settle searches the portal for the opportunity that the create of key sent at sent may
// have made, once the portal can no longer be acting on it, and returns the ids of those
// that match it field by field and that no other row owns, with the requests it made.
func settle(ctx context.Context, l *Ledger, f Finder, key string, rec mapping.Record, sent time.Time) ([]int64, int, error) {
	attempts := 0
	find := func() ([]int64, error) {
		// The portal's clock may differ from ours: look a little further back.
		found, n, err := f.Find(ctx, rec, sent.Add(-clockSkew))
		attempts += n
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
	if wait := time.Until(sent.Add(l.SettleAfter)); wait > 0 {
		// A proxy that answered 502 after the portal acted: found at once, no need to wait.
		if ids, err := find(); err == nil && len(ids) == 1 {
			return ids, attempts, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, attempts, ctx.Err()
		}
	}
	ids, err := find()
	return ids, attempts, err
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
	var undos map[int64]int64 // undo run -> the run it takes back
	for _, row := range rows {
		if row.IntentMethod != "POST" && !l.Undoing {
			if undos == nil {
				if undos, err = undoRuns(ctx, l.DB); err != nil {
					return adopted, forgotten, doubtful, err
				}
			}
			if of, ok := undos[row.IntentRun]; ok {
				// An undo killed midway: only the same undo, run again, may finish it; an
				// import would take its half-restored record for the portal's own.
				reason := fmt.Sprintf("undo run %d was interrupted here: run oppimport undo --run %d again to finish it", row.IntentRun, of)
				if err := l.DB.MarkInDoubt(ctx, l.Portal, row.Key, nil, reason); err != nil {
					return adopted, forgotten, doubtful, err
				}
				doubtful++
				continue
			}
		}
		if row.IntentMethod != "POST" {
			// A full-record PUT (or a DELETE) may simply be sent again.
			if err := l.DB.Forget(ctx, l.Portal, row.Key); err != nil {
				return adopted, forgotten, doubtful, err
			}
			if row.IntentMethod == "PUT" {
				// Whether it landed is not known: the next sync has no base for the row,
				// and sends the export's values wherever the portal differs.
				if err := l.DB.Answer(ctx, row.IntentRun, l.Portal, row.Key, state.Answer{Outcome: state.Failed, Sent: []byte{}}); err != nil {
					return adopted, forgotten, doubtful, err
				}
			}
			forgotten++
			continue
		}
		var rec mapping.Record
		if err := json.Unmarshal(row.Sent, &rec); err != nil {
			return adopted, forgotten, doubtful, fmt.Errorf("state of key %q: %w", row.Key, err)
		}
		ids, _, ferr := settle(ctx, l, f, row.Key, rec, row.IntentAt)
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

// undoRuns are the undo runs of db, each with the run it takes back.
func undoRuns(ctx context.Context, db *state.DB) (map[int64]int64, error) {
	runs, err := db.Runs(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int64]int64{}
	for _, r := range runs {
		if r.UndoOf != 0 {
			out[r.ID] = r.UndoOf
		}
	}
	return out, nil
}

// answer writes the row's outcome to the state database; failing that, the run stops.
func answer(ctx context.Context, l *Ledger, it *item, a state.Answer) {
	if l == nil || l.DryRun {
		return
	}
	// Where the row stands in the input and its title, for listing the run in input order.
	a.InputRow, a.Title = it.res.Row, it.res.Title
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

// joinNotes joins the non-empty notes with "; ".
func joinNotes(notes ...string) string {
	var out []string
	for _, n := range notes {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}
