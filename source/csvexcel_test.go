package source

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/charmap"
)

// TestCSVAsExcelWrites reads CSV as Excel, old Macs and other programs write it.
func TestCSVAsExcelWrites(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("row,1\n", bufSize/5) // past what Open sniffs
	tests := []struct {
		name       string
		data       string
		opts       Options
		wantHeader []string
		want       []got
		wantLast   *got // checked instead of want: the last row
	}{
		{name: "CR line ends", data: "Title,Amount\r\"A\rB\",1\r\rC,2\r",
			wantHeader: []string{"Title", "Amount"}, want: []got{{2, []string{"A\nB", "1"}, ""}, {4, []string{"C", "2"}, ""}}},
		{name: "sep line", data: "sep=;\r\nTitle;Amount\r\nA;1,5\r\n",
			wantHeader: []string{"Title", "Amount"}, want: []got{{2, []string{"A", "1,5"}, ""}}},
		{name: "sep line with a BOM and a tab", data: "\uFEFFsep=\t\nTitle\tAmount\nA\t1\n",
			wantHeader: []string{"Title", "Amount"}, want: []got{{2, []string{"A", "1"}, ""}}},
		{name: "sep line, header row 2", data: "SEP=|\nexport of 2024-03-15\nTitle|Amount\nA|1\n", opts: Options{HeaderRow: 2},
			wantHeader: []string{"Title", "Amount"}, want: []got{{3, []string{"A", "1"}, ""}}},
		{name: "a NUL past the first MiB", data: "Title,Amount\n" + long + "x,\x00\n",
			wantHeader: []string{"Title", "Amount"}, wantLast: &got{bufSize/5 + 2, []string{"x", "\x00"}, fmt.Sprintf("row %d: column B holds a NUL byte: binary data, not text", bufSize/5+2)}},
		{name: "a cell over Excel's limit", data: "Title\n" + strings.Repeat("é", maxCellChars+1) + "\n",
			wantHeader: []string{"Title"}, want: []got{{2, []string{strings.Repeat("é", maxCellChars)}, "row 2: column A holds 32768 characters, over 32,767 (Excel's limit for a cell)"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Open(writeFile(t, "in.csv", []byte(tt.data)), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if diff := cmp.Diff(tt.wantHeader, r.Header()); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			rows := readAll(t, r)
			if tt.wantLast != nil {
				if diff := cmp.Diff(*tt.wantLast, rows[len(rows)-1]); diff != "" {
					t.Errorf("last row (-want +got):\n%s", diff)
				}
				return
			}
			if diff := cmp.Diff(tt.want, rows); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGuessEncodings names the encodings of exports in each legacy encoding, most likely
// first, from text as CRMs and spreadsheets export it.
func TestGuessEncodings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cm    *charmap.Charmap
		text  string
		first string
	}{
		{"Russian CRM export", charmap.Windows1251, "Название сделки;Ответственный;Сумма;Этап\nПоставка оборудования;Иванов Пётр;150000;Переговоры\n", "windows-1251"},
		{"Bulgarian", charmap.Windows1251, "Сделка,Отговорник\nДоставка на стоки,Петър Иванов\n", "windows-1251"},
		{"Russian in KOI8-R", charmap.KOI8R, "Название сделки;Ответственный\nПоставка оборудования;Иванов\n", "koi8-r"},
		{"Russian in DOS", charmap.CodePage866, "Название сделки;Ответственный\nПоставка оборудования;Иванов\n", "ibm866"},
		{"German in Windows", charmap.Windows1252, "Titel;Kunde;Straße\nAngebot Müller;Müller & Söhne GmbH;Hauptstraße 5\n", "windows-1252"},
		{"French in Windows", charmap.Windows1252, "Titre,Société,Étape\nRéunion d'été,Crédit Agricole,Négociation\n", "windows-1252"},
		{"German on a classic Mac", charmap.Macintosh, "Titel;Kunde\rAngebot Müller;Müller & Söhne\rÄnderung;Bäckerei Größer\r", "macintosh"},
		{"French on a classic Mac", charmap.Macintosh, "Titre,Société\rRéunion d'été,Crédit Agricole\r", "macintosh"},
		{"Polish", charmap.ISO8859_2, "Tytuł,Klient\nOferta dla Łódź,Zakład Świętokrzyski\n", "iso-8859-2"},
		{"Czech in Windows", charmap.Windows1250, "Název,Zákazník\nNabídka Šťastný,Škoda Žďár\n", "windows-1250"},
		{"Greek", charmap.Windows1253, "Τίτλος,Πελάτης\nΠροσφορά,Εταιρεία Αθηνών\n", "windows-1253"},
		{"Turkish", charmap.Windows1254, "Başlık,Müşteri\nTeklif,Şirket Ağaoğlu\n", "windows-1254"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := tt.cm.NewEncoder().Bytes([]byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			got := GuessEncodings(b)
			if len(got) == 0 || got[0] != tt.first {
				t.Errorf("GuessEncodings = %q, want %q first", got, tt.first)
			}
		})
	}
}

// TestNotUTF8Refused names the likely encoding when a file is not UTF-8 and names none.
func TestNotUTF8Refused(t *testing.T) {
	t.Parallel()
	b, _ := charmap.Windows1251.NewEncoder().Bytes([]byte("Название сделки;Сумма\nПоставка;100\n"))
	path := writeFile(t, "in.csv", b)
	_, err := Open(path, Options{})
	want := `row 1 is not valid UTF-8: it is most likely windows-1251 (else`
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `set "encoding: windows-1251"`) {
		t.Errorf("got %v, want %q", err, want)
	}
}
