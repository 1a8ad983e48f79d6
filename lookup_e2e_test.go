package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/oppimport/oppimport/emulator"
)

// e2e runs one command with buffers for its streams.
func e2e(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, streams{in: strings.NewReader(""), out: &out, err: &errb, signals: make(chan os.Signal)})
	return code, out.String(), errb.String()
}

// initMapping runs init-mapping against the emulator, applies edits (old -> new), and
// writes the mapping beside the input.
func initMapping(t *testing.T, url, token, input string, edits ...string) string {
	t.Helper()
	code, out, errs := e2e(t, "init-mapping", "--url", url, "--token", token, input)
	if code != exitOK {
		t.Fatalf("init-mapping exited %d:\n%s", code, errs)
	}
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(out, edits[i]) {
			t.Fatalf("the proposal lacks %q:\n%s", edits[i], out)
		}
		out = strings.Replace(out, edits[i], edits[i+1], 1)
	}
	path := strings.TrimSuffix(input, filepath.Ext(input)) + ".yaml"
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The proposal for exports shaped like five CRMs' is a mapping validate accepts, with and
// without the portal; where the export holds nothing the proposal left undecided, every
// row is valid.
func TestInitMappingExports(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	tests := []struct {
		file     string
		want     int      // validate --url's exit code
		contains []string // in the proposal
	}{
		{"pipedrive_de.csv", exitRows, []string{`encoding: windows-1252`, `delimiter: ";"`, `decimal: ","`, `format: "D.M.YYYY"`,
			`bidCurrencyAbbr: { column: "Währung" }`, `responsibleid: { column: "Owner", lookup: user }`, `"Proposal": "Proposal"`,
			`# "Verhandlung": ""  # TODO: decide`}},
		{"salesforce.csv", exitRows, []string{`key: ["Opportunity ID"]`, `format: "M/D/YYYY"`, `"Closed Won": "Closure/Transaction"`,
			`bidCurrencyAbbr: { value: USD }`, `- { label: "Lead source", column: "Lead Source" }`, `tags: { column: "Type"`,
			`contactid: { column: "Account Name", lookup: contact }`}},
		{"hubspot.csv", exitOK, []string{`expectedCloseDate: { column: "Close Date" }`, `responsibleid: { column: "Deal owner", lookup: user }`,
			`stageid:`, `contactid: { column: "Associated Company", lookup: contact }`, `#   "Pipeline"`}},
		{"zoho.csv", exitOK, []string{`# TODO: decide: every sample date fits both M/D/YYYY and D/M/YYYY`, `"Closed Lost": "Unsuccessfully closed"`,
			`members: { column: "Contact Name", split: ";", lookup: contact }`, `successProbability: { column: "Probability (%)" }`}},
		{"onlyoffice.csv", exitOK, []string{`description: { column: "Description" }`, `responsibleid: { column: "Responsible", lookup: user }`,
			`bidValue: { column: "Budget" }`, `stageid:`}},
	}
	t.Run("exports", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.file, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				input := copyTestdata(t, dir, "exports", tt.file)
				mp := initMapping(t, url, srv.Token(), input)
				text, _ := os.ReadFile(mp)
				for _, s := range tt.contains {
					if !strings.Contains(string(text), s) {
						t.Errorf("the proposal lacks %q:\n%s", s, text)
					}
				}
				report := filepath.Join(dir, "r.csv")
				code, _, errs := e2e(t, "validate", "--mapping", mp, "--url", url, "--token", srv.Token(), "--report", report, "--progress", "never", input)
				if code != tt.want {
					t.Errorf("validate --url exited %d, want %d:\n%s\nmapping:\n%s", code, tt.want, errs, text)
				}
				// Offline the look-ups go unchecked, and the mapping is still accepted.
				code, _, errs = e2e(t, "validate", "--mapping", mp, "--report", report, "--progress", "never", input)
				if code == exitNothing {
					t.Errorf("validate without --url exited 2:\n%s", errs)
				}
				if !strings.Contains(errs, "look-ups not checked (no --url)") {
					t.Errorf("validate without --url does not say the look-ups went unchecked:\n%s", errs)
				}
				// Without a portal the proposal is still a mapping validate accepts.
				code, out, errs := e2e(t, "init-mapping", input)
				if code != exitOK {
					t.Fatalf("init-mapping without --url exited %d:\n%s", code, errs)
				}
				offline := filepath.Join(dir, "offline.yaml")
				if err := os.WriteFile(offline, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				if code, _, errs := e2e(t, "validate", "--mapping", offline, "--report", report, "--progress", "never", input); code == exitNothing {
					t.Errorf("validate of the offline proposal exited 2:\n%s\n%s", errs, out)
				}
			})
		}
	})
	if n := srv.Stats().ByRoute["POST crm/opportunity"]; n != 0 {
		t.Errorf("init-mapping and validate posted %d opportunities, want none", n)
	}
}

