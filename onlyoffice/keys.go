package onlyoffice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Custom field types (fieldType of a definition).
const (
	FieldText     = 0
	FieldTextArea = 1
)

// CreateCustomField creates an opportunity custom field (POST
// api/2.0/crm/opportunity/customfield) and returns its definition. Only an administrator
// may: anyone else gets an *APIError with status 403. A create whose answer was lost wraps
// ErrInDoubt: list the definitions to see whether it was made. Safe for concurrent use.
func (c *Client) CreateCustomField(ctx context.Context, label string, fieldType int) (CustomFieldDef, error) {
	body, err := json.Marshal(struct {
		Label     string `json:"label"`
		FieldType int    `json:"fieldType"`
	}{label, fieldType})
	if err != nil {
		return CustomFieldDef{}, err
	}
	res, err := c.do(ctx, call{method: http.MethodPost, path: "api/2.0/crm/opportunity/customfield", body: body})
	if err != nil {
		return CustomFieldDef{}, err
	}
	var def CustomFieldDef
	if err := c.decode(res.body, &def); err != nil || def.ID <= 0 {
		return CustomFieldDef{}, fmt.Errorf("%w (HTTP %d without a custom field id)", ErrInDoubt, res.status)
	}
	return def, nil
}

// KeyedOpportunity is an opportunity of the portal's key index: its id, when it was
// created, and the value of the key field (HTML entities decoded, trimmed; "" when unset).
type KeyedOpportunity struct {
	ID      int64
	Created time.Time // zero when the portal did not say
	Key     string
}

// KeyIndex reads the value of custom field fieldID of every opportunity the token's user
// may see, newest first, 1000 a page (GET api/2.0/crm/opportunity/filter, whose lists carry
// every custom field), and hands each page to fn, which must not keep it. It stops after
// the page that reaches an opportunity at or below afterID (0: read them all), or at fn's
// first error. It returns the newest id seen and the requests sent. Memory stays one page,
// whatever the portal holds. Each page reads the last pageOverlap deals of the one before
// again (handed over once), so that deals deleted during the read cannot hide others. Safe
// for concurrent use.
func (c *Client) KeyIndex(ctx context.Context, fieldID, afterID int64, fn func(page []KeyedOpportunity) error) (newest int64, requests int, err error) {
	q := url.Values{"sortBy": {"id"}, "sortOrder": {"descending"}, "count": {strconv.Itoa(pageSize)}}
	page := make([]KeyedOpportunity, 0, pageSize)
	var lowest int64 // the oldest id handed over so far: newest first, what is not older was seen
	for start, pages := 0, 0; ; pages++ {
		if pages == maxPages*10 {
			return newest, requests, fmt.Errorf("the portal's opportunities: more than %d pages", pages)
		}
		q.Set("startIndex", strconv.Itoa(start))
		res, err := c.do(ctx, call{method: http.MethodGet, path: "api/2.0/crm/opportunity/filter", query: q})
		requests += res.attempts
		if err != nil {
			return newest, requests, err
		}
		var wire []keyedWire
		// One pass over the page (a thousand whole deals): straight into what is kept.
		env := struct {
			Response *[]keyedWire `json:"response"`
		}{Response: &wire}
		if err := json.Unmarshal(res.body, &env); err != nil {
			return newest, requests, fmt.Errorf("reading the portal's opportunities: %v", err)
		}
		page, reached := page[:0], false
		for _, w := range wire {
			if lowest > 0 && w.ID >= lowest {
				continue // the overlap with the page before
			}
			o := KeyedOpportunity{ID: w.ID}
			o.Created, _ = time.Parse(time.RFC3339Nano, w.Created)
			for _, f := range w.CustomFields {
				if f.ID == fieldID {
					o.Key = strings.TrimSpace(html.UnescapeString(f.FieldValue))
				}
			}
			newest = max(newest, o.ID)
			reached = reached || afterID > 0 && o.ID <= afterID
			page = append(page, o)
		}
		if len(page) > 0 {
			if err := fn(page); err != nil {
				return newest, requests, err
			}
		}
		for _, o := range page {
			if lowest == 0 || o.ID < lowest {
				lowest = o.ID
			}
		}
		if len(wire) < pageSize || reached {
			return newest, requests, nil
		}
		// The next page overlaps this one: a deal deleted meanwhile moves the rest up, and
		// without the overlap the one that moved across the page's edge would be missed.
		start += len(wire) - pageOverlap
	}
}

// keyedWire is what KeyIndex reads of a deal.
type keyedWire struct {
	ID           int64  `json:"id"`
	Created      string `json:"created"`
	CustomFields []struct {
		ID         int64  `json:"id"`
		FieldValue string `json:"fieldValue"`
	} `json:"customFields"`
}

// pageOverlap is how many deals of a page the next one reads again: as many deals may be
// deleted on the portal between two pages of a key index read without one being missed.
const pageOverlap = 20

// HasOpportunities reports whether the token's user sees any opportunity on the portal.
// Safe for concurrent use.
func (c *Client) HasOpportunities(ctx context.Context) (bool, error) {
	q := url.Values{"count": {"1"}, "startIndex": {"0"}}
	res, err := c.do(ctx, call{method: http.MethodGet, path: "api/2.0/crm/opportunity/filter", query: q})
	if err != nil {
		return false, err
	}
	var page []json.RawMessage
	if err := c.decode(res.body, &page); err != nil && !errors.Is(err, errNoResponse) {
		return false, err
	}
	return len(page) > 0, nil
}
