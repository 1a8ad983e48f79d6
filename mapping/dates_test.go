package mapping

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// Every run of a token's letter that is no token says which runs are.
func TestCompileDateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ pattern, want string }{
		{"DD.MM.YYYY HH:mm:ss", ""},
		{"D/M/YY H:mm", ""},
		{"DD MMM YYYY", ""},
		{"MMMM D, YYYY", ""},
		{"DD.MM.YYY", "the year is YYYY or YY"},
		{"DD.MM.YYYYY", "the year is YYYY or YY"},
		{"DD.MMMMM.YYYY", "the month is M, MM, MMM or MMMM"},
		{"DDD.MM.YYYY", "the day is D or DD, the hour H or HH"},
		{"DD.MM.YYYY HHH", "the day is D or DD, the hour H or HH"},
		{"DD.MM.YYYY HH:m", "minutes are mm, seconds ss"},
		{"DD.MM.YYYY HH:mm:s", "minutes are mm, seconds ss"},
		{"dd.MM.YYYY", "the tokens are YYYY YY MM M MMM MMMM DD D HH H mm ss (year, month, day and hour in upper case)"},
		{"DD.MM.YYYY.YY", "it has the same part twice"},
		{"DD.MMM.MM.YYYY", "it has the same part twice"},
	}
	for _, tt := range tests {
		_, err := compileDate(tt.pattern)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("compileDate(%q): got %q, want %q", tt.pattern, got, tt.want)
		}
	}
}

// TestDateFixed holds the reading of a pattern of fixed size at its offsets to the general
// reading of its parts one after another, on texts near each pattern's shape.
func TestDateFixed(t *testing.T) {
	t.Parallel()
	pieces := []string{"0", "1", "2", "9", "12", "2024", ".", "-", "/", ":", " ", "T", "x", "é", "31"}
	r := rand.New(rand.NewPCG(4, 9))
	for _, pat := range []string{"DD.MM.YYYY", "YYYY-MM-DD", "DD/MM/YY", "YYYY-MM-DD HH:mm:ss", "DD.MM.YYYY HH:mm", "MM/DD/YYYY", "YYYYMMDD"} {
		p, err := compileDate(pat)
		if err != nil {
			t.Fatal(err)
		}
		if p.size == 0 && !strings.Contains(pat, " ") {
			t.Fatalf("%s: not read at its offsets", pat)
		}
		general := p
		general.size = 0
		for range 20_000 {
			var b strings.Builder
			for range r.IntN(10) {
				b.WriteString(pieces[r.IntN(len(pieces))])
			}
			s := b.String()
			if r.IntN(4) == 0 { // the pattern's own shape, some digits changed
				s = strings.NewReplacer("YYYY", "2024", "YY", "24", "MM", "0"+string(rune('0'+r.IntN(10))), "DD", "3"+string(rune('0'+r.IntN(10))),
					"HH", "23", "mm", "59", "ss", "6"+string(rune('0'+r.IntN(10)))).Replace(pat)
			}
			var got, want wallTime
			gotOK, wantOK := p.match(&got, s, nil), general.match(&want, s, nil)
			if gotOK != wantOK || gotOK && got != want {
				t.Fatalf("%s on %q: got %v %+v, want %v %+v", pat, s, gotOK, got, wantOK, want)
			}
		}
	}
}
