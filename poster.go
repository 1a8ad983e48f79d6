package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/oppimport/oppimport/importer"
	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/onlyoffice"
	"github.com/oppimport/oppimport/pace"
	"github.com/oppimport/oppimport/record"
)

// poster plugs the API client into the importer: it turns a mapped record into the API's
// opportunity and says which errors stop the whole run.
type poster struct {
	client  *onlyoffice.Client
	refused atomic.Int64     // 429 and 503 answers, for the summary
	pace    *pace.Controller // adapts the shared limiter to the portal's answers
	// keyField is the custom field that holds each row's key (key_field); 0 = none. With
	// it, a lost create is found by its key, whatever a portal user changed since.
	keyField int64
	// backdated names the deals whose creation date a run may have set into the past
	// (created:): a lost create's search goes on past them. nil = none.
	backdated func(id int64) bool
}

func (p *poster) Create(ctx context.Context, rec mapping.Record) (importer.Posted, error) {
	out, err := p.client.CreateOpportunity(ctx, record.Body(rec))
	return p.posted(out, err)
}

func (p *poster) Update(ctx context.Context, id int64, rec mapping.Record) (importer.Posted, error) {
	out, err := p.client.UpdateOpportunity(ctx, id, record.Body(rec))
	if errors.Is(err, onlyoffice.ErrUnverified) {
		// Not the portal's answer: the update landed only if the portal now holds rec.
		o, read, gerr := p.client.ReadOpportunity(ctx, id)
		out.Attempts += read.Attempts
		switch {
		case gerr != nil:
			err = fmt.Errorf("%w; reading it back: %v", err, gerr)
		case record.Holds(o, rec):
			out.HTTPStatus, err = 200, nil
		default:
			err = fmt.Errorf("%w; the portal does not hold what was sent: not updated", err)
		}
	}
	return p.posted(out, err)
}

// Find lists the opportunities created since then that may be the one a create of rec
// made: by rec's key with a key_field (whatever a portal user changed since), else those
// with rec's responsible, stage and contact that hold every field rec sent. It returns the
// requests made too.
func (p *poster) Find(ctx context.Context, rec mapping.Record, since time.Time) ([]int64, int, error) {
	key := record.Value(rec, record.CustomField(p.keyField))
	byKey := p.keyField != 0 && key != ""
	f := onlyoffice.Filter{ResponsibleID: rec.ResponsibleID, StageID: rec.StageID, ContactID: rec.ContactID, Backdated: p.backdated}
	if byKey {
		// No filter: a portal user may have changed the responsible, the stage or the
		// contact before the settle.
		f = onlyoffice.Filter{Backdated: p.backdated}
	}
	f.Backdated = p.backdated
	found, attempts, err := p.client.RecentOpportunities(ctx, f, since)
	if err != nil {
		return nil, attempts, err
	}
	var ids []int64
	for _, o := range found {
		if byKey && record.StoredCustom(o, p.keyField) == key || !byKey && record.Holds(o, rec) {
			ids = append(ids, o.ID)
		}
	}
	return ids, attempts, nil
}

// Current reads the portal's opportunities from the list endpoint (1000 a page, whole
// records) and keeps those want names: each as a record in the form an import sends, and as
// JSON of onlyoffice.StoredOpportunity, what an undo puts back.
func (p *poster) Current(ctx context.Context, want func(id int64) bool) (map[int64]importer.Current, importer.Posted, error) {
	out := map[int64]importer.Current{}
	attempts, err := p.client.Opportunities(ctx, func(o onlyoffice.StoredOpportunity) error {
		if !want(o.ID) {
			return nil
		}
		raw, err := json.Marshal(o)
		if err != nil {
			return err
		}
		rec, err := record.FromPortal(o)
		out[o.ID] = importer.Current{Record: rec, Raw: raw, Err: err}
		return nil
	})
	posted, err := p.posted(onlyoffice.Outcome{Attempts: attempts, HTTPStatus: statusOf(err)}, err)
	return out, posted, err
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
