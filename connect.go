package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/oppimport/oppimport/lookup"
	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/onlyoffice"
	"github.com/oppimport/oppimport/pace"
	"github.com/oppimport/oppimport/source"
)

const (
	defaultConcurrency = 8  // requests in flight, and the first guess of auto
	maxAuto            = 64 // the most requests in flight auto allows
)

// connection is a run's link to the portal, logged in and proven by one read: the poster,
// how many workers the rate flags ask for, and the login's time limit.
type connection struct {
	poster  *poster
	workers int
}

// connect is the one way every command reaches the portal: it builds the client from the
// connection and rate flags, logs in when a user is given (within the time one request may
// take with its retries), and proves the token and the address with probe (a cheap read, or
// the reads the run needs anyway; each request within --timeout and --retries). Bad flags
// are a usage failure (exit 2); a portal that refuses or cannot be reached stops the run
// (exit 3).
func connect(ctx context.Context, c connFlags, r rateFlags, log *slog.Logger, probe func(context.Context, *onlyoffice.Client) error) (*connection, error) {
	p, workers, login, err := newPoster(c, r, log)
	if err != nil {
		return nil, usagef("%v", err)
	}
	if login {
		lctx, cancel := context.WithTimeout(ctx, r.timeout*time.Duration(r.retries+1))
		err := p.client.Authenticate(lctx)
		cancel()
		if err != nil {
			p.client.CloseIdleConnections()
			return nil, stoppedf("authentication refused: %v", err)
		}
	}
	if err := probe(ctx, p.client); err != nil {
		p.client.CloseIdleConnections()
		return nil, stoppedf("the portal refused or could not be reached: %v", err)
	}
	return &connection{poster: p, workers: workers}, nil
}

// probeStages is the cheapest read that proves a token.
func probeStages(ctx context.Context, c *onlyoffice.Client) error {
	_, err := c.ListStages(ctx)
	return err
}

