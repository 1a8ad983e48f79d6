package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync/atomic"
	"time"

	"github.com/oppimport/oppimport/importer"
	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/onlyoffice"
	"github.com/oppimport/oppimport/pace"
)

// poster plugs the API client into the importer: it turns a mapped record into the API's
// opportunity and says which errors stop the whole run.
type poster struct {
	client  *onlyoffice.Client
	refused atomic.Int64     // 429 and 503 answers, for the summary
	pace    *pace.Controller // adapts the shared limiter to the portal's answers
}

func (p *poster) Create(ctx context.Context, rec mapping.Record) (importer.Posted, error) {
	out, err := p.client.CreateOpportunity(ctx, opportunity(rec))
	return p.posted(out, err)
}

func (p *poster) Update(ctx context.Context, id int64, rec mapping.Record) (importer.Posted, error) {
	out, err := p.client.UpdateOpportunity(ctx, id, opportunity(rec))
	if errors.Is(err, onlyoffice.ErrUnverified) {
		// Not the portal's answer: the update landed only if the portal now holds rec.
		o, gerr := p.client.GetOpportunity(ctx, id)
		out.Attempts++
		switch {
		case gerr != nil:
			err = fmt.Errorf("%w; reading it back: %v", err, gerr)
		case holds(o, rec):
			out.HTTPStatus, err = 200, nil
		default:
			err = fmt.Errorf("%w; the portal does not hold what was sent: not updated", err)
		}
	}
	return p.posted(out, err)
}

// Find lists the opportunities with rec's responsible, stage and contact created since
// then, and keeps those that hold every field rec sent.
func (p *poster) Find(ctx context.Context, rec mapping.Record, since time.Time) ([]int64, error) {
	found, err := p.client.RecentOpportunities(ctx, onlyoffice.Filter{
		ResponsibleID: rec.ResponsibleID, StageID: rec.StageID, ContactID: rec.ContactID,
	}, since)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, o := range found {
		if holds(o, rec) {
			ids = append(ids, o.ID)
		}
	}
	return ids, nil
}

// Snapshot reads opportunity id as the portal holds it, as JSON of
// onlyoffice.StoredOpportunity: what an undo puts back.
func (p *poster) Snapshot(ctx context.Context, id int64) ([]byte, importer.Posted, error) {
	o, err := p.client.GetOpportunity(ctx, id)
	if err != nil {
		posted, err := p.posted(onlyoffice.Outcome{ID: id, Attempts: 1, HTTPStatus: statusOf(err)}, err)
		return nil, posted, err
	}
	b, err := json.Marshal(o)
	return b, importer.Posted{ID: id, Attempts: 1, HTTPStatus: 200}, err
}

// statusOf is the HTTP status of an API error, 0 for any other.
func statusOf(err error) int {
	var apiErr *onlyoffice.APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}

// posted classifies an answer for the importer: which errors stop the whole run, which leave
// the row in doubt.
func (p *poster) posted(out onlyoffice.Outcome, err error) (importer.Posted, error) {
	posted := importer.Posted{ID: out.ID, Attempts: out.Attempts, HTTPStatus: out.HTTPStatus}
	if err == nil {
		return posted, nil
	}
	posted.InDoubt = errors.Is(err, onlyoffice.ErrInDoubt)
	var apiErr *onlyoffice.APIError
	switch {
	case errors.As(err, &apiErr):
		if apiErr.StatusCode == 401 || apiErr.StatusCode == 402 {
			// The token or the portal's subscription: every other row would get the same.
			return posted, importer.Fatal(err)
		}
	case errors.Is(err, onlyoffice.ErrInDoubt), errors.Is(err, onlyoffice.ErrUnverified),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
	default:
		// No answer at all after every retry: the portal cannot be reached.
		return posted, importer.Fatal(err)
	}
	return posted, err
}

// holds reports whether the portal's opportunity o holds every field rec sent, as the portal
// writes them back (dates in its own zone, amounts as decimals).
func holds(o onlyoffice.StoredOpportunity, rec mapping.Record) bool {
	deref := func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	}
	desc := ""
	if rec.Description != nil {
		desc = *rec.Description
	}
	private := rec.IsPrivate != nil && *rec.IsPrivate
	return o.Title == rec.Title &&
		strings.EqualFold(o.ResponsibleID, rec.ResponsibleID) &&
		o.StageID == rec.StageID &&
		o.ContactID == rec.ContactID &&
		strings.EqualFold(o.BidCurrencyAbbr, rec.BidCurrencyAbbr) &&
		sameNumber(o.BidValue, rec.BidValue) &&
		o.BidType == bidTypes[rec.BidType] &&
		o.PerPeriodValue == deref(rec.PerPeriodValue) &&
		o.SuccessProbability == deref(rec.SuccessProbability) &&
		strings.TrimSpace(o.Description) == strings.TrimSpace(desc) &&
		o.IsPrivate == (private && len(rec.AccessList) > 0) &&
		sameDate(o.ExpectedCloseDate, rec.ExpectedCloseDate) &&
		sameDate(o.ActualCloseDate, rec.ActualCloseDate)
}

var bidTypes = map[string]int{"": 0, "FixedBid": 0, "PerHour": 1, "PerDay": 2, "PerWeek": 3, "PerMonth": 4, "PerYear": 5}

// sameNumber compares the portal's decimal with the one sent; nothing sent is 0.
func sameNumber(stored string, sent *string) bool {
	a, b := new(big.Rat), new(big.Rat)
	if stored != "" {
		if _, ok := a.SetString(stored); !ok {
			return false
		}
	}
	if sent != nil {
		if _, ok := b.SetString(*sent); !ok {
			return false
		}
	}
	return a.Cmp(b) == 0
}

// sameDate compares the portal's date (local time, 7 fraction digits; year 1 when unset)
// with the one sent: a date by its day, a date-time by its instant.
func sameDate(stored, sent string) bool {
	t, err := time.Parse(time.RFC3339Nano, stored)
	unset := err != nil || t.Year() <= 1
	switch {
	case sent == "":
		return unset
	case unset:
		return false
	case len(sent) == len("2006-01-02"):
		return stored[:10] == sent
	}
	s, err := time.Parse(time.RFC3339, sent)
	return err == nil && s.Equal(t)
}

// opportunity is the API's body for a mapped record.
func opportunity(r mapping.Record) onlyoffice.Opportunity {
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
