package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oppimport/oppimport/emulator"
)

// Workbooks of testdata/exports/, written by SheetJS and LibreOffice
// (scripts/fixtures/fixtures.sh), imported with one mapping: the portal holds exactly what
// their user sees in them. Percentages as shown, dates in the workbook's date system (1904
// for SheetJS's) in a date field, a date custom field and a template, an 11-digit id in
// a template without an exponent, a boolean cell as the program shows it, a formula's
// cached result as the title, and the row whose amount is a formula error refused, naming
// the cell.
const exportsMapping = `version: 1
key: ["Deal ID"]
fields:
  title:              { column: Title }
  responsibleid:      { column: Owner }
  stageid:            { value: 1 }
  bidCurrencyAbbr:    { value: EUR }
  bidValue:           { column: Amount }
  successProbability: { column: Probability }
  expectedCloseDate:  { column: Close }
  description:        { template: "updated {Updated}, id {Deal ID}, won {Won}" }
custom_fields:
  - { id: 14, column: Close, format: DD.MM.YYYY }
  - { id: 11, column: Won }
`

func TestImportExports(t *testing.T) {
	t.Parallel()
	const owner = "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41"
	want := []emulator.Opportunity{
		{Title: "Website relaunch", Description: ptr("updated 2024-01-08 09:12, id 15583649437, won TRUE"), ResponsibleID: owner,
			BidValue: "12500.5", BidCurrency: "EUR", StageID: 1, SuccessProbability: 65, ExpectedCloseDate: day(2025, 3, 31),
			CustomFields: map[int]string{14: "2025-03-31", 11: "TRUE"}},
		{Title: "Support contract", Description: ptr("updated 2024-02-29 17:45, id 15583649438, won FALSE"), ResponsibleID: owner,
			BidValue: "900", BidCurrency: "EUR", StageID: 1, SuccessProbability: 100, ExpectedCloseDate: day(2025, 4, 30),
			CustomFields: map[int]string{14: "2025-04-30", 11: "FALSE"}},
		{Title: "Licences 2026", Description: ptr("updated 2024-12-31 23:59, id 15583649440, won TRUE"), ResponsibleID: owner,
			BidValue: "0.5", BidCurrency: "EUR", StageID: 1, SuccessProbability: 57, ExpectedCloseDate: day(2026, 1, 15),
			CustomFields: map[int]string{14: "2026-01-15", 11: "TRUE"}},
	}
	// Two of the four workbooks, one in each date system and with each program's formula
	// error: source's TestExports reads all four to the same cells, cell for cell, so the
	// other two would import the same.
	for _, tt := range []struct{ file, formulaError string }{
		{"sheetjs_1904.xlsx", "#N/A"}, {"libreoffice.xlsx", "#NAME?"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			srv, url := startEmulator(t, emulator.Options{})
			dir := t.TempDir()
			in := copyTestdata(t, dir, "exports", tt.file)
			m := writeFile(t, dir, "m.yaml", exportsMapping)
			rep := filepath.Join(dir, "report.csv")
			res := runCmd(t, "import", "--mapping", m, "--url", url, "--token", srv.Token(), "--report", rep, "--progress", "never", in)
			if res.code != exitRows {
				t.Fatalf("got exit %d, want %d:\n%s", res.code, exitRows, res.stderr)
			}
			if diff := portalDiff(srv, want); diff != "" {
				t.Errorf("the portal holds (-want +got):\n%s", diff)
			}
			rows := readReport(t, rep)
			if diff := cmp.Diff([]string{"2:created", "3:created", "4:invalid", "5:created"}, statuses(rows)); diff != "" {
				t.Errorf("report statuses (-want +got):\n%s", diff)
			}
			if got, want := rows[3][6], "row 4: Deals!B4 holds the formula error "+tt.formulaError; got != want {
				t.Errorf("row 4's error: got %q, want %q", got, want)
			}
		})
	}
}

// A Russian CRM's CSV in windows-1251 (LibreOffice's CSV filter): refused without
// encoding: naming windows-1251, imported with it, Russian percentages and dates.
func TestImportRussianCSV(t *testing.T) {
	t.Parallel()
	srv, url := startEmulator(t, emulator.Options{})
	dir := t.TempDir()
	in := copyTestdata(t, dir, "exports", "crm_ru_1251.csv")
	const fields = `fields:
  title:              { column: "Название сделки" }
  responsibleid:      { column: "Ответственный" }
  stageid:            { value: 1 }
  bidCurrencyAbbr:    { value: RUB }
  bidValue:           { column: "Сумма" }
  successProbability: { column: "Вероятность" }
  expectedCloseDate:  { column: "Дата закрытия", format: DD.MM.YYYY }
custom_fields:
  - { id: 11, column: "Закрыта" }
`
	bare := writeFile(t, dir, "bare.yaml", "version: 1\n"+fields)
	res := runCmd(t, "import", "--mapping", bare, "--url", url, "--token", srv.Token(), "--progress", "never", "--report", filepath.Join(dir, "r1.csv"), in)
	if wantMsg := `row 1 is not valid UTF-8: it is most likely windows-1251`; res.code != exitNothing || !strings.Contains(res.stderr, wantMsg) {
		t.Fatalf("without encoding: exit %d, want %d and %q:\n%s", res.code, exitNothing, wantMsg, res.stderr)
	}
	if n := len(srv.Opportunities()); n != 0 {
		t.Fatalf("%d deals posted from a file refused", n)
	}
	m := writeFile(t, dir, "m.yaml", "version: 1\ninput: { encoding: windows-1251 }\n"+fields)
	res = runCmd(t, "import", "--mapping", m, "--url", url, "--token", srv.Token(), "--progress", "never", "--report", filepath.Join(dir, "r2.csv"), in)
	if res.code != exitOK {
		t.Fatalf("got exit %d, want %d:\n%s", res.code, exitOK, res.stderr)
	}
	const owner = "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41"
	want := []emulator.Opportunity{
		{Title: "Поставка оборудования", ResponsibleID: owner, BidValue: "150000", BidCurrency: "RUB", StageID: 1,
			SuccessProbability: 65, ExpectedCloseDate: day(2025, 3, 31), CustomFields: map[int]string{11: "Да"}},
		{Title: "Обслуживание", ResponsibleID: owner, BidValue: "900", BidCurrency: "RUB", StageID: 1,
			SuccessProbability: 100, ExpectedCloseDate: day(2025, 4, 30), CustomFields: map[int]string{11: "Нет"}},
	}
	if diff := portalDiff(srv, want); diff != "" {
		t.Errorf("the portal holds (-want +got):\n%s", diff)
	}
}

// init-mapping on the windows-1251 CSV proposes encoding: windows-1251 and Russian column
// names, not windows-1252 and mojibake.
func TestInitMappingRussianCSV(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := copyTestdata(t, dir, "exports", "crm_ru_1251.csv")
	res := runCmd(t, "init-mapping", in)
	if res.code != exitOK {
		t.Fatalf("exit %d:\n%s", res.code, res.stderr)
	}
	for _, want := range []string{"encoding: windows-1251", `"Название сделки"`} {
		if !strings.Contains(res.out, want) {
			t.Errorf("the proposal lacks %q:\n%s", want, res.out)
		}
	}
}