// opp is the part of a stored opportunity these tests compare.
type opp struct {
	Title, Responsible, BidValue, Currency, Expected string
	Contact, Stage, Probability                      int
	Custom                                           map[int]string
}

func stored(srv *emulator.Server) []opp {
	var out []opp
	for _, o := range srv.Opportunities() {
		out = append(out, opp{Title: o.Title, Responsible: o.ResponsibleID, BidValue: o.BidValue, Currency: o.BidCurrency,
			Expected: o.ExpectedCloseDate.Format(time.DateOnly), Contact: o.ContactID, Stage: o.StageID,
			Probability: o.SuccessProbability, Custom: o.CustomFields})
	}
	// Workers create concurrently: the portal's order is not the input's.
	slices.SortFunc(out, func(a, b opp) int { return strings.Compare(a.Title, b.Title) })
	return out
}

// withKeys adds to want the key init-mapping's key_field ("Legacy ID") writes into each deal:
// the portal itself remembers which row each deal came from.
func withKeys(t *testing.T, srv *emulator.Server, want []opp, keys ...string) {
	t.Helper()
	f, ok := srv.CustomFieldByLabel("Legacy ID")
	if !ok {
		t.Fatal(`the import did not create the key field "Legacy ID"`)
	}
	for i, k := range keys {
		if want[i].Custom == nil {
			want[i].Custom = map[int]string{}
		}
		want[i].Custom[int(f.ID)] = k
	}
}

const (
	anna  = "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41"
	maria = "8a1d4e7b-2c3f-4a5b-8c9d-0e1f2a3b4c5d"
	john  = "b5c6d7e8-f9a0-4b1c-8d2e-3f4a5b6c7d8e"
	zoe   = "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f7a"
)

// A German Pipedrive export (semicolons, Windows-1252, 1.234,50, 31.12.2024, owner names)
// imports with init-mapping's proposal and one edit: the stage it could not match.
func TestImportPipedriveGerman(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	input := copyTestdata(t, dir, "exports", "pipedrive_de.csv")
	mp := initMapping(t, url, srv.Token(), input,
		`      # "Verhandlung": ""  # TODO: decide`, `      "Verhandlung": "Negotiations"  # was: TODO: decide`)
	code, _, errs := e2e(t, "import", "--mapping", mp, "--url", url, "--token", srv.Token(),
		"--report", filepath.Join(dir, "r.csv"), "--progress", "never", input)
	if code != exitOK {
		t.Fatalf("import exited %d, want 0:\n%s", code, errs)
	}
	want := []opp{
		{Title: "Lizenzen Müller", Responsible: anna, BidValue: "1234.5", Currency: "EUR", Expected: "2024-12-31", Contact: 8, Stage: 6, Probability: 75},
		{Title: "Rahmenvertrag Acme", Responsible: zoe, BidValue: "12500", Currency: "EUR", Expected: "2025-01-15", Contact: 1, Stage: 7, Probability: 90},
		{Title: "Wartung Initech", Responsible: maria, BidValue: "980", Currency: "CHF", Expected: "2025-02-01", Contact: 3, Stage: 5, Probability: 50},
	}
	withKeys(t, srv, want, "PD-1", "PD-2", "PD-3")
	if diff := cmp.Diff(want, stored(srv), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("the portal's opportunities (-want +got):\n%s", diff)
	}
}

// A Salesforce export (owner and stage names, not ids; US dates and dollar amounts)
// imports with init-mapping's proposal and one edit.
func TestImportSalesforce(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	input := copyTestdata(t, dir, "exports", "salesforce.csv")
	mp := initMapping(t, url, srv.Token(), input,
		`      # "Prospecting": ""  # TODO: decide`, `      "Prospecting": "Initial contact"  # was: TODO: decide`)
	code, _, errs := e2e(t, "import", "--mapping", mp, "--url", url, "--token", srv.Token(),
		"--report", filepath.Join(dir, "r.csv"), "--progress", "never", input)
	if code != exitOK {
		text, _ := os.ReadFile(mp)
		t.Fatalf("import exited %d, want 0:\n%s\n%s", code, errs, text)
	}
	want := []opp{
		{Title: "Acme renewal", Responsible: anna, BidValue: "12500", Currency: "USD", Expected: "2024-12-31", Contact: 1, Stage: 6, Probability: 75,
			Custom: map[int]string{12: "Web"}},
		{Title: "Globex expansion", Responsible: maria, BidValue: "8000.5", Currency: "USD", Expected: "2025-01-15", Contact: 2, Stage: 8, Probability: 100,
			Custom: map[int]string{12: "Referral"}},
		{Title: "Initech pilot", Responsible: john, BidValue: "950", Currency: "USD", Expected: "2025-02-03", Contact: 3, Stage: 1, Probability: 10,
			Custom: map[int]string{12: "Trade show"}},
	}
	withKeys(t, srv, want, "006A1", "006A2", "006A3")
	if diff := cmp.Diff(want, stored(srv), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("the portal's opportunities (-want +got):\n%s", diff)
	}
}

