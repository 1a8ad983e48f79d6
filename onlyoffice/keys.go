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
// whatever the portal holds; n opportunities take ⌈n/1000⌉ requests (one for none) while
// nothing is deleted on the portal. Safe for concurrent use.
//
// The list is read by position, and what changes on the portal during the read moves the
// opportunities not read yet. One created goes to the top and pushes them down: they are
// read again and skipped by id (those created are left to the next read, being newer than
// the newest id returned). One deleted above the read position pulls them up, and the first
// of them would slip past unread. The total the portal sets tells when that may have
// happened: with c created, and d deleted above the position and d′ below it, the unread
// ones moved by c − d = Δtotal + d′ ≥ Δtotal. So only a total that fell can hide a deal, by
// as many as it fell at most. Such a page is read again from that many positions further
// up, unless its first deal was handed over already (then nothing unread is above it). After
// a fall the next page reaches back by as many again, the re-read too, so that as many more
// deletions before it cost no further re-read. Left open: a deal that becomes visible to the user below the position offsets
// a deletion above it, and the real server counts the total in a query after the page's,
// so a deletion between the two is not seen.
func (c *Client) KeyIndex(ctx context.Context, fieldID, afterID int64, fn func(page []KeyedOpportunity) error) (newest int64, requests int, err error) {
	q := url.Values{"sortBy": {"id"}, "sortOrder": {"descending"}, "count": {strconv.Itoa(pageSize)}}
	page := make([]KeyedOpportunity, 0, pageSize)
	var lowest int64 // every deal from the newest down to lowest was handed over, none below it
	// At the last request the portal held total deals, and the first not read stood at
	// position bound or below; the pages reach back by margin.
	bound, total, margin := 0, 0, 0
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
			Total    int          `json:"total"` // left out when 0
			Response *[]keyedWire `json:"response"`
		}{Response: &wire}
		if err := json.Unmarshal(res.body, &env); err != nil {
			return newest, requests, fmt.Errorf("reading the portal's opportunities: %v", err)
		}
		if len(wire) > 0 && env.Total <= 0 {
			// Without it a deletion during the read could hide a deal unnoticed.
			return newest, requests, fmt.Errorf("reading the portal's opportunities: a page of %d without the total the portal sets", len(wire))
		}
		if pages > 0 {
			bound, margin = max(0, bound+env.Total-total), max(0, total-env.Total)
		}
		total = env.Total
		if start > bound && (len(wire) == 0 || wire[0].ID < lowest) {
			// Deals deleted above start may have pulled unread ones above it.
			start = max(0, bound-margin)
			continue
		}
		page, reached := page[:0], false
		for _, w := range wire {
			if lowest > 0 && w.ID >= lowest {
				continue // handed over already, or created since the read began
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
			lowest = page[len(page)-1].ID
		}
		if reached || len(wire) == 0 || start+len(wire) >= total {
			return newest, requests, nil
		}
		bound = start + len(wire)
		start = max(0, bound-margin)
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
