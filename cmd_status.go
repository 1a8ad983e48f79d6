package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/progress"
	"github.com/oppimport/oppimport/state"
)

const statusSynopsis = `
Usage: oppimport status [--mapping M.yaml | --state FILE] [--run N] [--json]

What the state database knows: where it is, every run with its counts, and the rows in doubt
(a create was sent and its answer lost, and the portal holds several candidates, or could not
be asked) with the candidate opportunity ids. With --run N, what run N did to each row. With
--json, the same as one JSON object on stdout, for scripts.

Examples:
  oppimport status --mapping deals.yaml
  oppimport status --state deals.state.db --run 3
  oppimport status --mapping deals.yaml --json | jq '.runs[-1].counts'

Exit codes: 0 shown; 2 bad flags, no state database, or no such run.
`

type statusOptions struct {
	state stateFlags
	run   int64
	json  bool
}

func newStatusCmd(a *app) *cobra.Command {
	o := &statusOptions{}
	c := command("status [--mapping M.yaml | --state FILE] [--run N]", "runs, counts and rows in doubt from the state database",
		statusSynopsis, func() error { return runStatus(a, o) })
	fs := c.Flags()
	o.state.register(fs, "the mapping `FILE`: its state database lies beside it")
	fs.Int64Var(&o.run, "run", 0, "list what run `N` did to each row")
	fs.BoolVar(&o.json, "json", false, "write one JSON object to stdout")
	return c
}

func runStatus(a *app, o *statusOptions) error {
	db, err := o.state.openExisting()
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	holder, held, live, err := db.Holder(ctx)
	if err != nil {
		return nothingf("%v", err)
	}
	running := held && live
	if n := db.LeftoverWAL(); n > 0 && !running {
		fmt.Fprintf(a.ios.err, "warning: %s-wal (%d bytes) was left beside the state database with no run holding it: "+
			"the last run died before folding its journal into the file. It is folded in now; a copy of the file made "+
			"before now without its -wal misses those changes.\n", db.Path(), n)
	}
	// A run without an end is running when it holds the lock and its process lives.
	runningRun := int64(0)
	if running {
		runningRun = holder.RunID
	}
	if o.run > 0 {
		return statusRun(ctx, a, db, o, runningRun)
	}
	runs, err := db.Runs(ctx)
	if err != nil {
		return nothingf("%v", err)
	}
	doubt, err := db.InDoubt(ctx)
	if err != nil {
		return nothingf("%v", err)
	}
	for i, r := range runs {
		if r.Ended.IsZero() && r.Counts == nil {
			// What the journal shows it did; "pending": sent, answer never recorded.
			if runs[i].Counts, err = db.JournalCounts(ctx, r.ID); err != nil {
				return nothingf("%v", err)
			}
		}
	}
	if o.json {
		out := statusJSON{State: db.Path(), Runs: []runJSON{}, InDoubt: []doubtJSON{}}
		for _, r := range runs {
			out.Runs = append(out.Runs, jsonRun(r, runningRun))
		}
		for _, r := range doubt {
			out.InDoubt = append(out.InDoubt, doubtJSON{Key: mapping.ShowKey(r.Key), Run: r.IntentRun, SentAt: r.IntentAt,
				Candidates: append([]int64{}, r.Candidates...), Why: r.Doubt})
		}
		return writeJSON(a, out)
	}
	statusText(a.ios.out, db.Path(), runs, doubt, runningRun)
	return nil
}

// statusText is status as a person reads it: the runs, then the rows in doubt.
func statusText(w io.Writer, path string, runs []state.Run, doubt []state.Row, runningRun int64) {
	fmt.Fprintf(w, "state: %s\n\n", path)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tstarted\tmode\tinput\tportal\telapsed\toutcome")
	for _, r := range runs {
		elapsed := runState(r, runningRun)
		if elapsed == "finished" {
			elapsed = progress.Measured(r.Ended.Sub(r.Started)).String()
		}
		outcome := counts(r.Counts)
		if r.Stopped != "" {
			outcome += "; stopped: " + r.Stopped
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Started.Local().Format("2006-01-02 15:04:05"),
			r.Mode, r.Input, r.Portal, elapsed, outcome)
	}
	tw.Flush()
	if len(runs) == 0 {
		fmt.Fprintln(w, "no runs yet")
	}
	if len(doubt) == 0 {
		fmt.Fprintln(w, "\nno rows in doubt")
		return
	}
	fmt.Fprintf(w, "\n%s in doubt: a create was sent and its answer lost; they are never posted again until settled.\n", plural(len(doubt), "row"))
	fmt.Fprintln(w, "Check the candidates on the portal, delete the extra ones, and run the import again: it adopts a single match.")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "key\trun\tsent at\tcandidates\twhy")
	for _, r := range doubt {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%v\t%s\n", mapping.ShowKey(r.Key), r.IntentRun, r.IntentAt.Local().Format("2006-01-02 15:04:05"), r.Candidates, r.Doubt)
	}
	tw.Flush()
}

