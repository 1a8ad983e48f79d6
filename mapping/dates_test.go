package mapping

import "testing"

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
