package onlyoffice

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The portal pages listings at 1000 and answers a nextIndex one too far: the client pages
// by the rows it received and gets every entry exactly once.
func TestListUsersPages(t *testing.T) {
	const n = 2345
	var mu sync.Mutex
	var starts []int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/2.0/people" {
			http.NotFound(w, r)
			return
		}
		start, _ := strconv.Atoi(r.URL.Query().Get("startIndex"))
		count, _ := strconv.Atoi(r.URL.Query().Get("count"))
		if count <= 0 || count > 1000 {
			count = 1000
		}
		mu.Lock()
		starts = append(starts, start)
		mu.Unlock()
		var items []string
		for i := start; i < min(start+count, n); i++ {
			items = append(items, fmt.Sprintf(`{"id":"%08d-0000-4000-8000-000000000000","userName":"u%d","displayName":"User &amp; %d","email":"u%d@x.org"}`, i, i, i, i))
		}
		next := ""
		if start+len(items) < n {
			next = fmt.Sprintf(`"nextIndex":%d,`, start+len(items)+1)
		}
		fmt.Fprintf(w, `{"count":%d,"startIndex":%d,%s"total":%d,"status":0,"statusCode":200,"response":[%s]}`,
			len(items), start, next, n, strings.Join(items, ","))
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, nil)
	users, err := c.ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != n {
		t.Fatalf("got %d users, want %d", len(users), n)
	}
	for i, u := range users {
		if u.UserName != "u"+strconv.Itoa(i) {
			t.Fatalf("user %d is %q, want u%d: no entry skipped or repeated", i, u.UserName, i)
		}
	}
	if users[7].DisplayName != "User & 7" {
		t.Errorf("display name %q, want it HTML-decoded", users[7].DisplayName)
	}
	if want := []int{0, 1000, 2000}; fmt.Sprint(starts) != fmt.Sprint(want) {
		t.Errorf("pages started at %v, want %v", starts, want)
	}
}

func TestContacts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.URL.Path == "/api/2.0/crm/contact/filter" && q.Get("filterValue") == "Jane Doe":
			fmt.Fprint(w, `{"count":1,"total":1,"status":0,"statusCode":200,"response":[{"id":6,"displayName":"Jane Doe","isCompany":false,
				"commonData":[{"infoType":0,"data":"+49 1"},{"infoType":1,"data":"other@x.org"},{"infoType":1,"data":"jane@x.org","isPrimary":true}]}]}`)
		case r.URL.Path == "/api/2.0/crm/contact/bycontactinfo" && q.Get("infoType") == "Email" && q.Get("data") == "jane@x.org":
			fmt.Fprint(w, `{"count":1,"status":0,"statusCode":200,"response":[{"id":6,"displayName":"Jane Doe","commonData":[]}]}`)
		case r.URL.Path == "/api/2.0/crm/contact/6":
			fmt.Fprint(w, `{"status":0,"statusCode":200,"response":{"id":6,"displayName":"Jane &amp; Co","isCompany":true,"commonData":[]}}`)
		default:
			w.WriteHeader(404)
			fmt.Fprint(w, `{"status":1,"statusCode":404,"error":{"message":"The contact was not found","hresult":0}}`)
		}
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, nil)
	ctx := context.Background()
	found, err := c.FindContacts(ctx, "Jane Doe")
	if err != nil || len(found) != 1 || found[0].ID != 6 || strings.Join(found[0].Emails, ",") != "jane@x.org,other@x.org" {
		t.Errorf("FindContacts = %+v, %v; want contact 6 with its primary e-mail first", found, err)
	}
	found, err = c.ContactsByEmail(ctx, "jane@x.org")
	if err != nil || len(found) != 1 || found[0].ID != 6 {
		t.Errorf("ContactsByEmail = %+v, %v; want contact 6", found, err)
	}
	ct, err := c.GetContact(ctx, 6)
	if err != nil || ct.DisplayName != "Jane & Co" || !ct.IsCompany {
		t.Errorf("GetContact = %+v, %v; want the decoded company", ct, err)
	}
	if _, err := c.GetContact(ctx, 7); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("GetContact(7) error %v, want HTTP 404", err)
	}
}
