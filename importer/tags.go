package importer

import (
	"context"
	"fmt"
	"strings"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/record"
	"github.com/oppimport/oppimport/state"
	"github.com/oppimport/oppimport/tagging"
)

// The steps after a row's deal was written: its legacy creation date (created:, after a
// create only) and its tags (tags: and the run's own, Config.Tags). The creation date is
// set by the worker, a request of the row like the create; the tags are added in batches by
// a tagging.Stage between the workers and the ordered output (see Run), so that a tag shared
// by many rows costs one request per batch rather than one per row.
//
// A sync changes the tags three ways, as it does fields: it adds the tags the export added
// since the last run and removes the ones it removed, as the state database remembers them
// (state.DB.Tags), and leaves alone every tag a portal user set. What each run did to the
// tags is kept for an undo.

// Extras is what those steps need of the portal; *onlyoffice.Client is one. Its methods
// must be safe for concurrent use; each may be sent twice without harm.
type Extras interface {
	tagging.Client
	SetCreationDate(ctx context.Context, id int64, date string) (attempts int, err error)
	RemoveTag(ctx context.Context, id int64, tag string) (attempts int, err error)
	DealTags(ctx context.Context, id int64) (tags []string, attempts int, err error)
}

// afterCreate sets the creation date of the new opportunity id and queues its tags. A
// creation date the portal refused fails the row, which keeps its id: the deal exists.
func afterCreate(ctx context.Context, cfg *Config, it *item, id int64) {
	if cfg.Extras == nil {
		return
	}
	if it.rec.Created != "" {
		n, err := cfg.Extras.SetCreationDate(ctx, id, it.rec.Created)
		it.res.Attempts += n
		if err != nil {
			it.res.Status = Failed
			it.res.Error = record.AddNote(it.res.Error, fmt.Sprintf("opportunity %d was created, but its creation date %s was not set: %v", id, it.rec.Created, err))
		}
	}
	all := mapping.WithTags(it.rec.Tags, cfg.Tags)
	if len(all) == 0 {
		return
	}
	it.tagID, it.addTags = id, all
	// Recorded once the tags were sent, with other rows' (see tagLog): a run that dies before
	// leaves the row's tags unknown, and the next sync adds them all.
	it.tagged, it.tagLater = &state.TagChange{Synced: it.rec.Tags, Added: all, Complete: true}, true
}

// afterUpdate takes off opportunity id the tags the export removed since the last run and
// queues the ones it added, with the run's own; the deal's tags are read first so that an
// undo takes back only what this run changed. It reports whether the deal's tags are to
// change: a sync whose fields are all as the portal holds them has still updated the deal
// when they are.
func afterUpdate(ctx context.Context, cfg *Config, it *item, id int64) (changes bool) {
	l := cfg.Ledger
	if cfg.Extras == nil || l == nil || l.DryRun {
		return false
	}
	last, _, err := l.DB.Tags(ctx, l.Portal, it.key)
	if err != nil {
		fail(it, Fatal(err))
		return false
	}
	now := it.rec.Tags
	add := mapping.WithTags(mapping.WithoutTags(now, last), cfg.Tags)
	remove := mapping.WithoutTags(last, now)
	if len(add)+len(remove) == 0 {
		if len(now) > 0 || len(last) > 0 {
			// Nothing to send, but the spelling the export uses now is the one to remember.
			it.tagged = &state.TagChange{Synced: now, Complete: true}
			setTags(ctx, cfg, it)
		}
		return false
	}
	current, n, err := cfg.Extras.DealTags(ctx, id)
	it.res.Attempts += n
	if err != nil {
		it.res.Status = Failed
		it.res.Error = record.AddNote(it.res.Error, fmt.Sprintf("opportunity %d was updated, but its tags could not be read: %v", id, err))
		return true
	}
	change := &state.TagChange{Synced: append([]string(nil), now...), Added: mapping.WithoutTags(add, current), Complete: true}
	var reasons []string
	for _, t := range remove {
		if !mapping.HasTag(current, t) {
			continue // a portal user took it off already
		}
		n, err := cfg.Extras.RemoveTag(ctx, id, t)
		it.res.Attempts += n
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("%q: %v", t, err))
			change.Synced = append(change.Synced, t) // still there, still to remove
			change.Complete = false
			continue
		}
		change.Removed = append(change.Removed, t)
	}
	if len(reasons) > 0 {
		it.res.Status = Failed
		it.res.Error = record.AddNote(it.res.Error, fmt.Sprintf("opportunity %d was updated; tags not removed: %s", id, strings.Join(reasons, "; ")))
	}
	it.tagged = change
	if len(change.Added) > 0 {
		it.tagID, it.addTags = id, change.Added
	}
	setTags(ctx, cfg, it)
	return len(change.Added)+len(change.Removed)+len(reasons) > 0
}

