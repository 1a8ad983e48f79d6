package lookup

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/oppimport/oppimport/mapping"
)

// Columns says which input column feeds a field; *mapping.Plan is one.
type Columns interface {
	Column(field string) (name string, col int, ok bool)
}

// Checker checks mapped records against the portal. Safe for concurrent use.
type Checker struct {
	p    *Portal
	cols Columns

	users  map[string]bool
	stages map[int64]bool
	curr   map[string]bool
	fields map[int64]fieldDef
}

type fieldDef struct {
	label   string
	typ     int
	options []string
}

// Custom field types (onlyoffice.CustomFieldDef.FieldType).
const (
	fieldText     = 0
	fieldTextarea = 1
	fieldSelect   = 2
	fieldCheckbox = 3
	fieldHeading  = 4
	fieldDate     = 5
)

// Checker returns a Checker whose errors name the columns of cols (nil: no columns).
func (p *Portal) Checker(cols Columns) *Checker {
	c := &Checker{p: p, cols: cols, users: map[string]bool{}, stages: map[int64]bool{}, curr: map[string]bool{}, fields: map[int64]fieldDef{}}
	for _, u := range p.users {
		c.users[strings.ToLower(u.ID)] = true
	}
	for _, s := range p.stages {
		c.stages[s.ID] = true
	}
	for _, cur := range p.currencies {
		c.curr[strings.ToUpper(cur.Abbreviation)] = true
	}
	for _, f := range p.fields {
		c.fields[f.ID] = fieldDef{label: f.Label, typ: f.FieldType, options: selectOptions(f.Mask)}
	}
	return c
}

// Check finds what the portal would refuse in rec (an unknown stage, currency or contact,
// a contact the token's user may not see) and what it would silently corrupt (a
// responsible or access list GUID that is no user, a member that is no contact, a custom
// field the portal lacks, a select value among no options, a date or checkbox field that
// does not hold a date or a boolean). It normalises custom field values the portal reads
// in one spelling only: a checkbox to true or false, a select value to its option's case.
// All of the record's problems come back at once.
// ctx bounds the contact requests the check makes.
func (c *Checker) Check(ctx context.Context, rec *mapping.Record) []mapping.FieldError {
	var errs []mapping.FieldError
	fail := func(field, value, reason string) {
		fe := mapping.FieldError{Field: field, Col: -1, Value: value, Reason: reason}
		if c.cols != nil {
			if name, col, ok := c.cols.Column(field); ok {
				fe.Column, fe.Col = name, col
			}
		}
		errs = append(errs, fe)
	}
	if rec.StageID != 0 && !c.stages[rec.StageID] {
		fail("stageid", strconv.FormatInt(rec.StageID, 10), "is no stage of the portal (it has "+c.stageList()+")")
	}
	if rec.BidCurrencyAbbr != "" && !c.curr[strings.ToUpper(rec.BidCurrencyAbbr)] {
		fail("bidCurrencyAbbr", rec.BidCurrencyAbbr, "is not a currency of the portal (see crm/settings/currency)")
	}
	if rec.ResponsibleID != "" && !c.users[strings.ToLower(rec.ResponsibleID)] {
		fail("responsibleid", rec.ResponsibleID, "is no user of the portal (it would assign the deal to a removed profile)")
	}
	for _, id := range rec.AccessList {
		if !c.users[strings.ToLower(id)] {
			fail("accessList", id, "is no user of the portal (it would grant access to nobody)")
		}
	}
	if rec.ContactID != 0 {
		if err := c.p.checkContact(ctx, rec.ContactID); err != nil {
			fail("contactid", strconv.FormatInt(rec.ContactID, 10), err.Error())
		}
	}
	for _, id := range rec.Members {
		if err := c.p.checkContact(ctx, id); err != nil {
			reason := err.Error()
			if err == errNoContact {
				reason += " (the portal would drop the member without a word)"
			}
			fail("members", strconv.FormatInt(id, 10), reason)
		}
	}
	var fixed []mapping.CustomValue
	for i, cv := range rec.CustomFields {
		field := "customField:" + strconv.FormatInt(cv.ID, 10)
		def, ok := c.fields[cv.ID]
		value := cv.Value
		switch {
		case !ok:
			fail(field, cv.Value, "goes to custom field "+strconv.FormatInt(cv.ID, 10)+", which opportunities on the portal do not have (it would drop the value)")
		case def.typ == fieldHeading:
			fail(field, cv.Value, "goes to "+strconv.Quote(def.label)+", a heading, which holds no value (the portal would drop it)")
		case def.typ == fieldSelect:
			j := slices.IndexFunc(def.options, func(o string) bool { return strings.EqualFold(strings.TrimSpace(o), strings.TrimSpace(cv.Value)) })
			if j < 0 {
				quoted := make([]string, len(def.options))
				for k, o := range def.options {
					quoted[k] = strconv.Quote(o)
				}
				fail(field, cv.Value, "is not an option of "+strconv.Quote(def.label)+" (options: "+strings.Join(quoted, ", ")+")")
			} else {
				value = def.options[j]
			}
		case def.typ == fieldCheckbox:
			b, ok := mapping.Boolean(cv.Value)
			if !ok {
				fail(field, cv.Value, "is not a boolean for the checkbox "+strconv.Quote(def.label)+" (want true/false, yes/no, 1/0 or x)")
			} else {
				value = strconv.FormatBool(b)
			}
		case def.typ == fieldDate:
			if !isoDate(cv.Value) {
				fail(field, cv.Value, "is not a date for "+strconv.Quote(def.label)+" (want YYYY-MM-DD)")
			}
		}
		if value != cv.Value {
			if fixed == nil {
				fixed = slices.Clone(rec.CustomFields)
			}
			fixed[i].Value = value
		}
	}
	if fixed != nil {
		rec.CustomFields = fixed
	}
	return errs
}

func (c *Checker) stageList() string {
	parts := make([]string, len(c.p.stages))
	for i, s := range c.p.stages {
		parts[i] = strconv.FormatInt(s.ID, 10) + " " + strconv.Quote(s.Title)
	}
	return strings.Join(parts, ", ")
}

// isoDate says whether s is a real date written YYYY-MM-DD.
func isoDate(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	y, e1 := strconv.Atoi(s[:4])
	m, e2 := strconv.Atoi(s[5:7])
	d, e3 := strconv.Atoi(s[8:10])
	if e1 != nil || e2 != nil || e3 != nil || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

// selectOptions reads a select field's options from its mask, a JSON list of strings.
func selectOptions(mask string) []string {
	var opts []string
	if json.Unmarshal([]byte(mask), &opts) != nil {
		return nil
	}
	return opts
}
