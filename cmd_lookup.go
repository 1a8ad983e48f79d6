package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/oppimport/oppimport/lookup"
	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/source"
)

// portalLink is a run's connection to the portal before any row is read: the poster
// (logged in), and the reference data that resolves look-ups and checks each record. Both
// are nil for a validate without --url.
type portalLink struct {
	poster   *poster
	portal   *lookup.Portal
	keyField int64 // the key_field's id on the portal, once resolveKeyField found it
}

// connect logs in and reads the portal's users, stages, currencies and custom fields,
// when there is a portal: always for import, for validate only with --url. It reads only.
// The exit code says why it failed: bad flags (exitNothing), or a portal that refused or
// could not be reached (exitStopped).
func (o *importOptions) connect(ctx context.Context, dry bool, log *slog.Logger) (*portalLink, int, error) {
	link := &portalLink{}
	if dry && o.url == "" {
		return link, exitOK, nil
	}
	if dry {
		// validate registers no tuning flags: take import's defaults.
		var d importOptions
		d.register(flag.NewFlagSet("defaults", flag.ContinueOnError), false)
		d.url, d.token, d.user, d.passwordFile = o.url, o.token, o.user, o.passwordFile
		o = &d
	}
	p, err := o.poster(log)
	if err != nil {
		return nil, exitNothing, err
	}
	if o.user != "" && o.token == "" {
		actx, cancel := context.WithTimeout(ctx, o.timeout)
		err := p.client.Authenticate(actx)
		cancel()
		if err != nil {
			return nil, exitStopped, fmt.Errorf("authentication refused: %v", err)
		}
	}
	portal, err := lookup.Load(ctx, p.client)
	if err != nil {
		return nil, exitStopped, fmt.Errorf("the portal refused or could not be reached: %v", err)
	}
	link.poster, link.portal = p, portal
	return link, exitOK, nil
}

// bind binds the mapping to the input with the portal's look-ups when there is a portal,
// and says what it could not check when there is none.
func (l *portalLink) bind(m *mapping.Mapping, src *source.Reader, log *slog.Logger) (*mapping.Plan, error) {
	opts := mapping.BindOptions{SerialDates: src.Kind() == "xlsx", Date1904: src.Date1904(), KeyFieldID: l.keyField}
	if l.portal != nil {
		opts.Resolver = l.portal
	}
	plan, err := m.Bind(src.Header(), opts)
	if err != nil {
		return nil, err
	}
	if l.portal != nil {
		l.portal.Prefetch(mappedContacts(m), 8)
	}
	if u := plan.Unchecked(); len(u) > 0 {
		log.Warn("look-ups not checked (no --url): names count as valid; give --url and --token to check them against the portal",
			"unchecked", strings.Join(u, "; "))
	}
	return plan, nil
}

// check is the importer's Config.Check: every record against the portal's reference
// data; nil without a portal.
func (l *portalLink) check(plan *mapping.Plan) func(*mapping.Record) []mapping.FieldError {
	if l.portal == nil {
		return nil
	}
	return l.portal.Checker(plan).Check
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
