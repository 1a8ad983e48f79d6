package undo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/oppimport/oppimport/importer"
	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/onlyoffice"
	"github.com/oppimport/oppimport/record"
	"github.com/oppimport/oppimport/state"
)

// Tagger is what an undo needs of the portal to take back what a run did to a deal's tags;
// a Portal that is one too gets its tags restored with its fields. Both calls may be sent
// twice without harm.
type Tagger interface {
	AddTag(ctx context.Context, id int64, tag string) (attempts int, err error)
	RemoveTag(ctx context.Context, id int64, tag string) (attempts int, err error)
}

// untag takes back what run cfg.Of did to the tags of the deal res restored: it takes off
// the tags the run added (its --tag too) and puts back the ones it removed, and the state
// remembers the export's tags as they were before the run. Tags the portal refused fail the
// row; the deal keeps its restored fields.
func untag(ctx context.Context, cfg *Config, res Result) Result {
	t, ok := cfg.Client.(Tagger)
	if !ok || res.Status != Restored {
		return res
	}
	rt, found, err := cfg.DB.RunTags(ctx, cfg.Of, res.Key)
	if err != nil {
		return failure(res, importer.Fatal(err))
	}
	if !found || len(rt.Added)+len(rt.Removed) == 0 {
		return res
	}
	change := state.TagChange{Synced: rt.Prev, Complete: true}
	var reasons []string
	for _, tag := range rt.Added {
		n, err := t.RemoveTag(ctx, res.OpportunityID, tag)
		res.Attempts += n
		var apiErr *onlyoffice.APIError
		switch {
		case err == nil, errors.As(err, &apiErr) && apiErr.StatusCode == 404:
			// 404: the portal knows the tag no more; the deal was just read, it is there.
			change.Removed = append(change.Removed, tag)
		default:
			reasons = append(reasons, fmt.Sprintf("%q not taken off: %v", tag, err))
		}
	}
	for _, tag := range rt.Removed {
		n, err := t.AddTag(ctx, res.OpportunityID, tag)
		res.Attempts += n
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("%q not put back: %v", tag, err))
			continue
		}
		change.Added = append(change.Added, tag)
	}
	change.Complete = len(reasons) == 0
	if err := cfg.DB.SetTags(context.WithoutCancel(ctx), cfg.Run, cfg.Portal, res.Key, change); err != nil {
		return failure(res, importer.Fatal(err))
	}
	if len(reasons) > 0 {
		res.Status = Failed
		res.Error = record.AddNote(res.Error, "fields restored, but tags: "+strings.Join(reasons, "; "))
	}
	return res
}

// wouldUntag says, for a dry run, what an undo would do to the row's tags: "" for nothing.
func wouldUntag(ctx context.Context, cfg *Config, key string) string {
	rt, found, err := cfg.DB.RunTags(ctx, cfg.Of, key)
	if err != nil {
		return "its tags cannot be read: " + err.Error()
	}
	if !found {
		return ""
	}
	var parts []string
	if len(rt.Added) > 0 {
		parts = append(parts, "would take off tags "+mapping.QuoteTags(rt.Added))
	}
	if len(rt.Removed) > 0 {
		parts = append(parts, "would put back tags "+mapping.QuoteTags(rt.Removed))
	}
	return strings.Join(parts, "; ")
}

// untagOnly takes back what run cfg.Of did to a deal's tags when it changed nothing else of
// the deal (a sync whose fields the portal held already); ok is false when the run did not
// change the deal's tags either.
func untagOnly(ctx context.Context, cfg *Config, rr state.RunRow, res Result) (Result, bool) {
	if rr.Outcome != importer.Updated || rr.OpportunityID <= 0 {
		return res, false
	}
	rt, found, err := cfg.DB.RunTags(ctx, cfg.Of, rr.Key)
	if err != nil {
		return failure(res, importer.Fatal(err)), true
	}
	if !found || len(rt.Added)+len(rt.Removed) == 0 {
		return res, false
	}
	if cfg.DryRun || cfg.Client == nil {
		res.Status, res.Error = WouldRestore, wouldUntag(ctx, cfg, rr.Key)
		return res, true
	}
	res = answered(ctx, cfg, res, state.Answer{OpportunityID: rr.OpportunityID, Outcome: Restored, Hash: rr.PrevHash}, Restored, "")
	return untag(ctx, cfg, res), true
}
