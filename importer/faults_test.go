package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oppimport/oppimport/emulator"
	"github.com/oppimport/oppimport/mapping"
	"github.com/oppimport/oppimport/onlyoffice"
	"github.com/oppimport/oppimport/record"
	"github.com/oppimport/oppimport/state"
)

// clientPoster is the API client as the importer's Poster, adapted as main's poster adapts
// it: bodies through record, a lost create looked for among the portal's recent deals with
// the row's responsible, stage and contact that hold every field it sent, a 401 fatal.
// (main's poster also finds by key_field and reads an unverified update back; its tests
// are the command's.)
type clientPoster struct{ c *onlyoffice.Client }

func (p clientPoster) Create(ctx context.Context, rec mapping.Record) (Posted, error) {
	return posted(p.c.CreateOpportunity(ctx, record.Body(rec)))
}

func (p clientPoster) Update(ctx context.Context, id int64, rec mapping.Record) (Posted, error) {
	return posted(p.c.UpdateOpportunity(ctx, id, record.Body(rec)))
}

func (p clientPoster) Find(ctx context.Context, rec mapping.Record, since time.Time) ([]int64, int, error) {
	found, attempts, err := p.c.RecentOpportunities(ctx, onlyoffice.Filter{ResponsibleID: rec.ResponsibleID,
		StageID: rec.StageID, ContactID: rec.ContactID}, since)
	var ids []int64
	for _, o := range found {
		if record.Holds(o, rec) {
			ids = append(ids, o.ID)
		}
	}
	return ids, attempts, err
}

func (p clientPoster) Current(ctx context.Context, want func(int64) bool) (map[int64]Current, Posted, error) {
	out := map[int64]Current{}
	attempts, err := p.c.Opportunities(ctx, func(o onlyoffice.StoredOpportunity) error {
		if !want(o.ID) {
			return nil
		}
		raw, err := json.Marshal(o)
		if err != nil {
			return err
		}
		rec, err := record.FromPortal(o)
		out[o.ID] = Current{Record: rec, Raw: raw, Err: err}
		return nil
	})
	return out, Posted{Attempts: attempts}, err
}

func posted(out onlyoffice.Outcome, err error) (Posted, error) {
	p := Posted{ID: out.ID, Attempts: out.Attempts, HTTPStatus: out.HTTPStatus, InDoubt: errors.Is(err, onlyoffice.ErrInDoubt)}
	var apiErr *onlyoffice.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == 401 {
		return p, Fatal(err)
	}
	return p, err
}

// faultsMapping maps rows (ID, Title, Amount) onto values the emulator holds.
const faultsMapping = `
version: 1
key: [ID]
fields:
  title:           { column: Title }
  responsibleid:   { value: 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41 }
  stageid:         { value: 1 }
  bidCurrencyAbbr: { value: EUR }
  bidValue:        { column: Amount }
`

