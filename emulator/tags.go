package emulator

import (
	"slices"
	"strings"
)

// Tags, as CRMApi.Tag.cs has them: a tag is a name known to the portal (created by its first
// use), matched in any case after trimming, and kept in its first spelling; adding a tag a
// deal holds already does nothing; removing one from a deal leaves the name on the portal
// (with a count of 0). Every answer but the two lists is the tagName as sent.

type tagView struct {
	Title              string `json:"title"`
	RelativeItemsCount int    `json:"relativeItemsCount"`
}

// knownTag is the portal's spelling of name, if it knows the tag. The caller holds s.mu.
func (s *Server) knownTag(name string) (string, bool) {
	name = strings.TrimSpace(name)
	for _, t := range s.tags {
		if strings.EqualFold(t, name) {
			return t, true
		}
	}
	return "", false
}

// addTag puts the tag on o, creating it on the portal if new. The caller holds s.mu.
func (s *Server) addTag(o *Opportunity, name string) {
	t, ok := s.knownTag(name)
	if !ok {
		t = strings.TrimSpace(name)
		s.tags = append(s.tags, t)
	}
	if !slices.Contains(o.Tags, t) {
		o.Tags = append(o.Tags, t)
	}
}

func hasTag(o *Opportunity, name string) bool {
	name = strings.TrimSpace(name)
	return slices.ContainsFunc(o.Tags, func(t string) bool { return strings.EqualFold(t, name) })
}

// tagName reads the tagName parameter: empty is 400.
func tagName(c *call) (string, *apiError) {
	name, _, err := mustGet(c.p, "tagname").toString()
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(name) == "" {
		return "", errGeneric()
	}
	return name, nil
}

// tagDeal is POST crm/opportunity/{id}/tag.
func (s *Server) tagDeal(c *call) reply {
	return s.onDealTag(c, func(o *Opportunity, name string) reply {
		s.addTag(o, name)
		return reply{response: name}
	})
}

// onDealTag reads the deal id and tagName of c (400 if bad) and runs do, holding s.mu, on
// the deal if the caller may see it (404 otherwise).
func (s *Server) onDealTag(c *call, do func(o *Opportunity, name string) reply) reply {
	id, _, err := mustGet(c.p, "opportunityid").toInt()
	if err != nil {
		return reply{err: err}
	}
	name, err := tagName(c)
	if err != nil {
		return reply{err: err}
	}
	return s.onDeal(id, c.user, func(o *Opportunity) reply { return do(o, name) })
}

// tagDeals is POST crm/opportunity/taglist: one tag onto every deal of entityid, one by one
// as the server does, so an unknown or hidden id answers 404 with the deals before it
// tagged already.
func (s *Server) tagDeals(c *call) reply {
	ids, err := idList(c.p, "entityid")
	if err != nil {
		return reply{err: err}
	}
	name, err := tagName(c)
	if err != nil {
		return reply{err: err}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		o, ok := s.visibleDeal(id, c.user)
		if !ok {
			return reply{err: errDealNotFound()}
		}
		s.addTag(o, name)
	}
	return reply{response: name}
}

// dealTags is GET crm/opportunity/tag/{id}: the deal's tag names, in the order added.
func (s *Server) dealTags(c *call) reply {
	id, _, err := mustGet(c.p, "opportunityid").toInt()
	if err != nil {
		return reply{err: err}
	}
	return s.onDeal(id, c.user, func(o *Opportunity) reply { return reply{response: append([]string{}, o.Tags...)} })
}

// listTags is GET crm/opportunity/tag: every tag with the number of deals holding it (all
// deals, hidden ones too), sorted by name in any case.
func (s *Server) listTags(*call) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]tagView, 0, len(s.tags))
	for _, t := range s.tags {
		n := 0
		for _, o := range s.opps {
			if slices.Contains(o.Tags, t) {
				n++
			}
		}
		out = append(out, tagView{Title: t, RelativeItemsCount: n})
	}
	slices.SortStableFunc(out, func(a, b tagView) int {
		return strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title))
	})
	return reply{response: out}
}

// untagDeal is DELETE crm/opportunity/{id}/tag?tagName=: 404 when the deal is not visible
// or the portal knows no such tag; a known tag the deal does not hold is no error.
func (s *Server) untagDeal(c *call) reply {
	return s.onDealTag(c, func(o *Opportunity, name string) reply {
		t, ok := s.knownTag(name)
		if !ok {
			return reply{err: errNotFound("The tag was not found")}
		}
		o.Tags = slices.DeleteFunc(o.Tags, func(x string) bool { return x == t })
		if len(o.Tags) == 0 {
			o.Tags = nil
		}
		return reply{response: name}
	})
}
