package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/oppimport/oppimport/emulator"
)

const emulatorSynopsis = `
Usage: oppimport emulator [--addr 127.0.0.1:8089] [faults]

A local ONLYOFFICE CRM emulator to rehearse a migration against: the endpoints oppimport
uses, with the real server's validation, error bodies and response shapes, and seeded users,
contacts, stages, currencies and custom fields, tags, custom field creation (administrators
only) and the creation-date endpoint. The first line on stdout is "URL TOKEN".
It runs until interrupted.

Examples:
  oppimport emulator --addr 127.0.0.1:0
  oppimport emulator --latency 30ms --rate-limit 50 --fail 0.05 --drop 0.01
  oppimport emulator --gateway 0.1 --html 0.05 --no-admin

Exit codes: 0 stopped by Ctrl-C or SIGTERM; 2 bad flags or the address cannot be listened on.
`

func newEmulatorCmd(a *app) *cobra.Command {
	var opts emulator.Options
	var addr string
	c := command("emulator [--addr 127.0.0.1:8089] [faults]", "a local ONLYOFFICE CRM emulator", emulatorSynopsis,
		func() error { return runEmulator(a, addr, opts) })
	fs := c.Flags()
	// The emulator's flags: one line each, with emulator.Options.
	fs.StringVar(&addr, "addr", "127.0.0.1:8089", "`HOST:PORT` to listen on; port 0 picks a free port")
	fs.StringVar(&opts.Token, "token", "", "the API token to accept (default a random one)")
	fs.DurationVar(&opts.Latency, "latency", 0, "added to every answer")
	fs.Float64Var(&opts.RateLimit, "rate-limit", 0, "requests per second allowed, 503 with Retry-After beyond (default unlimited)")
	fs.IntVar(&opts.RateLimitStatus, "rate-limit-status", 503, "the status of a refused request: 503 as the cloud answers, or 429 as a proxy in front of it does")
	fs.Float64Var(&opts.FailRate, "fail", 0, "share of requests answered 500 without being applied, 0-1")
	fs.Float64Var(&opts.DropRate, "drop", 0, "share of creates applied and then left unanswered (connection dropped), 0-1")
	fs.Float64Var(&opts.GatewayRate, "gateway", 0, "share of requests applied and then answered 502 or 504 with an HTML page, as a reverse proxy that gave up waiting, 0-1")
	fs.Float64Var(&opts.HTMLRate, "html", 0, "share of requests answered 200 with an HTML login page and not applied, as an SSO gateway whose session expired, 0-1")
	fs.BoolVar(&opts.NotAdmin, "no-admin", false, "the token's user is an ordinary user, not a portal administrator")
	fs.BoolVar(&opts.EncodeTitles, "encode-titles", false, "echo opportunity titles HTML-encoded, as some portals do")
	fs.Int64Var(&opts.Seed, "seed", 1, "seed of the fault dice")
	return c
}

func runEmulator(a *app, addr string, opts emulator.Options) error {
	for name, v := range map[string]float64{"--fail": opts.FailRate, "--drop": opts.DropRate,
		"--gateway": opts.GatewayRate, "--html": opts.HTMLRate} {
		if v < 0 || v > 1 {
			return usagef("%s %v: want a share between 0 and 1", name, v)
		}
	}
	if opts.RateLimitStatus != 503 && opts.RateLimitStatus != 429 {
		return usagef("--rate-limit-status %d: want 503 or 429", opts.RateLimitStatus)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// It holds a whole portal in memory: under the importer's soft limit (main.go) the
		// collector would run without end once the deals pass 44 MiB (100,000 of them).
		debug.SetMemoryLimit(math.MaxInt64)
	}
	srv := emulator.New(opts)
	url, err := srv.Start(addr)
	if err != nil {
		return nothingf("%v", err)
	}
	defer srv.Close()
	fmt.Fprintf(a.ios.out, "%s %s\n", url, srv.Token())
	fmt.Fprintf(a.ios.err, "emulator listening at %s; Ctrl-C stops it\n", url)

	log := a.setupLog(logFlags{format: enum("text"), level: enum("info")})
	ctx, _, stop := signalContexts(context.Background(), a.ios, log)
	defer stop()
	<-ctx.Done()
	return nil
}
