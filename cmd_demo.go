package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/oppimport/oppimport/emulator"
	"github.com/oppimport/oppimport/samples"
)

const demoSynopsis = `
Usage: oppimport demo [--out DIR] [--progress auto|always|never]

Runs the whole main job on the bundled samples (a legacy CRM's export of deals, with a few
deliberately bad rows) against the built-in emulator, in-process, and tells you where the
report is. Nothing leaves this machine.

Exit 0 when the demo ran as meant: its bad sample rows are part of the show.
`

func runDemo(args []string, ios streams) int {
	flags := newFlagSet("demo", demoSynopsis, ios.err)
	out := flags.String("out", "", "`DIR` for the samples, the report and the rejects (default a new temporary folder)")
	progressMode := flags.String("progress", "auto", "progress on stderr: auto, always or never")
	pos, err := parseFlags(flags, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 0 {
		fmt.Fprintf(ios.err, "oppimport demo: unexpected argument %q\n", pos[0])
		return exitNothing
	}
	dir := *out
	if dir == "" {
		if dir, err = os.MkdirTemp("", "oppimport-demo-"); err != nil {
			fmt.Fprintf(ios.err, "oppimport demo: %v\n", err)
			return exitNothing
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(ios.err, "oppimport demo: %v\n", err)
		return exitNothing
	}
	if err := os.CopyFS(dir, samples.FS); err != nil && !os.IsExist(err) {
		fmt.Fprintf(ios.err, "oppimport demo: writing the samples: %v\n", err)
		return exitNothing
	}
	srv := emulator.New(emulator.Options{})
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(ios.err, "oppimport demo: starting the emulator: %v\n", err)
		return exitNothing
	}
	defer srv.Close()
	fmt.Fprintf(ios.err, "demo: an ONLYOFFICE emulator is listening at %s\n", url)

	// The same deals as CSV and as XLSX: each goes into an empty portal.
	for _, input := range []string{"deals.csv", "deals.xlsx"} {
		srv.Reset()
		report := filepath.Join(dir, "deals.report"+filepath.Ext(input))
		fmt.Fprintf(ios.err, "\ndemo: oppimport import --mapping %s --url %s --token *** --report %s %s\n",
			filepath.Join(dir, "mapping.yaml"), url, report, filepath.Join(dir, input))
		code := run([]string{"import",
			"--mapping", filepath.Join(dir, "mapping.yaml"),
			"--url", url, "--token", srv.Token(),
			"--report", report,
			"--state", filepath.Join(dir, strings.TrimSuffix(input, filepath.Ext(input))+filepath.Ext(input)[1:]+".state.db"),
			"--progress", *progressMode,
			filepath.Join(dir, input),
		}, ios)
		if code != exitOK && code != exitRows {
			fmt.Fprintf(ios.err, "oppimport demo: the import of %s exited %d, want 0 or 1\n", input, code)
			return code
		}
		fmt.Fprintf(ios.err, "demo: the emulator now holds %d opportunities from %s\n", len(srv.Opportunities()), input)
	}
	fmt.Fprintf(ios.err, "\ndemo: the samples, reports and rejects are in %s\n", dir)
	fmt.Fprintf(ios.out, "%s\n", dir)
	return exitOK
}
