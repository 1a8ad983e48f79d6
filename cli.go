package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/progress"
)

// Exit codes, as PRODUCT.md and every command's help give them.
const (
	exitOK      = 0 // every row created, updated, unchanged or already done
	exitRows    = 1 // the run finished, and some rows are invalid or failed
	exitNothing = 2 // nothing was posted: bad flags, unreadable mapping or input, mapping errors
	exitStopped = 3 // the run stopped early; report holds what was done
)

const exitCodesHelp = `Exit codes:
  0  every row created, updated, unchanged or already done (validate: every row valid)
  1  the run finished, and some rows are invalid or failed: see the report
  2  nothing was posted: bad flags, unreadable mapping or input, mapping errors,
     state database locked by another run
  3  the run stopped early: authentication refused, portal unreachable after retries,
     --max-errors reached, interrupted; the report holds what was done
`

// failure is how a command's run function says it failed: its kind decides the exit code,
// in exitCode's one switch, and err what the user is told ("" when the command has said
// it already, as a run that ends with bad rows has, in its summary).
type failure struct {
	kind failKind
	err  error
}

type failKind int

const (
	failRows    failKind = iota + 1 // the run finished with invalid or failed rows
	failUsage                       // bad flags or arguments: the message points at --help
	failNothing                     // nothing was posted (or changed)
	failStopped                     // the run stopped early
)

func (f *failure) Error() string {
	if f.err == nil {
		return ""
	}
	return f.err.Error()
}

func (f *failure) Unwrap() error { return f.err }

func usagef(format string, a ...any) error {
	return &failure{failUsage, fmt.Errorf(format, a...)}
}

func nothingf(format string, a ...any) error {
	return &failure{failNothing, fmt.Errorf(format, a...)}
}

func stoppedf(format string, a ...any) error {
	return &failure{failStopped, fmt.Errorf(format, a...)}
}

// nothingDone adds what was left undone to err ("nothing was posted"), keeping a failure's
// kind; any other error is a failure of kind failNothing.
func nothingDone(err error, what string) error {
	var f *failure
	if errors.As(err, &f) {
		return &failure{f.kind, fmt.Errorf("%v; %s", f.err, what)}
	}
	return nothingf("%v; %s", err, what)
}

// codeFailure is err as a failure of the kind that exit code code means, for the helpers
// that say why they failed by an exit code (identity.go).
func codeFailure(code int, err error) error {
	switch code {
	case exitOK:
		return nil
	case exitStopped:
		return &failure{failStopped, err}
	case exitRows:
		return &failure{failRows, err}
	}
	return &failure{failNothing, err}
}

// errRows ends a run whose summary has said that rows are invalid or failed.
var errRows = &failure{kind: failRows}

// exitCode is the one place where errors become exit codes.
func exitCode(err error) int {
	var f *failure
	switch {
	case err == nil:
		return exitOK
	case !errors.As(err, &f):
		return exitNothing
	}
	switch f.kind {
	case failRows:
		return exitRows
	case failStopped:
		return exitStopped
	}
	return exitNothing
}

// streams is the process's standard streams and what is known of them; tests build one
// with buffers.
type streams struct {
	in       io.Reader
	out      io.Writer
	err      io.Writer
	errIsTTY bool
	inIsTTY  bool                // stdin is a terminal: a person can answer a question
	noColor  bool                // NO_COLOR is set
	width    func() int          // the terminal's width; nil: 80
	signals  <-chan os.Signal    // when set, replaces SIGINT/SIGTERM delivery (tests)
	getenv   func(string) string // the environment: ONLYOFFICE_URL, ONLYOFFICE_TOKEN...
}

func stdio() streams {
	errTTY := term.IsTerminal(int(os.Stderr.Fd()))
	return streams{
		in: os.Stdin, out: os.Stdout, err: os.Stderr, errIsTTY: errTTY, getenv: os.Getenv,
		inIsTTY: term.IsTerminal(int(os.Stdin.Fd())),
		noColor: os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb",
		width: func() int {
			w, _, err := term.GetSize(int(os.Stderr.Fd()))
			if err != nil {
				return 0
			}
			return w
		},
	}
}

// app is one invocation of oppimport: its streams, and once a command has set them up
// from its flags, the terminal and the logger that everything on stderr goes through.
type app struct {
	ios  streams
	term *progress.Terminal // nil until setupLog
	log  *slog.Logger       // nil until setupLog
	json bool               // --log-format json: every line on stderr is one JSON object
	// said carries what say writes with JSON: the summary and the files written, which
	// --quiet does not silence.
	said *slog.Logger
}

// stderr is where plain lines go: through the terminal once there is one.
func (a *app) stderr() io.Writer {
	if a.term != nil {
		return a.term
	}
	return a.ios.err
}

