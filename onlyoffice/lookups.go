package onlyoffice

import (
	"context"
	"html"
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

// ListStages returns the portal's opportunity stages. Safe for concurrent use.
func (c *Client) ListStages(ctx context.Context) ([]Stage, error) {
	var s []Stage
	if err := c.get(ctx, "api/2.0/crm/opportunity/stage", &s); err != nil {
		return nil, err
	}
	return s, nil
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
	var cur []Currency
	if err := c.get(ctx, "api/2.0/crm/settings/currency", &cur); err != nil {
		return nil, err
	}
	return cur, nil
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

// ListUsers returns the portal's users. Safe for concurrent use.
func (c *Client) ListUsers(ctx context.Context) ([]User, error) {
	var users []User
	if err := c.get(ctx, "api/2.0/people", &users); err != nil {
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
	var defs []CustomFieldDef
	if err := c.get(ctx, "api/2.0/crm/opportunity/customfield/definitions", &defs); err != nil {
		return nil, err
	}
	return defs, nil
}
