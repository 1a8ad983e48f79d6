package mapping

import (
	"strings"
	"testing"
)

func TestClosest(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Title ", 1<<20)
	tests := []struct {
		name       string
		candidates []string
		want       string
	}{
		{"title", []string{"Amount", "Title"}, "Title"},
		{"Titel", []string{"Amount", "Title"}, "Title"},
		{"Amout", []string{"Amount", "Title"}, "Amount"},
		{"Deal", []string{"Deal name", "Title"}, "Deal name"},
		{"Deal title here", []string{"Deal"}, "Deal"},
		{"Stage", []string{"Amount", "Title"}, ""},
		{"Название", []string{"Сумма", "НАЗВАНИЕ сделки"}, "НАЗВАНИЕ сделки"},
		{"Назвние", []string{"Название"}, "Название"},
		{"Titel", []string{long, "Title"}, "Title"},
		{"Titel", []string{long}, ""},
		{long, []string{"Title"}, ""},
	}
	for _, tt := range tests {
		if got := closest(tt.name, tt.candidates); got != tt.want {
			t.Errorf("closest(%.20q, ...) = %.20q, want %.20q", tt.name, got, tt.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"title", "title", 0}, {"titel", "title", 1},
		{"amout", "amount", 1}, {"kitten", "sitting", 3}, {"ca", "abc", 3}, {"назвние", "название", 1},
	}
	for _, tt := range tests {
		if got := EditDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// BenchmarkColumnHintLongHeader suggests a column among a 64 MB header name (4.7 GB when
// the distance built a full matrix).
func BenchmarkColumnHintLongHeader(b *testing.B) {
	header := []string{"Amount", strings.Repeat("x", 64<<20), "Stage"}
	b.ReportAllocs()
	for b.Loop() {
		if h := columnHint("Titel", header); h != "" {
			b.Fatalf("hint %q", h)
		}
	}
}
