// Package lookup knows the portal's reference data for one run: users, stages, currencies
// and custom field definitions, fetched once, and contacts, asked for one name or id at a
// time and kept. A Portal resolves the names a mapping's lookup: rules give
// (mapping.Resolver), and its Checker checks a mapped record against the portal before it
// is posted: what the server refuses, and what it would silently corrupt.
package lookup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/onlyoffice"
)

// Client is what the look-ups need of the portal; *onlyoffice.Client is one. Its methods
// must be safe for concurrent use.
type Client interface {
	ListUsers(ctx context.Context) ([]onlyoffice.User, error)
	ListStages(ctx context.Context) ([]onlyoffice.Stage, error)
	ListCurrencies(ctx context.Context) ([]onlyoffice.Currency, error)
	ListCustomFields(ctx context.Context) ([]onlyoffice.CustomFieldDef, error)
	FindContacts(ctx context.Context, text string) ([]onlyoffice.Contact, error)
	ContactsByEmail(ctx context.Context, address string) ([]onlyoffice.Contact, error)
	GetContact(ctx context.Context, id int64) (onlyoffice.Contact, error)
}

// Portal is the reference data of one portal for one run. Safe for concurrent use.
type Portal struct {
	client Client

	users      []onlyoffice.User
	stages     []onlyoffice.Stage
	currencies []onlyoffice.Currency
	fields     []onlyoffice.CustomFieldDef

	contacts sync.Map // id -> the check of that contact, a func() error made by sync.OnceValue
}

// Load fetches the users (every page), stages, currencies and custom field definitions.
// The contacts are asked for later, as rows need them, each within the context of the
// call that needs it.
func Load(ctx context.Context, c Client) (*Portal, error) {
	p := &Portal{client: c}
	var err error
	if p.users, err = c.ListUsers(ctx); err != nil {
		return nil, fmt.Errorf("reading the portal's users: %w", err)
	}
	if p.stages, err = c.ListStages(ctx); err != nil {
		return nil, fmt.Errorf("reading the portal's stages: %w", err)
	}
	if p.currencies, err = c.ListCurrencies(ctx); err != nil {
		return nil, fmt.Errorf("reading the portal's currencies: %w", err)
	}
	if p.fields, err = c.ListCustomFields(ctx); err != nil {
		return nil, fmt.Errorf("reading the portal's custom fields: %w", err)
	}
	return p, nil
}

// Users returns the portal's users; the caller must not modify them.
func (p *Portal) Users() []onlyoffice.User { return p.users }

// Stages returns the portal's opportunity stages; the caller must not modify them.
func (p *Portal) Stages() []onlyoffice.Stage { return p.stages }

// Currencies returns the portal's currencies; the caller must not modify them.
func (p *Portal) Currencies() []onlyoffice.Currency { return p.currencies }

// Resolver is p as a mapping.Resolver whose contact requests are made within ctx, the
// run's: mapping.Resolver takes no context of its own, so the run's is bound here, at the
// boundary, and a stopped run stops its look-ups.
func (p *Portal) Resolver(ctx context.Context) mapping.Resolver {
	return resolverFunc(func(kind, name string) (string, error) { return p.Resolve(ctx, kind, name) })
}

type resolverFunc func(kind, name string) (string, error)

func (f resolverFunc) Resolve(kind, name string) (string, error) { return f(kind, name) }

// Resolve finds the id of name: kind is mapping.LookupUser, LookupStage,
// LookupContact or LookupCustomField. Users match by e-mail, then user name, then display
// name ("First Last" and "Last, First" too), all ignoring case; stages by title; contacts by
// e-mail when the name holds an "@", else by display name; custom fields by label. A name
// matching nothing or several is a *mapping.LookupError naming the candidates.
func (p *Portal) Resolve(ctx context.Context, kind, name string) (string, error) {
	name = strings.TrimSpace(name)
	switch kind {
	case mapping.LookupUser:
		return p.user(name)
	case mapping.LookupStage:
		return byTitle("stage", name, p.stages,
			func(s onlyoffice.Stage) (string, int64) { return s.Title, s.ID },
			func(s onlyoffice.Stage) string { return strconv.Quote(s.Title) })
	case mapping.LookupContact:
		return p.contact(ctx, name)
	case mapping.LookupCustomField:
		return byTitle("custom field", name, p.fields,
			func(f onlyoffice.CustomFieldDef) (string, int64) { return f.Label, f.ID },
			func(f onlyoffice.CustomFieldDef) string { return fmt.Sprintf("%q (id %d)", f.Label, f.ID) })
	}
	return "", fmt.Errorf("unknown look-up %q", kind)
}

// byTitle finds the one item whose title is name, ignoring case and surrounding spaces, and
// returns its id; none or several is a *mapping.LookupError naming the candidates (all the
// items when none matched).
func byTitle[T any](kind, name string, items []T, title func(T) (string, int64), describe func(T) string) (string, error) {
	var hits []T
	for _, it := range items {
		if t, _ := title(it); strings.EqualFold(strings.TrimSpace(t), name) {
			hits = append(hits, it)
		}
	}
	if len(hits) == 1 {
		_, id := title(hits[0])
		return strconv.FormatInt(id, 10), nil
	}
	candidates := hits
	if len(hits) == 0 {
		candidates = items
	}
	described := make([]string, len(candidates))
	for i, it := range candidates {
		described[i] = describe(it)
	}
	return "", &mapping.LookupError{Kind: kind, Name: name, Ambiguous: len(hits) > 1, Candidates: described}
}