// Every encoding the issue names reads end to end: the portal gets the right letters.
func TestImportEncodings(t *testing.T) {
	t.Parallel()
	const title = "Zoë Müller Straße"
	utf16 := func(big bool, s string) []byte {
		var b []byte
		if big {
			b = append(b, 0xFE, 0xFF)
		} else {
			b = append(b, 0xFF, 0xFE)
		}
		for _, r := range s {
			if big {
				b = append(b, byte(r>>8), byte(r))
			} else {
				b = append(b, byte(r), byte(r>>8))
			}
		}
		return b
	}
	latin1 := func(s string) []byte {
		var b []byte
		for _, r := range s {
			switch r {
			case '€':
				b = append(b, 0xA4) // iso-8859-15
			default:
				b = append(b, byte(r))
			}
		}
		return b
	}
	text := "Title;Owner\n" + title + ";anna.berg@example.com\n"
	// One encoding found by its BOM, one named in the mapping: source's TestCSV reads each
	// BOM and code page, TestEncodingNames the names (latin1 and its kin) from the mapping's
	// input.encoding (which mapping's TestEncodingNames accepts) to the cells.
	tests := []struct {
		name, encoding string
		data           []byte
	}{
		{"UTF-16 BE with BOM", "", utf16(true, text)},
		{"latin1 alias", "latin1", latin1(text)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, url := startEmulator(t, emulator.Options{})
			dir := t.TempDir()
			input := filepath.Join(dir, "in.csv")
			if err := os.WriteFile(input, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			enc := ""
			if tt.encoding != "" {
				enc = "input: { encoding: " + tt.encoding + " }\n"
			}
			mp := filepath.Join(dir, "m.yaml")
			os.WriteFile(mp, []byte("version: 1\n"+enc+`fields:
  title:           { column: Title }
  responsibleid:   { column: Owner, lookup: user }
  stageid:         { value: Proposal, lookup: stage }
  bidCurrencyAbbr: { value: EUR }
`), 0o644)
			code, _, errs := e2e(t, "import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--rate", "1000",
				"--report", filepath.Join(dir, "r.csv"), "--progress", "never", input)
			if code != exitOK {
				t.Fatalf("import exited %d:\n%s", code, errs)
			}
			got := srv.Opportunities()
			if len(got) != 1 || got[0].Title != title || got[0].ResponsibleID != anna || got[0].StageID != 6 {
				t.Errorf("the portal holds %+v, want one %q of Anna in stage 6", got, title)
			}
		})
	}
}

