package mapping

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeResolver answers from a table keyed by kind and lower-cased name, and counts calls.
type fakeResolver struct {
	mu    sync.Mutex
	calls map[string]int
}

var fakeTable = map[string]string{
	"user/anna":          owner,
	"user/anna@x.org":    owner,
	"user/bob":           "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
	"stage/won":          "8",
	"stage/proposal":     "6",
	"contact/acme":       "1",
	"contact/initech":    "3",
	"customfield/region": "11",
	"customfield/source": "12",
}

func (f *fakeResolver) Resolve(kind, name string) (string, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[kind+"/"+strings.ToLower(name)]++
	f.mu.Unlock()
	switch strings.ToLower(name) {
	case "john smith":
		return "", &LookupError{Kind: kind, Name: name, Ambiguous: true,
			Candidates: []string{`"John Smith" <john.smith@example.com>`, `"John Smith" <j.smith@example.org>`}}
	case "down":
		return "", errors.New("portal unreachable")
	}
	if id, ok := fakeTable[kind+"/"+strings.ToLower(name)]; ok {
		return id, nil
	}
	return "", &LookupError{Kind: kind, Name: name, Candidates: []string{`"Won"`, `"Proposal"`}}
}

func TestLookups(t *testing.T) {
	const bob = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	tests := []struct {
		name  string
		rules string
		v, w  string
		want  Record
		errs  []string
	}{
		{name: "user by name", rules: "  responsibleid: { column: V, lookup: user }\n", v: "Anna",
			want: rec(nil)},
		{name: "user by GUID is taken as it is", rules: "  responsibleid: { column: V, lookup: user }\n", v: bob,
			want: rec(func(r *Record) { r.ResponsibleID = bob })},
		{name: "user ambiguous", rules: "  responsibleid: { column: V, lookup: user }\n", v: "John Smith",
			errs: []string{`column "V" (responsibleid): "John Smith" matches 2 users: "John Smith" <john.smith@example.com>, "John Smith" <j.smith@example.org>; give one of them by a unique name or e-mail`}},
		{name: "user missing", rules: "  responsibleid: { column: V, lookup: user }\n", v: "Nobody",
			errs: []string{`column "V" (responsibleid): "Nobody" matches no user on the portal (it has "Won", "Proposal")`}},
		{name: "portal down", rules: "  responsibleid: { column: V, lookup: user }\n", v: "down",
			errs: []string{`column "V" (responsibleid): "down" could not be looked up: portal unreachable`}},
		{name: "access list of names", rules: "  accessList: { column: V, split: \";\", lookup: user }\n", v: "anna; Bob",
			want: rec(func(r *Record) { r.AccessList = []string{owner, bob} })},
		{name: "access list with an ambiguous name", rules: "  accessList: { column: V, split: \";\", lookup: user }\n", v: "anna;John Smith",
			errs: []string{`column "V" (accessList): "anna;John Smith" has "John Smith", which matches 2 users: "John Smith" <john.smith@example.com>, "John Smith" <j.smith@example.org>; give one of them by a unique name or e-mail`}},
		{name: "stage by title", rules: "  stageid: { column: V, lookup: stage }\n", v: "WON",
			want: rec(func(r *Record) { r.StageID = 8 })},
		{name: "stage through a map", rules: "  stageid: { column: V, lookup: stage, map: { Closed Won: Won } }\n", v: "closed won",
			want: rec(func(r *Record) { r.StageID = 8 })},
		{name: "stage by id", rules: "  stageid: { column: V, lookup: stage }\n", v: "3",
			want: rec(func(r *Record) { r.StageID = 3 })},
		{name: "stage constant", rules: "  stageid: { value: Proposal, lookup: stage }\n",
			want: rec(func(r *Record) { r.StageID = 6 })},
		{name: "stage default", rules: "  stageid: { column: V, default: Proposal, lookup: stage }\n",
			want: rec(func(r *Record) { r.StageID = 6 })},
		{name: "contact", rules: "  contactid: { column: V, lookup: contact }\n", v: "Acme",
			want: rec(func(r *Record) { r.ContactID = 1 })},
		{name: "members", rules: "  members: { column: V, split: \",\", lookup: contact }\n", v: "Acme, Initech",
			want: rec(func(r *Record) { r.Members = []int64{1, 3} })},
		{name: "custom field by label", rules: "custom_fields:\n  - { label: Region, column: V }\n", v: "North",
			want: rec(func(r *Record) { r.CustomFields = []CustomValue{{11, "North"}} })},
		{name: "custom field by label, error names the id", rules: "custom_fields:\n  - { label: Source, column: V, map: { W: Web } }\n", v: "X",
			errs: []string{`column "V" (customField:12): "X" is not listed in map (allowed: "W")`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan(t, tt.rules, BindOptions{Resolver: &fakeResolver{}})
			got, errs := applied(t, p, []string{"deal", owner, tt.v, tt.w})
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

// The base's responsibleid reads column R by GUID; these mappings look it up.
const lookupBase = `version: 1
fields:
  title:           { column: T }
  responsibleid:   { column: R, lookup: user }
  stageid:         { column: S, lookup: stage }
  bidCurrencyAbbr: { value: EUR }
`

func TestLookupCache(t *testing.T) {
	m, err := Parse([]byte(lookupBase), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res := &fakeResolver{}
	p, err := m.Bind([]string{"T", "R", "S"}, BindOptions{Resolver: res})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := []string{"anna", "ANNA", "Bob", "John Smith"}[i%4]
			p.Apply([]string{"deal", name, "won"})
		}()
	}
	wg.Wait()
	want := map[string]int{"user/anna": 1, "user/bob": 1, "user/john smith": 1, "stage/won": 1}
	if diff := cmp.Diff(want, res.calls); diff != "" {
		t.Errorf("resolver calls (-want +got):\n%s", diff)
	}
	if got := p.Unchecked(); got != nil {
		t.Errorf("Unchecked() = %q, want none with a resolver", got)
	}
}

func TestLookupWithoutResolver(t *testing.T) {
	m, err := Parse([]byte(lookupBase+"custom_fields:\n  - { label: Region, column: T }\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Bind([]string{"T", "R", "S"}, BindOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Names count as present and valid; an empty required one is still missing.
	if _, errs := p.Apply([]string{"deal", "Anyone", "Some stage"}); errs != nil {
		t.Errorf("names without a resolver: errors %v, want none", errs)
	}
	_, errs := p.Apply([]string{"deal", "", "x"})
	if len(errs) != 1 || errs[0].Error() != `column "R" (responsibleid): is required` {
		t.Errorf("empty owner: errors %v, want it required", errs)
	}
	want := []string{
		`column "R" (responsibleid): lookup: user`,
		`column "S" (stageid): lookup: stage`,
		`column "T" (custom field "Region"): the field's id is found by its label`,
	}
	if diff := cmp.Diff(want, p.Unchecked()); diff != "" {
		t.Errorf("Unchecked (-want +got):\n%s", diff)
	}
}

func TestLookupBindErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"constant matches nothing", strings.Replace(lookupBase, "{ column: S, lookup: stage }", "{ value: Lost, lookup: stage }", 1),
			[]string{`m.yaml:5: stageid: value "Lost" matches no stage on the portal (it has "Won", "Proposal")`}},
		{"label matches nothing", lookupBase + "custom_fields:\n  - { label: Budget, column: T }\n",
			[]string{`m.yaml:8: custom field "Budget": label: "Budget" matches no customfield on the portal (it has "Won", "Proposal")`}},
		{"label and id are one field", lookupBase + "custom_fields:\n  - { id: 11, column: T }\n  - { label: Region, column: T }\n",
			[]string{`m.yaml:9: custom field "Region" is custom field 11, which is mapped twice (first at line 8)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.yaml), "m.yaml")
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.Bind([]string{"T", "R", "S"}, BindOptions{Resolver: &fakeResolver{}})
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if diff := cmp.Diff(tt.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
