package source

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExports reads the files real programs wrote (scripts/fixtures/fixtures.sh): each as
// its user sees it in the program that wrote it.
func TestExports(t *testing.T) {
	t.Parallel()
	const owner = "3f2b8c1e-6d4a-4e7b-9a15-2c8d7e6f5a41"
	deals := []got{
		{2, []string{"Website relaunch", "12500.5", "65%", "2025-03-31", "2024-01-08 09:12", "15583649437", "TRUE", owner}, ""},
		{3, []string{"Support contract", "900", "100%", "2025-04-30", "2024-02-29 17:45", "15583649438", "FALSE", owner}, ""},
		{4, []string{"Broken lookup", "#N/A", "10%", "2025-05-01", "2024-03-01 00:00", "15583649439", "FALSE", owner}, "row 4: Deals!B4 holds the formula error #N/A"},
		{5, []string{"Licences 2026", "0.5", "57%", "2026-01-15", "2024-12-31 23:59", "15583649440", "TRUE", owner}, ""},
	}
	// LibreOffice recalculates the lookup into a sheet the workbook lacks: #NAME?.
	libre := append([]got(nil), deals...)
	libre[2] = got{4, []string{"Broken lookup", "#NAME?", "10%", "2025-05-01", "2024-03-01 00:00", "15583649439", "FALSE", owner}, "row 4: Deals!B4 holds the formula error #NAME?"}
	dealsHeader := []string{"Title", "Amount", "Probability", "Close", "Updated", "Deal ID", "Won", "Owner"}
	tests := []struct {
		file     string
		opts     Options
		header   []string
		date1904 bool
		want     []got
		wantErr  string
	}{
		{file: "sheetjs_1904.xlsx", header: dealsHeader, date1904: true, want: deals},
		{file: "exceljs.xlsx", header: dealsHeader, want: deals},
		{file: "libreoffice.xlsx", header: dealsHeader, want: libre},
		{file: "libreoffice_1904.xlsx", header: dealsHeader, date1904: true, want: libre},
		{file: "crm_ru_1251.csv", wantErr: `row 1 is not valid UTF-8: it is most likely windows-1251`},
		{file: "crm_ru_1251.csv", opts: Options{Encoding: "windows-1251"},
			header: []string{"Название сделки", "Сумма", "Вероятность", "Дата закрытия", "Ответственный", "Закрыта"},
			want: []got{{2, []string{"Поставка оборудования", "150000", "65.00%", "31.03.2025", owner, "Да"}, ""},
				{3, []string{"Обслуживание", "900", "100.00%", "30.04.2025", owner, "Нет"}, ""}}},
		{file: "mac_roman_cr.csv", wantErr: `row 2 is not valid UTF-8: it is most likely macintosh`},
		{file: "mac_roman_cr.csv", opts: Options{Encoding: "macintosh"}, header: []string{"Titel", "Kunde", "Betrag"},
			want: []got{{2, []string{"Angebot Müller", "Müller & Söhne", "1.250,50"}, ""}, {3, []string{"Änderung Bäckerei", "Bäckerei Größer", "900"}, ""}}},
		{file: "excel_sep.csv", header: []string{"Title", "Amount", "Probability"},
			want: []got{{2, []string{"Website relaunch", "12500,5", "65%"}, ""}, {3, []string{"Support contract", "900", "100%"}, ""}}},
		{file: "excel_unicode.txt", header: []string{"Title", "Amount"},
			want: []got{{2, []string{"Website relaunch", "12500.5"}, ""}, {3, []string{"Support contract", "900"}, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.opts.Encoding, func(t *testing.T) {
			t.Parallel()
			r, err := Open(filepath.Join("..", "testdata", "exports", tt.file), tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if diff := cmp.Diff(tt.header, r.Header()); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if r.Date1904() != tt.date1904 {
				t.Errorf("Date1904() = %v, want %v", r.Date1904(), tt.date1904)
			}
			if diff := cmp.Diff(tt.want, readAll(t, r)); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}
