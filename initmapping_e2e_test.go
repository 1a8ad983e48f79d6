package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/oppimport/oppimport/emulator"
)

// A Bitrix24 export in English, never seen by a hand-written mapping: init-mapping's
// proposal, taken as it is, validates, imports every deal with the owner, stage, company
// and currency its user would expect, and keeps the keys in the key_field it proposed, so
// that a run on a lost state database creates nothing twice.
func TestInitMappingImportsAnUnseenExport(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	in := writeFile(t, dir, "bitrix24.csv", strings.Join([]string{
		"ID;Deal Name;Stage;Amount;Currency;Responsible person;Created;Expected close date;Company;Comment",
		"101;Licences for Globex;Proposal;12 500,00;Euro;anna.berg@example.com;05.01.2024 09:12;15.03.2024;Globex Ltd;first call",
		"102;CRM rollout;Negotiations;3 200,50;US Dollar;john.smith@example.com;06.01.2024 10:00;30.04.2024;Initech;",
		"103;Support renewal;Proposal;990,00;£;anna.berg@example.com;07.01.2024 11:30;31.05.2024;Globex Ltd;renewal",
		"104;Hardware refresh;Closure/Transaction;45 000,00;Euro;anna.berg@example.com;13.01.2024 08:00;01.02.2024;Initech;",
	}, "\n")+"\n")
	res := runCmd(t, "init-mapping", "--url", url, "--token", srv.Token(), in)
	if res.code != exitOK {
		t.Fatalf("init-mapping: exit %d:\n%s", res.code, res.stderr)
	}
	proposal := res.out
	for _, want := range []string{`key: ["ID"]`, `key_field: "Legacy ID"`, `responsibleid: { column: "Responsible person", lookup: user }`,
		`"Euro": EUR`, `"US Dollar": USD`, `"£": GBP`, `contactid: { column: "Company", lookup: contact }`, `format: "D.M.YYYY"`,
		`bidValue: { column: "Amount", decimal: "," }`, `description: { column: "Comment" }`} {
		if !strings.Contains(proposal, want) {
			t.Errorf("the proposal lacks %s:\n%s", want, proposal)
		}
	}
	if strings.Contains(proposal, "# TODO:") {
		t.Errorf("the proposal leaves something undecided for a file that says everything:\n%s", proposal)
	}
	mp := writeFile(t, dir, "bitrix24.yaml", proposal)
	if res := runCmd(t, "validate", "--mapping", mp, "--url", url, "--token", srv.Token(), "--report", filepath.Join(dir, "v.csv"), in); res.code != exitOK {
		t.Fatalf("validate --url: exit %d:\n%s\n%s", res.code, res.stderr, proposal)
	}
	imp := func(state string) cmdResult {
		return runCmd(t, "import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--progress", "never",
			"--state", filepath.Join(dir, state), "--report", filepath.Join(dir, "r.csv"), in)
	}
	if res := imp("first.db"); res.code != exitOK {
		t.Fatalf("import: exit %d:\n%s", res.code, res.stderr)
	}
	got := map[string]string{}
	for _, o := range srv.Opportunities() {
		got[o.Title] = strings.Join([]string{o.ResponsibleID, o.BidCurrency, o.BidValue, o.ExpectedCloseDate.Format("2006-01-02"),
			"contact", strconv.Itoa(o.ContactID), "stage", strconv.Itoa(o.StageID)}, " ")
	}
	const anna, john = "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41", "b5c6d7e8-f9a0-4b1c-8d2e-3f4a5b6c7d8e"
	want := map[string]string{
		"Licences for Globex": anna + " EUR 12500 2024-03-15 contact 2 stage 6",
		"CRM rollout":         john + " USD 3200.5 2024-04-30 contact 3 stage 7",
		"Support renewal":     anna + " GBP 990 2024-05-31 contact 2 stage 6",
		"Hardware refresh":    anna + " EUR 45000 2024-02-01 contact 3 stage 8",
	}
	for title, w := range want {
		if got[title] != w {
			t.Errorf("%s on the portal: %q, want %q", title, got[title], w)
		}
	}
	if !slices.ContainsFunc(srv.CustomFields(), func(f emulator.CustomField) bool { return f.Label == "Legacy ID" }) {
		t.Errorf("the key_field the proposal names was not made on the portal")
	}
	// The state database lost: the portal's key_field says what is there already.
	if res := imp("second.db"); res.code != exitOK {
		t.Fatalf("import on a new state database: exit %d:\n%s", res.code, res.stderr)
	}
	if n := len(srv.Opportunities()); n != 4 {
		t.Errorf("the portal holds %d deals after a run on a new state database, want 4", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "bitrix24.rejects.csv")); err == nil {
		t.Errorf("a rejects file was written")
	}
}