// statusJSON is status --json: the state database, its runs and the rows in doubt.
type statusJSON struct {
	State   string      `json:"state"`
	Runs    []runJSON   `json:"runs"`
	InDoubt []doubtJSON `json:"in_doubt"`
}

type runJSON struct {
	Run            int64          `json:"run"`
	State          string         `json:"state"` // finished, running or died
	Mode           string         `json:"mode"`  // create, sync or undo, as in the table
	UndoOf         int64          `json:"undo_of,omitempty"`
	Input          string         `json:"input"`
	Portal         string         `json:"portal"`
	Started        time.Time      `json:"started"`
	Ended          *time.Time     `json:"ended"` // null: still running, or it died
	ElapsedSeconds *float64       `json:"elapsed_seconds"`
	Counts         map[string]int `json:"counts"`
	Stopped        string         `json:"stopped"`
}

type doubtJSON struct {
	Key        string    `json:"key"`
	Run        int64     `json:"run"`
	SentAt     time.Time `json:"sent_at"`
	Candidates []int64   `json:"candidates"`
	Why        string    `json:"why"`
}

type runRowJSON struct {
	Row           *int   `json:"row"` // the input row as the spreadsheet shows it; null if not recorded
	Key           string `json:"key"`
	Title         string `json:"title"`
	Outcome       string `json:"outcome"`
	OpportunityID *int64 `json:"opportunity_id"`
}

// runState says whether run r finished, is running (runningRun, the lock's holder, whose
// process lives) or died.
func runState(r state.Run, runningRun int64) string {
	switch {
	case !r.Ended.IsZero():
		return "finished"
	case r.ID == runningRun:
		return "running"
	}
	return "died"
}

func jsonRun(r state.Run, runningRun int64) runJSON {
	out := runJSON{Run: r.ID, State: runState(r, runningRun), Mode: r.Mode, UndoOf: r.UndoOf, Input: r.Input, Portal: r.Portal, Started: r.Started,
		Counts: r.Counts, Stopped: r.Stopped}
	if out.Counts == nil {
		out.Counts = map[string]int{}
	}
	if !r.Ended.IsZero() {
		ended := r.Ended
		secs := r.Ended.Sub(r.Started).Seconds()
		out.Ended, out.ElapsedSeconds = &ended, &secs
	}
	return out
}

func writeJSON(a *app, v any) error {
	enc := json.NewEncoder(a.ios.out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nothingf("writing the status: %v", err)
	}
	return nil
}

// statusRun lists what one run did to each row, in input order, with the title it sent.
func statusRun(ctx context.Context, a *app, db *state.DB, o *statusOptions, runningRun int64) error {
	run, ok, err := db.Run(ctx, o.run)
	if err != nil {
		return nothingf("%v", err)
	}
	if !ok {
		return nothingf("%s has no run %d", db.Path(), o.run)
	}
	var rows []runRowJSON
	err = db.RunRows(ctx, o.run, func(r state.RunRow) error {
		row := runRowJSON{Key: mapping.ShowKey(r.Key), Title: r.Title, Outcome: r.Outcome}
		if row.Title == "" {
			row.Title = sentTitle(r.Sent) // a row recorded before the state kept titles
		}
		if r.InputRow != 0 {
			row.Row = new(r.InputRow)
		}
		if r.OpportunityID != 0 {
			row.OpportunityID = new(r.OpportunityID)
		}
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return nothingf("%v", err)
	}
	if o.json {
		if rows == nil {
			rows = []runRowJSON{}
		}
		return writeJSON(a, struct {
			State string       `json:"state"`
			Run   runJSON      `json:"run"`
			Rows  []runRowJSON `json:"rows"`
		}{db.Path(), jsonRun(run, runningRun), rows})
	}
	w := a.ios.out
	fmt.Fprintf(w, "run %d: %s of %s into %s, started %s: %s\n\n", run.ID, run.Mode, run.Input, run.Portal,
		run.Started.Local().Format("2006-01-02 15:04:05"), counts(run.Counts))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "row\tkey\toutcome\topportunity_id\ttitle")
	for _, r := range rows {
		id, n := "", ""
		if r.OpportunityID != nil {
			id = fmt.Sprint(*r.OpportunityID)
		}
		if r.Row != nil {
			n = fmt.Sprint(*r.Row)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n, r.Key, r.Outcome, id, r.Title)
	}
	tw.Flush()
	return nil
}

// sentTitle is the title in a body the run sent, "" when none.
func sentTitle(sent []byte) string {
	var rec struct{ Title string }
	if len(sent) == 0 || json.Unmarshal(sent, &rec) != nil {
		return ""
	}
	return rec.Title
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
