package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/emulator"
)

// syncMapping maps the title, the amount, the stage and the Region; everything else is the
// portal users' to set.
const syncMapping = `version: 1
key: ["Deal ID"]
fields:
  title:           { column: Title }
  bidValue:        { column: Amount }
  stageid:         { column: Stage }
  responsibleid:   { value: 3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41 }
  bidCurrencyAbbr: { value: EUR }
custom_fields:
  - { id: 11, column: Region }
`

// webEdit changes opportunity id as the portal's web UI does: it reads the whole deal, lets
// change alter the form's fields (the API's input names), and puts every field back.
func webEdit(t *testing.T, url, token string, id string, change func(form map[string]any)) {
	t.Helper()
	do := func(method string, body []byte) map[string]any {
		req, _ := http.NewRequest(method, url+"/api/2.0/crm/opportunity/"+id, bytes.NewReader(body))
		req.Header.Set("Authorization", token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env struct {
			Response map[string]any `json:"response"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s opportunity %s: HTTP %d, %v", method, id, resp.StatusCode, err)
		}
		return env.Response
	}
	o := do(http.MethodGet, nil)
	sub := func(k, f string) any {
		if m, ok := o[k].(map[string]any); ok {
			return m[f]
		}
		return nil
	}
	ids := func(k string) []any {
		var out []any
		list, _ := o[k].([]any)
		for _, v := range list {
			out = append(out, v.(map[string]any)["id"])
		}
		return out
	}
	form := map[string]any{
		"title": o["title"], "description": o["description"], "responsibleid": sub("responsible", "id"),
		"stageid": sub("stage", "id"), "bidCurrencyAbbr": sub("bidCurrency", "abbreviation"), "bidType": o["bidType"],
		"bidValue": o["bidValue"], "perPeriodValue": o["perPeriodValue"], "successProbability": o["successProbability"],
		"contactid": sub("contact", "id"), "isPrivate": o["isPrivate"], "accessList": ids("accessList"), "members": ids("members"),
	}
	for _, d := range []string{"expectedCloseDate", "actualCloseDate"} {
		if s, _ := o[d].(string); s != "" && !strings.HasPrefix(s, "0001-") {
			form[d] = s[:10]
		}
	}
	var cfs []map[string]any
	list, _ := o["customFields"].([]any)
	for _, v := range list {
		cf := v.(map[string]any)
		cfs = append(cfs, map[string]any{"key": cf["id"], "value": cf["fieldValue"]})
	}
	form["customFieldList"] = cfs
	change(form)
	b, _ := json.Marshal(form)
	do(http.MethodPut, b)
}

// setCustom sets custom field id in a web form.
func setCustom(form map[string]any, id int, value string) {
	cfs, _ := form["customFieldList"].([]map[string]any)
	for _, cf := range cfs {
		if fmt.Sprint(cf["key"]) == fmt.Sprint(id) {
			cf["value"] = value
			form["customFieldList"] = cfs
			return
		}
	}
	form["customFieldList"] = append(cfs, map[string]any{"key": id, "value": value})
}

type syncSetup struct {
	t        *testing.T
	srv      *emulator.Server
	url, dir string
	mapping  string
}

func (s *syncSetup) sync(content string, extra ...string) (cmdResult, map[string][]string) {
	s.t.Helper()
	in := writeFile(s.t, s.dir, "export.csv", content)
	rep := filepath.Join(s.dir, "sync.report.csv")
	args := append([]string{"import", "--mapping", s.mapping, "--url", s.url, "--token", s.srv.Token(), "--mode", "sync",
		"--rate", "1000", "--progress", "never", "--report", rep}, extra...)
	res := runCmd(s.t, append(args, in)...)
	byKey := map[string][]string{}
	for _, r := range readReport(s.t, rep)[1:] {
		byKey[r[1]] = r
	}
	return res, byKey
}

func (s *syncSetup) deal(id string) emulator.Opportunity {
	s.t.Helper()
	for _, o := range s.srv.Opportunities() {
		if fmt.Sprint(o.ID) == id {
			return o
		}
	}
	s.t.Fatalf("opportunity %s is not on the portal", id)
	return emulator.Opportunity{}
}

const syncHeader = "Deal ID,Title,Amount,Stage,Region\n"

// TestSyncMergesWithThePortal: a nightly sync changes what the export changed and nothing
// else, whatever portal users did in between through the web UI.
func TestSyncMergesWithThePortal(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	s := &syncSetup{t: t, srv: srv, url: url, dir: dir, mapping: writeFile(t, dir, "deals.yaml", syncMapping)}
	res, rep := s.sync(syncHeader + "D1,Deal one,100,1,North\nD2,Deal two,200,1,North\nD3,Deal three,300,1,North\n")
	if res.code != exitOK {
		t.Fatalf("first sync: exit %d\n%s", res.code, res.stderr)
	}
	id := map[string]string{}
	for k, r := range rep {
		id[k] = r[3]
	}

	// The day's edits on the portal: D1 made private and shared with Maria, given notes,
	// a probability, a close date and a lead source; D2's stage moved on; D3 renamed.
	webEdit(t, url, srv.Token(), id["D1"], func(f map[string]any) {
		f["isPrivate"], f["accessList"] = true, []any{maria}
		f["description"], f["successProbability"], f["expectedCloseDate"] = "called twice", 60, "2026-03-31"
		setCustom(f, 12, "Referral")
	})
	webEdit(t, url, srv.Token(), id["D2"], func(f map[string]any) { f["stageid"] = 5 })
	webEdit(t, url, srv.Token(), id["D3"], func(f map[string]any) { f["title"] = "Deal three (portal)" })
	d1 := s.deal(id["D1"])

	// The night's export: every amount changed, D3 renamed too, D4 new. First previewed:
	// validate --mode sync names each change, and changes nothing.
	tonight := syncHeader + "D1,Deal one,150,1,North\nD2,Deal two,250,1,North\nD3,Deal three (export),350,1,North\nD4,Deal four,400,1,\n"
	portalBefore, before := srv.Opportunities(), srv.Stats()
	preview := runCmd(t, "validate", "--mapping", s.mapping, "--url", url, "--token", srv.Token(), "--mode", "sync",
		"--progress", "never", "--report", filepath.Join(dir, "preview.csv"), writeFile(t, dir, "export.csv", tonight))
	if preview.code != exitOK {
		t.Fatalf("validate --mode sync: exit %d\n%s", preview.code, preview.stderr)
	}
	wantPreview := map[string][2]string{
		"D1": {"would-update", `bidValue "100" -> "150"`},
		"D2": {"would-update", `bidValue "200" -> "250"`},
		"D3": {"would-update", `title "Deal three (portal)" -> "Deal three (export)"; bidValue "300" -> "350"; title: both changed, the export's "Deal three (export)" replaced the portal's "Deal three (portal)"`},
		"D4": {"would-create", ""},
	}
	for _, r := range readReport(t, filepath.Join(dir, "preview.csv"))[1:] {
		if w := wantPreview[r[1]]; r[2] != w[0] || r[6] != w[1] {
			t.Errorf("preview of %s: got %s %q, want %s %q", r[1], r[2], r[6], w[0], w[1])
		}
	}
	if n := changes(srv.Stats()) - changes(before); n != 0 {
		t.Errorf("validate --mode sync sent %d changes, want none", n)
	}
	if diff := cmp.Diff(portalBefore, srv.Opportunities()); diff != "" {
		t.Errorf("validate --mode sync changed the portal (-before +after):\n%s", diff)
	}

	before = srv.Stats()
	res, rep = s.sync(tonight)
	if res.code != exitOK {
		t.Fatalf("nightly sync: exit %d\n%s", res.code, res.stderr)
	}
	got := s.deal(id["D1"])
	want := d1
	want.BidValue = "150"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("D1 after the sync (-want +got):\n%s", diff)
	}
	if !got.IsPrivate || !slices.Contains(got.AccessList, maria) {
		t.Errorf("D1: private %v, access list %v; want it private, shared with Maria", got.IsPrivate, got.AccessList)
	}
	if d2 := s.deal(id["D2"]); d2.StageID != 5 || d2.BidValue != "250" {
		t.Errorf("D2: stage %d, amount %s; want the portal's stage 5 kept and the amount 250", d2.StageID, d2.BidValue)
	}
	if d3 := s.deal(id["D3"]); d3.Title != "Deal three (export)" {
		t.Errorf("D3: title %q, want the export's (--on-conflict export is the default)", d3.Title)
	}
	if e := rep["D3"][6]; rep["D3"][2] != "updated" || !strings.Contains(e, `title: both changed, the export's "Deal three (export)" replaced the portal's "Deal three (portal)"`) {
		t.Errorf("D3's report row: %v, want updated naming the title and both values", rep["D3"])
	}
	after := srv.Stats()
	for route, n := range map[string]int{"GET crm/opportunity/filter": 1, "PUT crm/opportunity/{id}": 3, "GET crm/opportunity/{id}": 0,
		"POST crm/opportunity": 1} {
		if got := after.ByRoute[route] - before.ByRoute[route]; got != n {
			t.Errorf("the sync of 3 changed rows and a new one sent %d %s, want %d", got, route, n)
		}
	}

	// Nothing changed in the export: nothing is sent but the list.
	before = srv.Stats()
	res, _ = s.sync(syncHeader + "D1,Deal one,150,1,North\nD2,Deal two,250,1,North\nD3,Deal three (export),350,1,North\nD4,Deal four,400,1,\n")
	after = srv.Stats()
	if n := changes(after) - changes(before); res.code != exitOK || n != 0 || !strings.Contains(res.stderr, "4 unchanged") {
		t.Errorf("an unchanged sync: exit %d, %d changes; want 0 and none, 3 unchanged\n%s", res.code, n, res.stderr)
	}
	if n := after.ByRoute["GET crm/opportunity/filter"] - before.ByRoute["GET crm/opportunity/filter"]; n != 1 {
		t.Errorf("an unchanged sync read %d pages of the list, want 1", n)
	}

	// Both change D3's title again; --on-conflict portal keeps the portal's, and says so.
	webEdit(t, url, srv.Token(), id["D3"], func(f map[string]any) { f["title"] = "Portal again" })
	res, rep = s.sync(syncHeader+"D1,Deal one,150,1,North\nD2,Deal two,250,1,\nD3,Export again,350,1,North\n", "--on-conflict", "portal")
	if d3 := s.deal(id["D3"]); res.code != exitOK || d3.Title != "Portal again" {
		t.Errorf("--on-conflict portal: exit %d, D3 %q; want the portal's title kept\n%s", res.code, d3.Title, res.stderr)
	}
	if e := rep["D3"][6]; !strings.Contains(e, `title: both changed, kept the portal's "Portal again" (the export has "Export again")`) {
		t.Errorf("D3's report row: %v, want the conflict named", rep["D3"])
	}
	// D2's Region emptied in the export: the portal cannot clear it, and the report says so.
	if e := rep["D2"][6]; !strings.Contains(e, "custom fields cannot be cleared on the portal") || s.deal(id["D2"]).CustomFields[11] != "North" {
		t.Errorf("D2's report row: %v, want the Region named as not cleared", rep["D2"])
	}

	// The Region dropped from the mapping: the next sync leaves it alone.
	s.mapping = writeFile(t, dir, "deals.yaml", strings.Split(syncMapping, "custom_fields:")[0])
	webEdit(t, url, srv.Token(), id["D1"], func(f map[string]any) { setCustom(f, 11, "South") })
	beforeLast := s.deal(id["D1"])
	res, _ = s.sync("Deal ID,Title,Amount,Stage\nD1,Deal one,175,1\nD2,Deal two,250,1\nD3,Export again,350,1\n")
	if d1 := s.deal(id["D1"]); res.code != exitOK || d1.CustomFields[11] != "South" || d1.BidValue != "175" {
		t.Errorf("after the mapping dropped Region: exit %d, D1 Region %q, amount %s; want South kept, 175\n%s",
			res.code, d1.CustomFields[11], d1.BidValue, res.stderr)
	}

	// Undo of that sync puts D1 back as it stood, field for field: private with its access
	// list, the notes, the custom fields.
	undo := runCmd(t, "undo", "--mapping", s.mapping, "--url", url, "--token", srv.Token(), "--run", "5",
		"--progress", "never", "--report", filepath.Join(dir, "undo.csv"))
	if undo.code != exitOK {
		t.Fatalf("undo of the last sync: exit %d\n%s", undo.code, undo.stderr)
	}
	if diff := cmp.Diff(beforeLast, s.deal(id["D1"])); diff != "" {
		t.Errorf("D1 after the undo (-want +got):\n%s", diff)
	}
}