// onEmulator starts an emulator with opts, and returns it, an API client of it and the
// ledger of a run on a new state database, as the command has them.
func onEmulator(t *testing.T, opts emulator.Options) (*emulator.Server, *onlyoffice.Client, *Ledger) {
	t.Helper()
	emu := emulator.New(opts)
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	// No answer here is slow: a generous timeout keeps a loaded machine (the race
	// detector) from adding lost answers of its own. The emulator acts before it
	// answers, so nothing is in flight once a fault has answered: settling may
	// conclude after 1 s where the command waits twice its --timeout.
	c, err := onlyoffice.NewClient(onlyoffice.Config{BaseURL: srv.URL, Token: emu.Token(), Timeout: 10 * time.Second, Retries: 8, MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	db, err := state.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	portal := state.Portal(srv.URL)
	run, err := db.StartRun(context.Background(), state.Run{Portal: portal, Mode: "import"})
	if err != nil {
		t.Fatal(err)
	}
	return emu, c, &Ledger{DB: db, Portal: portal, Run: run, SettleAfter: time.Second}
}

// TestRunThroughFaults imports through the API client into an emulator that fails, drops
// or answers through a proxy a share of the requests, with the state database as a run
// keeps it: every row is created exactly once, reported with its own id, and a row whose
// answer was lost is found on the portal, never posted again blindly. The command's own
// promise under these faults (exit codes, report, summary) is the root's TestFaults.
func TestRunThroughFaults(t *testing.T) {
	t.Parallel()
	const n = 60
	tests := []struct {
		name string
		opts emulator.Options
		// settled says answers are lost after the portal acted: exactly that many rows are
		// reported found on the portal, and no create is sent twice.
		settled func(emulator.Stats) int
		// retried says some rows took more than one attempt.
		retried bool
	}{
		{name: "500s, retried", opts: emulator.Options{FailRate: 0.2, Seed: 5}, retried: true},
		{name: "connections dropped after the portal acted", opts: emulator.Options{DropRate: 0.2, Seed: 9},
			settled: func(st emulator.Stats) int { return st.Dropped }},
		{name: "a gateway's 502 or 504 after the portal acted", opts: emulator.Options{GatewayRate: 0.2, Seed: 7, ProxyRoutes: []string{"POST crm/opportunity"}},
			settled: func(st emulator.Stats) int { return st.Gateway }},
		// The login page passes nothing on: a create it answered is provably absent once
		// the portal can no longer be acting on it, and is sent again.
		{name: "an SSO login page, nothing passed on", opts: emulator.Options{HTMLRate: 0.1, Seed: 3, ProxyRoutes: []string{"POST crm/opportunity"}}, retried: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu, c, ledger := onEmulator(t, tt.opts)
			m, err := mapping.Parse([]byte(faultsMapping), "faults.yaml")
			if err != nil {
				t.Fatal(err)
			}
			p, err := m.Bind([]string{"ID", "Title", "Amount"}, mapping.BindOptions{})
			if err != nil {
				t.Fatal(err)
			}

			got := map[string]Result{}
			st, err := Run(context.Background(), Config{Rows: &rows{n: n}, Plan: p, Poster: clientPoster{c}, Concurrency: 8,
				Ledger:   ledger,
				OnResult: func(r Result) { got[r.Key] = r }})
			if err != nil || st.Stopped != nil {
				t.Fatalf("Run: %v, stopped %v", err, st.Stopped)
			}

			onPortal := map[int64]string{}
			for _, o := range emu.Opportunities() {
				if title, twice := onPortal[int64(o.ID)]; twice {
					t.Errorf("opportunity %d listed twice (%s)", o.ID, title)
				}
				onPortal[int64(o.ID)] = o.Title
			}
			if len(onPortal) != n {
				t.Errorf("the portal holds %d opportunities, want %d", len(onPortal), n)
			}
			retried, settled := 0, 0
			for i := range n {
				key := fmt.Sprint("D", i)
				r := got[key]
				if r.Status != Created || onPortal[r.OpportunityID] != fmt.Sprint("deal ", i) {
					t.Errorf("%s: %s as %d (%q on the portal) %q, want created with its own id", key, r.Status, r.OpportunityID,
						onPortal[r.OpportunityID], r.Error)
				}
				if r.Attempts > 1 {
					retried++
				}
				if strings.Contains(r.Error, "the answer was lost; found on the portal") {
					settled++
				}
			}
			stats := emu.Stats()
			if tt.retried && retried == 0 {
				t.Errorf("no row took more than one attempt: the test proves nothing")
			}
			if tt.settled != nil {
				want := tt.settled(stats)
				if want == 0 {
					t.Fatal("no answer was lost: the test proves nothing")
				}
				if settled != want {
					t.Errorf("got %d rows found on the portal after a lost answer, want %d", settled, want)
				}
				if creates := stats.ByRoute["POST crm/opportunity"]; creates != n {
					t.Errorf("got %d creates sent, want %d: a create whose answer was lost is never sent again", creates, n)
				}
			}
		})
	}
}
