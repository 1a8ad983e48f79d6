package undo

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/onlyoffice"
)

var bidTypeNames = []string{"FixedBid", "PerHour", "PerDay", "PerWeek", "PerMonth", "PerYear"}

// Record is the full record that puts o back as the portal held it, in the form an import
// sends: dates from the portal's local 7-fraction form to yyyy-MM-dd (at local midnight, a
// date: the portal reads it in its own zone) or yyyy-MM-ddTHH:mm:ssZ in UTC, the bid type by
// name, amounts as plain decimals, members and custom field values set back.
func Record(o onlyoffice.StoredOpportunity) (mapping.Record, error) {
	r := mapping.Record{
		Title:           o.Title,
		ContactID:       o.ContactID,
		ResponsibleID:   o.ResponsibleID,
		BidCurrencyAbbr: o.BidCurrencyAbbr,
		StageID:         o.StageID,
		AccessList:      o.AccessList,
		Members:         o.Members,
	}
	if o.Description != "" {
		d := o.Description
		r.Description = &d
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
		n := o.PerPeriodValue
		r.PerPeriodValue = &n
	}
	if o.SuccessProbability != 0 {
		n := o.SuccessProbability
		r.SuccessProbability = &n
	}
	if r.ExpectedCloseDate, err = apiDate(o.ExpectedCloseDate); err != nil {
		return mapping.Record{}, fmt.Errorf("expectedCloseDate: %w", err)
	}
	if r.ActualCloseDate, err = apiDate(o.ActualCloseDate); err != nil {
		return mapping.Record{}, fmt.Errorf("actualCloseDate: %w", err)
	}
	if o.IsPrivate {
		t := true
		r.IsPrivate = &t
	}
	for _, cf := range o.CustomFields {
		if v := strings.TrimSpace(cf.Value); v != "" {
			r.CustomFields = append(r.CustomFields, mapping.CustomValue{ID: cf.ID, Value: v})
		}
	}
	return r, nil
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

// plainDecimal writes the portal's decimal as the client sends one ("1234.5"); "" for
// none or zero.
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

// notRestored lists what a PUT of before cannot take back from the portal's current record
// now: custom field values the run set where there were none (the portal sets custom fields,
// never clears them).
func notRestored(now, before onlyoffice.StoredOpportunity) []string {
	was := map[int64]string{}
	for _, cf := range before.CustomFields {
		was[cf.ID] = strings.TrimSpace(cf.Value)
	}
	var out []string
	for _, cf := range now.CustomFields {
		if v := strings.TrimSpace(cf.Value); v != "" && was[cf.ID] == "" {
			out = append(out, fmt.Sprintf("custom field %d (%q, empty before)", cf.ID, v))
		}
	}
	return out
}

// differences names the fields a person sees that differ between the portal's record now
// (as Record gives it) and what the run sent; it only words a difference that the caller's
// Holds found.
func differences(now, sent mapping.Record) []string {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return strings.TrimSpace(*p)
	}
	num := func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	}
	bid := func(s string) string {
		if s == "" {
			return "FixedBid"
		}
		return s
	}
	private := func(r mapping.Record) bool { return r.IsPrivate != nil && *r.IsPrivate && len(r.AccessList) > 0 }
	var out []string
	add := func(differ bool, name string) {
		if differ {
			out = append(out, name)
		}
	}
	add(now.Title != sent.Title, "title")
	add(str(now.Description) != str(sent.Description), "description")
	add(now.ContactID != sent.ContactID, "contactid")
	add(!strings.EqualFold(now.ResponsibleID, sent.ResponsibleID), "responsibleid")
	add(now.StageID != sent.StageID, "stageid")
	add(bid(now.BidType) != bid(sent.BidType), "bidType")
	add(!sameDecimal(str(now.BidValue), str(sent.BidValue)), "bidValue")
	add(!strings.EqualFold(now.BidCurrencyAbbr, sent.BidCurrencyAbbr), "bidCurrencyAbbr")
	add(num(now.PerPeriodValue) != num(sent.PerPeriodValue), "perPeriodValue")
	add(num(now.SuccessProbability) != num(sent.SuccessProbability), "successProbability")
	add(!sameDate(now.ExpectedCloseDate, sent.ExpectedCloseDate), "expectedCloseDate")
	add(!sameDate(now.ActualCloseDate, sent.ActualCloseDate), "actualCloseDate")
	add(private(now) != private(sent), "isPrivate")
	return out
}

func sameDecimal(a, b string) bool {
	x, y := new(big.Rat), new(big.Rat)
	if a != "" {
		if _, ok := x.SetString(a); !ok {
			return a == b
		}
	}
	if b != "" {
		if _, ok := y.SetString(b); !ok {
			return a == b
		}
	}
	return x.Cmp(y) == 0
}

func sameDate(a, b string) bool {
	if a == b {
		return true
	}
	x, err1 := time.Parse(time.RFC3339, a)
	y, err2 := time.Parse(time.RFC3339, b)
	return err1 == nil && err2 == nil && x.Equal(y)
}