// setupLog builds the terminal and the logger of a command's log flags. On a terminal the
// text format is sentences (progress.Handler); elsewhere slog's text or JSON. With JSON the
// terminal draws no bar, so that every line on stderr stays one object.
func (a *app) setupLog(f logFlags) *slog.Logger {
	var lv slog.Level
	lv.UnmarshalText([]byte(f.level.value)) // the flag allows only valid levels
	if f.quiet {
		lv = slog.LevelError
	}
	a.json = f.format.value == "json"
	tty := a.ios.errIsTTY && !a.json
	a.term = progress.NewTerminal(a.ios.err, tty, !a.ios.noColor, a.ios.width)
	opts := &slog.HandlerOptions{Level: lv}
	switch {
	case a.json:
		a.log = slog.New(slog.NewJSONHandler(a.term, opts))
		a.said = slog.New(slog.NewJSONHandler(a.term, nil))
	case tty:
		a.log = slog.New(progress.NewHandler(a.term, lv))
	default:
		a.log = slog.New(slog.NewTextHandler(a.term, opts))
	}
	return a.log
}

// ask puts question (nothing when "") to the person at the terminal and goes on only on a
// yes. Without a terminal on stdin and stderr (cron), or with --yes, nothing is asked. A no
// is a failure: nothing changed.
func (a *app) ask(f askFlags, question string) error {
	if question == "" || f.yes || !a.ios.inIsTTY || !a.ios.errIsTTY {
		return nil
	}
	fmt.Fprintf(a.stderr(), "%s [y/N] ", question)
	answer, _ := bufio.NewReader(a.ios.in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return nothingf("not confirmed; nothing was changed (--yes skips the question)")
}

// progressMode is --progress, off with --quiet; with JSON logs a bar is never drawn (auto
// then logs its progress lines as JSON).
func progressMode(f logFlags) string {
	switch {
	case f.quiet:
		return "never"
	case f.format.value == "json" && f.progress.value == "always":
		return "auto"
	}
	return f.progress.value
}

// say prints a line for the user on stderr: a log record at info with JSON, else the line.
// --quiet does not silence it: say carries the summary and the files written.
func (a *app) say(msg string, attrs ...slog.Attr) {
	if a.said != nil {
		a.said.LogAttrs(context.Background(), slog.LevelInfo, msg, attrs...)
		return
	}
	fmt.Fprintln(a.stderr(), msg)
}

// fail tells the user why command cmd failed: one line (with JSON, one object).
func (a *app) fail(cmd *cobra.Command, err error) {
	msg := err.Error()
	if msg == "" {
		return
	}
	if cmd.Name() == "help" {
		cmd = cmd.Root() // help's own errors are of the command named
	}
	var f *failure
	if errors.As(err, &f) && f.kind == failUsage {
		msg += fmt.Sprintf(" (see '%s --help')", cmd.CommandPath())
	}
	log := a.log
	if log == nil {
		// A flag that failed to parse stops the command before its logger is built: JSON
		// still, when --log-format json was read before it.
		if f := cmd.Flags().Lookup("log-format"); f != nil && f.Value.String() == "json" {
			log, a.json = slog.New(slog.NewJSONHandler(a.ios.err, nil)), true
		}
	}
	if a.json && log != nil {
		log.Error(msg, "command", cmd.Name(), "exit", exitCode(err))
		return
	}
	fmt.Fprintf(a.stderr(), "%s: %s\n", cmd.CommandPath(), msg)
}

const rootLong = `oppimport moves opportunities (deals) from CSV and XLSX spreadsheets into an ONLYOFFICE CRM portal.

Usage:
  oppimport import   --mapping M.yaml --url URL --token TOKEN INPUT   read, map, validate, post, report
  oppimport validate --mapping M.yaml INPUT                           the same with nothing posted (dry run)
  oppimport init-mapping INPUT > M.yaml                               a starting mapping for INPUT's columns
  oppimport demo                                                      the bundled samples into the built-in emulator
  oppimport emulator --addr 127.0.0.1:8089                            a local ONLYOFFICE CRM emulator
  oppimport status   --mapping M.yaml [--run N] [--json]              runs, counts and rows in doubt from the state database
  oppimport undo     --mapping M.yaml --run N [--dry-run]             take back run N: delete what it created, restore what it updated
  oppimport dedupe   --mapping M.yaml [--dry-run]                     delete the later copies of deals that share one key_field value
  oppimport unlock   --mapping M.yaml                                 release the state database's lock when its holder is gone
  oppimport version                                                   the version, commit and Go version
  oppimport completion bash|zsh|fish|powershell                       a shell completion script

INPUT is a .csv, .tsv, .txt or .xlsx file, or - for CSV on stdin.
Run 'oppimport help COMMAND' (or 'oppimport COMMAND --help') for a command's flags and examples.
`

// commands lists the constructor of each command of oppimport; a new command adds its
// own here.
func commands() []func(*app) *cobra.Command {
	return []func(*app) *cobra.Command{
		newImportCmd, newValidateCmd, newInitCmd, newDemoCmd, newEmulatorCmd, newStatusCmd,
		newUndoCmd, newDedupeCmd, newUnlockCmd, newVersionCmd,
	}
}

// newRoot builds the command tree of one invocation.
func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "oppimport",
		Long:          rootLong,
		Version:       version(),
		Args:          cobra.ArbitraryArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				fmt.Fprint(a.ios.err, rootLong+"\n"+exitCodesHelp)
				return &failure{kind: failUsage}
			}
			return unknownCommand(c, args[0])
		},
	}
	root.SetOut(a.ios.out)
	root.SetErr(a.ios.err)
	root.SetIn(a.ios.in)
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetHelpFunc(func(c *cobra.Command, _ []string) { writeHelp(c.OutOrStdout(), c) })
	root.SetFlagErrorFunc(flagError)
	root.SuggestionsMinimumDistance = 2
	root.CompletionOptions.HiddenDefaultCmd = false
	for _, newCmd := range commands() {
		c := newCmd(a)
		c.Flags().SortFlags = false
		c.Flags().BoolP("help", "h", false, "this help")
		completeFlags(c)
		root.AddCommand(c)
	}
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "a command's flags, examples and exit codes",
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || (target == root && len(args) > 0) || len(rest) > 0 {
				return unknownCommand(root, args[0])
			}
			writeHelp(a.ios.out, target)
			return nil
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			var names []string
			for _, c := range root.Commands() {
				if c.IsAvailableCommand() {
					names = append(names, c.Name())
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
	})
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Args = cobra.ArbitraryArgs
			c.RunE = func(_ *cobra.Command, args []string) error {
				if len(args) > 0 {
					return usagef("no completion for %q: want bash, zsh, fish or powershell", args[0])
				}
				return usagef("want a shell: bash, zsh, fish or powershell")
			}
			c.Long = "Writes a shell completion script to stdout, e.g.\n\n" +
				"  oppimport completion bash > /etc/bash_completion.d/oppimport\n" +
				"  oppimport completion zsh > \"${fpath[1]}/_oppimport\"\n" +
				"  oppimport completion fish > ~/.config/fish/completions/oppimport.fish\n" +
				"  oppimport completion powershell | Out-String | Invoke-Expression\n"
		}
	}
	return root
}

