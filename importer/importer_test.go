package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/source"
)

const testMapping = `
version: 1
key: [ID]
fields:
  title:           { column: Title }
  responsibleid:   { value: 11111111-2222-3333-4444-555555555555 }
  stageid:         { value: 1 }
  bidCurrencyAbbr: { value: EUR }
  bidValue:        { column: Amount }
`

// rows is an in-memory Rows: row i (from 0) has ID "D<i>", title "deal i" and amount i,
// except the rows in bad, whose amount is not a number.
type rows struct {
	n, next int
	bad     map[int]bool
}

func (r *rows) Next() (source.Row, error) {
	if r.next >= r.n {
		return source.Row{}, io.EOF
	}
	i := r.next
	r.next++
	amount := fmt.Sprint(i)
	if r.bad[i] {
		amount = "lots"
	}
	return source.Row{Number: i + 2, Cells: []string{fmt.Sprintf("D%d", i), fmt.Sprintf("deal %d", i), amount}}, nil
}

func plan(t testing.TB) *mapping.Plan {
	t.Helper()
	m, err := mapping.Parse([]byte(testMapping), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Bind([]string{"ID", "Title", "Amount"}, mapping.BindOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// poster creates every record after a random delay, failing the titles in fail.
type poster struct {
	mu      sync.Mutex
	titles  []string
	calls   atomic.Int64
	fail    map[string]error
	delay   time.Duration
	started chan struct{} // when set, receives once per call before the delay
}

func (p *poster) Update(ctx context.Context, id int64, rec mapping.Record) (Posted, error) {
	return Posted{}, errors.New("not in these tests")
}

func (p *poster) Find(ctx context.Context, rec mapping.Record, since time.Time) ([]int64, int, error) {
	return nil, 0, errors.New("not in these tests")
}

func (p *poster) Current(ctx context.Context, want func(int64) bool) (map[int64]Current, Posted, error) {
	return nil, Posted{}, errors.New("not in these tests")
}

func (p *poster) Create(ctx context.Context, rec mapping.Record) (Posted, error) {
	n := p.calls.Add(1)
	if p.started != nil {
		p.started <- struct{}{}
	}
	if p.delay > 0 {
		time.Sleep(time.Duration(rand.Int64N(int64(p.delay))))
	}
	if err := p.fail[rec.Title]; err != nil {
		return Posted{Attempts: 1, HTTPStatus: 400}, err
	}
	p.mu.Lock()
	p.titles = append(p.titles, rec.Title)
	p.mu.Unlock()
	return Posted{ID: n, Attempts: 1, HTTPStatus: 201}, nil
}

func TestRunOrderAndOutcomes(t *testing.T) {
	defer goleak.VerifyNone(t)
	bad := map[int]bool{3: true, 40: true}
	p := &poster{delay: 2 * time.Millisecond, fail: map[string]error{"deal 7": errors.New("HTTP 400: Deal milestone is not found")}}
	var got []Result
	st, err := Run(context.Background(), Config{
		Rows: &rows{n: 200, bad: bad}, Plan: plan(t), Poster: p, Concurrency: 8,
		OnResult: func(r Result) { got = append(got, r) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 200 {
		t.Fatalf("got %d results, want 200", len(got))
	}
	for i, r := range got {
		if r.Row != i+2 {
			t.Fatalf("result %d is row %d, want %d: results must stand in input order", i, r.Row, i+2)
		}
		want := Created
		switch {
		case bad[i]:
			want = Invalid
		case i == 7:
			want = Failed
		}
		if r.Status != want {
			t.Errorf("row %d: got status %s (%s), want %s", r.Row, r.Status, r.Error, want)
		}
		if r.Key != fmt.Sprintf("D%d", i) {
			t.Errorf("row %d: got key %q, want D%d", r.Row, r.Key, i)
		}
		if want == Created && r.OpportunityID == 0 {
			t.Errorf("row %d: created without an id", r.Row)
		}
	}
	if got[3].Error == "" || got[7].Error != "HTTP 400: Deal milestone is not found" {
		t.Errorf("got errors %q and %q, want the field error and the portal's", got[3].Error, got[7].Error)
	}
	if n := p.calls.Load(); n != 198 {
		t.Errorf("got %d posts, want 198: invalid rows are never posted", n)
	}
	want := map[string]int{Created: 197, Invalid: 2, Failed: 1}
	for s, n := range want {
		if st.Counts[s] != n {
			t.Errorf("got %d %s, want %d", st.Counts[s], s, n)
		}
	}
	if st.Stopped != nil {
		t.Errorf("got Stopped %v, want nil", st.Stopped)
	}
}

func TestRunDryRunPostsNothing(t *testing.T) {
	var got []string
	st, err := Run(context.Background(), Config{
		Rows: &rows{n: 10, bad: map[int]bool{5: true}}, Plan: plan(t),
		OnResult: func(r Result) { got = append(got, r.Status) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Counts[Valid] != 9 || st.Counts[Invalid] != 1 || st.Requests != 0 {
		t.Errorf("got %v and %d requests, want 9 valid, 1 invalid, no request", st.Counts, st.Requests)
	}
	if got[5] != Invalid {
		t.Errorf("got row 7 %s, want invalid", got[5])
	}
}

func TestRunLimit(t *testing.T) {
	p := &poster{}
	st, err := Run(context.Background(), Config{Rows: &rows{n: 50}, Plan: plan(t), Poster: p, Limit: 10, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != 10 || p.calls.Load() != 10 {
		t.Errorf("got %d rows and %d posts, want 10 and 10", st.Rows, p.calls.Load())
	}
}

func TestRunStops(t *testing.T) {
	refused := Fatal(errors.New("HTTP 401: Unauthorized"))
	failAll := map[string]error{}
	for i := range 1000 {
		failAll[fmt.Sprintf("deal %d", i)] = errors.New("HTTP 500: boom")
	}
	tests := []struct {
		name      string
		fail      map[string]error
		maxErrors int
		want      error
	}{
		{"a fatal error", map[string]error{"deal 20": refused}, 0, refused},
		{"max errors", failAll, 5, ErrMaxErrors},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t)
			p := &poster{fail: tt.fail, delay: time.Millisecond}
			var last int
			st, err := Run(context.Background(), Config{
				Rows: &rows{n: 1000}, Plan: plan(t), Poster: p, Concurrency: 4, MaxErrors: tt.maxErrors,
				OnResult: func(r Result) {
					if r.Row <= last {
						t.Errorf("row %d after row %d", r.Row, last)
					}
					last = r.Row
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(st.Stopped, tt.want) {
				t.Errorf("got Stopped %v, want %v", st.Stopped, tt.want)
			}
			if n := p.calls.Load(); n > 200 {
				t.Errorf("got %d posts after the stop, want the run to stop soon after", n)
			}
		})
	}
}

func TestRunCancelFinishesInFlight(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	p := &poster{started: make(chan struct{}), delay: 20 * time.Millisecond}
	go func() {
		for range 20 {
			<-p.started
		}
		cancel()
		for range p.started {
		}
	}()
	var results []Result
	st, err := Run(ctx, Config{
		Rows: &rows{n: 10000}, Plan: plan(t), Poster: p, Concurrency: 4,
		OnResult: func(r Result) { results = append(results, r) },
	})
	close(p.started)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(st.Stopped, context.Canceled) {
		t.Errorf("got Stopped %v, want context.Canceled", st.Stopped)
	}
	// Every post that started finished and is in the results, in order; nothing else is.
	if int64(len(results)) != p.calls.Load() {
		t.Errorf("got %d results for %d posts, want one for each", len(results), p.calls.Load())
	}
	last := 0
	for _, r := range results {
		if r.Status != Created || r.Row <= last {
			t.Errorf("got row %d %s after row %d, want rows created in input order", r.Row, r.Status, last)
		}
		last = r.Row
	}
	if len(results) >= 10000 {
		t.Errorf("got %d results, want the run to stop early", len(results))
	}
}

func TestKeySet(t *testing.T) {
	s := newKeySet()
	for i := 1; i <= 5000; i++ {
		if first := s.add(fmt.Sprint("key ", i), i+1); first != 0 {
			t.Fatalf("key %d: got first row %d, want 0", i, first)
		}
	}
	for i := 1; i <= 5000; i++ {
		if first := s.add(fmt.Sprint("key ", i), 9999); first != i+1 {
			t.Errorf("key %d again: got first row %d, want %d", i, first, i+1)
		}
		if !s.has(fmt.Sprint("key ", i)) {
			t.Errorf("key %d: not found", i)
		}
	}
	if s.has("key 0") || s.has("key 5001") {
		t.Errorf("found a key never added")
	}
}

func TestKeySetExpect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		expected int
		want     int // the table's slots once 5,000 keys are in
	}{
		{"unknown: grown by half", 0, 7776},
		{"100,000 expected: grown once to hold them", 100_000, 141_667},
		{"fewer than there are: grown by half", 1000, 7776},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newKeySet()
			s.expect(tt.expected)
			for i := 1; i <= 5000; i++ {
				if first := s.add(fmt.Sprint("key ", i), i+1); first != 0 {
					t.Fatalf("key %d: got first row %d, want 0", i, first)
				}
			}
			if got := len(s.hashes); got != tt.want {
				t.Errorf("got %d slots, want %d", got, tt.want)
			}
			for i := 1; i <= 5000; i++ {
				if first := s.add(fmt.Sprint("key ", i), 9999); first != i+1 {
					t.Errorf("key %d again: got first row %d, want %d", i, first, i+1)
				}
			}
		})
	}
}

// expecting is rows that predict many more rows than they have.
type expecting struct {
	rows
	predicted int
}

func (e *expecting) RowsExpected(int) int { return e.predicted }

// TestReadExpects: the key set is made ready for the rows the input predicts, but never
// for more than --limit lets through.
func TestReadExpects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		limit int
		least int // slots, at least
		most  int // and at most
	}{
		{"no limit: the rows predicted", 0, 1_000_000 * 4 / 3, 1_100_000 * 4 / 3},
		{"--limit 9000: no more than that", 9000, 9000 * 4 / 3, 20_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			seen := newKeySet()
			cfg := Config{Rows: &expecting{rows: rows{n: 10_000}, predicted: 1_000_000}, Plan: plan(t), Limit: tt.limit}
			emit := func(it *item, _ bool) bool { it.recycle(); return true }
			if err := read(context.Background(), &cfg, emit, seen); err != nil {
				t.Fatal(err)
			}
			if got := len(seen.hashes); got < tt.least || got > tt.most {
				t.Errorf("got %d slots, want %d to %d", got, tt.least, tt.most)
			}
		})
	}
}

func TestRunDuplicateKeys(t *testing.T) {
	r := &rows{n: 5}
	dup := rowsFunc(func() (source.Row, error) {
		row, err := r.Next()
		if row.Number == 5 { // row 5 repeats row 3's key
			row.Cells[0] = "D1"
		}
		return row, err
	})
	p := &poster{}
	var got []Result
	if _, err := Run(context.Background(), Config{Rows: dup, Plan: plan(t), Poster: p,
		OnResult: func(r Result) { got = append(got, r) }}); err != nil {
		t.Fatal(err)
	}
	if got[3].Status != Invalid || !strings.Contains(got[3].Error, `"D1" is also row 3's`) {
		t.Errorf("got row 5 %s %q, want invalid naming row 3", got[3].Status, got[3].Error)
	}
	if n := p.calls.Load(); n != 4 {
		t.Errorf("got %d posts, want 4: a duplicate is never posted", n)
	}
}

type rowsFunc func() (source.Row, error)

func (f rowsFunc) Next() (source.Row, error) { return f() }
