package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/term"
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

// streams is the process's standard streams; tests build one with buffers.
type streams struct {
	in       io.Reader
	out      io.Writer
	err      io.Writer
	errIsTTY bool
	// signals, when set, replaces SIGINT/SIGTERM delivery (tests).
	signals <-chan os.Signal
}

func stdio() streams {
	return streams{in: os.Stdin, out: os.Stdout, err: os.Stderr, errIsTTY: term.IsTerminal(int(os.Stderr.Fd()))}
}

const usage = `oppimport moves opportunities (deals) from CSV and XLSX spreadsheets into an ONLYOFFICE CRM portal.

Usage:
  oppimport import   --mapping M.yaml --url URL --token TOKEN INPUT   read, map, validate, post, report
  oppimport validate --mapping M.yaml INPUT                           the same with nothing posted (dry run)
  oppimport init-mapping INPUT > M.yaml                               a starting mapping for INPUT's columns
  oppimport demo                                                      the bundled samples into the built-in emulator
  oppimport emulator --addr 127.0.0.1:8089                            a local ONLYOFFICE CRM emulator
  oppimport status   --mapping M.yaml [--run N]                       runs, counts and rows in doubt from the state database
  oppimport undo     --mapping M.yaml --run N [--dry-run]             take back run N: delete what it created, restore what it updated
  oppimport dedupe   --mapping M.yaml [--dry-run]                     delete the later copies of deals that share one key_field value

INPUT is a .csv, .tsv, .txt or .xlsx file, or - for CSV on stdin.
Run 'oppimport COMMAND --help' for a command's flags and examples.

` + exitCodesHelp

// run is the whole program: it parses args, runs one command and returns its exit code.
func run(args []string, ios streams) int {
	if len(args) == 0 {
		fmt.Fprint(ios.err, usage)
		return exitNothing
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "import", "validate":
		return runImport(cmd, rest, ios)
	case "emulator":
		return runEmulator(rest, ios)
	case "demo":
		return runDemo(rest, ios)
	case "init-mapping":
		return runInit(rest, ios)
	case "status":
		return runStatus(rest, ios)
	case "undo":
		return runUndo(rest, ios)
	case "dedupe":
		return runDedupe(rest, ios)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(ios.out, usage)
		return exitOK
	default:
		fmt.Fprintf(ios.err, "oppimport: unknown command %q\n\n%s", cmd, usage)
		return exitNothing
	}
}

// parseFlags parses flags that may stand before or after the positional arguments, as users
// type them (`oppimport import deals.csv --mapping m.yaml`). It returns the positionals, or
// flag.ErrHelp when help was asked for.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// newFlagSet returns a FlagSet whose usage prints the command's synopsis, its flags and the
// exit codes.
func newFlagSet(name, synopsis string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "%s\n\nFlags:\n", strings.TrimSpace(synopsis))
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(w, "  --%s\n    \t%s", strings.TrimSpace(f.Name+" "+name), strings.ReplaceAll(usage, "\n", "\n    \t"))
			if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
				fmt.Fprintf(w, " (default %s)", f.DefValue)
			}
			fmt.Fprintln(w)
		})
		if name == "import" || name == "validate" {
			// The other commands say their own exit codes in their synopsis.
			fmt.Fprintf(w, "\n%s", exitCodesHelp)
		}
	}
	return fs
}

// flagExit turns a flag parsing error into the exit code: help is a success.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitNothing
}

// newLogger builds the stderr logger of --log-format and --log-level.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
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