// A UTF-8 file with invalid bytes and no encoding: stops before anything is posted, naming
// the first bad row and suggesting the encoding, even when the bad row is far into the file.
func TestImportInvalidUTF8(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	var b bytes.Buffer
	// Past the first MiB, which Open sniffs: 2,500 rows of 500 bytes of padding (an unmapped
	// column) put row 2,200 at 1.1 MB.
	b.WriteString("Title;Owner;Padding\n")
	pad := strings.Repeat("p", 480)
	for i := 2; i <= 2500; i++ {
		title := "Deal number " + strings.Repeat("x", 30)
		if i == 2200 {
			title = "M\xfcller" // windows-1252 ü
		}
		b.WriteString(title + ";anna.berg@example.com;" + pad + "\n")
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "in.csv")
	os.WriteFile(input, b.Bytes(), 0o644)
	mp := filepath.Join(dir, "m.yaml")
	os.WriteFile(mp, []byte(`version: 1
fields:
  title:           { column: Title }
  responsibleid:   { column: Owner, lookup: user }
  stageid:         { value: 1 }
  bidCurrencyAbbr: { value: EUR }
`), 0o644)
	code, _, errs := e2e(t, "import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--report", filepath.Join(dir, "r.csv"), "--progress", "never", input)
	if code != exitNothing {
		t.Errorf("import exited %d, want 2", code)
	}
	for _, want := range []string{"row 2200 is not valid UTF-8", `encoding: windows-1252`, "nothing was posted"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if n := srv.Stats().ByRoute["POST crm/opportunity"]; n != 0 {
		t.Errorf("%d opportunities posted, want none", n)
	}
}

// What the portal would refuse, and what it would accept and silently corrupt, is caught
// before posting; only the good row reaches the portal.
func TestImportOnlineValidation(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	input := filepath.Join(dir, "in.csv")
	os.WriteFile(input, []byte(`Title,Owner,Stage,Currency,Contact,Members,Shared,Source,Strategic,Renewal,Notes
good,`+anna+`,6,eur,1,4,,trade show,ja,2025-03-01,
lost user,11111111-2222-4333-8444-555555555555,6,EUR,,,,,,,
no stage,`+anna+`,99,EUR,,,,,,,
no currency,`+anna+`,6,XBT,,,,,,,
no contact,`+anna+`,6,EUR,99,,,,,,
hidden contact,`+anna+`,6,EUR,10,,,,,,
dropped member,`+anna+`,6,EUR,1,98,,,,,
shared with nobody,`+anna+`,6,EUR,,,11111111-2222-4333-8444-555555555555,,,,
not an option,`+anna+`,6,EUR,,,,Fax,,,
not a boolean,`+anna+`,6,EUR,,,,,maybe,,
not a date,`+anna+`,6,EUR,,,,,,31.02.2024,
no such field,`+anna+`,6,EUR,,,,,,,dropped
`), 0o644)
	mp := filepath.Join(dir, "m.yaml")
	os.WriteFile(mp, []byte(`version: 1
fields:
  title:           { column: Title }
  responsibleid:   { column: Owner }
  stageid:         { column: Stage }
  bidCurrencyAbbr: { column: Currency }
  contactid:       { column: Contact }
  members:         { column: Members }
  accessList:      { column: Shared }
custom_fields:
  - { label: Lead source, column: Source }
  - { label: Strategic, column: Strategic }
  - { id: 14, column: Renewal }
  - { id: 99, column: Notes }
`), 0o644)
	report := filepath.Join(dir, "r.csv")
	// validate --url finds the same, read-only.
	code, _, errs := e2e(t, "validate", "--mapping", mp, "--url", url, "--token", srv.Token(), "--report", report, "--progress", "never", input)
	if code != exitRows {
		t.Fatalf("validate exited %d, want 1:\n%s", code, errs)
	}
	if n := srv.Stats().ByRoute["POST crm/opportunity"]; n != 0 {
		t.Fatalf("validate posted %d opportunities", n)
	}
	code, _, errs = e2e(t, "import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--report", report, "--progress", "never", input)
	if code != exitRows {
		t.Fatalf("import exited %d, want 1:\n%s", code, errs)
	}
	rows := readReport(t, report)
	want := map[string]string{
		"2":  "created",
		"3":  `column "Owner" (responsibleid): "11111111-2222-4333-8444-555555555555" is no user of the portal`,
		"4":  `column "Stage" (stageid): "99" is no stage of the portal`,
		"5":  `column "Currency" (bidCurrencyAbbr): "XBT" is not a currency of the portal`,
		"6":  `column "Contact" (contactid): "99" is no contact on the portal`,
		"7":  `column "Contact" (contactid): "10" is a private contact the token's user may not see`,
		"8":  `column "Members" (members): "98" is no contact on the portal (the portal would drop the member without a word)`,
		"9":  `column "Shared" (accessList): "11111111-2222-4333-8444-555555555555" is no user of the portal`,
		"10": `column "Source" (customField:12): "Fax" is not an option of "Lead source"`,
		"11": `column "Strategic" (customField:13): "maybe" is not a boolean for the checkbox "Strategic"`,
		"12": `column "Renewal" (customField:14): "31.02.2024" is not a date for "Renewal date" (want YYYY-MM-DD)`,
		"13": `column "Notes" (customField:99): "dropped" goes to custom field 99, which opportunities on the portal do not have`,
	}
	for _, r := range rows[1:] {
		w, ok := want[r[0]]
		switch {
		case !ok:
			t.Errorf("unexpected report row %q", r)
		case w == "created" && r[2] != "created":
			t.Errorf("row %s: %s %q, want created", r[0], r[2], r[6])
		case w != "created" && (r[2] != "invalid" || !strings.Contains(r[6], w)):
			t.Errorf("row %s: %s %q, want invalid with %q", r[0], r[2], r[6], w)
		}
	}
	if len(rows) != len(want)+1 {
		t.Errorf("the report has %d rows, want %d", len(rows)-1, len(want))
	}
	got := srv.Opportunities()
	wantCustom := map[int]string{12: "Trade show", 13: "true", 14: "2025-03-01"}
	if len(got) != 1 || got[0].Title != "good" || !cmp.Equal(got[0].CustomFields, wantCustom) || !cmp.Equal(got[0].Members, []int{1, 4}) {
		t.Errorf("the portal holds %+v, want the good row alone, its select and checkbox values normalised", got)
	}
}