func (p *Portal) user(name string) (string, error) {
	tiers := []func(u onlyoffice.User) bool{
		func(u onlyoffice.User) bool { return u.Email != "" && strings.EqualFold(u.Email, name) },
		func(u onlyoffice.User) bool { return u.UserName != "" && strings.EqualFold(u.UserName, name) },
		func(u onlyoffice.User) bool {
			return strings.EqualFold(strings.TrimSpace(u.DisplayName), name) ||
				strings.EqualFold(strings.TrimSpace(u.FirstName+" "+u.LastName), name) ||
				strings.EqualFold(strings.TrimSpace(u.LastName+", "+u.FirstName), name)
		},
	}
	for _, match := range tiers {
		var hits []onlyoffice.User
		for _, u := range p.users {
			if match(u) {
				hits = append(hits, u)
			}
		}
		switch {
		case len(hits) == 1:
			return hits[0].ID, nil
		case len(hits) > 1:
			return "", &mapping.LookupError{Kind: "user", Name: name, Ambiguous: true, Candidates: describeUsers(hits)}
		}
	}
	// Suggest the users sharing a word with the name.
	var near []onlyoffice.User
	words := strings.Fields(strings.ToLower(strings.NewReplacer(",", " ", "@", " ", ".", " ").Replace(name)))
	for _, u := range p.users {
		text := strings.ToLower(u.DisplayName + " " + u.UserName + " " + u.Email)
		if slices.ContainsFunc(words, func(w string) bool { return len(w) > 1 && strings.Contains(text, w) }) {
			near = append(near, u)
		}
	}
	return "", &mapping.LookupError{Kind: "user", Name: name, Candidates: describeUsers(near)}
}

func describeUsers(us []onlyoffice.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = fmt.Sprintf("%q <%s>", u.DisplayName, u.Email)
	}
	return out
}

func describeContacts(cs []onlyoffice.Contact) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		s := fmt.Sprintf("%q (id %d", c.DisplayName, c.ID)
		if len(c.Emails) > 0 {
			s += ", " + c.Emails[0]
		}
		out[i] = s + ")"
	}
	return out
}

// contact finds one contact the token's user may see. Names are looked up one at a time
// (a portal may hold far more contacts than deals); mapping's cache asks each name once.
func (p *Portal) contact(ctx context.Context, name string) (string, error) {
	var hits []onlyoffice.Contact
	if strings.Contains(name, "@") {
		found, err := p.client.ContactsByEmail(ctx, name)
		if err != nil {
			return "", err
		}
		for _, c := range found {
			if slices.ContainsFunc(c.Emails, func(e string) bool { return strings.EqualFold(e, name) }) {
				hits = append(hits, c)
			}
		}
	} else {
		found, err := p.client.FindContacts(ctx, name)
		if err != nil {
			return "", err
		}
		for _, c := range found {
			if strings.EqualFold(strings.TrimSpace(c.DisplayName), name) {
				hits = append(hits, c)
			}
		}
		if len(hits) == 0 {
			if len(found) > 0 && len(found) <= 5 {
				return "", &mapping.LookupError{Kind: "contact", Name: name, Candidates: describeContacts(found)}
			}
		}
	}
	switch len(hits) {
	case 1:
		return strconv.FormatInt(hits[0].ID, 10), nil
	case 0:
		return "", &mapping.LookupError{Kind: "contact", Name: name}
	}
	return "", &mapping.LookupError{Kind: "contact", Name: name, Ambiguous: true, Candidates: describeContacts(hits)}
}

// checkContact says why the portal would refuse or drop contact id: nil when it is fine.
// Each id is asked once, within the ctx of the first call that needs it.
func (p *Portal) checkContact(ctx context.Context, id int64) error {
	check, ok := p.contacts.Load(id)
	if !ok {
		check, _ = p.contacts.LoadOrStore(id, sync.OnceValue(func() error { return p.askContact(ctx, id) }))
	}
	return check.(func() error)()
}

// askContact asks the portal for contact id: nil when it is one the portal takes.
func (p *Portal) askContact(ctx context.Context, id int64) error {
	_, err := p.client.GetContact(ctx, id)
	var apiErr *onlyoffice.APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr) && apiErr.StatusCode == 404:
		return errNoContact
	case errors.As(err, &apiErr) && apiErr.StatusCode == 403:
		return errHiddenContact
	}
	return fmt.Errorf("could not be checked: %w", err)
}

// Prefetch checks the contacts ids names, at most n at a time, so that the rows that name
// them later find the answers ready instead of waiting one request each in the mapping path.
func (p *Portal) Prefetch(ctx context.Context, ids []int64, n int) {
	sem := make(chan struct{}, max(n, 1))
	var wg sync.WaitGroup
	for _, id := range ids {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			p.checkContact(ctx, id)
		}()
	}
	wg.Wait()
}

var (
	errNoContact     = errors.New("is no contact on the portal")
	errHiddenContact = errors.New("is a private contact the token's user may not see (the portal would answer 403 Access Denied)")
)

// CustomFieldLabels returns the labels of the opportunity custom fields that hold values
// (headings left out).
func (p *Portal) CustomFieldLabels() []string {
	var out []string
	for _, f := range p.fields {
		if f.FieldType != fieldHeading {
			out = append(out, f.Label)
		}
	}
	return out
}