// tagged takes what became of a row's queued tags, on the ordered output's goroutine: tags
// the portal refused fail the row (which keeps its id) and are recorded as not written, so
// that the next sync writes them again.
func tagged(ctx context.Context, cfg *Config, it *item, o tagging.Outcome) {
	if len(o.Failed) == 0 {
		return
	}
	verb := "created"
	if it.res.Status == Updated {
		verb = "updated"
	}
	it.res.Status = Failed
	it.res.Error = record.AddNote(it.res.Error, fmt.Sprintf("opportunity %d was %s; %s", it.tagID, verb, o.Err))
	if it.tagged == nil {
		return
	}
	it.tagged.Synced = mapping.WithoutTags(it.tagged.Synced, o.Failed)
	it.tagged.Added = o.Added
	it.tagged.Complete = false
	if !it.tagLater {
		setTags(ctx, cfg, it)
	}
}

// tagLog gathers the tag changes of created rows as they leave the tagging stage and
// records them many at a time: one write for many rows where one each would double the
// state database's writes.
type tagLog struct {
	l       *Ledger
	changes map[string]state.TagChange
}

// add takes a row leaving the stage; it returns the state database's error, if a write failed.
func (g *tagLog) add(ctx context.Context, it *item) error {
	if g.l == nil || !it.tagLater || it.tagged == nil {
		return nil
	}
	if g.changes == nil {
		g.changes = map[string]state.TagChange{}
	}
	g.changes[it.key] = *it.tagged
	if len(g.changes) < tagLogBatch {
		return nil
	}
	return g.flush(ctx)
}

func (g *tagLog) flush(ctx context.Context) error {
	if g.l == nil || len(g.changes) == 0 {
		return nil
	}
	err := g.l.DB.SetTagsMany(ctx, g.l.Run, g.l.Portal, g.changes)
	clear(g.changes)
	if err != nil {
		return Fatal(err)
	}
	return nil
}

// tagLogBatch is how many rows' tag changes are recorded in one write.
const tagLogBatch = 256

// setTags records the row's tag change in the state database; failing that, the run stops.
func setTags(ctx context.Context, cfg *Config, it *item) {
	l := cfg.Ledger
	if l == nil || it.tagged == nil {
		return
	}
	if err := l.DB.SetTags(ctx, l.Run, l.Portal, it.key, *it.tagged); err != nil {
		fail(it, Fatal(err))
	}
}

// adoptExtras takes, for a deal an earlier run created and never saw answered (adopted by
// Settle), the steps that run never took: its creation date and its tags, one request each.
// What the portal refuses is logged in the state as tags not written (the next sync writes
// them again); a creation date refused is left, as the deal's own date. The error is the
// state database's.
func adoptExtras(ctx context.Context, l *Ledger, x Extras, run int64, key string, rec mapping.Record, id int64) error {
	if rec.Created != "" {
		x.SetCreationDate(ctx, id, rec.Created) // best effort: the row was reported long ago
	}
	if len(rec.Tags) == 0 {
		return nil
	}
	change := state.TagChange{Complete: true}
	for _, t := range rec.Tags {
		if _, err := x.AddTag(ctx, id, t); err != nil {
			change.Complete = false
			continue
		}
		change.Synced = append(change.Synced, t)
		change.Added = append(change.Added, t)
	}
	return l.DB.SetTags(ctx, run, l.Portal, key, change)
}

// tagPreview says, in a preview (Ledger.DryRun), what a sync would do to the row's tags:
// "" for nothing, or when the run is no preview.
func tagPreview(ctx context.Context, cfg *Config, it *item) string {
	l := cfg.Ledger
	if l == nil || !l.DryRun {
		return ""
	}
	last, _, err := l.DB.Tags(ctx, l.Portal, it.key)
	if err != nil {
		return "its tags cannot be read from the state: " + err.Error()
	}
	var parts []string
	if add := mapping.WithTags(mapping.WithoutTags(it.rec.Tags, last), cfg.Tags); len(add) > 0 {
		parts = append(parts, "tags: would add "+mapping.QuoteTags(add))
	}
	if remove := mapping.WithoutTags(last, it.rec.Tags); len(remove) > 0 {
		parts = append(parts, "tags: would take off "+mapping.QuoteTags(remove))
	}
	return strings.Join(parts, "; ")
}
