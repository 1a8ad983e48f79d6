package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oppimport/oppimport/dedupe"
	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/state"
)

const dedupeSynopsis = `
Usage: oppimport dedupe --mapping M.yaml [--url URL] [--token TOKEN] [--dry-run] [--yes] [flags]

Finds the opportunities on the portal that hold one row key in the mapping's key_field (two
runs at once on two state databases, an old web import run twice, creates a proxy answered
for after the portal had acted), keeps the oldest of each key (the first the portal made)
and deletes the later copies, each after keeping its record in the state database. It is a
run like any other: oppimport status shows it. It lists every deal first (key, id, created,
title, what becomes of it) and, on a terminal, asks before deleting anything.

Examples:
  oppimport dedupe --mapping deals.yaml --dry-run   # list the copies, delete nothing
  oppimport dedupe --mapping deals.yaml --yes       # from a script: no question

Exit codes: 0 no copies, or every copy deleted; 1 some copies left (see the list); 2 nothing
was deleted (bad flags, no key_field, the state locked, the question answered no); 3
stopped early (the portal refused or could not be reached, interrupted).
`

// dedupeOptions are the flags of dedupe, by group, and its own.
type dedupeOptions struct {
	state stateFlags
	conn  connFlags
	rate  rateFlags
	log   logFlags
	dry   bool
	ask   askFlags
}

func newDedupeCmd(a *app) *cobra.Command {
	o := &dedupeOptions{rate: defaultRate()}
	c := command("dedupe --mapping M.yaml [flags]", "delete the later copies of deals that share one key_field value",
		dedupeSynopsis, func() error { return runDedupe(a, o) })
	fs := c.Flags()
	fs.BoolVar(&o.dry, "dry-run", false, "list the copies that would be deleted; delete nothing")
	o.ask.register(fs)
	o.state.register(fs, "the mapping `FILE`: its key_field names the custom field that holds the keys")
	o.conn.register(fs, "portal base `URL` (env ONLYOFFICE_URL)", a.ios.getenv)
	o.rate.register(fs, false)
	o.log.register(fs, false)
	return c
}

func runDedupe(a *app, o *dedupeOptions) error {
	ios := a.ios
	switch {
	case o.state.mapping == "":
		return usagef("--mapping M.yaml is required: its key_field names the custom field that holds the keys")
	case o.conn.url == "":
		return usagef("--url (or ONLYOFFICE_URL) is required; nothing was deleted")
	}
	log := a.setupLog(o.log)
	m, err := mapping.Load(o.state.mapping)
	if err != nil {
		return nothingf("the mapping has errors; nothing was deleted:\n%v", err)
	}
	if m.KeyField == "" {
		return nothingf("%s has no key_field: without it the portal does not say which row a deal came from; nothing was deleted", o.state.mapping)
	}
	ctx := context.Background()
	conn, err := connect(ctx, o.conn, o.rate, log, probeStages)
	if err != nil {
		return nothingDone(err, "nothing was deleted")
	}
	p := conn.poster
	defer p.client.CloseIdleConnections()
	def, found, err := findKeyField(ctx, p.client, m.KeyField)
	switch {
	case err != nil:
		return stoppedf("%v; nothing was deleted", err)
	case !found:
		fmt.Fprintf(ios.out, "the portal has no opportunity custom field %q: no deal holds a key, nothing to do\n", m.KeyField)
		return nil
	}

	db, err := openState(o.state.path(), log)
	if err != nil {
		return nothingf("%v; nothing was deleted", err)
	}
	defer db.Close()
	if err := db.CheckKey(ctx, state.KeyDef{Columns: m.Key, Field: m.KeyField}); err != nil {
		return nothingf("%v; nothing was deleted", err)
	}
	portal := state.Portal(o.conn.url)
	soft, hard, stopSignals := signalContexts(ctx, ios, log)
	defer stopSignals()

	// First the list, as the dry run gives it: what is asked about is what is shown.
	cfg := dedupe.Config{DB: db, Portal: portal, FieldID: def.ID, Client: p.client, DryRun: true,
		Concurrency: max(conn.workers, 1), Abort: hard}
	w := tabwriter.NewWriter(ios.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "key\topportunity_id\tcreated\ttitle\tstatus\terror")
	show := func(r dedupe.Result) {
		created := ""
		if !r.Created.IsZero() {
			created = r.Created.Local().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", r.Key, r.OpportunityID, created, r.Title, r.Status, r.Error)
	}
	cfg.OnResult = show
	st, err := dedupe.Run(soft, cfg)
	w.Flush()
	if err != nil {
		return stoppedf("%v; nothing was deleted", err)
	}
	copies := st.Counts[dedupe.WouldDelete]
	if copies == 0 {
		fmt.Fprintf(ios.out, "no two deals hold one key (%s read in %s)\n", plural(st.Requests, "request"), st.Elapsed.Round(time.Millisecond))
		return nil
	}
	fmt.Fprintf(ios.out, "%d keys held by more than one deal: %d later copies to delete, the oldest of each kept\n", st.Keys, copies)
	if o.dry {
		return nil
	}
	if err := a.ask(o.ask, fmt.Sprintf("Delete these %d copies? Their records are kept for oppimport undo.", copies)); err != nil {
		return nothingf("nothing was deleted")
	}

	run, err := db.StartRun(ctx, state.Run{Portal: portal, Input: o.state.mapping, Mode: "dedupe"})
	if err != nil {
		return nothingf("%v; nothing was deleted", err)
	}
	cfg.DryRun, cfg.Run = false, run
	w = tabwriter.NewWriter(ios.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "\nkey\topportunity_id\tcreated\ttitle\tstatus\terror")
	cfg.OnResult = show
	st, err = dedupe.Run(soft, cfg)
	w.Flush()
	stopped := ""
	if err != nil {
		stopped = err.Error()
		if errors.Is(err, context.Canceled) {
			stopped = "interrupted"
		}
	}
	if ferr := db.FinishRun(context.Background(), run, st.Counts, time.Now(), stopped); ferr != nil {
		log.Error("recording the end of the run", "error", ferr)
	}
	a.say(fmt.Sprintf("run %d (dedupe) finished in %s: %d deleted, %d kept, %d failed, %d gone already", run,
		st.Elapsed.Round(100*time.Millisecond), st.Counts[dedupe.Deleted], st.Counts[dedupe.Kept], st.Counts[dedupe.Failed], st.Counts[dedupe.Gone]),
		slog.Any("counts", st.Counts))
	switch {
	case stopped != "":
		return stoppedf("stopped early: %s", stopped)
	case st.Counts[dedupe.Failed] > 0:
		return errRows
	}
	return nil
}

// plural is "1 row", "2 rows".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
