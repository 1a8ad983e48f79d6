package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

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

// dedupeFlags are the import flags that a dedupe takes too, by name.
var dedupeFlags = []string{"mapping", "state", "url", "token", "user", "password-file", "rate",
	"burst", "retries", "timeout", "log-format", "log-level", "allow-http", "insecure-skip-verify"}

func runDedupe(args []string, ios streams) int {
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(ios.err, "oppimport dedupe: %s\n", fmt.Sprintf(format, a...))
		return code
	}
	flags := newFlagSet("dedupe", dedupeSynopsis, ios.err)
	var o importOptions
	all := flag.NewFlagSet("import", flag.ContinueOnError)
	o.register(all, false)
	for _, name := range dedupeFlags {
		f := all.Lookup(name)
		flags.Var(f.Value, name, f.Usage)
	}
	dry := flags.Bool("dry-run", false, "list the copies that would be deleted; delete nothing")
	yes := flags.Bool("yes", false, "do not ask for confirmation on a terminal")
	pos, err := parseFlags(flags, args)
	if err != nil {
		return flagExit(err)
	}
	switch {
	case len(pos) != 0:
		return fail(exitNothing, "unexpected argument %q", pos[0])
	case o.mapping == "":
		return fail(exitNothing, "--mapping M.yaml is required: its key_field names the custom field that holds the keys")
	case o.url == "":
		return fail(exitNothing, "--url (or ONLYOFFICE_URL) is required; nothing was deleted")
	}
	log, err := newLogger(ios.err, o.logFormat, o.logLevel)
	if err != nil {
		return fail(exitNothing, "%v", err)
	}
	m, err := mapping.Load(o.mapping)
	if err != nil {
		return fail(exitNothing, "the mapping has errors; nothing was deleted:\n%v", err)
	}
	if m.KeyField == "" {
		return fail(exitNothing, "%s has no key_field: without it the portal does not say which row a deal came from; nothing was deleted", o.mapping)
	}
	p, code, err := undoConnect(&o, log)
	if err != nil {
		return fail(code, "%v; nothing was deleted", err)
	}
	defer p.client.CloseIdleConnections()
	ctx := context.Background()
	def, found, err := findKeyField(ctx, p.client, m.KeyField)
	switch {
	case err != nil:
		return fail(exitStopped, "%v; nothing was deleted", err)
	case !found:
		fmt.Fprintf(ios.out, "the portal has no opportunity custom field %q: no deal holds a key, nothing to do\n", m.KeyField)
		return exitOK
	}

	db, err := openState(o.statePath(), log)
	if err != nil {
		return fail(exitNothing, "%v; nothing was deleted", err)
	}
	defer db.Close()
	if err := db.CheckKey(ctx, state.KeyDef{Columns: m.Key, Field: m.KeyField}); err != nil {
		return fail(exitNothing, "%v; nothing was deleted", err)
	}
	portal := state.Portal(o.url)
	soft, _, stopSignals := signalContexts(ctx, ios, log)
	defer stopSignals()

	// First the list, as the dry run gives it: what is asked about is what is shown.
	cfg := dedupe.Config{DB: db, Portal: portal, FieldID: def.ID, Client: p.client, DryRun: true}
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
		return fail(exitStopped, "%v; nothing was deleted", err)
	}
	copies := st.Counts[dedupe.WouldDelete]
	if copies == 0 {
		fmt.Fprintf(ios.out, "no two deals hold one key (%s read in %s)\n", plural(st.Requests, "request"), st.Elapsed.Round(time.Millisecond))
		return exitOK
	}
	fmt.Fprintf(ios.out, "%d keys held by more than one deal: %d later copies to delete, the oldest of each kept\n", st.Keys, copies)
	if *dry {
		return exitOK
	}
	if !*yes && ios.errIsTTY && stdinIsTerminal(ios) {
		fmt.Fprintf(ios.err, "Delete these %d copies? Their records are kept for oppimport undo. [y/N] ", copies)
		answer, _ := bufio.NewReader(ios.in).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return fail(exitNothing, "nothing was deleted")
		}
	}

	run, err := db.StartRun(ctx, state.Run{Portal: portal, Input: o.mapping, Mode: "dedupe"})
	if err != nil {
		return fail(exitNothing, "%v; nothing was deleted", err)
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
	fmt.Fprintf(ios.err, "run %d (dedupe) finished in %s: %d deleted, %d kept, %d failed, %d gone already\n", run,
		st.Elapsed.Round(100*time.Millisecond), st.Counts[dedupe.Deleted], st.Counts[dedupe.Kept], st.Counts[dedupe.Failed], st.Counts[dedupe.Gone])
	switch {
	case stopped != "":
		return fail(exitStopped, "stopped early: %s", stopped)
	case st.Counts[dedupe.Failed] > 0:
		return exitRows
	}
	return exitOK
}

func stdinIsTerminal(ios streams) bool {
	f, ok := ios.in.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
