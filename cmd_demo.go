package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oppimport/oppimport/emulator"
	"github.com/oppimport/oppimport/samples"
)

const demoSynopsis = `
Usage: oppimport demo [--out DIR] [--rate R] [--progress auto|always|never]

Runs the whole main job on the bundled samples (a legacy CRM's export of deals, with a few
deliberately bad rows) against the built-in emulator, in-process, and tells you where the
report is. Nothing leaves this machine.

Exit 0 when the demo ran as meant: its bad sample rows are part of the show.
`

type demoOptions struct {
	out      string
	rate     float64
	progress enumValue
}

func newDemoCmd(a *app) *cobra.Command {
	o := &demoOptions{progress: enum("auto", "auto", "always", "never")}
	c := command("demo [--out DIR]", "the bundled samples into the built-in emulator", demoSynopsis,
		func() error { return runDemo(a, o) })
	fs := c.Flags()
	fs.StringVar(&o.out, "out", "", "`DIR` for the samples, the report and the rejects (default a new temporary folder)")
	fs.Float64Var(&o.rate, "rate", 100, "requests per second at most, as import's --rate (the emulator takes any)")
	fs.Var(&o.progress, "progress", "progress on stderr: auto, always or never")
	return c
}

func runDemo(a *app, o *demoOptions) error {
	ios := a.ios
	var err error
	if o.rate <= 0 {
		return usagef("--rate %v: want more than 0", o.rate)
	}
	dir := o.out
	if dir == "" {
		if dir, err = os.MkdirTemp("", "oppimport-demo-"); err != nil {
			return nothingf("%v", err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nothingf("%v", err)
	}
	if err := os.CopyFS(dir, samples.FS); err != nil && !os.IsExist(err) {
		return nothingf("writing the samples: %v", err)
	}
	srv := emulator.New(emulator.Options{})
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		return nothingf("starting the emulator: %v", err)
	}
	defer srv.Close()
	fmt.Fprintf(ios.err, "demo: an ONLYOFFICE emulator is listening at %s\n", url)

	// The same deals as CSV and as XLSX: each goes into an empty portal.
	for _, input := range []string{"deals.csv", "deals.xlsx"} {
		srv.Reset()
		report := filepath.Join(dir, "deals.report"+filepath.Ext(input))
		rate := strconv.FormatFloat(o.rate, 'f', -1, 64)
		fmt.Fprintf(ios.err, "\ndemo: oppimport import --mapping %s --url %s --token %s --rate %s --report %s %s\n",
			filepath.Join(dir, "mapping.yaml"), url, srv.Token(), rate, report, filepath.Join(dir, input))
		code := run([]string{"import",
			"--mapping", filepath.Join(dir, "mapping.yaml"),
			"--url", url, "--token", srv.Token(),
			"--rate", rate,
			"--report", report,
			"--state", filepath.Join(dir, strings.TrimSuffix(input, filepath.Ext(input))+filepath.Ext(input)[1:]+".state.db"),
			"--progress", o.progress.value,
			filepath.Join(dir, input),
		}, ios)
		if code != exitOK && code != exitRows {
			return &failure{kind: failNothing, err: fmt.Errorf("the import of %s exited %d, want 0 or 1", input, code)}
		}
		fmt.Fprintf(ios.err, "demo: the emulator now holds %d opportunities from %s\n", len(srv.Opportunities()), input)
	}
	fmt.Fprintf(ios.err, "\ndemo: the samples, reports and rejects are in %s\n", dir)
	fmt.Fprintf(ios.out, "%s\n", dir)
	return nil
}
