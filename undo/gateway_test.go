package undo

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/oppimport/oppimport/onlyoffice"
)

// An SSO gateway in front of the portal answers a share of the undo's requests 200 with its
// login page, passing nothing on: what the undo reports deleted is gone, what it reports
// failed is still there, and nothing is reported otherwise.
func TestUndoThroughALoginPage(t *testing.T) {
	t.Parallel()
	const rows = 40
	f := newFixture(t)
	run := f.startRun(t, "create", 0)
	ids := map[string]int64{}
	for i := range rows {
		k := fmt.Sprint("D", i+1)
		ids[k] = f.create(t, run, k, deal("deal "+k, "100"))
	}
	// The client as the command builds it: --retries 5, so a delete met by the login page
	// is checked and sent again.
	srv := httptest.NewServer(f.emu.Handler())
	t.Cleanup(srv.Close)
	c, err := onlyoffice.NewClient(onlyoffice.Config{BaseURL: srv.URL, Token: f.emu.Token(), Timeout: 5 * time.Second, Retries: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	f.emu.SetProxyFaults(0, 0.15)

	got, _ := f.undo(t, run, Config{Client: portal{c: c}})
	f.emu.SetProxyFaults(0, 0)
	if f.emu.Stats().HTML == 0 {
		t.Fatal("no request met the login page: the test proves nothing")
	}
	left := map[int64]bool{}
	for _, o := range f.emu.Opportunities() {
		left[int64(o.ID)] = true
	}
	deleted, checked := 0, 0
	for k, id := range ids {
		switch r := got[k]; r.Status {
		case Deleted:
			deleted++
			if r.Attempts > 1 {
				checked++ // met the login page, then read back or deleted again
			}
			if left[id] {
				t.Errorf("%s reported deleted: opportunity %d is still on the portal", k, id)
			}
		case Failed:
			if !left[id] {
				t.Errorf("%s reported failed (%s): opportunity %d is gone", k, r.Error, id)
			}
		default:
			t.Errorf("%s: %s %q, want deleted or failed", k, r.Status, r.Error)
		}
	}
	if deleted == 0 || checked == 0 {
		t.Errorf("the undo deleted %d, %d of them after the login page; want some of each", deleted, checked)
	}
}
