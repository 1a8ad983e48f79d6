package emulator

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The page an administrator's unfiltered list by id is read off (idPage) is the page of
// the whole filter's answer (hits, then pageOf), in both orders, at every edge, whatever
// was deleted and created before.
func TestIDPageIsTheFilteredPage(t *testing.T) {
	t.Parallel()
	s := New(Options{Token: testToken})
	admin := s.users[0]
	if !admin.IsAdmin {
		t.Fatal("the first seeded user is no administrator")
	}
	add := func(n int) {
		opps := make([]Opportunity, n)
		for i := range opps {
			opps[i] = Opportunity{Title: fmt.Sprint("Deal ", i), ResponsibleID: anna, BidCurrency: "EUR", StageID: 1 + i%9}
			if i%7 == 0 {
				opps[i].IsPrivate, opps[i].AccessList = true, []string{maria} // private to another: an administrator sees it
			}
		}
		s.Insert(opps...)
	}
	remove := func(every, offset int) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for id := range s.nextID {
			if id%every == offset && s.opps[id] != nil {
				s.remove(id)
			}
		}
	}
	steps := []struct {
		name   string
		change func()
	}{
		{"2500 deals", func() { add(2500) }},
		{"every third deleted", func() { remove(3, 0) }},
		{"400 created", func() { add(400) }},
		{"every fifth deleted again", func() { remove(5, 1) }},
		{"all but a few deleted", func() { remove(1, 0); add(3) }},
		{"none", func() { remove(1, 0) }},
	}
	for _, step := range steps {
		step.change()
		for _, descending := range []bool{false, true} {
			for _, start := range []int{0, 1, 2, 999, 1000, 1001, 1500, 2399, 5000} {
				for _, count := range []int{1, 7, 1000} {
					s.mu.Lock()
					hits := s.hits(dealFilter{}, admin, "id", descending)
					want, wantTotal := ids(pageOf(hits, start, count)), len(hits)
					page, total := s.idPage(start, count, descending)
					got := ids(page)
					s.mu.Unlock()
					if diff := cmp.Diff(want, got); diff != "" || total != wantTotal {
						t.Errorf("%s, descending %v, startIndex %d, count %d: total %d, want %d; ids (-want +got):\n%s",
							step.name, descending, start, count, total, wantTotal, diff)
					}
				}
			}
		}
	}
}

func ids(page []*Opportunity) []int {
	out := []int{}
	for _, o := range page {
		out = append(out, o.ID)
	}
	return out
}

// BenchmarkIndexPage reads one page of 1000 of an administrator's list by id, newest
// first, as the client's key index does, cycling through all the pages of a portal of
// 10,000 and of 100,000 deals: a page should cost the same at both sizes.
//
//	go test -run '^$' -bench BenchmarkIndexPage -benchmem ./emulator
func BenchmarkIndexPage(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := New(Options{Token: testToken})
			field := s.AddCustomField("Legacy ID", 0, "")
			opps := make([]Opportunity, n)
			for i := range opps {
				notes := fmt.Sprintf("Legacy id: D%d\nSource: Web", i)
				opps[i] = Opportunity{Title: fmt.Sprint("Deal ", i), Description: &notes, ContactID: 1 + i%3, Members: []int{1 + i%3},
					ResponsibleID: anna, StageID: 1 + i%9, BidCurrency: "EUR", BidValue: "123.5",
					CustomFields: map[int]string{11: "North", field.ID: fmt.Sprintf("D%d", i)}}
			}
			s.Insert(opps...)
			for i := 0; b.Loop(); i++ {
				r := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/api/2.0/crm/opportunity/filter?sortBy=id&sortOrder=descending&count=1000&startIndex=%d", (i%(n/1000))*1000), nil)
				r.Header.Set("Authorization", testToken)
				w := httptest.NewRecorder()
				s.Handler().ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("HTTP %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
