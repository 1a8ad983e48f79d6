package onlyoffice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Tags and the creation date: the calls that follow a create, from CRMApi.Tag.cs and
// CRMApi.Deals.cs. Each may be sent twice without harm (a tag already on a deal is not
// added again; a date set twice is the same date), so an answer that did not come from the
// portal is met by sending the call again, up to the client's retries, rather than by a
// doubt the caller must settle.

// TagMany adds tag to every opportunity of ids in one request (POST
// api/2.0/crm/opportunity/taglist), creating the tag on the portal when it is new. The
// portal tags the deals one by one and stops at one it does not find (404), the ones before
// it tagged. Attempts counts the requests sent. Safe for concurrent use.
func (c *Client) TagMany(ctx context.Context, tag string, ids []int64) (attempts int, err error) {
	if len(ids) == 0 {
		return 0, nil
	}
	return c.resendJSON(ctx, http.MethodPost, "api/2.0/crm/opportunity/taglist", struct {
		EntityID []int64 `json:"entityid"`
		TagName  string  `json:"tagName"`
	}{ids, tag})
}

// AddTag adds tag to opportunity id (POST api/2.0/crm/opportunity/{id}/tag). Safe for
// concurrent use.
func (c *Client) AddTag(ctx context.Context, id int64, tag string) (attempts int, err error) {
	return c.resendJSON(ctx, http.MethodPost, dealPath(id, "/tag"), struct {
		TagName string `json:"tagName"`
	}{tag})
}

// RemoveTag takes tag off opportunity id (DELETE api/2.0/crm/opportunity/{id}/tag). A
// deal that does not hold it is no error; a deal the portal does not show, or a tag it does
// not know, is an *APIError with status 404. Safe for concurrent use.
func (c *Client) RemoveTag(ctx context.Context, id int64, tag string) (attempts int, err error) {
	return c.resend(ctx, call{method: http.MethodDelete, path: dealPath(id, "/tag"), query: url.Values{"tagName": {tag}}})
}

// DealTags lists the tags of opportunity id (GET api/2.0/crm/opportunity/tag/{id}). Safe
// for concurrent use.
func (c *Client) DealTags(ctx context.Context, id int64) (tags []string, attempts int, err error) {
	res, err := c.do(ctx, call{method: http.MethodGet, path: "api/2.0/crm/opportunity/tag/" + strconv.FormatInt(id, 10)})
	if err != nil {
		return nil, res.attempts, err
	}
	if err := c.decode(res.body, &tags); err != nil {
		return nil, res.attempts, err
	}
	return tags, res.attempts, nil
}

// SetCreationDate sets the date the portal shows as opportunity id's creation (PUT
// api/2.0/crm/opportunity/{id}/creationdate), date as the create's dates are written:
// yyyy-MM-dd (read in the portal's time zone) or yyyy-MM-ddTHH:mm:ssZ. Safe for concurrent
// use.
func (c *Client) SetCreationDate(ctx context.Context, id int64, date string) (attempts int, err error) {
	if !apiDate(date) {
		return 0, fmt.Errorf("creation date %q: want yyyy-MM-dd or yyyy-MM-ddTHH:mm:ssZ", date)
	}
	return c.resendJSON(ctx, http.MethodPut, dealPath(id, "/creationdate"), struct {
		CreationDate string `json:"creationDate"`
	}{date})
}

// resendJSON resends (see resend) a call whose body is v as JSON.
func (c *Client) resendJSON(ctx context.Context, method, path string, v any) (attempts int, err error) {
	body, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	return c.resend(ctx, call{method: method, path: path, body: body})
}

// resend runs a call that may be sent twice: one whose answer did not come from the portal
// (ErrInDoubt, ErrUnverified) is sent again, as often as the retries allow.
func (c *Client) resend(ctx context.Context, r call) (attempts int, err error) {
	for round := 0; ; round++ {
		res, err := c.do(ctx, r)
		attempts += res.attempts
		if err == nil || !(errors.Is(err, ErrInDoubt) || errors.Is(err, ErrUnverified)) || ctx.Err() != nil || round >= c.retries {
			return attempts, err
		}
		c.log.Info("sending again: the answer was not the portal's", "method", r.method, "path", r.path, "status", res.status)
	}
}
