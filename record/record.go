// Package record is the portal's opportunity as this tool writes and compares it, in one
// place: the mapped record as the API's body (Body), the portal's stored opportunity as a
// record in the form an import sends (FromPortal: dates in the portal's zone, decimals, bid
// type names, the HTML entities the portal echoes decoded), the fields a person sees
// (Fields) and their comparison one by one (Diff, Same), and what a full-record PUT leaves
// on the portal (Applied). Import, settle, sync and undo all compare through it, so that
// "the same" means one thing everywhere.
package record

import (
	"errors"
	"fmt"
	"html"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/onlyoffice"
)

// Body is the API's body for a mapped record.
func Body(r mapping.Record) onlyoffice.Opportunity {
	o := onlyoffice.Opportunity{
		Title:              r.Title,
		Description:        r.Description,
		ContactID:          r.ContactID,
		Members:            r.Members,
		ResponsibleID:      r.ResponsibleID,
		BidType:            r.BidType,
		BidValue:           r.BidValue,
		BidCurrencyAbbr:    r.BidCurrencyAbbr,
		PerPeriodValue:     r.PerPeriodValue,
		StageID:            r.StageID,
		SuccessProbability: r.SuccessProbability,
		ActualCloseDate:    r.ActualCloseDate,
		ExpectedCloseDate:  r.ExpectedCloseDate,
		IsPrivate:          r.IsPrivate,
		AccessList:         r.AccessList,
		IsNotify:           r.IsNotify,
	}
	for _, cf := range r.CustomFields {
		o.CustomFields = append(o.CustomFields, onlyoffice.CustomField{ID: cf.ID, Value: cf.Value})
	}
	return o
}

// bidTypeNames are the bid types by their number on the portal.
var bidTypeNames = []string{"FixedBid", "PerHour", "PerDay", "PerWeek", "PerMonth", "PerYear"}

// FromPortal is the record that puts o back as the portal holds it, in the form an import
// sends: dates from the portal's local 7-fraction form to yyyy-MM-dd (at local midnight, a
// date: the portal reads it in its own zone) or yyyy-MM-ddTHH:mm:ssZ in UTC, the bid type by
// name, amounts as plain decimals, title and description HTML-decoded, members and custom
// field values set back.
func FromPortal(o onlyoffice.StoredOpportunity) (mapping.Record, error) {
	r := mapping.Record{
		Title:           decode(o.Title),
		ContactID:       o.ContactID,
		ResponsibleID:   o.ResponsibleID,
		BidCurrencyAbbr: o.BidCurrencyAbbr,
		StageID:         o.StageID,
		AccessList:      o.AccessList,
		Members:         o.Members,
	}
	if o.Description != "" {
		r.Description = new(decode(o.Description))
	}
	if o.BidType >= 0 && o.BidType < len(bidTypeNames) {
		r.BidType = bidTypeNames[o.BidType]
	} else {
		r.BidType = strconv.Itoa(o.BidType) // stored as sent; the portal reads a number too
	}
	v, err := plainDecimal(o.BidValue)
	if err != nil {
		return mapping.Record{}, fmt.Errorf("bidValue %q: %w", o.BidValue, err)
	}
	if v != "" {
		r.BidValue = &v
	}
	if o.PerPeriodValue != 0 {
		r.PerPeriodValue = new(o.PerPeriodValue)
	}
	if o.SuccessProbability != 0 {
		r.SuccessProbability = new(o.SuccessProbability)
	}
	if r.ExpectedCloseDate, err = apiDate(o.ExpectedCloseDate); err != nil {
		return mapping.Record{}, fmt.Errorf("expectedCloseDate: %w", err)
	}
	if r.ActualCloseDate, err = apiDate(o.ActualCloseDate); err != nil {
		return mapping.Record{}, fmt.Errorf("actualCloseDate: %w", err)
	}
	if o.IsPrivate {
		r.IsPrivate = new(true)
	}
	for _, cf := range o.CustomFields {
		if v := strings.TrimSpace(cf.Value); v != "" {
			r.CustomFields = append(r.CustomFields, mapping.CustomValue{ID: cf.ID, Value: decode(v)})
		}
	}
	return r, nil
}

// decode undoes the HTML encoding some portals echo text with (&amp;, &#39;): a person
// typed "&", never "&amp;".
func decode(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return html.UnescapeString(s)
}

// apiDate turns a date as the portal writes it (local time, 7 fraction digits, an offset;
// year 1 when unset) into one it reads back intact: "" when unset, yyyy-MM-dd at local
// midnight, else yyyy-MM-ddTHH:mm:ssZ in UTC.
func apiDate(stored string) (string, error) {
	if stored == "" {
		return "", nil
	}
	t, err := time.Parse(time.RFC3339Nano, stored)
	if err != nil {
		return "", fmt.Errorf("%q is not a date the portal writes", stored)
	}
	if t.Year() <= 1 {
		return "", nil
	}
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format("2006-01-02"), nil
	}
	return t.UTC().Format("2006-01-02T15:04:05Z"), nil
}

var plain = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)

// plainDecimal writes a decimal as the client sends one ("1234.5"); "" for none or zero.
func plainDecimal(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", errors.New("not a number")
	}
	if r.Sign() == 0 {
		return "", nil
	}
	if plain.MatchString(s) {
		return s, nil
	}
	if r.IsInt() {
		return r.RatString(), nil
	}
	for prec := 1; prec <= 30; prec++ {
		f := r.FloatString(prec)
		if back, ok := new(big.Rat).SetString(f); ok && back.Cmp(r) == 0 {
			return f, nil
		}
	}
	return "", errors.New("not a finite decimal")
}

// StoredCustom is custom field id of the portal's o as a person reads it: HTML entities
// decoded, trimmed; "" when o holds none. A key_field's value is read so.
func StoredCustom(o onlyoffice.StoredOpportunity, id int64) string {
	for _, cf := range o.CustomFields {
		if cf.ID == id {
			return strings.TrimSpace(decode(cf.Value))
		}
	}
	return ""
}

// Holds reports whether the portal's o holds every field of Core that rec sent, as the
// portal writes them back: what finds the opportunity a create whose answer was lost made.
func Holds(o onlyoffice.StoredOpportunity, rec mapping.Record) bool {
	now, err := FromPortal(o)
	if err != nil {
		return false
	}
	for _, f := range Core {
		if !Same(now, rec, f) {
			return false
		}
	}
	return true
}
