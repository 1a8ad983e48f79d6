package report

import (
	"fmt"
	"sync"
	"testing"
)

// DealPages parses a base once: each of its pages, asked for from many goroutines at once
// and with other bases' in between, is DealURL's.
func TestDealURLAgain(t *testing.T) {
	t.Parallel()
	bases := []struct{ base, page string }{
		{"https://example.com/office/api/2.0/", "https://example.com/office/Products/CRM/Deals.aspx?id="},
		{"ftp://example.com", ""},
		{"https://admin:secret@example.com/x/?a=1#f", "https://example.com/x/Products/CRM/Deals.aspx?id="},
	}
	pages := make([]func(int64) string, len(bases))
	for i, b := range bases {
		pages[i] = DealPages(b.base)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 300 {
				k := (i/3 + g) % len(bases)
				b := bases[k]
				id := int64(i + 1)
				want := ""
				if b.page != "" {
					want = fmt.Sprint(b.page, id)
				}
				if got := pages[k](id); got != want {
					t.Errorf("DealPages(%q)(%d) = %q, want %q", b.base, id, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