// newPoster builds the API client and its pace from the flags; login says whether it must
// log in with a user and password (no token was given).
func newPoster(c connFlags, r rateFlags, log *slog.Logger) (p *poster, workers int, login bool, err error) {
	if c.url == "" {
		return nil, 0, false, errors.New("--url (or ONLYOFFICE_URL) is required")
	}
	token := c.token
	if token == "" {
		token = c.env("ONLYOFFICE_TOKEN")
	}
	var (
		password string
		auto     bool
	)
	switch {
	case token != "":
	case c.user == "":
		return nil, 0, false, errors.New("give --token (or ONLYOFFICE_TOKEN), or --user with --password-file (or ONLYOFFICE_PASSWORD)")
	case c.passwordFile != "":
		b, err := os.ReadFile(c.passwordFile)
		if err != nil {
			return nil, 0, false, fmt.Errorf("--password-file: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	default:
		password = c.env("ONLYOFFICE_PASSWORD")
		if password == "" {
			return nil, 0, false, errors.New("--user needs a password: --password-file FILE or ONLYOFFICE_PASSWORD")
		}
	}
	workers, auto, err = parseConcurrency(r.concurrency)
	if err != nil {
		return nil, 0, false, err
	}
	switch {
	case r.rate <= 0:
		return nil, 0, false, fmt.Errorf("--rate %v: want more than 0", r.rate)
	case r.burst < 1:
		return nil, 0, false, fmt.Errorf("--burst %d: want 1 or more", r.burst)
	case r.retries < 0:
		return nil, 0, false, fmt.Errorf("--retries %d: want 0 or more", r.retries)
	}
	if c.insecure {
		log.Warn("TLS certificates are not checked (--insecure-skip-verify): anyone on the path can read the token")
	}
	// The limiter starts at --rate. The pace is the client's gate: it waits on the limiter
	// itself (so the client is given none) and, from the first 429 or 503, keeps the
	// portal's window (pace/window.go). With auto, maxAuto workers share a gate the pace sizes.
	lim := rate.NewLimiter(rate.Limit(r.rate), r.burst)
	var gate *pace.Gate
	if auto {
		gate = pace.NewGate(defaultConcurrency)
	}
	p = &poster{pace: pace.New(lim, pace.Options{Ceiling: r.rate, Gate: gate, MaxInFlight: maxAuto})}
	cfg := onlyoffice.Config{
		BaseURL:            c.url,
		Token:              token,
		User:               c.user,
		Password:           password,
		Timeout:            r.timeout,
		Retries:            r.retries,
		MaxConns:           workers,
		Logger:             log,
		InsecureSkipVerify: c.insecure,
		AllowHTTP:          c.allowHTTP,
		OnThrottle: func(retryAfter time.Duration) {
			p.refused.Add(1)
			p.pace.Throttled(retryAfter)
		},
		OnSuccess: p.pace.Succeeded,
		Gate:      p.pace,
	}
	client, err := onlyoffice.NewClient(cfg)
	if err != nil {
		return nil, 0, false, err
	}
	p.client = client
	return p, workers, token == "", nil
}

// parseConcurrency reads --concurrency: a number of requests in flight, or auto (maxAuto
// workers behind a gate the pace sizes from the rate and the latency observed).
func parseConcurrency(v string) (workers int, auto bool, err error) {
	if strings.EqualFold(strings.TrimSpace(v), "auto") {
		return maxAuto, true, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 {
		return 0, false, fmt.Errorf("--concurrency %q: want a number of 1 or more, or auto", v)
	}
	return n, false, nil
}

// portalLink is a run's connection to the portal before any row is read, with the reference
// data that resolves look-ups and checks each record. Both are nil for a validate without
// --url.
type portalLink struct {
	poster   *poster
	workers  int
	portal   *lookup.Portal
	keyField int64 // the key_field's id on the portal, once resolveKeyField found it
}

// connectPortal connects and reads the portal's users, stages, currencies and custom fields.
func connectPortal(ctx context.Context, c connFlags, r rateFlags, log *slog.Logger) (*portalLink, error) {
	var portal *lookup.Portal
	conn, err := connect(ctx, c, r, log, func(ctx context.Context, client *onlyoffice.Client) error {
		var err error
		portal, err = lookup.Load(ctx, client)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &portalLink{poster: conn.poster, workers: conn.workers, portal: portal}, nil
}

// close lets the client's idle connections go.
func (l *portalLink) close() {
	if l.poster != nil {
		l.poster.client.CloseIdleConnections()
	}
}

// bind binds the mapping to the input with the portal's look-ups when there is a portal,
// and says what it could not check when there is none.
func (l *portalLink) bind(ctx context.Context, m *mapping.Mapping, src *source.Reader, log *slog.Logger) (*mapping.Plan, error) {
	opts := mapping.BindOptions{SerialDates: src.Kind() == "xlsx", Date1904: src.Date1904(), KeyFieldID: l.keyField}
	if l.portal != nil {
		opts.Resolver = l.portal.Resolver(ctx)
	}
	plan, err := m.Bind(src.Header(), opts)
	if err != nil {
		return nil, err
	}
	if l.portal != nil {
		l.portal.Prefetch(ctx, mappedContacts(m), 8)
	}
	if u := plan.Unchecked(); len(u) > 0 {
		log.Warn("look-ups not checked (no --url): names count as valid; give --url and --token to check them against the portal",
			"unchecked", strings.Join(u, "; "))
	}
	return plan, nil
}

// check is the importer's Config.Check: every record against the portal's reference
// data; nil without a portal.
func (l *portalLink) check(ctx context.Context, plan *mapping.Plan) func(*mapping.Record) []mapping.FieldError {
	if l.portal == nil {
		return nil
	}
	c := l.portal.Checker(plan)
	return func(rec *mapping.Record) []mapping.FieldError { return c.Check(ctx, rec) }
}

// mappedContacts lists the contact ids a mapping names itself (in value: and map:), which
// the portal is asked about up front.
func mappedContacts(m *mapping.Mapping) []int64 {
	var ids []int64
	add := func(s string) {
		for _, part := range strings.Split(s, ",") {
			if id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64); err == nil && id > 0 {
				ids = append(ids, id)
			}
		}
	}
	for _, r := range m.Fields {
		if r.Field != "contactid" && r.Field != "members" || r.Lookup != "" {
			continue
		}
		if r.Value != nil {
			add(*r.Value)
		}
		for _, v := range r.Map {
			add(v)
		}
	}
	return ids
}
