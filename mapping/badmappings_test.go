package mapping

import (
	"path/filepath"
	"strings"
	"testing"
)

// The mapping mistakes of the root's testdata/bad/ (the files the root's TestBadInput runs
// validate and import on, which keeps a syntax and a column mistake as the commands meet
// them): Load names the file and the line of each mistake, says what is wrong, and
// suggests the name meant.
func TestLoadBadMappings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []string // "$MAPPING" stands for the file's path
	}{
		{"mapping_bad_yaml.yaml", []string{"$MAPPING:3: YAML syntax: did not find expected ',' or '}'"}},
		{"mapping_tabs.yaml", []string{"$MAPPING:3: a tab in the indentation: YAML indents with spaces only"}},
		{"mapping_unknown_keys.yaml", []string{`$MAPPING:3: unknown key "sheat" in input (did you mean "sheet"?)`,
			`$MAPPING:5: unknown key "colum" in title (did you mean "column"?)`, `$MAPPING:9: unknown key "extra"`}},
		{"mapping_unknown_fields.yaml", []string{`$MAPPING:7: unknown field "bidvalue" (did you mean "bidValue"?)`, `$MAPPING:8: unknown field "probability"`}},
		{"mapping_wrong_types.yaml", []string{`$MAPPING:1: version: "one" is not a whole number`, `$MAPPING:3: input.header_row: "first" is not a whole number`,
			`$MAPPING:4: key: want a column name or a list of them`, `$MAPPING:6: fields.title: want a rule`,
			`$MAPPING:8: stageid: value "one" is not a whole number`, `$MAPPING:9: bidCurrencyAbbr: value "EURO" is not a currency code`,
			`$MAPPING:10: bidValue: decimal: ";" is not a decimal separator`}},
		{"mapping_two_sources.yaml", []string{"$MAPPING:3: title has 2 sources"}},
		{"mapping_repeated_field.yaml", []string{"$MAPPING:7: fields.title: repeated (first at line 3)"}},
		{"mapping_empty.yaml", []string{`$MAPPING:1: the mapping is empty`}},
		{"mapping_not_yaml_keys.yaml", []string{`$MAPPING:1: the mapping must be a set of keys`}},
	}
	for _, tt := range tests {
		path := filepath.Join("..", "testdata", "bad", tt.file)
		_, err := Load(path)
		if err == nil {
			t.Errorf("%s: Load succeeded, want the mistakes named", tt.file)
			continue
		}
		for _, w := range tt.want {
			if w = strings.ReplaceAll(w, "$MAPPING", path); !strings.Contains(err.Error(), w) {
				t.Errorf("%s: the error lacks %q:\n%v", tt.file, w, err)
			}
		}
	}
}
