package mapping

import "testing"

// input.encoding takes the names users write for Latin-1 and its kin (source's
// TestEncodingNames reads each), and keeps the name as written for source to resolve.
func TestEncodingNames(t *testing.T) {
	t.Parallel()
	const fields = "fields:\n  title: { column: Title }\n  responsibleid: { column: Owner }\n  stageid: { value: 1 }\n  bidCurrencyAbbr: { value: EUR }\n"
	for _, name := range []string{"latin1", "iso-8859-1", "ISO-8859-1", "iso-8859-15", "windows-1252", "cp1252"} {
		m, err := Parse([]byte("version: 1\ninput: { encoding: "+name+" }\n"+fields), "m.yaml")
		if err != nil {
			t.Errorf("encoding %q: %v", name, err)
			continue
		}
		if m.Input.Encoding != name {
			t.Errorf("encoding %q: the mapping keeps %q", name, m.Input.Encoding)
		}
	}
}
