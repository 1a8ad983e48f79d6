package onlyoffice

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/emulator"
)

// portal is an emulated portal in zone loc with the client that talks to it.
func portal(t *testing.T, loc *time.Location) (*emulator.Server, *Client) {
	t.Helper()
	emu := emulator.New(emulator.Options{Token: testToken, Location: loc})
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, srv.URL, nil)
	return emu, c
}

func deal(t *testing.T, c *Client) int64 {
	t.Helper()
	o := Opportunity{Title: "Deal", ResponsibleID: "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", StageID: 1, BidCurrencyAbbr: "EUR"}
	out, err := c.CreateOpportunity(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return out.ID
}

func TestTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	emu, c := portal(t, nil)
	a, b, d := deal(t, c), deal(t, c), deal(t, c)
	if n, err := c.TagMany(ctx, "migration", []int64{a, b, d}); err != nil || n != 1 {
		t.Fatalf("TagMany: %d attempts, %v; want 1, nil", n, err)
	}
	if _, err := c.AddTag(ctx, b, "VIP"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddTag(ctx, b, "vip"); err != nil { // known in another case: nothing new
		t.Fatal(err)
	}
	got, _, err := c.DealTags(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"migration", "VIP"}, got); diff != "" {
		t.Errorf("deal %d's tags (-want +got):\n%s", b, diff)
	}
	if _, err := c.RemoveTag(ctx, b, "migration"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RemoveTag(ctx, b, "migration"); err != nil {
		t.Errorf("removing a tag the deal no longer holds: %v, want nil", err)
	}
	if diff := cmp.Diff(map[string]int{"migration": 2, "VIP": 1}, emu.Tags()); diff != "" {
		t.Errorf("the portal's tags (-want +got):\n%s", diff)
	}
	if n, err := c.TagMany(ctx, "x", nil); err != nil || n != 0 {
		t.Errorf("TagMany of no deal: %d attempts, %v; want nothing sent", n, err)
	}
	var apiErr *APIError
	if _, err := c.TagMany(ctx, "x", []int64{a, 9999}); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Errorf("TagMany with an unknown deal: %v, want HTTP 404", err)
	}
}

// The creation date lands on the portal as the instant sent, a date alone as the portal's
// midnight.
func TestSetCreationDate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	emu, c := portal(t, berlin)
	tests := []struct {
		date string
		want time.Time
	}{
		{"2019-02-03", time.Date(2019, 2, 3, 0, 0, 0, 0, berlin)},
		{"2019-07-03T12:30:00Z", time.Date(2019, 7, 3, 14, 30, 0, 0, berlin)},
	}
	for _, tt := range tests {
		id := deal(t, c)
		if _, err := c.SetCreationDate(ctx, id, tt.date); err != nil {
			t.Fatalf("SetCreationDate %s: %v", tt.date, err)
		}
		i := slices.IndexFunc(emu.Opportunities(), func(o emulator.Opportunity) bool { return int64(o.ID) == id })
		if got := emu.Opportunities()[i].CreatedAt; !got.Equal(tt.want) {
			t.Errorf("creation date sent %s: the portal holds %v, want %v", tt.date, got, tt.want)
		}
		o, err := c.GetOpportunity(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !o.Created.Equal(tt.want) {
			t.Errorf("creation date sent %s: GET shows %v, want %v", tt.date, o.Created, tt.want)
		}
	}
	if _, err := c.SetCreationDate(ctx, 1, "03.02.2019"); err == nil {
		t.Error("an unformatted date was sent, want it refused before sending")
	}
}

// A call after a create may be sent twice: a proxy's 502 is met by sending it again.
func TestTagCallsSentAgainAfterAForeignAnswer(t *testing.T) {
	t.Parallel()
	srv, count := server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>502 Bad Gateway</html>"))
			return
		}
		reply(w, 200, `{"count":1,"status":0,"statusCode":200,"response":"vip"}`)
	})
	c, _ := newTestClient(t, srv.URL, nil)
	n, err := c.TagMany(context.Background(), "vip", []int64{1, 2})
	if err != nil || n != 2 || count.Load() != 2 {
		t.Errorf("TagMany after a 502: %d attempts (%d requests), %v; want 2, nil", n, count.Load(), err)
	}
}

// A lost create's search lists the newest deals by id and stops at the first one created
// before the request: deals given a creation date in the past since must not stop it.
func TestRecentOpportunitiesPastBackdatedDeals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := portal(t, nil)
	since := time.Now().Add(-time.Minute)
	lost, b, d := deal(t, c), deal(t, c), deal(t, c)
	for _, id := range []int64{b, d} {
		if _, err := c.SetCreationDate(ctx, id, "2019-02-03"); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(f Filter) []int64 {
		found, _, err := c.RecentOpportunities(ctx, f, since)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, o := range found {
			out = append(out, o.ID)
		}
		return out
	}
	if got := ids(Filter{}); len(got) != 0 {
		t.Errorf("without Backdated: %v, want the search stopped at deal %d", got, d)
	}
	backdated := func(id int64) bool { return id == b || id == d }
	if diff := cmp.Diff([]int64{lost}, ids(Filter{Backdated: backdated})); diff != "" {
		t.Errorf("with Backdated (-want +got):\n%s", diff)
	}
}
