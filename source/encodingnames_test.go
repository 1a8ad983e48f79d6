package source

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The names a mapping's input.encoding gives Latin-1 and its kin, as users write them,
// each read as that encoding: "Zoë Müller Straße" in one byte a letter.
func TestEncodingNames(t *testing.T) {
	t.Parallel()
	const data = "Title;Owner\nZo\xeb M\xfcller Stra\xdfe;anna\n"
	for _, name := range []string{"latin1", "iso-8859-1", "ISO-8859-1", "iso-8859-15", "windows-1252", "cp1252"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, err := Open(writeFile(t, "in.csv", []byte(data)), Options{Encoding: name})
			if err != nil {
				t.Fatalf("Open with encoding %q: %v", name, err)
			}
			defer r.Close()
			want := []got{{2, []string{"Zoë Müller Straße", "anna"}, ""}}
			if diff := cmp.Diff(want, readAll(t, r)); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}
