package tagging

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/oppimport/oppimport/emulator"
	"github.com/oppimport/oppimport/onlyoffice"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// portal is an emulated portal holding n deals, ids 1..n, and a client of it.
func portal(t *testing.T, n int) (*emulator.Server, *onlyoffice.Client) {
	t.Helper()
	emu := emulator.New(emulator.Options{Token: "tok"})
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	c, err := onlyoffice.NewClient(onlyoffice.Config{BaseURL: srv.URL, Token: "tok", Retries: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	for range n {
		_, err := c.CreateOpportunity(context.Background(), onlyoffice.Opportunity{Title: "Deal",
			ResponsibleID: "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", StageID: 1, BidCurrencyAbbr: "EUR"})
		if err != nil {
			t.Fatal(err)
		}
	}
	return emu, c
}

type row struct {
	n  int
	id int64
	o  Outcome
}

func tagsOf(emu *emulator.Server) map[int][]string {
	out := map[int][]string{}
	for _, o := range emu.Opportunities() {
		if len(o.Tags) > 0 {
			out[o.ID] = slices.Sorted(slices.Values(o.Tags)) // batches run at once: any order
		}
	}
	return out
}

// Three tags that repeat across 1,000 deals cost one request per tag per batch, and every
// deal holds them; the rows come out in the order they went in.
func TestRepeatedTagsInBatches(t *testing.T) {
	t.Parallel()
	const n = 1000
	emu, c := portal(t, n)
	before := emu.Stats().Total
	var got []row
	s := NewStage(context.Background(), c, Options{Batch: 200}, func(r row, o Outcome) { r.o = o; got = append(got, r) })
	tags := []string{"migration-2026", "legacy", "Q3"}
	for i := 1; i <= n; i++ {
		s.Put(row{n: i, id: int64(i)}, int64(i), tags)
	}
	s.Close()
	if reqs := emu.Stats().Total - before; reqs != 15 || s.Requests() != 15 {
		t.Errorf("%d requests (the stage counted %d), want 15: 3 tags in 5 batches of 200", reqs, s.Requests())
	}
	if len(got) != n {
		t.Fatalf("%d rows out, want %d", len(got), n)
	}
	for i, r := range got {
		if r.n != i+1 {
			t.Fatalf("row %d out at place %d: want input order", r.n, i+1)
		}
		if diff := cmp.Diff(Outcome{Added: tags}, r.o); diff != "" {
			t.Fatalf("row %d outcome (-want +got):\n%s", r.n, diff)
		}
	}
	held := tagsOf(emu)
	for id := 1; id <= n; id++ {
		if diff := cmp.Diff([]string{"Q3", "legacy", "migration-2026"}, held[id]); diff != "" {
			t.Fatalf("deal %d's tags on the portal (-want +got):\n%s", id, diff)
		}
	}
}

// Rows without tags wait for the rows before them; distinct tags are sent when too many rows
// are held; a deal the portal no longer has fails alone.
func TestOrderHeldAndFailures(t *testing.T) {
	t.Parallel()
	emu, c := portal(t, 40)
	var got []row
	s := NewStage(context.Background(), c, Options{Batch: 100, Held: 8}, func(r row, o Outcome) { r.o = o; got = append(got, r) })
	for i := 1; i <= 40; i++ {
		var tags []string
		switch {
		case i%5 == 0:
		case i%2 == 0:
			tags = []string{"even", fmt.Sprintf("row-%d", i)}
		default:
			tags = []string{"odd"}
		}
		id := int64(i)
		if i == 13 {
			id = 4000 // no such deal
		}
		s.Put(row{n: i, id: id}, id, tags)
		if len(got) < i-8 {
			t.Fatalf("after row %d, %d rows out: more than 8 held", i, len(got))
		}
	}
	s.Close()
	var order []int
	for _, r := range got {
		order = append(order, r.n)
		switch {
		case r.n == 13:
			if !slices.Equal(r.o.Failed, []string{"odd"}) || r.o.Err == "" || len(r.o.Added) != 0 {
				t.Errorf("row 13 (no such deal): %+v, want odd failed with its reason", r.o)
			}
		case r.o.Err != "":
			t.Errorf("row %d: %s, want no failure", r.n, r.o.Err)
		}
	}
	want := make([]int, 40)
	for i := range want {
		want[i] = i + 1
	}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("rows out of order (-want +got):\n%s", diff)
	}
	held := tagsOf(emu)
	if diff := cmp.Diff([]string{"even", "row-12"}, held[12]); diff != "" {
		t.Errorf("deal 12's tags (-want +got):\n%s", diff)
	}
	if held[10] != nil || held[13] != nil {
		t.Errorf("deals 10 and 13 hold %v and %v, want no tags", held[10], held[13])
	}
	if diff := cmp.Diff([]string{"odd"}, held[17]); diff != "" {
		t.Errorf("deal 17's tags (-want +got):\n%s", diff)
	}
}

// A row that waited Linger for its batch to fill gets its tags sent, and leaves at the next
// row: a slow run's report keeps up.
func TestLinger(t *testing.T) {
	t.Parallel()
	emu, c := portal(t, 4)
	var got []int
	s := NewStage(context.Background(), c, Options{Batch: 100, Linger: time.Minute}, func(r row, o Outcome) {
		if o.Err != "" {
			t.Errorf("row %d: %s", r.n, o.Err)
		}
		got = append(got, r.n)
	})
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	s.Put(row{n: 1}, 1, []string{"a"})
	s.Put(row{n: 2}, 2, []string{"a"})
	if len(got) != 0 || s.Requests() != 0 {
		t.Fatalf("before the minute: %v out, %d requests; want none", got, s.Requests())
	}
	clock = clock.Add(time.Minute) // row 1 has waited a minute when row 3 comes: "a" is sent
	s.Put(row{n: 3}, 3, []string{"a"})
	s.wg.Wait() // the request, sent on a goroutine of its own
	s.Put(row{n: 4}, 4, nil)
	if diff := cmp.Diff([]int{1, 2, 3, 4}, got); diff != "" {
		t.Errorf("rows out before Close (-want +got):\n%s", diff)
	}
	s.Close()
	if n := emu.Stats().ByRoute["POST crm/opportunity/taglist"]; n != 1 {
		t.Errorf("%d taglist requests, want 1", n)
	}
	if diff := cmp.Diff(map[int][]string{1: {"a"}, 2: {"a"}, 3: {"a"}}, tagsOf(emu)); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
}

// heldClient answers its first TagMany only when release is closed (started is closed
// when it comes), and keeps the batches asked for.
type heldClient struct {
	started, release chan struct{}
	mu               sync.Mutex
	batches          [][]int64
}

func (h *heldClient) TagMany(_ context.Context, _ string, ids []int64) (int, error) {
	h.mu.Lock()
	h.batches = append(h.batches, slices.Clone(ids))
	first := len(h.batches) == 1
	h.mu.Unlock()
	if first {
		close(h.started)
		<-h.release
	}
	return 1, nil
}

func (h *heldClient) AddTag(context.Context, int64, string) (int, error) { return 1, nil }

// While a lingered batch is still in flight, the rows behind it wait their own Linger:
// the oldest row's old arrival does not send every following row's tag alone.
func TestLingerOnceWhileInFlight(t *testing.T) {
	t.Parallel()
	h := &heldClient{started: make(chan struct{}), release: make(chan struct{})}
	s := NewStage(context.Background(), h, Options{Batch: 100, Linger: time.Minute}, func(row, Outcome) {})
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	s.Put(row{n: 1}, 1, []string{"a"})
	clock = clock.Add(time.Minute)
	s.Put(row{n: 2}, 2, []string{"a"}) // row 1 has waited a minute: [1 2] is sent, and held
	select {
	case <-h.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the lingered batch was not sent within 10 s")
	}
	for i := int64(3); i <= 10; i++ {
		clock = clock.Add(time.Second)
		s.Put(row{n: int(i)}, i, []string{"a"})
	}
	close(h.release)
	s.Close()
	want := [][]int64{{1, 2}, {3, 4, 5, 6, 7, 8, 9, 10}}
	if diff := cmp.Diff(want, h.batches); diff != "" {
		t.Errorf("taglist batches (-want +got):\n%s", diff)
	}
}
