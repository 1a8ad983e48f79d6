package onlyoffice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// keyPortal serves n opportunities, ids 1..n, newest first, 1000 a page; every third holds
// key K<id> in custom field 7 (HTML-encoded and padded, as a portal may echo it).
func keyPortal(t *testing.T, n int) (string, func() []string) {
	var queries []string
	srv, _ := server(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/2.0/crm/opportunity/filter" {
			t.Errorf("path %s, want the filter", r.URL.Path)
		}
		q := r.URL.Query()
		queries = append(queries, q.Get("startIndex")+"+"+q.Get("count")+" "+q.Get("sortBy")+" "+q.Get("sortOrder"))
		start, _ := strconv.Atoi(q.Get("startIndex"))
		count, _ := strconv.Atoi(q.Get("count"))
		var items []string
		for i := start; i < min(start+count, n); i++ {
			id := n - i
			cf := ""
			if id%3 == 0 {
				cf = fmt.Sprintf(`{"id":7,"label":"Legacy ID","fieldValue":" K%d &amp; co "}`, id)
			}
			items = append(items, fmt.Sprintf(`{"id":%d,"title":"t","created":"2026-01-02T03:04:05.0000000Z","customFields":[{"id":3,"fieldValue":"x"}%s%s]}`,
				id, map[bool]string{true: ",", false: ""}[cf != ""], cf))
		}
		body := `{"count":` + strconv.Itoa(len(items)) + `,"total":` + strconv.Itoa(n) + `,"status":0,"statusCode":200`
		if len(items) > 0 {
			body += `,"response":[` + strings.Join(items, ",") + `]`
		}
		reply(w, 200, body+"}")
	})
	return srv.URL, func() []string { return queries }
}

func TestKeyIndex(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		n        int
		after    int64
		requests []string
		keys     int // opportunities with a key handed over
		seen     int // opportunities handed over
	}{
		{name: "2500 in three pages", n: 2500, requests: []string{"0+1000 id descending", "980+1000 id descending", "1960+1000 id descending"}, keys: 833, seen: 2500},
		{name: "exactly one full page, then the overlap", n: 1000, requests: []string{"0+1000 id descending", "980+1000 id descending"}, keys: 333, seen: 1000},
		{name: "empty portal", n: 0, requests: []string{"0+1000 id descending"}},
		{name: "only what is newer than 1800", n: 2500, after: 1800, requests: []string{"0+1000 id descending"}, keys: 333, seen: 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url, queries := keyPortal(t, tt.n)
			c, _ := newTestClient(t, url, nil)
			keys, seen := 0, 0
			var first KeyedOpportunity
			newest, requests, err := c.KeyIndex(context.Background(), 7, tt.after, func(page []KeyedOpportunity) error {
				for _, o := range page {
					if first.ID == 0 && o.Key != "" {
						first = o
					}
					if o.Key != "" {
						keys++
						if want := fmt.Sprintf("K%d & co", o.ID); o.Key != want {
							t.Errorf("opportunity %d: key %q, want %q", o.ID, o.Key, want)
						}
					}
					seen++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.requests, queries()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if requests != len(tt.requests) {
				t.Errorf("requests counted %d, want %d", requests, len(tt.requests))
			}
			if keys != tt.keys || seen != tt.seen {
				t.Errorf("handed %d opportunities, %d with a key; want %d, %d", seen, keys, tt.seen, tt.keys)
			}
			if newest != int64(tt.n) {
				t.Errorf("newest %d, want %d", newest, tt.n)
			}
			if tt.n > 0 && first.Created.IsZero() {
				t.Errorf("first keyed opportunity %+v: no creation time", first)
			}
		})
	}
}

func TestCreateCustomField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		handle func(w http.ResponseWriter, r *http.Request)
		want   CustomFieldDef
		err    string
		status int
	}{
		{name: "administrator", handle: func(w http.ResponseWriter, r *http.Request) {
			reply(w, 201, `{"status":0,"statusCode":201,"response":{"id":31,"label":"Legacy ID","fieldType":0,"position":2,"mask":""}}`)
		}, want: CustomFieldDef{ID: 31, Label: "Legacy ID"}},
		{name: "not an administrator", handle: func(w http.ResponseWriter, r *http.Request) { failure(w, 403, "Access Denied") },
			err: "HTTP 403: Access Denied", status: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := server(t, func(_ int, w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/api/2.0/crm/opportunity/customfield" {
					t.Errorf("%s %s, want POST the custom field", r.Method, r.URL.Path)
				}
				tt.handle(w, r)
			})
			c, _ := newTestClient(t, srv.URL, nil)
			got, err := c.CreateCustomField(context.Background(), "Legacy ID", FieldText)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("definition (-want +got):\n%s", diff)
			}
			var apiErr *APIError
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.err != "" && (err == nil || err.Error() != tt.err):
				t.Errorf("error %v, want %q", err, tt.err)
			case tt.status != 0 && (!errors.As(err, &apiErr) || apiErr.StatusCode != tt.status):
				t.Errorf("error %v, want an *APIError %d", err, tt.status)
			}
		})
	}
}

// Deals deleted on the portal between two pages move the rest up: none is missed.
func TestKeyIndexWhileDealsAreDeleted(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	ids := make([]int64, 0, 2500) // newest first
	for id := int64(2500); id >= 1; id-- {
		ids = append(ids, id)
	}
	srv, _ := server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if n == 2 { // a portal user deletes 15 deals of the first page
			ids = append(ids[:100:100], ids[115:]...)
		}
		q := r.URL.Query()
		start, _ := strconv.Atoi(q.Get("startIndex"))
		var items []string
		for i := start; i < min(start+1000, len(ids)); i++ {
			items = append(items, fmt.Sprintf(`{"id":%d,"customFields":[{"id":7,"fieldValue":"K%d"}]}`, ids[i], ids[i]))
		}
		reply(w, 200, `{"status":0,"statusCode":200,"response":[`+strings.Join(items, ",")+`]}`)
	})
	c, _ := newTestClient(t, srv.URL, nil)
	seen := map[int64]int{}
	if _, _, err := c.KeyIndex(context.Background(), 7, 0, func(page []KeyedOpportunity) error {
		for _, o := range page {
			seen[o.ID]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("deal %d handed over %d times, want once", id, seen[id])
		}
	}
}
