package main

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/oppimport/oppimport/importer"
	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/onlyoffice"
)

// poster plugs the API client into the importer: it turns a mapped record into the API's
// opportunity and says which errors stop the whole run.
type poster struct {
	client  *onlyoffice.Client
	refused atomic.Int64 // 429 and 503 answers, for the summary
}

func (p *poster) Post(ctx context.Context, rec mapping.Record) (importer.Posted, error) {
	out, err := p.client.CreateOpportunity(ctx, opportunity(rec))
	posted := importer.Posted{ID: out.ID, Attempts: out.Attempts, HTTPStatus: out.HTTPStatus}
	if err == nil {
		return posted, nil
	}
	var apiErr *onlyoffice.APIError
	switch {
	case errors.As(err, &apiErr):
		if apiErr.StatusCode == 401 || apiErr.StatusCode == 402 {
			// The token or the portal's subscription: every other row would get the same.
			return posted, importer.Fatal(err)
		}
	case errors.Is(err, onlyoffice.ErrInDoubt), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
	default:
		// No answer at all after every retry: the portal cannot be reached.
		return posted, importer.Fatal(err)
	}
	return posted, err
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