// run is the whole program: it parses args, runs one command and returns its exit code.
func run(args []string, ios streams) int {
	if ios.getenv == nil {
		ios.getenv = func(string) string { return "" }
	}
	a := &app{ios: ios}
	root := newRoot(a)
	// cobra adds the shell completion's own __complete when it executes.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") && !strings.HasPrefix(args[0], "__complete") {
		if c, _, _ := root.Find(args); c == root {
			err := unknownCommand(root, args[0])
			a.fail(root, err)
			return exitCode(err)
		}
	}
	root.SetArgs(longFlags(root, args))
	cmd, err := root.ExecuteC()
	if err != nil {
		a.fail(cmd, err)
	}
	return exitCode(err)
}

// longFlags lets the Go style of one dash before a long flag (-mapping M.yaml), which the
// standard flag package takes and earlier versions of oppimport took, keep working: it
// becomes --mapping when the command has a flag of that name.
func longFlags(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		return args
	}
	out := make([]string, len(args))
	for i, arg := range args {
		out[i] = arg
		if arg == "--" {
			copy(out[i:], args[i:])
			break
		}
		if len(arg) < 3 || arg[0] != '-' || arg[1] == '-' {
			continue
		}
		name, _, _ := strings.Cut(arg[1:], "=")
		if len(name) > 1 && (cmd.Flags().Lookup(name) != nil || name == "help" || name == "version") {
			out[i] = "-" + arg
		}
	}
	return out
}

// unknownCommand is the one line for a mistyped command, with the nearest ones.
func unknownCommand(root *cobra.Command, name string) error {
	if s := root.SuggestionsFor(name); len(s) > 0 {
		return usagef("unknown command %q; did you mean %q?", name, s[0])
	}
	return usagef("unknown command %q", name)
}