// A Zoho workbook with date, date-time, percentage and number cells: the proposal reads
// them as the sheet shows them, with no format to guess, and validates.
func TestInitMappingWorkbook(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	book := excelize.NewFile()
	book.SetSheetName("Sheet1", "Deals")
	date, _ := book.NewStyle(&excelize.Style{NumFmt: 14})
	dateTime, _ := book.NewStyle(&excelize.Style{NumFmt: 22})
	percent, _ := book.NewStyle(&excelize.Style{NumFmt: 9})
	book.SetSheetRow("Deals", "A1", &[]any{"Record Id", "Deal Name", "Deal Owner", "Amount", "Closing Date", "Probability (%)", "Stage", "Created Time", "Tag"})
	rows := [][]any{
		{"zcrm_1001", "Kitchen", "anna.berg@example.com", 1500.5, time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC), 0.4, "Proposal", time.Date(2024, 1, 5, 9, 12, 0, 0, time.UTC), "vip"},
		{"zcrm_1002", "Roof", "anna.berg@example.com", 900, time.Date(2024, 4, 30, 0, 0, 0, 0, time.UTC), 0.9, "Negotiations", time.Date(2024, 1, 6, 10, 0, 0, 0, time.UTC), ""},
	}
	for i, r := range rows {
		book.SetSheetRow("Deals", fmt.Sprintf("A%d", i+2), &r)
	}
	book.SetCellStyle("Deals", "E2", "E3", date)
	book.SetCellStyle("Deals", "F2", "F3", percent)
	book.SetCellStyle("Deals", "H2", "H3", dateTime)
	in := filepath.Join(dir, "zoho.xlsx")
	if err := book.SaveAs(in); err != nil {
		t.Fatal(err)
	}
	res := runCmd(t, "init-mapping", "--url", url, "--token", srv.Token(), in)
	if res.code != exitOK {
		t.Fatalf("init-mapping: exit %d:\n%s", res.code, res.stderr)
	}
	for _, want := range []string{`sheet: "Deals"`, `key: ["Record Id"]`, `expectedCloseDate: { column: "Closing Date" }`,
		`successProbability: { column: "Probability (%)" }`, `bidValue: { column: "Amount" }`, "\ncreated: { column: \"Created Time\" }", "\ntags: { column: \"Tag\""} {
		if !strings.Contains(res.out, want) {
			t.Errorf("the proposal lacks %s:\n%s", want, res.out)
		}
	}
	mp := writeFile(t, dir, "zoho.yaml", res.out)
	if res := runCmd(t, "import", "--mapping", mp, "--url", url, "--token", srv.Token(), "--progress", "never", "--report", filepath.Join(dir, "r.csv"), in); res.code != exitOK {
		t.Fatalf("import: exit %d:\n%s\n%s", res.code, res.stderr, res.out)
	}
	for _, o := range srv.Opportunities() {
		if o.Title == "Kitchen" && (o.SuccessProbability != 40 || o.BidValue != "1500.5" || o.ExpectedCloseDate.Format("2006-01-02") != "2024-03-15") {
			t.Errorf("Kitchen on the portal: probability %d, value %s, close %s; want 40, 1500.5, 2024-03-15",
				o.SuccessProbability, o.BidValue, o.ExpectedCloseDate.Format("2006-01-02"))
		}
		// The proposal's tags: and created: are live lines: the deal is tagged and keeps its age.
		if o.Title == "Kitchen" && (!slices.Equal(o.Tags, []string{"vip"}) || o.CreatedAt.Format("2006-01-02 15:04") != "2024-01-05 09:12") {
			t.Errorf("Kitchen on the portal: tags %v, created %s; want [vip], 2024-01-05 09:12", o.Tags, o.CreatedAt.Format("2006-01-02 15:04"))
		}
	}
}

// A file as a Russian CRM writes it: windows-1251, a title and a blank row above the
// header. The proposal names the encoding and the header row, and validates.
func TestInitMappingTitleAboveHeaderAndCodePage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// "Выгрузка сделок;;" / "" / "ID;Название сделки;Сумма" / two deals, in windows-1251.
	in := writeFile(t, dir, "bitrix.csv", "\xc2\xfb\xe3\xf0\xf3\xe7\xea\xe0 \xf1\xe4\xe5\xeb\xee\xea;;\n;;\n"+
		"ID;\xcd\xe0\xe7\xe2\xe0\xed\xe8\xe5 \xf1\xe4\xe5\xeb\xea\xe8;\xd1\xf3\xec\xec\xe0\n1;\xca\xf3\xf5\xed\xff;100\n2;\xca\xf0\xfb\xf8\xe0;200\n")
	res := runCmd(t, "init-mapping", in)
	if res.code != exitOK {
		t.Fatalf("init-mapping: exit %d:\n%s", res.code, res.stderr)
	}
	for _, want := range []string{"header_row: 3", "encoding: windows-1251", `title: { column: "Название сделки" }`, `bidValue: { column: "Сумма" }`, `key: ["ID"]`} {
		if !strings.Contains(res.out, want) {
			t.Errorf("the proposal lacks %s:\n%s", want, res.out)
		}
	}
	mp := writeFile(t, dir, "bitrix.yaml", res.out)
	v := runCmd(t, "validate", "--mapping", mp, "--report", filepath.Join(dir, "v.csv"), in)
	if v.code != exitOK {
		t.Fatalf("validate: exit %d:\n%s", v.code, v.stderr)
	}
	rows := readReport(t, filepath.Join(dir, "v.csv"))
	if len(rows) != 3 || rows[1][0] != "4" || rows[1][7] != "Кухня" {
		t.Errorf("validate's report %q, want rows 4 and 5, the first titled Кухня", rows)
	}
}
