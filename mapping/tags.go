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
		if !containsFold(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// WithTags returns tags with extra added, each once ignoring case, tags first: the tags a
// run gives every deal it writes (--tag) joined to a row's own. Neither list is modified.
func WithTags(tags, extra []string) []string {
	if len(extra) == 0 {
		return tags
	}
	out := append(make([]string, 0, len(tags)+len(extra)), tags...)
	for _, t := range extra {
		if t = strings.TrimSpace(t); t != "" && !containsFold(out, t) {
			out = append(out, t)
		}
	}
	return out
}
