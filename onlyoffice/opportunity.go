package onlyoffice

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// Opportunity is the body of a create, in the API's field names. Pointers and empty values
// are left out of the JSON (the portal takes an omitted field as unset); Title,
// ResponsibleID, StageID and BidCurrencyAbbr are always sent, the portal requires them.
type Opportunity struct {
	Title              string        `json:"title"`
	Description        *string       `json:"description,omitempty"`
	ContactID          int64         `json:"contactid,omitempty"` // 0 = none
	Members            []int64       `json:"members,omitempty"`
	ResponsibleID      string        `json:"responsibleid"`      // GUID
	BidType            string        `json:"bidType,omitempty"`  // FixedBid PerHour PerDay PerWeek PerMonth PerYear
	BidValue           *string       `json:"bidValue,omitempty"` // decimal "1234.5", sent as a JSON number
	BidCurrencyAbbr    string        `json:"bidCurrencyAbbr"`
	PerPeriodValue     *int64        `json:"perPeriodValue,omitempty"`
	StageID            int64         `json:"stageid"`
	SuccessProbability *int64        `json:"successProbability,omitempty"`
	ActualCloseDate    string        `json:"actualCloseDate,omitempty"`   // "", "2006-01-02" or "2006-01-02T15:04:05Z"
	ExpectedCloseDate  string        `json:"expectedCloseDate,omitempty"` // likewise
	CustomFields       []CustomField `json:"customFieldList,omitempty"`
	IsPrivate          *bool         `json:"isPrivate,omitempty"`
	AccessList         []string      `json:"accessList,omitempty"` // GUIDs
	IsNotify           *bool         `json:"isNotify,omitempty"`
}

// CustomField is one custom field's value: {"key": ID, "value": "..."} in the API.
type CustomField struct {
	ID    int64  `json:"key"`
	Value string `json:"value"`
}

// MarshalJSON writes the API's body. BidValue goes out as a JSON number with the digits
// given: never through a float, which would print 1e+06 or lose cents.
func (o Opportunity) MarshalJSON() ([]byte, error) {
	type plain Opportunity // without this method
	w := struct {
		plain
		BidValue json.Number `json:"bidValue,omitempty"`
	}{plain: plain(o)}
	if o.BidValue != nil {
		w.BidValue = json.Number(*o.BidValue)
	}
	return json.Marshal(w)
}

