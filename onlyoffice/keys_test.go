package onlyoffice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/emulator"
)

// livePortal is the list endpoint of a portal whose deals change while it is read: ids
// newest first, ids 1..n to begin with; change, run before each request (n counts from 1),
// deletes and creates. It pages as the server does, count capped at limit (1000 when 0),
// and sets total, left out when 0: the deals it holds, or with realTotal on a short page
// startIndex plus the page's length, as CRMApi.Deals.cs counts it. Every third deal holds
// key K<id> in custom field 7 (HTML-encoded and padded, as a portal may echo it).
type livePortal struct {
	change    func(n int, p *livePortal)
	limit     int
	realTotal bool
	noTotal   bool             // total never set
	login     func(n int) bool // answer the n-th request with an SSO gateway's login page (200)

	mu      sync.Mutex
	ids     []int64
	next    int64          // the id the next deal created gets
	ever    map[int64]bool // every id the portal has held
	queries []string
}

func newLivePortal(n int) *livePortal {
	p := &livePortal{next: int64(n) + 1, ever: map[int64]bool{}}
	for id := int64(n); id >= 1; id-- {
		p.ids = append(p.ids, id)
		p.ever[id] = true
	}
	return p
}

// remove deletes the deals at positions [from, to) of the list as it stands.
func (p *livePortal) remove(from, to int) {
	p.ids = append(p.ids[:from:from], p.ids[min(to, len(p.ids)):]...)
}

// create adds k deals, which go to the top.
func (p *livePortal) create(k int) {
	var top []int64
	for range k {
		top = append([]int64{p.next}, top...)
		p.ever[p.next] = true
		p.next++
	}
	p.ids = append(top, p.ids...)
}

func (p *livePortal) holds() []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.ids)
}

// sent is the query of each request: startIndex+count sortBy sortOrder.
func (p *livePortal) sent() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.queries)
}

func (p *livePortal) serve(t *testing.T) string {
	srv, _ := server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if r.URL.Path != "/api/2.0/crm/opportunity/filter" {
			t.Errorf("path %s, want the filter", r.URL.Path)
		}
		if p.change != nil {
			p.change(n, p)
		}
		q := r.URL.Query()
		p.queries = append(p.queries, q.Get("startIndex")+"+"+q.Get("count")+" "+q.Get("sortBy")+" "+q.Get("sortOrder"))
		if p.login != nil && p.login(n) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<html><body><form action=\"/auth.aspx\">Sign in</form></body></html>")
			return
		}
		start, _ := strconv.Atoi(q.Get("startIndex"))
		count, _ := strconv.Atoi(q.Get("count"))
		limit := p.limit
		if limit == 0 {
			limit = 1000
		}
		if count <= 0 || count > limit {
			count = limit
		}
		var items []string
		for i := start; i < min(start+count, len(p.ids)); i++ {
			id := p.ids[i]
			cf := ""
			if id%3 == 0 {
				cf = fmt.Sprintf(`,{"id":7,"label":"Legacy ID","fieldValue":" K%d &amp; co "}`, id)
			}
			items = append(items, fmt.Sprintf(`{"id":%d,"title":"t","created":"2026-01-02T03:04:05.0000000Z","customFields":[{"id":3,"fieldValue":"x"}%s]}`, id, cf))
		}
		total := len(p.ids)
		if p.realTotal && len(items) < count {
			total = start + len(items)
		}
		body := `{"count":` + strconv.Itoa(len(items))
		if total > 0 && !p.noTotal {
			body += `,"total":` + strconv.Itoa(total)
		}
		body += `,"status":0,"statusCode":200`
		if len(items) > 0 {
			body += `,"response":[` + strings.Join(items, ",") + `]`
		}
		reply(w, 200, body+"}")
	})
	return srv.URL
}