// flagError words a flag that could not be parsed in one line, with the nearest flag for
// an unknown one, and the allowed values for a bad one.
func flagError(c *cobra.Command, err error) error {
	var (
		notExist *pflag.NotExistError
		invalid  *pflag.InvalidValueError
		required *pflag.ValueRequiredError
	)
	switch {
	case errors.As(err, &notExist):
		name := notExist.GetSpecifiedName()
		if short := notExist.GetSpecifiedShortnames(); short != "" {
			return usagef("unknown flag -%s in -%s", name[:1], short)
		}
		if near := nearestFlag(c, name); near != "" {
			return usagef("unknown flag --%s; did you mean --%s?", name, near)
		}
		return usagef("unknown flag --%s", name)
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		reason := invalid.Unwrap().Error()
		switch f.Value.Type() {
		case "float64":
			reason = "want a number"
		case "int", "int64":
			reason = "want a whole number"
		case "duration":
			reason = "want a duration such as 30s, 2m or 1h"
		case "bool":
			reason = "want true or false"
		}
		return usagef("--%s %q: %s", f.Name, invalid.GetValue(), reason)
	case errors.As(err, &required):
		return usagef("--%s needs a value", required.GetSpecifiedName())
	}
	return usagef("%v", err)
}

// nearestFlag is the command's flag nearest to name: within two edits, or one that starts
// with it.
func nearestFlag(c *cobra.Command, name string) string {
	best, bestD := "", 3
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := mapping.EditDistance(name, f.Name)
		if strings.HasPrefix(f.Name, name) {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = f.Name, d
		}
	})
	return best
}

// writeHelp is a command's help: its text, its flags by group, and its footer (the exit
// codes, when its text does not give them).
func writeHelp(w io.Writer, c *cobra.Command) {
	fmt.Fprintln(w, strings.TrimSpace(c.Long))
	if !c.HasParent() {
		fmt.Fprintf(w, "\n%s", exitCodesHelp)
		return
	}
	groups := map[string]*pflag.FlagSet{}
	other := pflag.NewFlagSet("other", pflag.ContinueOnError)
	other.SortFlags = false
	c.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		g := f.Annotations[groupKey]
		if len(g) == 0 {
			other.AddFlag(f)
			return
		}
		if groups[g[0]] == nil {
			groups[g[0]] = pflag.NewFlagSet(g[0], pflag.ContinueOnError)
			groups[g[0]].SortFlags = false
		}
		groups[g[0]].AddFlag(f)
	})
	if other.HasFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", other.FlagUsagesWrapped(100))
	}
	for _, g := range groupOrder {
		if fs := groups[g]; fs != nil {
			fmt.Fprintf(w, "\n%s flags:\n%s", g, fs.FlagUsagesWrapped(100))
		}
	}
	if footer := c.Annotations["footer"]; footer != "" {
		fmt.Fprintf(w, "\n%s", footer)
	}
}

// version is the version, the commit and the Go version the binary was built with, from
// its build information: "oppimport v1.2.0 (commit 0123abcdef12, 2026-11-30T10:00:00Z) go1.26.8".
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "oppimport (no build information)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var commit, when, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ", modified"
			}
		}
	}
	out := "oppimport " + v
	if commit != "" {
		out += fmt.Sprintf(" (commit %.12s, %s%s)", commit, when, dirty)
	}
	return out + " " + info.GoVersion
}

func newVersionCmd(a *app) *cobra.Command {
	return command("version", "the version, commit and Go version oppimport was built with",
		"Usage: oppimport version\n\nThe version, commit and Go version oppimport was built with (also oppimport --version).",
		func() error {
			fmt.Fprintln(a.ios.out, version())
			return nil
		})
}

// command is a command of oppimport that takes no positional argument: its usage line, its
// line in the list of commands, its help text, and what it runs. Every such command is
// built here, so that each refuses arguments in the same words.
func command(use, short, long string, run func() error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Long: long, Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return run() }}
}

// noArgs refuses positional arguments in one line.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	return nil
}

// signalContexts returns a context cancelled by the first SIGINT or SIGTERM (stop taking new
// rows) and one cancelled by the second (abort requests in flight).
func signalContexts(parent context.Context, ios streams, log *slog.Logger) (soft, hard context.Context, stop func()) {
	soft, cancelSoft := context.WithCancel(parent)
	hard, cancelHard := context.WithCancel(parent)
	sigs := ios.signals
	var ch chan os.Signal
	if sigs == nil {
		ch = make(chan os.Signal, 2)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		sigs = ch
	}
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		for n := 0; ; n++ {
			select {
			case <-done:
				return
			case s := <-sigs:
				if n == 0 {
					log.Warn("stopping: no new rows start, requests in flight finish (again to abort them)", "signal", s.String())
					cancelSoft()
				} else {
					log.Warn("aborting requests in flight", "signal", s.String())
					cancelHard()
					return
				}
			}
		}
	}()
	return soft, hard, func() {
		if ch != nil {
			signal.Stop(ch)
		}
		close(done)
		<-exited
		cancelSoft()
		cancelHard()
	}
}
