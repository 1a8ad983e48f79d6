package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/state"
)

const statusSynopsis = `
Usage: oppimport status [--mapping M.yaml | --state FILE] [--run N]

What the state database knows: where it is, every run with its counts, and the rows in doubt
(a create was sent and its answer lost, and the portal holds several candidates, or could not
be asked) with the candidate opportunity ids. With --run N, what run N did to each row.

Examples:
  oppimport status --mapping deals.yaml
  oppimport status --state deals.state.db --run 3

Exit codes: 0 shown; 2 bad flags, no state database, or no such run.
`

func runStatus(args []string, ios streams) int {
	flags := newFlagSet("status", statusSynopsis, ios.err)
	var o importOptions
	flags.StringVar(&o.mapping, "mapping", "", "the mapping `FILE`: its state database lies beside it")
	flags.StringVar(&o.state, "state", "", "the state database `FILE`")
	runN := flags.Int64("run", 0, "list what run `N` did to each row")
	pos, err := parseFlags(flags, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 0 || (o.mapping == "" && o.state == "") {
		fmt.Fprintln(ios.err, "oppimport status: give --mapping M.yaml or --state FILE")
		return exitNothing
	}
	path := o.statePath()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(ios.err, "oppimport status: %s does not exist: no import has run with this mapping yet\n", path)
		return exitNothing
	}
	db, err := state.Open(path)
	if err != nil {
		fmt.Fprintf(ios.err, "oppimport status: %v\n", err)
		return exitNothing
	}
	defer db.Close()
	ctx := context.Background()
	if *runN > 0 {
		return statusRun(ctx, db, *runN, ios)
	}

	runs, err := db.Runs(ctx)
	if err != nil {
		fmt.Fprintf(ios.err, "oppimport status: %v\n", err)
		return exitNothing
	}
	holder, held, live, err := db.Holder(ctx)
	if err != nil {
		fmt.Fprintf(ios.err, "oppimport status: %v\n", err)
		return exitNothing
	}
	running := held && live
	if n := db.LeftoverWAL(); n > 0 && !running {
		fmt.Fprintf(ios.err, "warning: %s-wal (%d bytes) was left beside the state database with no run holding it: "+
			"the last run died before folding its journal into the file. It is folded in now; a copy of the file made "+
			"before now without its -wal misses those changes.\n", db.Path(), n)
	}
	fmt.Fprintf(ios.out, "state: %s\n\n", db.Path())
	w := tabwriter.NewWriter(ios.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "run\tstarted\tmode\tinput\tportal\telapsed\toutcome")
	for _, r := range runs {
		var elapsed string
		switch {
		case !r.Ended.IsZero():
			elapsed = r.Ended.Sub(r.Started).Round(100 * time.Millisecond).String()
		case running && holder.RunID == r.ID:
			elapsed = "running"
		default:
			elapsed = "died"
		}
		if r.Ended.IsZero() && r.Counts == nil {
			// What the journal shows it did; "pending": sent, answer never recorded.
			if r.Counts, err = db.JournalCounts(ctx, r.ID); err != nil {
				fmt.Fprintf(ios.err, "oppimport status: %v\n", err)
				return exitNothing
			}
		}
		outcome := counts(r.Counts)
		if r.Stopped != "" {
			outcome += "; stopped: " + r.Stopped
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Started.Local().Format("2006-01-02 15:04:05"),
			r.Mode, r.Input, r.Portal, elapsed, outcome)
	}
	w.Flush()
	if len(runs) == 0 {
		fmt.Fprintln(ios.out, "no runs yet")
	}

	doubt, err := db.InDoubt(ctx)
	if err != nil {
		fmt.Fprintf(ios.err, "oppimport status: %v\n", err)
		return exitNothing
	}
	if len(doubt) == 0 {
		fmt.Fprintln(ios.out, "\nno rows in doubt")
		return exitOK
	}
	fmt.Fprintf(ios.out, "\n%d rows in doubt: a create was sent and its answer lost; they are never posted again until settled.\n", len(doubt))
	fmt.Fprintln(ios.out, "Check the candidates on the portal, delete the extra ones, and run the import again: it adopts a single match.")
	w = tabwriter.NewWriter(ios.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "key\trun\tsent at\tcandidates\twhy")
	for _, r := range doubt {
		fmt.Fprintf(w, "%s\t%d\t%s\t%v\t%s\n", mapping.ShowKey(r.Key), r.IntentRun, r.IntentAt.Local().Format("2006-01-02 15:04:05"), r.Candidates, r.Doubt)
	}
	w.Flush()
	return exitOK
}

// statusRun lists what one run did to each row.
func statusRun(ctx context.Context, db *state.DB, n int64, ios streams) int {
	run, ok, err := db.Run(ctx, n)
	if err != nil {
		fmt.Fprintf(ios.err, "oppimport status: %v\n", err)
		return exitNothing
	}
	if !ok {
		fmt.Fprintf(ios.err, "oppimport status: %s has no run %d\n", db.Path(), n)
		return exitNothing
	}
	fmt.Fprintf(ios.out, "run %d: %s of %s into %s, started %s: %s\n\n", run.ID, run.Mode, run.Input, run.Portal,
		run.Started.Local().Format("2006-01-02 15:04:05"), counts(run.Counts))
	w := tabwriter.NewWriter(ios.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "key\toutcome\topportunity_id")
	err = db.RunRows(ctx, n, func(r state.RunRow) error {
		id := ""
		if r.OpportunityID != 0 {
			id = fmt.Sprint(r.OpportunityID)
		}
		_, err := fmt.Fprintf(w, "%s\t%s\t%s\n", mapping.ShowKey(r.Key), r.Outcome, id)
		return err
	})
	w.Flush()
	if err != nil {
		fmt.Fprintf(ios.err, "oppimport status: %v\n", err)
		return exitNothing
	}
	return exitOK
}

// counts words a run's counts, in the report's order of statuses.
func counts(c map[string]int) string {
	var parts []string
	for _, s := range []string{"created", "updated", "unchanged", "skipped", "deleted", "restored", "invalid", "failed", "valid", state.Pending} {
		if c[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[s], s))
		}
	}
	if len(parts) == 0 {
		return "nothing recorded"
	}
	return strings.Join(parts, ", ")
}