func TestKeyIndex(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		n        int
		after    int64
		limit    int
		requests []string
		keys     int // opportunities with a key handed over
		seen     int // opportunities handed over
	}{
		{name: "2500 in three pages", n: 2500, requests: []string{"0+1000 id descending", "1000+1000 id descending", "2000+1000 id descending"}, keys: 833, seen: 2500},
		{name: "exactly one full page: its total says it is all", n: 1000, requests: []string{"0+1000 id descending"}, keys: 333, seen: 1000},
		{name: "empty portal", n: 0, requests: []string{"0+1000 id descending"}},
		{name: "only what is newer than 1800", n: 2500, after: 1800, requests: []string{"0+1000 id descending"}, keys: 333, seen: 1000},
		{name: "a portal that caps count lower: short pages the total says are not the last", n: 1000, limit: 400,
			requests: []string{"0+1000 id descending", "400+1000 id descending", "800+1000 id descending"}, keys: 333, seen: 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newLivePortal(tt.n)
			p.limit = tt.limit
			c, _ := newTestClient(t, p.serve(t), nil)
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
			if diff := cmp.Diff(tt.requests, p.sent()); diff != "" {
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

// before runs change before the n-th request only.
func before(n int, change func(p *livePortal)) func(int, *livePortal) {
	return func(k int, p *livePortal) {
		if k == n {
			change(p)
		}
	}
}

// Deals deleted and created on the portal between two pages move the rest: every deal the
// portal held from the read's start to its end is handed over exactly once, and none twice.
func TestKeyIndexWhileThePortalChanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		n         int
		change    func(n int, p *livePortal)
		after     int64 // an incremental read: what is newer than it
		realTotal bool
		login     func(n int) bool
		requests  []int // startIndex of each request
	}{
		{name: "15 of the first page deleted: read again from 15 further up, 15 more to spare", n: 2500,
			change: before(2, func(p *livePortal) { p.remove(100, 115) }), requests: []int{0, 1000, 970, 1970}},
		{name: "the same, totals counted as the real server does", n: 2500, realTotal: true,
			change: before(2, func(p *livePortal) { p.remove(100, 115) }), requests: []int{0, 1000, 970, 1970}},
		{name: "the first page's last deal deleted", n: 2500,
			change: before(2, func(p *livePortal) { p.remove(999, 1000) }), requests: []int{0, 1000, 998, 1998}},
		{name: "15 deleted from the last page read as it is short", n: 1500, realTotal: true,
			change: before(2, func(p *livePortal) { p.remove(0, 15) }), requests: []int{0, 1000, 970}},
		{name: "30 created: pushed down, read again, handed over once", n: 2500,
			change: before(2, func(p *livePortal) { p.create(30) }), requests: []int{0, 1000, 2000}},
		{name: "as many created as deleted above: nothing moved", n: 2500,
			change: before(2, func(p *livePortal) { p.remove(10, 30); p.create(20) }), requests: []int{0, 1000, 2000}},
		{name: "deleted below the position: a fall that hid nothing, read again all the same", n: 2500,
			change: before(2, func(p *livePortal) { p.remove(2300, 2401) }), requests: []int{0, 1000, 798, 1798}},
		{name: "deleted below and created above: the fall is offset", n: 2500,
			change: before(2, func(p *livePortal) { p.remove(2300, 2310); p.create(10) }), requests: []int{0, 1000, 2000}},
		{name: "a page's first deal handed over already: nothing above it unread", n: 2500,
			change: before(2, func(p *livePortal) { p.create(40); p.remove(1500, 1520) }), requests: []int{0, 1000, 2000}},
		{name: "7 deleted from the top before every request: after the first, pages reach back by 7", n: 3500,
			change: func(n int, p *livePortal) {
				if n > 1 {
					p.remove(0, 7)
				}
			}, requests: []int{0, 1000, 986, 1979, 2972}},
		{name: "a login page instead of the second page, 15 deleted before it is asked again", n: 2500,
			login:  func(n int) bool { return n == 2 },
			change: before(3, func(p *livePortal) { p.remove(100, 115) }), requests: []int{0, 1000, 1000, 970, 1970}},
		{name: "an incremental read of what is newer than 1200, 15 of its first page deleted", n: 2500, after: 1200,
			change: before(2, func(p *livePortal) { p.remove(100, 115) }), requests: []int{0, 1000, 970}},
		{name: "all deleted after the first page", n: 2500,
			change: before(2, func(p *livePortal) { p.ids = nil }), requests: []int{0, 1000, 0}},
		{name: "all but 300 deleted after the first page, the total set as the real server does", n: 2500, realTotal: true,
			change: before(2, func(p *livePortal) { p.remove(0, 2200) }), requests: []int{0, 1000, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newLivePortal(tt.n)
			p.change, p.realTotal, p.login = tt.change, tt.realTotal, tt.login
			first := p.holds()
			c, _ := newTestClient(t, p.serve(t), nil)
			handed := map[int64]int{}
			_, requests, err := c.KeyIndex(context.Background(), 7, tt.after, func(page []KeyedOpportunity) error {
				for _, o := range page {
					handed[o.ID]++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			last := p.holds()
			for _, id := range first {
				if id > tt.after && slices.Contains(last, id) && handed[id] != 1 {
					t.Errorf("deal %d, held throughout: handed over %d times, want once", id, handed[id])
				}
			}
			for id, n := range handed {
				if n > 1 || !p.ever[id] {
					t.Errorf("deal %d handed over %d times; the portal held it: %v", id, n, p.ever[id])
				}
			}
			var starts []int
			for _, q := range p.sent() {
				start, _, _ := strings.Cut(q, "+")
				n, _ := strconv.Atoi(start)
				starts = append(starts, n)
			}
			if diff := cmp.Diff(tt.requests, starts); diff != "" {
				t.Errorf("startIndex of each request (-want +got):\n%s", diff)
			}
			if requests != len(tt.requests) {
				t.Errorf("requests counted %d, want %d", requests, len(tt.requests))
			}
		})
	}
}

// A page of deals without a total cannot be read safely: the read stops, saying so.
func TestKeyIndexWithoutTotal(t *testing.T) {
	t.Parallel()
	p := newLivePortal(1500)
	p.noTotal = true
	c, _ := newTestClient(t, p.serve(t), nil)
	_, _, err := c.KeyIndex(context.Background(), 7, 0, func([]KeyedOpportunity) error { return nil })
	if want := "reading the portal's opportunities: a page of 1000 without the total the portal sets"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// On the emulator, with deals deleted through its API above and below the read position
// and others created between the pages, every deal it held throughout is handed over
// exactly once, with its key.
func TestKeyIndexOnTheEmulatorWhileDealsChange(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Options{})
	field := emu.AddCustomField("Legacy ID", 0, "")
	deal := func(i int) emulator.Opportunity {
		return emulator.Opportunity{Title: "deal", ResponsibleID: emu.Users()[0].ID, StageID: 1, BidCurrency: "EUR",
			CustomFields: map[int]string{field.ID: fmt.Sprintf("K%d", i)}}
	}
	deals := make([]emulator.Opportunity, 3500)
	for i := range deals {
		deals[i] = deal(i + 1) // ids 1..3500: deal i holds key K<i>
	}
	emu.Insert(deals...)
	remove := func(ids ...int) {
		for _, id := range ids {
			r := httptest.NewRequest(http.MethodDelete, fmt.Sprintf("/api/2.0/crm/opportunity/%d", id), nil)
			r.Header.Set("Authorization", emu.Token())
			w := httptest.NewRecorder()
			emu.Handler().ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				t.Errorf("deleting %d: HTTP %d %s", id, w.Code, w.Body)
			}
		}
	}
	span := func(from, to int) []int { // from down to to
		var ids []int
		for id := from; id >= to; id-- {
			ids = append(ids, id)
		}
		return ids
	}
	var lists atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch lists.Add(1) {
		case 2: // 40 of the first page deleted, 25 created
			remove(span(2639, 2600)...)
			emu.Insert(slices.Repeat([]emulator.Opportunity{deal(0)}, 25)...)
		case 3: // 5 of the second page deleted, and 10 not read yet
			remove(span(2004, 2000)...)
			remove(span(109, 100)...)
		case 4: // 3 of the first page, as many created
			remove(3000, 2999, 2998)
			emu.Insert(deal(0), deal(0), deal(0))
		}
		emu.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(Config{BaseURL: srv.URL, Token: emu.Token()})
	if err != nil {
		t.Fatal(err)
	}
	handed := map[int64]int{}
	keys := map[int64]string{}
	newest, _, err := c.KeyIndex(context.Background(), int64(field.ID), 0, func(page []KeyedOpportunity) error {
		for _, o := range page {
			handed[o.ID]++
			keys[o.ID] = o.Key
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	held := map[int64]bool{}
	for _, o := range emu.Opportunities() {
		held[int64(o.ID)] = true
	}
	survivors := 0
	for id := int64(1); id <= 3500; id++ {
		switch {
		case held[id] && handed[id] != 1:
			t.Errorf("deal %d, held throughout: handed over %d times, want once", id, handed[id])
		case held[id] && keys[id] != fmt.Sprintf("K%d", id):
			t.Errorf("deal %d: key %q, want K%d", id, keys[id], id)
		case !held[id] && handed[id] > 1:
			t.Errorf("deal %d, deleted: handed over %d times, want at most once", id, handed[id])
		}
		if held[id] {
			survivors++
		}
	}
	for id, n := range handed {
		if id > 3500 && n > 1 {
			t.Errorf("deal %d, created during the read: handed over %d times, want at most once", id, n)
		}
	}
	if survivors != 3500-58 || newest != 3500 {
		t.Errorf("%d deals held throughout, newest %d; want %d, 3500", survivors, newest, 3500-58)
	}
}
