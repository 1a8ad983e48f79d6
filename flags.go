package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oppimport/oppimport/record"
	"github.com/oppimport/oppimport/state"
)

// The flag groups, defined once and shared by the commands that take them: a flag is added
// to its group's register method, and every command with that group has it, in its help
// under the group's title. The titles, in the order help shows them:
const (
	groupState      = "State"
	groupRun        = "Run"
	groupConnection = "Connection"
	groupRate       = "Rate"
	groupOutput     = "Output"
	groupLog        = "Terminal and logs"
)

var groupOrder = []string{groupState, groupRun, groupConnection, groupRate, groupOutput, groupLog}

// groupKey is the flag annotation that names a flag's group.
const groupKey = "oppimport_group"

// addGroup defines a group's flags on dst, each marked with the group's title for help.
func addGroup(dst *pflag.FlagSet, title string, define func(fs *pflag.FlagSet)) {
	fs := pflag.NewFlagSet(title, pflag.ContinueOnError)
	fs.SortFlags = false
	define(fs)
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Annotations == nil {
			f.Annotations = map[string][]string{}
		}
		f.Annotations[groupKey] = []string{title}
	})
	dst.AddFlagSet(fs)
}

// stateFlags say where the run's state database is: beside the mapping unless --state.
type stateFlags struct {
	mapping string
	state   string
}

// register adds --mapping and --state.
func (f *stateFlags) register(fs *pflag.FlagSet, mappingUsage string) {
	addGroup(fs, groupState, func(fs *pflag.FlagSet) {
		fs.StringVar(&f.mapping, "mapping", "", mappingUsage)
		fs.StringVar(&f.state, "state", "", "the state database `FILE` (SQLite) that makes re-runs safe (default beside the mapping: M.state.db)")
	})
}

// existing is the path of a state database that must exist already (status, undo, unlock):
// a usage failure without --mapping or --state, nothing done when there is none.
func (f *stateFlags) existing() (string, error) {
	if f.mapping == "" && f.state == "" {
		return "", usagef("give --mapping M.yaml or --state FILE")
	}
	path := f.path()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", nothingf("%s does not exist: no import has run with this mapping yet", path)
	}
	return path, nil
}

// openExisting opens the state database that must exist already, unlocked: for reading it
// (status) or releasing its lock (unlock).
func (f *stateFlags) openExisting() (*state.DB, error) {
	path, err := f.existing()
	if err != nil {
		return nil, err
	}
	db, err := state.Open(path)
	if err != nil {
		return nil, nothingf("%v", err)
	}
	return db, nil
}

// path is --state, or the mapping's name with .state.db beside it.
func (f *stateFlags) path() string {
	if f.state != "" {
		return f.state
	}
	return strings.TrimSuffix(f.mapping, filepath.Ext(f.mapping)) + ".state.db"
}

// runFlags say which rows an import takes and what it does with them.
type runFlags struct {
	mode            enumValue
	onConflict      enumValue
	limit           int
	maxErrors       int
	recreateMissing bool
	tags            tagList
}

func (f *runFlags) register(fs *pflag.FlagSet, dry bool) {
	f.mode = enum("create", "create", "sync")
	f.onConflict = enum(record.ExportWins, record.ExportWins, record.PortalWins)
	addGroup(fs, groupRun, func(fs *pflag.FlagSet) {
		fs.IntVar(&f.limit, "limit", 0, "stop after `N` data rows (default all)")
		mode := "create: rows already imported are skipped; sync: changed rows are merged field by field into the portal's record, unchanged ones left"
		if dry {
			mode = "sync: preview tonight's sync, reading the state database and the portal (needs --url): each row would-create, would-update (every field from what to what) or unchanged"
		}
		fs.Var(&f.mode, "mode", mode)
		fs.Var(&f.onConflict, "on-conflict", "sync: a field both the export and a portal user changed since the last sync takes the export's value (export) or keeps the portal's (portal); the report names it either way")
		fs.BoolVar(&f.recreateMissing, "recreate-missing", false, "sync: create again a deal the portal no longer shows (deleted, or hidden from this user)")
		if dry {
			return
		}
		fs.IntVar(&f.maxErrors, "max-errors", 0, "stop the run after `N` failed rows, not counting invalid ones (default no limit)")
		fs.Var(&f.tags, "tag", "also tag every opportunity this run creates or updates with `NAME` (repeatable), to find the run in the portal's web UI")
	})
}

// askFlags are for the commands that ask before they delete (undo, dedupe): --yes.
type askFlags struct {
	yes bool
}

func (f *askFlags) register(fs *pflag.FlagSet) {
	fs.BoolVarP(&f.yes, "yes", "y", false, "do not ask for confirmation on a terminal")
}

// connFlags say where the portal is and who the run acts as.
type connFlags struct {
	env          func(string) string // where ONLYOFFICE_TOKEN and ONLYOFFICE_PASSWORD are read
	url          string
	token        string
	user         string
	passwordFile string
	allowHTTP    bool
	insecure     bool
}

