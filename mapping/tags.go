package mapping

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The two rules beside fields: that are no API field of the create: tags: (the deal's tags,
// added after the create) and created: (its legacy creation date, set after the create).
// They take the keys every field has, and are read as fields are.
const (
	fTags fieldID = 1000 + iota
	fCreated
)

var extraFields = map[fieldID]fieldInfo{
	fTags:    {name: "tags", kind: kText, list: true},
	fCreated: {name: "created", kind: kDate},
}

var (
	tagKeys     = []string{"column", "value", "template", "default", "map", "split"}
	createdKeys = []string{"column", "value", "template", "default", "map", "format"}
)

// fieldOf is the description of an API field or of tags: and created:.
func fieldOf(fid fieldID) fieldInfo {
	if info, ok := extraFields[fid]; ok {
		return info
	}
	return fields[fid]
}

// keysOf is the keys a rule of fid may have.
func keysOf(fid fieldID) []string {
	switch fid {
	case fTags:
		return tagKeys
	case fCreated:
		return createdKeys
	}
	return ruleKeys
}

// extras reads the top-level tags: and created: rules.
func (l *loader) extras(top map[string]*yaml.Node, m *Mapping, tz *time.Location) {
	if v := top["tags"]; v != nil {
		if r, ok := l.rule(v, fTags, "tags", tz); ok {
			m.Tags = &r
		}
	}
	if v := top["created"]; v != nil {
		if r, ok := l.rule(v, fCreated, "created", tz); ok {
			m.Created = &r
		}
	}
}

// extraRules are the mapping's tags: and created: rules, to bind with the fields.
func (m *Mapping) extraRules() []Rule {
	var out []Rule
	for _, r := range []*Rule{m.Tags, m.Created} {
		if r != nil {
			out = append(out, *r)
		}
	}
	return out
}

// maxTag is the length of a tag's title on the portal (crm_tag.title, varchar(255)).
const maxTag = 255

// tagReason says why the portal could not keep tag t as written: "" when it can.
func tagReason(t string) string {
	if n := utf8.RuneCountInString(t); n > maxTag {
		return "has a tag of " + strconv.Itoa(n) + " characters (the portal keeps 255)"
	}
	return ""
}

// tags puts a row's tags in rec: each once, ignoring case as the portal compares them, in
// the order the row gives them.
func tags(list []string) []string {
	out := make([]string, 0, len(list))
	for _, t := range list {
		if !HasTag(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// HasTag says whether tags holds tag as the portal compares tags: ignoring case and the
// spaces around them.
func HasTag(tags []string, tag string) bool {
	tag = strings.TrimSpace(tag)
	for _, t := range tags {
		if strings.EqualFold(strings.TrimSpace(t), tag) {
			return true
		}
	}
	return false
}

// WithoutTags returns the tags of a that b lacks (HasTag), in a's order; nil for none.
func WithoutTags(a, b []string) []string {
	var out []string
	for _, t := range a {
		if !HasTag(b, t) {
			out = append(out, t)
		}
	}
	return out
}

// QuoteTags words tags for a message: "a", "b".
func QuoteTags(tags []string) string {
	q := make([]string, len(tags))
	for i, t := range tags {
		q[i] = strconv.Quote(t)
	}
	return strings.Join(q, ", ")
}

// WithTags returns tags with extra added, each once ignoring case, tags first: the tags a
// run gives every deal it writes (--tag) joined to a row's own. Neither list is modified.
func WithTags(tags, extra []string) []string {
	if len(extra) == 0 {
		return tags
	}
	out := append(make([]string, 0, len(tags)+len(extra)), tags...)
	for _, t := range extra {
		if t = strings.TrimSpace(t); t != "" && !HasTag(out, t) {
			out = append(out, t)
		}
	}
	return out
}
