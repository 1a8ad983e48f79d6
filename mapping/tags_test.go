package mapping

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestApplyTagsAndCreated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rules string // top-level rules after fields:
		opts  BindOptions
		v, w  string
		want  Record
		errs  []string
	}{
		{name: "tags split and trimmed", rules: "tags: { column: V, split: \",\" }\n", v: " vip, Q3 ,,migrated ",
			want: rec(func(r *Record) { r.Tags = []string{"vip", "Q3", "migrated"} })},
		{name: "tags once ignoring case", rules: "tags: { column: V, split: \";\" }\n", v: "VIP;vip;Vip;q3",
			want: rec(func(r *Record) { r.Tags = []string{"VIP", "q3"} })},
		{name: "one tag without split", rules: "tags: { column: V }\n", v: "a, b",
			want: rec(func(r *Record) { r.Tags = []string{"a, b"} })},
		{name: "tags mapped", rules: "tags: { column: V, split: \",\", map: { H: Hot, C: Cold, X: \"\" } }\n", v: "h,X,c",
			want: rec(func(r *Record) { r.Tags = []string{"Hot", "Cold"} })},
		{name: "tag not in map", rules: "tags: { column: V, split: \",\", map: { H: Hot } }\n", v: "h,z",
			errs: []string{`column "V" (tags): "h,z" has "z", which is not listed in map (allowed: "H")`}},
		{name: "tags default", rules: "tags: { column: V, split: \",\", default: \"imported\" }\n", v: " ",
			want: rec(func(r *Record) { r.Tags = []string{"imported"} })},
		{name: "tags value", rules: "tags: { value: \"legacy, crm\", split: \",\" }\n",
			want: rec(func(r *Record) { r.Tags = []string{"legacy", "crm"} })},
		{name: "tags template", rules: "tags: { template: \"src-{V}\" }\n", v: "web",
			want: rec(func(r *Record) { r.Tags = []string{"src-web"} })},
		{name: "tags empty", rules: "tags: { column: V, split: \",\" }\n", v: " , ", want: rec(nil)},
		{name: "tag with an emoji", rules: "tags: { column: V, split: \",\" }\n", v: "ok,🔥",
			errs: []string{`column "V" (tags): "ok,🔥" has "🔥", which contains '🔥' (U+1F525), which needs 4 bytes in UTF-8 (the portal stores 3-byte UTF-8 only)`}},
		{name: "tag too long", rules: "tags: { column: V }\n", v: strings.Repeat("t", 256),
			errs: []string{`column "V" (tags): "` + strings.Repeat("t", 80) + `…" has a tag of 256 characters (the portal keeps 255)`}},
		{name: "created date", rules: "created: { column: V, format: DD.MM.YYYY }\n", v: "03.02.2019",
			want: rec(func(r *Record) { r.Created = "2019-02-03" })},
		{name: "created date-time in the mapping's zone", rules: "timezone: Europe/Berlin\ncreated: { column: V, format: \"DD.MM.YYYY HH:mm\" }\n", v: "03.07.2019 14:30",
			want: rec(func(r *Record) { r.Created = "2019-07-03T12:30:00Z" })},
		{name: "created from an XLSX date cell", rules: "created: { column: V }\n", opts: BindOptions{SerialDates: true}, v: "43499",
			want: rec(func(r *Record) { r.Created = "2019-02-03" })},
		{name: "created not a date", rules: "created: { column: V, format: DD.MM.YYYY }\n", v: "31.02.2019",
			errs: []string{`column "V" (created): "31.02.2019" is not a date (want DD.MM.YYYY)`}},
		{name: "created empty is left out", rules: "created: { column: V }\n", v: "", want: rec(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := plan(t, tt.rules, tt.opts)
			got, errs := applied(t, p, []string{" deal ", owner, tt.v, tt.w})
			var texts []string
			for _, e := range errs {
				texts = append(texts, e.Error())
			}
			if diff := cmp.Diff(tt.errs, texts); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
			if tt.errs == nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("record (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestLoadTagsAndCreatedErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, extra string
		want        []string
	}{
		{"tags lookup", "tags: { column: V, lookup: user }\n",
			[]string{`m.yaml:7: unknown key "lookup" in tags; allowed: column, value, template, default, map, split`}},
		{"tags format", "tags: { column: V, format: DD.MM.YYYY }\n",
			[]string{`m.yaml:7: unknown key "format" in tags; allowed: column, value, template, default, map, split`}},
		{"created split", "created: { column: V, split: \",\" }\n",
			[]string{`m.yaml:7: unknown key "split" in created; allowed: column, value, template, default, map, format`}},
		{"created without source", "created: { format: DD.MM.YYYY }\n",
			[]string{`m.yaml:7: created has no source: give column:, value: or template:`}},
		{"created bad constant", "created: { value: \"yesterday\" }\n",
			[]string{`m.yaml:7: created: value "yesterday" is not a date (want YYYY-MM-DD or YYYY-MM-DDTHH:mm:ss)`}},
		{"tags not a rule", "tags: [a, b]\n",
			[]string{`m.yaml:7: tags: want a rule such as { column: "Deal Name" }, not a list`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(base+tt.extra), "m.yaml")
			var got []string
			if errs, ok := err.(*Errors); ok {
				for _, e := range *errs {
					got = append(got, e.Error())
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWithTags(t *testing.T) {
	t.Parallel()
	row := []string{"vip", "Q3"}
	got := WithTags(row, []string{" migration-2026 ", "VIP", ""})
	if diff := cmp.Diff([]string{"vip", "Q3", "migration-2026"}, got); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"vip", "Q3"}, row); diff != "" {
		t.Errorf("the row's tags were changed (-want +got):\n%s", diff)
	}
}

// Tags compare as the portal compares them, ignoring case and the spaces around them.
func TestWithoutTags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b, want []string
	}{
		{a: []string{"vip", "Q3"}, b: nil, want: []string{"vip", "Q3"}},
		{a: []string{"vip", "Q3"}, b: []string{" VIP "}, want: []string{"Q3"}},
		{a: []string{" q3", "vip"}, b: []string{"Q3", "Vip"}, want: nil},
		{a: nil, b: []string{"vip"}, want: nil},
	}
	for _, tt := range tests {
		got := WithoutTags(tt.a, tt.b)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("WithoutTags(%q, %q) (-want +got):\n%s", tt.a, tt.b, diff)
		}
		for _, tag := range tt.a {
			if has := HasTag(tt.b, tag); has == slices.Contains(got, tag) {
				t.Errorf("HasTag(%q, %q) = %v, but WithoutTags kept it: %v", tt.b, tag, has, got)
			}
		}
	}
	if got, want := QuoteTags([]string{"vip", `a "b"`}), `"vip", "a \"b\""`; got != want {
		t.Errorf("QuoteTags: got %s, want %s", got, want)
	}
}

// A mapping without tags: and created: hashes its records as before them.
func TestRecordJSONWithoutTags(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(rec(nil))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "Tags") || strings.Contains(string(b), "Created") {
		t.Errorf("record JSON %s names Tags or Created, want neither when empty", b)
	}
}
