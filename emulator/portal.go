package emulator

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// What tests use to look into the portal and to act on it as its users do, beside the API.
// None of these is a request: they leave Stats alone, and no fault applies to them.

// ErrNoDeal is returned by Edit for an opportunity that does not exist or that the user may
// not see (the API answers both with 404).
var ErrNoDeal = errors.New("emulator: no such opportunity for this user")

// TokenFor issues an API token for the seeded user with this login or e-mail (any case), as
// logging in would, two-factor users included, valid for a year: a test acts as that user
// over HTTP with it.
func (s *Server) TokenFor(login string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.userByLogin(login)
	if !ok {
		return "", fmt.Errorf("emulator: no user %q", login)
	}
	tok := newToken()
	s.issued[tok] = issuedToken{userID: u.ID, expires: s.now().Add(tokenLifetime)}
	return tok, nil
}

// Edit changes an opportunity as the user with this login does in the web UI, which
// shows the whole record and saves it whole: change gets a copy to alter, and what it leaves
// is saved as it was. The rules of the server hold: a deal the user may not see is
// ErrNoDeal; only an administrator or the deal's creator can change its privacy and access
// list (anyone else's changes to those are not saved); the id and creator stay; a private
// deal keeps the editor on its access list. The last modification date becomes now.
//
// To hide a deal from the Options token's user (with Options.NotAdmin), Edit it as
// "viktor.petrov", an administrator, making it private to someone else: its access list
// is then that user and Viktor, and the token's user gets 404 for it, as for a deleted one.
func (s *Server) Edit(login string, id int, change func(*Opportunity)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.userByLogin(login)
	if !ok {
		return fmt.Errorf("emulator: no user %q", login)
	}
	o, ok := s.visibleDeal(id, u)
	if !ok {
		return fmt.Errorf("%w: %d for %s", ErrNoDeal, id, login)
	}
	c := o.clone()
	change(&c)
	c.ID, c.CreatedBy = o.ID, o.CreatedBy
	tags := c.Tags
	c.Tags = nil
	for _, t := range tags {
		s.addTag(&c, t) // a new tag becomes known to the portal, a known one keeps its spelling
	}
	if u.IsAdmin || o.CreatedBy == u.ID {
		setAccess(&c, c.IsPrivate, c.AccessList, u)
	} else {
		c.IsPrivate, c.AccessList = o.IsPrivate, slices.Clone(o.AccessList)
	}
	*o = c
	s.modified[id] = s.now().In(s.loc)
	return nil
}

// AddCustomField defines an opportunity custom field, as an administrator does in the web
// UI, after the last one, and returns it with its id.
func (s *Server) AddCustomField(label string, fieldType int, mask string) CustomField {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addCustomField(label, fieldType, mask)
}

// addCustomField defines a field after the last one. The caller holds s.mu.
func (s *Server) addCustomField(label string, fieldType int, mask string) CustomField {
	pos := 0
	for _, f := range s.customFields {
		pos = max(pos, f.Position)
	}
	f := CustomField{ID: s.nextFieldID, Label: label, FieldType: fieldType, Position: pos + 1, Mask: mask}
	s.nextFieldID++
	s.customFields = append(s.customFields, f)
	return f
}

// CustomFieldByLabel finds an opportunity custom field definition by its label, any case;
// the first one when several share it.
func (s *Server) CustomFieldByLabel(label string) (CustomField, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return first(s.customFields, func(f CustomField) bool { return strings.EqualFold(f.Label, label) })
}

// CountByField counts the opportunities by their value of the custom field fieldID (deals
// without a value are not counted): the test of "each key exactly once" on the portal.
func (s *Server) CountByField(fieldID int) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, o := range s.opps {
		if v, ok := o.CustomFields[fieldID]; ok {
			out[v]++
		}
	}
	return out
}

// Tags returns every tag the portal knows with the number of opportunities holding it.
func (s *Server) Tags() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.tags))
	for _, t := range s.tags {
		out[t] = 0
	}
	for _, o := range s.opps {
		for _, t := range o.Tags {
			out[t]++
		}
	}
	return out
}

// LastModified is when the opportunity was last created, changed or given a date by PUT
// crm/opportunity/{id}/lastmodifeddate, in the portal's time zone; false when there is no
// such opportunity.
func (s *Server) LastModified(id int) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.modified[id]
	return t, ok
}

// Requests counts the requests received for one method and route, the route as Stats.ByRoute
// names it: "POST crm/opportunity", "PUT crm/opportunity/{id}", "GET crm/opportunity/filter",
// "POST crm/opportunity/taglist", "PUT crm/opportunity/{id}/creationdate" and so on.
func (s *Server) Requests(method, route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.ByRoute[method+" "+route]
}

// SetProxyFaults changes Options.GatewayRate and Options.HTMLRate from the next request on,
// so that a test can build its portal's state first and then put a failing proxy or gateway
// in front of it.
func (s *Server) SetProxyFaults(gateway, html float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.GatewayRate, s.opts.HTMLRate = gateway, html
}

// Insert stores opportunities as given, bypassing the API and its checks, and returns their
// new ids: a portal of 100,000 deals for a benchmark without 100,000 requests. Each gets the
// next id; a zero CreatedAt becomes now, an empty CreatedBy the first seeded user; its tags
// become known to the portal. The values are copied, not kept.
func (s *Server) Insert(opps ...Opportunity) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int, 0, len(opps))
	now := s.now().In(s.loc)
	for _, in := range opps {
		o := in.clone()
		o.ID = s.nextID
		s.nextID++
		if o.CreatedAt.IsZero() {
			o.CreatedAt = now
		}
		if o.CreatedBy == "" {
			o.CreatedBy = s.users[0].ID
		}
		if o.Members == nil {
			o.Members = []int{}
		}
		if o.BidValue == "" {
			o.BidValue = "0"
		}
		tags := o.Tags
		o.Tags = nil
		for _, t := range tags {
			s.addTag(&o, t)
		}
		s.store(&o)
		ids = append(ids, o.ID)
	}
	return ids
}
