package emulator

import (
	"encoding/json"
	"strings"
	"time"
)

// Custom field types, as CustomFieldType numbers them.
const (
	fieldText     = 0
	fieldTextArea = 1
	fieldSelect   = 2
	fieldCheckBox = 3
	fieldHeading  = 4
	fieldDate     = 5
)

// customFieldDefView is a definition as the definitions list and the create answer show it.
type customFieldDefView struct {
	customFieldView
	RelativeItemsCount int `json:"relativeItemsCount"`
}

// listCustomFields is GET crm/opportunity/customfield/definitions, in position order.
func (s *Server) listCustomFields(*call) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The deals counted in one pass for every field, not one pass a field: at 10^6 deals
	// the six seeded fields took 3 s, the start of every import against it.
	counts := map[int]int{}
	for _, o := range s.opps {
		for id := range o.CustomFields {
			counts[id]++
		}
	}
	out := make([]customFieldDefView, 0, len(s.customFields))
	for _, f := range s.customFields {
		out = append(out, customFieldDefView{customFieldView: viewCustomField(f, 0), RelativeItemsCount: counts[f.ID]})
	}
	return reply{response: out}
}

// defView counts the deals holding a value of f. The caller holds s.mu.
func (s *Server) defView(f CustomField) customFieldDefView {
	n := 0
	for _, o := range s.opps {
		if _, ok := o.CustomFields[f.ID]; ok {
			n++
		}
	}
	return customFieldDefView{customFieldView: viewCustomField(f, 0), RelativeItemsCount: n}
}

// createCustomField is POST crm/opportunity/customfield (label, fieldType, position, mask),
// for administrators only: anyone else gets the security error (403). As the server does,
// the field goes after the last one whatever position says; the mask is kept for text,
// textarea and select fields (a select's must be a JSON array of options) and dropped for
// the others. An empty label or a fieldType outside 0..5 is 400.
func (s *Server) createCustomField(c *call) reply {
	r := &reader{p: c.p}
	label, _ := read(r, "label", value.toString)
	typ, _ := read(r, "fieldtype", value.toInt)
	read(r, "position", value.toInt)
	if r.err != nil {
		return reply{err: r.err}
	}
	mask, _, _ := mustGet(c.p, "mask").scalar() // text, or the JSON text of an array or object
	if !c.user.IsAdmin {
		return reply{err: errDenied()}
	}
	if strings.TrimSpace(label) == "" || typ < fieldText || typ > fieldDate {
		return reply{err: errGeneric()}
	}
	switch typ {
	case fieldSelect:
		var options []any
		if json.Unmarshal([]byte(mask), &options) != nil {
			return reply{err: errArgument("Mask is not valid")}
		}
	case fieldText, fieldTextArea:
	default:
		mask = ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return reply{response: s.defView(s.addCustomField(label, typ, mask))}
}

// setCustomFieldValue is POST crm/opportunity/{id}/customfield/{fieldid} (fieldValue). Unlike
// a PUT it can clear a value: the server trims the value and deletes the field's value when
// nothing is left. What the server does with the rest, read in its source: an unknown field
// id and an omitted fieldValue (null, or "", which the framing counts as omitted) fail with
// a null reference, 500. A deal the caller may not see is 404 here as everywhere.
func (s *Server) setCustomFieldValue(c *call) reply {
	r := &reader{p: c.p}
	id, _ := read(r, "opportunityid", value.toInt)
	fieldID, _ := read(r, "fieldid", value.toInt)
	text, present := read(r, "fieldvalue", value.toString)
	if r.err != nil {
		return reply{err: r.err}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.customField(fieldID)
	if !ok || !present {
		return reply{err: errServer("Object reference not set to an instance of an object.")}
	}
	o, ok := s.visibleDeal(id, c.user)
	if !ok {
		return reply{err: errDealNotFound()}
	}
	if o.CustomFields == nil {
		o.CustomFields = map[int]string{}
	}
	if v := strings.TrimSpace(text); v == "" {
		delete(o.CustomFields, fieldID)
	} else {
		o.CustomFields[fieldID] = v
	}
	s.modified[o.ID] = s.now().In(s.loc)
	v := viewCustomField(f, o.ID)
	v.FieldValue = &text
	return reply{response: v}
}

// setCreationDate is PUT crm/opportunity/{id}/creationdate (creationDate, an ApiDateTime:
// without a zone, in the portal's time zone): the date GET and the lists show as "created".
// It answers without a response, as the server's void method does.
func (s *Server) setCreationDate(c *call) reply {
	return s.setDealDate(c, "creationdate", func(o *Opportunity, t time.Time) { o.CreatedAt = t })
}

// setLastModifiedDate is PUT crm/opportunity/{id}/lastmodifeddate (lastModifedDate, so
// spelled): the date the web UI sorts by; the API shows it nowhere (Server.LastModified does).
func (s *Server) setLastModifiedDate(c *call) reply {
	return s.setDealDate(c, "lastmodifeddate", func(o *Opportunity, t time.Time) { s.modified[o.ID] = t })
}

// setDealDate reads the date parameter name (a bad one is 400 "invalid date time format",
// an omitted one 400 too) and sets it on a deal the caller may see (404 otherwise).
func (s *Server) setDealDate(c *call, name string, set func(*Opportunity, time.Time)) reply {
	r := &reader{p: c.p}
	id, _ := read(r, "opportunityid", value.toInt)
	t, present := read(r, name, func(v value) (time.Time, bool, *apiError) { return v.toDate(s.loc) })
	if r.err != nil {
		return reply{err: r.err}
	}
	return s.onDeal(id, c.user, func(o *Opportunity) reply {
		if !present {
			return reply{err: errGeneric()}
		}
		set(o, t)
		return reply{}
	})
}
