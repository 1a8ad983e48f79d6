package onlyoffice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// UpdateOpportunity replaces opportunity id with o (PUT api/2.0/crm/opportunity/{id}). The
// portal resets every field left out, so o must be the whole record. A full replace is
// idempotent, so unlike a create it is retried when an answer is lost. A missing one is an
// *APIError with status 404. An answer that came from something in front of the portal (a
// proxy's 502 or 504, a gateway's HTML page) is never success: the error wraps
// ErrUnverified, and the caller reads the deal back to see whether the portal holds o.
// Safe for concurrent use.
func (c *Client) UpdateOpportunity(ctx context.Context, id int64, o Opportunity) (Outcome, error) {
	if id <= 0 {
		// PUT api/2.0/crm/opportunity without an id deletes opportunities in bulk.
		return Outcome{}, fmt.Errorf("update of opportunity %d: want a positive id", id)
	}
	if err := o.check(); err != nil {
		return Outcome{}, err
	}
	body, err := json.Marshal(o)
	if err != nil {
		return Outcome{}, err
	}
	res, err := c.do(ctx, call{method: http.MethodPut, path: dealPath(id, ""), body: body})
	out := Outcome{ID: id, Attempts: res.attempts, HTTPStatus: res.status}
	return out, err
}

// DeleteOpportunity deletes opportunity id (DELETE api/2.0/crm/opportunity/{id}). A missing
// one is an *APIError with status 404. It returns nil only when the portal itself said the
// deal was deleted, or, after an answer that came from something in front of the portal (a
// proxy's 502, a gateway's HTML page), when a GET proved it gone; a deal still there after
// that is deleted again, as often as the retries allow. An error that wraps ErrUnverified
// says the portal could not be asked. Safe for concurrent use.
func (c *Client) DeleteOpportunity(ctx context.Context, id int64) (Outcome, error) {
	if id <= 0 {
		return Outcome{}, fmt.Errorf("delete of opportunity %d: want a positive id", id)
	}
	path := dealPath(id, "")
	out := Outcome{ID: id}
	for round := 0; ; round++ {
		res, err := c.do(ctx, call{method: http.MethodDelete, path: path})
		out.Attempts += res.attempts
		out.HTTPStatus = res.status
		if !errors.Is(err, ErrUnverified) {
			return out, err
		}
		check, gerr := c.do(ctx, call{method: http.MethodGet, path: path})
		out.Attempts += check.attempts
		var apiErr *APIError
		switch {
		case errors.As(gerr, &apiErr) && apiErr.StatusCode == http.StatusNotFound:
			// Gone: the delete reached the portal. The portal's own answer to it is lost.
			out.HTTPStatus = http.StatusOK
			return out, nil
		case gerr != nil:
			return out, fmt.Errorf("%w; asking the portal whether it is gone: %v", err, gerr)
		case round >= c.retries:
			return out, fmt.Errorf("%w; still on the portal after %d deletes", err, round+1)
		}
		c.log.Info("deleting again: still on the portal after an answer that was not the portal's",
			"opportunity", id, "status", res.status)
	}
}