// register adds the connection flags; their defaults come from getenv.
func (f *connFlags) register(fs *pflag.FlagSet, urlUsage string, getenv func(string) string) {
	f.env = getenv
	addGroup(fs, groupConnection, func(fs *pflag.FlagSet) {
		fs.StringVar(&f.url, "url", getenv("ONLYOFFICE_URL"), urlUsage)
		// The token's default is read when it is used, so that help never shows it.
		fs.StringVar(&f.token, "token", "", "API `TOKEN` (env ONLYOFFICE_TOKEN); or --user and a password")
		fs.StringVar(&f.user, "user", getenv("ONLYOFFICE_USER"), "user `NAME` for POST api/2.0/authentication (env ONLYOFFICE_USER)")
		fs.StringVar(&f.passwordFile, "password-file", "", "`FILE` holding the password (env ONLYOFFICE_PASSWORD holds the password itself)")
		fs.BoolVar(&f.allowHTTP, "allow-http", false, "permit plain http:// to a host that is not loopback (the token would travel in clear)")
		fs.BoolVar(&f.insecure, "insecure-skip-verify", false, "skip TLS certificate checks (a warning on every run)")
	})
}

// rateFlags say how hard the portal is pushed.
type rateFlags struct {
	concurrency string // N or auto
	rate        float64
	burst       int
	retries     int
	timeout     time.Duration
}

// defaultRate is the rate flags' defaults, also for the commands that take none of them
// (validate with --url).
func defaultRate() rateFlags {
	return rateFlags{concurrency: "8", rate: 40, burst: 1, retries: 5, timeout: 30 * time.Second}
}

// register adds the rate flags; --concurrency only for the commands that send requests in
// parallel.
func (f *rateFlags) register(fs *pflag.FlagSet, concurrency bool) {
	d := defaultRate()
	addGroup(fs, groupRate, func(fs *pflag.FlagSet) {
		if concurrency {
			fs.StringVar(&f.concurrency, "concurrency", d.concurrency, "requests in flight at once: `N`, or auto to size them from the rate and the latency observed")
		}
		fs.Float64Var(&f.rate, "rate", d.rate, "`R` requests per second at most; the cloud allows 50")
		fs.IntVar(&f.burst, "burst", d.burst, "rate limiter bucket size `B`")
		fs.IntVar(&f.retries, "retries", d.retries, "`N` retries of one row on 429, 503, other 5xx and network errors; never on 400-404")
		fs.DurationVar(&f.timeout, "timeout", d.timeout, "one request's time limit `D`")
	})
}

// outputFlags say where the report and the rejects go.
type outputFlags struct {
	report  string
	rejects string
}

func (f *outputFlags) register(fs *pflag.FlagSet, reportUsage string, rejects bool) {
	addGroup(fs, groupOutput, func(fs *pflag.FlagSet) {
		fs.StringVar(&f.report, "report", "", reportUsage)
		if rejects {
			fs.StringVar(&f.rejects, "rejects", "", "`FILE` for the invalid and failed rows in the input's own columns plus error (default beside the report)")
		}
	})
}

// logFlags say what stderr shows: the progress, the log's format and level, or, with
// --quiet, only errors and the summary.
type logFlags struct {
	progress enumValue
	format   enumValue
	level    enumValue
	quiet    bool
}

// register adds the log flags; --progress only for the commands that show progress.
func (f *logFlags) register(fs *pflag.FlagSet, progress bool) {
	f.progress = enum("auto", "auto", "always", "never")
	f.format = enum("text", "text", "json")
	f.level = enum("info", "debug", "info", "warn", "error")
	addGroup(fs, groupLog, func(fs *pflag.FlagSet) {
		if progress {
			fs.Var(&f.progress, "progress", "progress on stderr: auto shows a bar on a terminal and logs a line every 10 s otherwise")
		}
		fs.Var(&f.format, "log-format", "logs on stderr: text (sentences on a terminal) or json (every line one JSON object)")
		fs.Var(&f.level, "log-level", "how much is logged; even debug never shows a secret")
		fs.BoolVarP(&f.quiet, "quiet", "q", false, "only errors and the summary on stderr")
	})
}

// enumValue is a flag that takes one of a few words; its error lists them.
type enumValue struct {
	value   string
	allowed []string
}

func enum(def string, allowed ...string) enumValue {
	return enumValue{value: def, allowed: allowed}
}

func (e *enumValue) String() string { return e.value }

// Type is the value's name in help: the words it takes, "auto|always|never".
func (e *enumValue) Type() string { return strings.Join(e.allowed, "|") }

func (e *enumValue) Set(s string) error {
	if !slices.Contains(e.allowed, s) {
		return fmt.Errorf("want %s", orList(e.allowed))
	}
	e.value = s
	return nil
}

// orList words a list of choices: "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// completeFlags registers the shell completion of a command's enum flags and file flags.
func completeFlags(c *cobra.Command) {
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if e, ok := f.Value.(*enumValue); ok {
			words := e.allowed
			c.RegisterFlagCompletionFunc(f.Name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return words, cobra.ShellCompDirectiveNoFileComp
			})
		}
	})
	if c.Flags().Lookup("mapping") != nil {
		c.MarkFlagFilename("mapping", "yaml", "yml")
	}
	if c.Flags().Lookup("state") != nil {
		c.MarkFlagFilename("state", "db")
	}
	if c.Flags().Lookup("report") != nil {
		c.MarkFlagFilename("report", "csv", "json", "xlsx")
	}
}
