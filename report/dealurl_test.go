package report

import (
	"fmt"
	"sync"
	"testing"
)

// DealURL parses a base once and keeps it for the next call: asked again with it, or with
// another base in between, from many goroutines at once, it answers as for a base it sees
// the first time.
func TestDealURLAgain(t *testing.T) {
	t.Parallel()
	bases := []struct{ base, page string }{
		{"https://example.com/office/api/2.0/", "https://example.com/office/Products/CRM/Deals.aspx?id="},
		{"ftp://example.com", ""},
		{"https://admin:secret@example.com/x/?a=1#f", "https://example.com/x/Products/CRM/Deals.aspx?id="},
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 300 {
				b := bases[(i/3+g)%len(bases)]
				id := int64(i + 1)
				want := ""
				if b.page != "" {
					want = fmt.Sprint(b.page, id)
				}
				if got := DealURL(b.base, id); got != want {
					t.Errorf("DealURL(%q, %d) = %q, want %q", b.base, id, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