// decimal is what a bid value must look like, compiled on first use: a package-level
// regexp.MustCompile (or sync.OnceValue) runs in the package's init, in every command.
func decimal() *regexp.Regexp {
	decimalRE.once.Do(func() { decimalRE.re = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`) })
	return decimalRE.re
}

var decimalRE struct {
	once sync.Once
	re   *regexp.Regexp
}

// check refuses what the caller must have formatted: the decimal and the dates.
func (o Opportunity) check() error {
	if o.BidValue != nil && !decimal().MatchString(*o.BidValue) {
		return fmt.Errorf("bidValue %q: want a decimal like 1234.5", *o.BidValue)
	}
	for _, d := range []struct{ name, value string }{
		{"actualCloseDate", o.ActualCloseDate},
		{"expectedCloseDate", o.ExpectedCloseDate},
	} {
		if d.value != "" && !apiDate(d.value) {
			return fmt.Errorf("%s %q: want yyyy-MM-dd or yyyy-MM-ddTHH:mm:ssZ", d.name, d.value)
		}
	}
	return nil
}

// apiDate tells the two date forms the portal reads back intact inside a JSON body (a
// fraction of a second is mangled by its JSON reader).
func apiDate(s string) bool {
	layout := "2006-01-02"
	if len(s) == len("2006-01-02T15:04:05Z") && s[len(s)-1] == 'Z' {
		layout = "2006-01-02T15:04:05Z"
	} else if len(s) != len(layout) {
		return false
	}
	_, err := time.Parse(layout, s)
	return err == nil
}

// Outcome is what became of a create. It is filled even on error: Attempts counts the
// requests sent (0 when o was refused before sending), HTTPStatus is the last answer's
// status (0 when none came).
type Outcome struct {
	ID         int64
	Attempts   int
	HTTPStatus int
}

// CreateOpportunity creates o (POST api/2.0/crm/opportunity) and returns its new id. Errors:
// *APIError for the portal's refusal (after retries for 429 and 5xx); an error wrapping
// ErrInDoubt when the request reached the portal but no usable answer came (never retried);
// one wrapping ctx.Err() when ctx ends first; a transport error when the portal could not
// be reached after every retry. Safe for concurrent use.
func (c *Client) CreateOpportunity(ctx context.Context, o Opportunity) (Outcome, error) {
	if err := o.check(); err != nil {
		return Outcome{}, err
	}
	body, err := json.Marshal(o)
	if err != nil {
		return Outcome{}, err
	}
	res, err := c.do(ctx, call{method: http.MethodPost, path: "api/2.0/crm/opportunity", body: body})
	out := Outcome{Attempts: res.attempts, HTTPStatus: res.status}
	if err != nil {
		return out, err
	}
	var created struct {
		ID int64 `json:"id"`
	}
	if err := c.decode(res.body, &created); err != nil || created.ID <= 0 {
		return out, fmt.Errorf("%w (HTTP %d without an opportunity id)", ErrInDoubt, res.status)
	}
	out.ID = created.ID
	return out, nil
}

// StoredOpportunity is an opportunity as the portal holds it.
type StoredOpportunity struct {
	ID                 int64
	Title              string
	Description        string
	ContactID          int64 // 0 = none
	ResponsibleID      string
	BidType            int    // 0 FixedBid ... 5 PerYear
	BidValue           string // decimal as the portal wrote it; "" = 0
	BidCurrencyAbbr    string
	PerPeriodValue     int64
	StageID            int64
	SuccessProbability int64
	ActualCloseDate    string // as the portal writes it: local time, 7 fraction digits
	ExpectedCloseDate  string
	IsPrivate          bool
	AccessList         []string
	Members            []int64 // participants, the contact among them
	CustomFields       []CustomField
	Created            time.Time // zero when the portal did not say
	CreatedBy          string    // the user who created it; "" when the portal did not say
}

// GetOpportunity reads one opportunity (GET api/2.0/crm/opportunity/{id}); a missing or
// hidden one is an *APIError with status 404. Safe for concurrent use.
func (c *Client) GetOpportunity(ctx context.Context, id int64) (StoredOpportunity, error) {
	o, _, err := c.ReadOpportunity(ctx, id)
	return o, err
}

// ReadOpportunity is GetOpportunity with the requests it took and the last status.
func (c *Client) ReadOpportunity(ctx context.Context, id int64) (StoredOpportunity, Outcome, error) {
	res, err := c.do(ctx, call{method: http.MethodGet, path: dealPath(id, "")})
	out := Outcome{ID: id, Attempts: res.attempts, HTTPStatus: res.status}
	if err != nil {
		return StoredOpportunity{}, out, err
	}
	var w opportunityWire
	if err := c.decode(res.body, &w); err != nil {
		return StoredOpportunity{}, out, err
	}
	return w.stored(), out, nil
}

// dealPath is the API path of opportunity id, with rest ("/tag") after it.
func dealPath(id int64, rest string) string {
	return "api/2.0/crm/opportunity/" + strconv.FormatInt(id, 10) + rest
}

// listPage is how many opportunities one page of the list endpoint holds, its maximum.
const listPage = 1000

// Opportunities reads every opportunity the caller may see, whole (contact, participants,
// access list, custom fields), from the list endpoint (GET api/2.0/crm/opportunity/filter,
// 1000 a page, by id), and hands each to fn; an error from fn stops the reading and is
// returned. Attempts counts the requests made. A private deal the caller may not see is not
// listed: to the caller it is gone. Safe for concurrent use.
func (c *Client) Opportunities(ctx context.Context, fn func(StoredOpportunity) error) (attempts int, err error) {
	return c.filterPages(ctx, url.Values{"sortBy": {"id"}}, listPage, func(o StoredOpportunity) (bool, error) {
		return true, fn(o)
	})
}

// filterPages reads GET api/2.0/crm/opportunity/filter with q, count a page, and hands each
// opportunity to fn until fn says no more (or fails), the pages end, or the envelope's total
// is reached (which spares the read of an empty last page). It returns the requests made.
func (c *Client) filterPages(ctx context.Context, q url.Values, count int, fn func(StoredOpportunity) (more bool, err error)) (attempts int, err error) {
	q.Set("count", strconv.Itoa(count))
	for start := 0; ; start += count {
		q.Set("startIndex", strconv.Itoa(start))
		res, err := c.do(ctx, call{method: http.MethodGet, path: "api/2.0/crm/opportunity/filter", query: q})
		attempts += res.attempts
		if err != nil {
			return attempts, err
		}
		var page []opportunityWire
		if err := c.decode(res.body, &page); err != nil {
			return attempts, err
		}
		for _, w := range page {
			if more, err := fn(w.stored()); err != nil || !more {
				return attempts, err
			}
		}
		var env struct {
			Total int `json:"total"`
		}
		_ = json.Unmarshal(res.body, &env) // decoded above: it is the portal's JSON
		if len(page) < count || env.Total > 0 && start+len(page) >= env.Total {
			return attempts, nil
		}
	}
}

// Filter narrows RecentOpportunities by exact values; zero fields do not narrow.
type Filter struct {
	ResponsibleID string
	StageID       int64
	ContactID     int64
	// Backdated, when set, names the deals whose creation date may have been set into the
	// past (PUT crm/opportunity/{id}/creationdate): listed among the newest by id, they do
	// not end the search as an old deal does.
	Backdated func(id int64) bool
}

// RecentOpportunities lists the opportunities that match f and were created at or after
// since, newest first (GET api/2.0/crm/opportunity/filter sorted by id descending, paged
// until the opportunities are older than since). It uses no text search, whose matching
// rules are the portal's: the caller compares titles itself. It returns the requests made
// too. Safe for concurrent use.
func (c *Client) RecentOpportunities(ctx context.Context, f Filter, since time.Time) ([]StoredOpportunity, int, error) {
	q := url.Values{"sortBy": {"id"}, "sortOrder": {"descending"}}
	if f.ResponsibleID != "" {
		q.Set("responsibleid", f.ResponsibleID)
	}
	if f.StageID > 0 {
		q.Set("opportunityStagesid", strconv.FormatInt(f.StageID, 10))
	}
	if f.ContactID > 0 {
		q.Set("contactid", strconv.FormatInt(f.ContactID, 10))
	}
	var out []StoredOpportunity
	// Deals created while the pages are read push the older ones down a page: one may come
	// twice, and is listed once.
	seen := map[int64]bool{}
	attempts, err := c.filterPages(ctx, q, 100, func(o StoredOpportunity) (bool, error) {
		switch {
		case o.Created.IsZero():
			return false, fmt.Errorf("opportunity %d: the portal did not say when it was created", o.ID)
		case o.Created.Before(since) && f.Backdated != nil && f.Backdated(o.ID):
			return true, nil
		case o.Created.Before(since):
			return false, nil
		case !seen[o.ID]:
			seen[o.ID] = true
			out = append(out, o)
		}
		return true, nil
	})
	if err != nil {
		return nil, attempts, err
	}
	return out, attempts, nil
}

// opportunityWire is an opportunity as the API shows it.
type opportunityWire struct {
	ID          int64               `json:"id"`
	Title       string              `json:"title"`
	Description string              `json:"description"`
	Contact     *struct{ ID int64 } `json:"contact"`
	Responsible struct{ ID string } `json:"responsible"`
	BidType     int                 `json:"bidType"`
	BidValue    json.Number         `json:"bidValue"`
	BidCurrency struct {
		Abbreviation string `json:"abbreviation"`
	} `json:"bidCurrency"`
	PerPeriodValue     int64                 `json:"perPeriodValue"`
	Stage              struct{ ID int64 }    `json:"stage"`
	SuccessProbability int64                 `json:"successProbability"`
	ActualCloseDate    string                `json:"actualCloseDate"`
	ExpectedCloseDate  string                `json:"expectedCloseDate"`
	IsPrivate          bool                  `json:"isPrivate"`
	AccessList         []struct{ ID string } `json:"accessList"`
	CustomFields       []struct {
		ID         int64  `json:"id"`
		FieldValue string `json:"fieldValue"`
	} `json:"customFields"`
	Members []struct {
		ID int64 `json:"id"`
	} `json:"members"`
	Created   string               `json:"created"`
	CreatedBy *struct{ ID string } `json:"createBy"`
}

func (w opportunityWire) stored() StoredOpportunity {
	o := StoredOpportunity{
		ID: w.ID, Title: w.Title, Description: w.Description, ResponsibleID: w.Responsible.ID,
		BidType: w.BidType, BidValue: w.BidValue.String(), BidCurrencyAbbr: w.BidCurrency.Abbreviation,
		PerPeriodValue: w.PerPeriodValue, StageID: w.Stage.ID, SuccessProbability: w.SuccessProbability,
		ActualCloseDate: w.ActualCloseDate, ExpectedCloseDate: w.ExpectedCloseDate, IsPrivate: w.IsPrivate,
	}
	if w.Contact != nil {
		o.ContactID = w.Contact.ID
	}
	for _, a := range w.AccessList {
		o.AccessList = append(o.AccessList, a.ID)
	}
	for _, m := range w.Members {
		o.Members = append(o.Members, m.ID)
	}
	for _, f := range w.CustomFields {
		o.CustomFields = append(o.CustomFields, CustomField{ID: f.ID, Value: f.FieldValue})
	}
	o.Created, _ = time.Parse(time.RFC3339Nano, w.Created)
	if w.CreatedBy != nil {
		o.CreatedBy = w.CreatedBy.ID
	}
	return o
}

// get runs a GET and decodes the answer's "response" into v.
func (c *Client) get(ctx context.Context, path string, v any) error {
	res, err := c.do(ctx, call{method: http.MethodGet, path: path})
	if err != nil {
		return err
	}
	return c.decode(res.body, v)
}
