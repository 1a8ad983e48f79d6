package onlyoffice

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
)

// Stage is an opportunity stage (GET api/2.0/crm/opportunity/stage). Titles are localized:
// match them case-insensitively against this list.
type Stage struct {
	ID                 int64  `json:"id"`
	Title              string `json:"title"`
	Description        string `json:"description"`
	Color              string `json:"color"`
	SuccessProbability int    `json:"successProbability"`
	StageType          int    `json:"stageType"` // 0 open, 1 won, 2 lost
}

// getList reads the list at path.
func getList[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	var out []T
	if err := c.get(ctx, path, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// ListStages returns the portal's opportunity stages. Safe for concurrent use.
func (c *Client) ListStages(ctx context.Context) ([]Stage, error) {
	return getList[Stage](ctx, c, "api/2.0/crm/opportunity/stage")
}

// Currency is one of the portal's currencies (GET api/2.0/crm/settings/currency).
type Currency struct {
	Title         string `json:"title"`
	Symbol        string `json:"symbol"`
	Abbreviation  string `json:"abbreviation"`
	CultureName   string `json:"cultureName"`
	IsConvertable bool   `json:"isConvertable"`
	IsBasic       bool   `json:"isBasic"`
}

// ListCurrencies returns the currencies the portal accepts. Safe for concurrent use.
func (c *Client) ListCurrencies(ctx context.Context) ([]Currency, error) {
	return getList[Currency](ctx, c, "api/2.0/crm/settings/currency")
}

// User is a portal user (GET api/2.0/people).
type User struct {
	ID          string `json:"id"` // GUID
	UserName    string `json:"userName"`
	FirstName   string `json:"firstName"`
	LastName    string `json:"lastName"`
	Email       string `json:"email"`
	DisplayName string `json:"displayName"` // HTML-decoded
}

// ListUsers returns the portal's users, every page of them. Safe for concurrent use.
func (c *Client) ListUsers(ctx context.Context) ([]User, error) {
	users, err := getPaged[User](ctx, c, "api/2.0/people", nil)
	if err != nil {
		return nil, err
	}
	for i := range users {
		users[i].DisplayName = html.UnescapeString(users[i].DisplayName)
	}
	return users, nil
}

// CustomFieldDef is the definition of an opportunity custom field
// (GET api/2.0/crm/opportunity/customfield/definitions).
type CustomFieldDef struct {
	ID        int64  `json:"id"`
	Label     string `json:"label"`
	FieldType int    `json:"fieldType"` // 0 text, 1 textarea, 2 select, 3 checkbox, 4 heading, 5 date
	Mask      string `json:"mask"`      // select: the options, as a JSON string
}

// ListCustomFields returns the definitions of the opportunity custom fields. Safe for
// concurrent use.
func (c *Client) ListCustomFields(ctx context.Context) ([]CustomFieldDef, error) {
	return getList[CustomFieldDef](ctx, c, "api/2.0/crm/opportunity/customfield/definitions")
}

// Contact is a CRM contact, a person or a company, as the look-ups need it.
type Contact struct {
	ID          int64
	DisplayName string // HTML-decoded
	IsCompany   bool
	Emails      []string // the contact's e-mail addresses, primary first
}

type contactWire struct {
	ID          int64  `json:"id"`
	DisplayName string `json:"displayName"`
	IsCompany   bool   `json:"isCompany"`
	CommonData  []struct {
		InfoType  int    `json:"infoType"`
		Data      string `json:"data"`
		IsPrimary bool   `json:"isPrimary"`
	} `json:"commonData"`
}

const emailInfoType = 1

func (w contactWire) contact() Contact {
	ct := Contact{ID: w.ID, DisplayName: html.UnescapeString(w.DisplayName), IsCompany: w.IsCompany}
	for _, d := range w.CommonData {
		if d.InfoType != emailInfoType || d.Data == "" {
			continue
		}
		if d.IsPrimary {
			ct.Emails = append([]string{d.Data}, ct.Emails...)
		} else {
			ct.Emails = append(ct.Emails, d.Data)
		}
	}
	return ct
}

// FindContacts returns the contacts the token's user may see whose display name has words
// starting with every word of text (GET api/2.0/crm/contact/filter?filterValue=), every
// page of them. The caller compares names exactly. Safe for concurrent use.
func (c *Client) FindContacts(ctx context.Context, text string) ([]Contact, error) {
	wire, err := getPaged[contactWire](ctx, c, "api/2.0/crm/contact/filter", url.Values{"filterValue": {text}})
	if err != nil {
		return nil, err
	}
	return contacts(wire), nil
}

// ContactsByEmail returns the contacts whose e-mail contains address
// (GET api/2.0/crm/contact/bycontactinfo?infoType=Email&data=): a substring match, so the
// caller compares addresses exactly. Safe for concurrent use.
func (c *Client) ContactsByEmail(ctx context.Context, address string) ([]Contact, error) {
	var wire []contactWire
	q := url.Values{"infoType": {"Email"}, "data": {address}}
	res, err := c.do(ctx, call{method: http.MethodGet, path: "api/2.0/crm/contact/bycontactinfo", query: q})
	if err != nil {
		return nil, err
	}
	if err := c.decode(res.body, &wire); err != nil {
		return nil, err
	}
	return contacts(wire), nil
}

func contacts(wire []contactWire) []Contact {
	out := make([]Contact, len(wire))
	for i, w := range wire {
		out[i] = w.contact()
	}
	return out
}

// GetContact reads one contact (GET api/2.0/crm/contact/{id}). A missing contact is an
// *APIError with status 404, one the token's user may not see 403. Safe for concurrent use.
func (c *Client) GetContact(ctx context.Context, id int64) (Contact, error) {
	var w contactWire
	if err := c.get(ctx, "api/2.0/crm/contact/"+strconv.FormatInt(id, 10), &w); err != nil {
		return Contact{}, err
	}
	return w.contact(), nil
}

// pageSize is the portal's largest page.
const pageSize = 1000

// maxPages bounds a listing, in case a portal keeps answering full pages.
const maxPages = 10000

// getPaged runs a listing GET page by page: startIndex grows by the rows received (the
// nextIndex the portal returns is one too far) until a page comes back short or the total
// is reached.
func getPaged[T any](ctx context.Context, c *Client, path string, query url.Values) ([]T, error) {
	var all []T
	for start, pages := 0, 0; ; pages++ {
		if pages == maxPages {
			return nil, fmt.Errorf("%s: more than %d pages", path, maxPages)
		}
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("startIndex", strconv.Itoa(start))
		q.Set("count", strconv.Itoa(pageSize))
		res, err := c.do(ctx, call{method: http.MethodGet, path: path, query: q})
		if err != nil {
			return nil, err
		}
		var env struct {
			Total    int             `json:"total"`
			Response json.RawMessage `json:"response"`
		}
		if err := json.Unmarshal(res.body, &env); err != nil {
			return nil, fmt.Errorf("the answer is not the portal's JSON: %q", snippet([]byte(c.redact(string(res.body)))))
		}
		var page []T
		if len(env.Response) > 0 && string(env.Response) != "null" {
			if err := json.Unmarshal(env.Response, &page); err != nil {
				return nil, fmt.Errorf("reading the answer: %v", err)
			}
		}
		all = append(all, page...)
		start += len(page)
		if len(page) == 0 || len(page) < pageSize && env.Total == 0 || env.Total > 0 && start >= env.Total {
			return all, nil
		}
	}
}
