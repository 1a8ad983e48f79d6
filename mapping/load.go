package mapping

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

// loader walks the YAML tree itself, so that every problem is found in one pass, each with
// its line.
type loader struct {
	file   string
	errs   Errors
	months *monthTable // the locale's month names, read by date patterns; nil = English only
}

func (l *loader) errf(line int, format string, a ...any) {
	if line < 1 {
		line = 1
	}
	l.errs = append(l.errs, Error{File: l.file, Line: line, Msg: fmt.Sprintf(format, a...)})
}

var (
	topKeys    = []string{"version", "input", "key", "key_field", "timezone", "locale", "fields", "custom_fields", "tags", "created"}
	inputKeys  = []string{"sheet", "header_row", "delimiter", "encoding"}
	ruleKeys   = []string{"column", "value", "template", "default", "map", "format", "decimal", "split", "lookup", "percent"}
	customKeys = []string{"id", "label", "column", "value", "template", "default", "map", "format", "decimal", "split"}
)

// lookupFields says which fields each lookup: kind applies to.
var lookupFields = map[string][]fieldID{
	LookupUser:    {fResponsibleID, fAccessList},
	LookupStage:   {fStageID},
	LookupContact: {fContactID, fMembers},
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserErrors are the problems yaml.v3's parser (not its scanner) reports.
var parserErrors = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found undefined tag handle":             true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
}

func (l *loader) load(data []byte) *Mapping {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		l.syntax(data, err)
		return nil
	}
	if len(doc.Content) == 0 {
		l.errf(1, "the mapping is empty: it needs at least \"version: 1\" and \"fields:\"")
		return nil
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		l.errf(root.Line, "the mapping must be a set of keys (%s), not %s", strings.Join(topKeys, ", "), describe(root))
		return nil
	}
	m := &Mapping{Timezone: time.UTC}
	top := map[string]*yaml.Node{}
	topLine := map[string]int{}
	l.pairs(root, "", topKeys, func(key string, k, v *yaml.Node) {
		top[key], topLine[key] = v, k.Line
	})

	if v := top["version"]; v == nil {
		l.errf(1, "version: is missing; the file must start with \"version: 1\"")
	} else if n, ok := l.integer(v, "version"); ok {
		if n != 1 {
			l.errf(v.Line, "version: %d is not supported; this oppimport reads version: 1", n)
		}
		m.Version = n
	}
	if v := top["input"]; v != nil {
		l.input(v, &m.Input)
	}
	if v := top["key"]; v != nil {
		l.key(v, m)
	}
	if v := top["key_field"]; v != nil {
		if s, ok := l.nonEmpty(v, "key_field"); ok {
			m.KeyField, m.keyFieldLine = s, v.Line
			if top["key"] == nil {
				l.errf(v.Line, "key_field: %q holds the row's key, but the mapping has no key: name the columns that identify a row, such as key: [\"Deal ID\"]", s)
			}
		}
	}
	if v := top["timezone"]; v != nil {
		if name, ok := l.str(v, "timezone"); ok {
			loc, err := time.LoadLocation(name)
			if err != nil || name == "" || name == "Local" {
				l.errf(v.Line, "timezone: unknown time zone %q; want an IANA name such as Europe/Berlin or UTC", name)
			} else {
				m.Timezone = loc
			}
		}
	}
	if v := top["locale"]; v != nil {
		if name, ok := l.nonEmpty(v, "locale"); ok {
			if mt := monthTableFor(name); mt == nil {
				l.errf(v.Line, "locale: %q has no month names here; want one of %s (English month names are always read)", name, strings.Join(localeNames(), ", "))
			} else {
				m.Locale, l.months = strings.ToLower(name), mt
			}
		}
	}
	mapped := map[fieldID]bool{}
	if v := top["fields"]; v != nil {
		if v.Kind != yaml.MappingNode {
			for i := range fields {
				mapped[fieldID(i)] = true // one message is enough
			}
			l.errf(v.Line, "fields: want API field names with their rules, such as title: { column: \"Deal Name\" }, not %s", describe(v))
		} else {
			l.pairs(v, "fields.", nil, func(name string, k, v *yaml.Node) {
				fid, ok := fieldByName(name)
				if !ok {
					suggested := closest(name, FieldNames())
					l.errf(k.Line, "unknown field %q%s", name, hint(name, FieldNames()))
					if fid, ok := fieldByName(suggested); ok {
						mapped[fid] = true // no second message saying it is not mapped
					}
					if v.Kind == yaml.MappingNode {
						l.pairs(v, name+": ", ruleKeys, func(string, *yaml.Node, *yaml.Node) {})
					}
					return
				}
				mapped[fid] = true
				if r, ok := l.rule(v, fid, "fields."+name, m.Timezone); ok {
					m.Fields = append(m.Fields, r)
				}
			})
		}
	}
	var missing []string
	for i, f := range fields {
		if f.required && !mapped[fieldID(i)] {
			missing = append(missing, f.name)
		}
	}
	for _, name := range missing {
		line := topLine["fields"]
		if line == 0 {
			line = 1
		}
		l.errf(line, "required field %q is not mapped (the portal refuses an opportunity without title, responsibleid, stageid and bidCurrencyAbbr)", name)
	}
	if v := top["custom_fields"]; v != nil {
		l.customFields(v, m)
	}
	l.extras(top, m, m.Timezone)
	return m
}

// syntax reports a YAML syntax error with its line, and every tab used for indentation,
// the usual cause.
func (l *loader) syntax(data []byte, err error) {
	line, msg := 0, strings.TrimPrefix(err.Error(), "yaml: ")
	if s := yamlLine.FindStringSubmatch(err.Error()); s != nil {
		line, _ = strconv.Atoi(s[1])
		msg = s[2]
	}
	// yaml.v3 numbers a parser error's line from 0 (a scanner error's from 1) and leaves
	// line 0 out.
	if parserErrors[msg] || line == 0 {
		line++
	}
	if parserErrors[msg] {
		// And it names the line where the enclosing block began, often far above the
		// mistake: find the first line at which the text stops parsing for that reason.
		// The lines before the mistake parse and every longer text fails, so a binary
		// search finds it in a logarithmic number of parses (trying each line in turn
		// took 75 s on a 10,000-entry map).
		ends := []int{} // the offset after each line
		for i, c := range data {
			if c == '\n' {
				ends = append(ends, i+1)
			}
		}
		if len(ends) == 0 || ends[len(ends)-1] != len(data) {
			ends = append(ends, len(data))
		}
		fails := func(n int) bool {
			var node yaml.Node
			err := yaml.Unmarshal(data[:ends[n-1]], &node)
			return err != nil && strings.HasSuffix(err.Error(), msg)
		}
		if lo, hi := max(line, 1), len(ends); lo <= hi {
			for lo < hi {
				mid := lo + (hi-lo)/2
				if fails(mid) {
					hi = mid
				} else {
					lo = mid + 1
				}
			}
			line = lo
		}
	}
	tabs := map[int]bool{}
	for i, text := range bytes.Split(data, []byte("\n")) {
		indent := text[:len(text)-len(bytes.TrimLeft(text, " \t"))]
		if bytes.IndexByte(indent, '\t') >= 0 {
			tabs[i+1] = true
			l.errf(i+1, "a tab in the indentation: YAML indents with spaces only")
		}
	}
	if !tabs[line] {
		l.errf(line, "YAML syntax: %s", msg)
	}
}

// pairs calls fn for each key of a mapping node, reporting keys that are not scalars,
// repeated keys, and keys not in allowed (when allowed is not nil).
func (l *loader) pairs(n *yaml.Node, where string, allowed []string, fn func(key string, k, v *yaml.Node)) {
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			l.errf(k.Line, "%skeys must be names, not %s", where, describe(k))
			continue
		}
		key := k.Value
		if line, ok := first[key]; ok {
			l.errf(k.Line, "%s%s: repeated (first at line %d)", where, key, line)
			continue
		}
		first[key] = k.Line
		if allowed != nil && !contains(allowed, key) {
			if key == "lookup" && contains(allowed, "label") {
				l.errf(k.Line, "%slookup: does not apply to custom fields; name the field with label: instead of id:", where)
				continue
			}
			in := ""
			if where != "" {
				in = " in " + strings.TrimRight(where, ".: ")
			}
			l.errf(k.Line, "unknown key %q%s%s; allowed: %s", key, in, hint(key, allowed), strings.Join(allowed, ", "))
			continue
		}
		fn(key, k, v)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// describe names a node's type for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a set of keys"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "this"
}

// scalar returns a scalar's text as written: "value: 1.50" keeps "1.50".
func (l *loader) scalar(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.errf(n.Line, "%s: want a single value, not %s", what, describe(n))
		return "", false
	}
	return n.Value, true
}

func (l *loader) str(n *yaml.Node, what string) (string, bool) {
	return l.scalar(n, what)
}

func (l *loader) nonEmpty(n *yaml.Node, what string) (string, bool) {
	s, ok := l.scalar(n, what)
	if ok && strings.TrimSpace(s) == "" {
		l.errf(n.Line, "%s: is empty", what)
		return "", false
	}
	return s, ok
}

func (l *loader) integer(n *yaml.Node, what string) (int, bool) {
	s, ok := l.scalar(n, what)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		l.errf(n.Line, "%s: %q is not a whole number", what, s)
		return 0, false
	}
	return i, true
}

func (l *loader) input(n *yaml.Node, in *Input) {
	if n.Kind != yaml.MappingNode {
		l.errf(n.Line, "input: want keys (%s), not %s", strings.Join(inputKeys, ", "), describe(n))
		return
	}
	l.pairs(n, "input.", inputKeys, func(key string, k, v *yaml.Node) {
		what := "input." + key
		switch key {
		case "sheet":
			in.Sheet, _ = l.nonEmpty(v, what)
		case "header_row":
			if i, ok := l.integer(v, what); ok {
				if i < 1 {
					l.errf(v.Line, "%s: %d is not a row number (rows start at 1)", what, i)
				} else {
					in.HeaderRow = i
				}
			}
		case "delimiter":
			s, ok := l.str(v, what)
			if !ok {
				return
			}
			switch strings.ToLower(s) {
			case `\t`, "tab", "\t":
				in.Delimiter = '\t'
				return
			}
			r, size := utf8.DecodeRuneInString(s)
			if size != len(s) || s == "" || r == '"' || r == '\n' || r == '\r' || r == utf8.RuneError {
				l.errf(v.Line, "%s: %q is not one character; want one such as \";\", \",\", \"|\" or \"\\t\" (tab)", what, s)
				return
			}
			in.Delimiter = r
		case "encoding":
			s, ok := l.nonEmpty(v, what)
			if ok && !knownEncoding(s) {
				l.errf(v.Line, "%s: unknown encoding %q; want a name such as windows-1252, iso-8859-15 or utf-16le", what, s)
				return
			}
			in.Encoding = s
		}
	})
}

// knownEncoding follows the names the source package accepts.
func knownEncoding(name string) bool {
	if e, err := ianaindex.IANA.Encoding(name); err == nil && e != nil {
		return true
	}
	if e, err := htmlindex.Get(name); err == nil && e != nil {
		return true
	}
	for _, c := range charmap.All {
		if s, ok := c.(fmt.Stringer); ok && strings.EqualFold(s.String(), name) {
			return true
		}
	}
	return false
}

func (l *loader) key(n *yaml.Node, m *Mapping) {
	switch n.Kind {
	case yaml.ScalarNode:
		if s, ok := l.nonEmpty(n, "key"); ok {
			m.Key, m.keyLines = []string{s}, []int{n.Line}
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			item = resolve(item)
			if s, ok := l.nonEmpty(item, "key"); ok {
				if contains(m.Key, s) {
					l.errf(item.Line, "key: column %q is listed twice", s)
					continue
				}
				m.Key = append(m.Key, s)
				m.keyLines = append(m.keyLines, item.Line)
			}
		}
	default:
		l.errf(n.Line, "key: want a column name or a list of them, not %s", describe(n))
	}
}

func (l *loader) customFields(n *yaml.Node, m *Mapping) {
	if n.Kind != yaml.SequenceNode {
		l.errf(n.Line, "custom_fields: want a list such as - { id: 14, column: \"Region\" }, not %s", describe(n))
		return
	}
	ids := map[int64]int{}
	labels := map[string]int{}
	for _, item := range n.Content {
		item = resolve(item)
		if r, ok := l.rule(item, fCustom, "custom_fields", m.Timezone); ok {
			if r.Label != "" {
				folded := strings.ToLower(r.Label)
				if line, dup := labels[folded]; dup {
					l.errf(r.Line, "custom field %q is mapped twice (first at line %d)", r.Label, line)
					continue
				}
				labels[folded] = r.Line
			} else {
				if line, dup := ids[r.ID]; dup {
					l.errf(r.Line, "custom field %d is mapped twice (first at line %d)", r.ID, line)
					continue
				}
				ids[r.ID] = r.Line
			}
			m.CustomFields = append(m.CustomFields, r)
		}
	}
}

// rule reads one field's rule; ok is false when it has errors (already reported).
func (l *loader) rule(n *yaml.Node, fid fieldID, where string, tz *time.Location) (r Rule, ok bool) {
	before := len(l.errs)
	r = Rule{fid: fid, Line: n.Line, Decimal: '.', lines: map[string]int{}}
	info := fieldInfo{kind: kCustom}
	allowed := customKeys
	if fid != fCustom {
		info = fieldOf(fid)
		r.Field = info.name
		allowed = keysOf(fid)
	}
	if n.Kind != yaml.MappingNode {
		l.errf(n.Line, "%s: want a rule such as { column: \"Deal Name\" }, not %s", where, describe(n))
		return r, false
	}
	// name is how messages call the field: "title", or "custom field 14" (the id may come
	// after the other keys).
	name := r.Field
	if fid == fCustom {
		name = "custom field"
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch n.Content[i].Value {
			case "id":
				name = "custom field " + n.Content[i+1].Value
			case "label":
				name = "custom field " + strconv.Quote(n.Content[i+1].Value)
			}
		}
	}
	var mapNode *yaml.Node
	hasID := false
	l.pairs(n, name+": ", allowed, func(key string, k, v *yaml.Node) {
		what := name + ": " + key
		r.lines[key] = v.Line
		switch key {
		case "id":
			if i, ok := l.integer(v, what); ok {
				if i <= 0 {
					l.errf(v.Line, "%s: %d is not a custom field id (ids are positive)", what, i)
				}
				r.ID, hasID = int64(i), true
			}
		case "label":
			r.Label, _ = l.nonEmpty(v, what)
		case "lookup":
			s, ok := l.nonEmpty(v, what)
			if !ok {
				return
			}
			applies, known := lookupFields[s]
			switch {
			case !known:
				l.errf(v.Line, "%s: %q is not a look-up; want user, stage or contact", what, s)
			case !slices.Contains(applies, fid):
				names := make([]string, len(applies))
				for i, f := range applies {
					names[i] = fields[f].name
				}
				l.errf(v.Line, "%s: %s applies to %s only", what, s, strings.Join(names, " and "))
			default:
				r.Lookup = s
			}
		case "percent":
			s, ok := l.nonEmpty(v, what)
			if !ok {
				return
			}
			if info.kind != kPercent {
				l.errf(v.Line, "%s: applies to successProbability only", what)
				return
			}
			switch s {
			case "fraction":
				r.conv.fraction = true
			case "whole":
			default:
				l.errf(v.Line, "%s: %q: want fraction (0.65 is 65%%, as percent-formatted Excel cells hold it) or whole (65 is 65%%)", what, s)
			}
		case "column":
			r.Column, _ = l.nonEmpty(v, what)
		case "value":
			if s, ok := l.scalar(v, what); ok {
				r.Value = &s
			}
		case "template":
			if s, ok := l.nonEmpty(v, what); ok {
				r.Template = s
				tmpl, err := compileTemplate(s)
				if err != nil {
					l.errf(v.Line, "%s: %v", what, err)
				}
				r.tmpl = tmpl
			}
		case "default":
			if s, ok := l.scalar(v, what); ok {
				r.Default = &s
			}
		case "map":
			if v.Kind != yaml.MappingNode {
				l.errf(v.Line, "%s: want pairs such as { Fixed: FixedBid }, not %s", what, describe(v))
				return
			}
			mapNode = v
		case "format":
			if info.kind != kDate && fid != fCustom {
				return // reported below
			}
			var pats []*yaml.Node
			switch v.Kind {
			case yaml.SequenceNode:
				pats = v.Content
			default:
				pats = []*yaml.Node{v}
			}
			for _, p := range pats {
				p = resolve(p)
				s, ok := l.nonEmpty(p, what)
				if !ok {
					continue
				}
				dp, err := compileDate(s)
				if err != nil {
					l.errf(p.Line, "%s: bad date pattern %q: %v", what, s, err)
					continue
				}
				r.Formats = append(r.Formats, s)
				r.conv.formats = append(r.conv.formats, dp)
			}
		case "decimal":
			if s, ok := l.scalar(v, what); ok {
				if s != "." && s != "," {
					l.errf(v.Line, "%s: %q is not a decimal separator; want \".\" or \",\"", what, s)
					return
				}
				r.Decimal = rune(s[0])
			}
		case "split":
			if s, ok := l.scalar(v, what); ok {
				if s == "" {
					l.errf(v.Line, "%s: is empty; want a separator such as \";\"", what)
					return
				}
				r.Split = s
			}
		}
	})
	if fid == fCustom {
		_, seenID := r.lines["id"]
		_, seenLabel := r.lines["label"]
		switch {
		case seenID && seenLabel:
			l.errf(n.Line, "%s: give id: or label:, not both", name)
		case !hasID && !seenID && !seenLabel:
			l.errf(n.Line, "custom field: id: is missing; give the custom field's number, such as id: 14, or its label:, such as label: \"Lead source\"")
		}
		r.Field = "customField:" + strconv.FormatInt(r.ID, 10)
		if r.Label != "" && !seenID {
			r.Field = "customField:" + r.Label
		}
	}

	// The sources.
	var sources []string
	for _, k := range []string{"column", "value", "template"} {
		if _, ok := r.lines[k]; ok {
			sources = append(sources, fmt.Sprintf("%s: at line %d", k, r.lines[k]))
		}
	}
	switch {
	case len(sources) == 0 && len(l.errs) == before:
		l.errf(n.Line, "%s has no source: give column:, value: or template:", name)
	case len(sources) > 1:
		l.errf(n.Line, "%s has %d sources (%s): give only one of column:, value: and template:", name, len(sources), strings.Join(sources, ", "))
	}
	if r.Value != nil && r.Default != nil {
		l.errf(r.lines["default"], "%s: default: is never used with value:, which is never empty", name)
	}

	// Keys that apply to some fields only. A custom field with format: is a date field: its
	// value is read as a date and sent as yyyy-MM-dd, as date custom fields hold them.
	if _, ok := r.lines["format"]; ok && fid == fCustom {
		info.kind = kDate
	}
	if _, ok := r.lines["format"]; ok && info.kind != kDate {
		l.errf(r.lines["format"], "%s: format: applies to date fields only (actualCloseDate, expectedCloseDate, and custom fields holding dates)", name)
	}
	if _, ok := r.lines["split"]; ok && !info.list {
		l.errf(r.lines["split"], "%s: split: applies to list fields only (members, accessList)", name)
	}
	if _, ok := r.lines["decimal"]; ok && info.kind != kMoney && info.kind != kPercent && info.kind != kCount {
		l.errf(r.lines["decimal"], "%s: decimal: applies to number fields only (bidValue, successProbability, perPeriodValue)", name)
	}

	r.conv.kind, r.conv.field, r.conv.list, r.conv.split = info.kind, fid, info.list, r.Split
	r.conv.decimal, r.conv.tz = byte(r.Decimal), tz
	r.conv.lookup, r.conv.months = r.Lookup, l.months
	r.conv.setReasons()

	// Constants are read now, so that a bad one is a mapping error with its line.
	if r.Value != nil {
		r.constVal = l.constant(&r.conv, "value", *r.Value, r.lines["value"], name)
	}
	if r.Default != nil {
		r.defVal = l.constant(&r.conv, "default", *r.Default, r.lines["default"], name)
	}
	if mapNode != nil {
		l.mapping(mapNode, &r, name)
	}
	return r, len(l.errs) == before
}

// constant reads a value: or default: now, so that a bad one is a mapping error with its
// line rather than an error on every row.
func (l *loader) constant(c *conv, key, s string, line int, name string) val {
	t := strings.TrimSpace(s)
	if t == "" {
		l.errf(line, "%s: %s: is empty", name, key)
		return val{}
	}
	v, empty, reasons := c.read(t, false)
	for _, reason := range reasons {
		l.errf(line, "%s: %s %q %s", name, key, s, reason)
	}
	if empty && len(reasons) == 0 {
		l.errf(line, "%s: %s: %q holds no item", name, key, s)
	}
	return v
}

// mapping reads a rule's map: keys are trimmed and compared case-insensitively; each value
// must be good for the field (for a list field: one item).
func (l *loader) mapping(n *yaml.Node, r *Rule, name string) {
	vm := &valueMap{}
	r.Map = map[string]string{}
	seen := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.Tag == "!!null" {
			l.errf(k.Line, "%s: map: keys must be single values, not %s", name, describe(k))
			continue
		}
		key := strings.TrimSpace(k.Value)
		if key == "" {
			l.errf(k.Line, "%s: map: an empty key never matches (an empty cell takes default:)", name)
			continue
		}
		folded := strings.ToLower(key)
		if first, dup := seen[folded]; dup {
			l.errf(k.Line, "%s: map: key %q repeats %q (keys are compared ignoring case)", name, k.Value, first)
			continue
		}
		seen[folded] = k.Value
		var value string
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		case v.Kind == yaml.ScalarNode:
			value = strings.TrimSpace(v.Value)
		default:
			l.errf(v.Line, "%s: map: %q: want a single value, not %s", name, k.Value, describe(v))
			continue
		}
		if value != "" {
			if _, reason := r.conv.parse(value); reason != "" {
				l.errf(v.Line, "%s: map: %q -> %q %s", name, k.Value, v.Value, reason)
				continue
			}
		}
		r.Map[k.Value] = value
		vm.add(key, value)
	}
	vm.finish()
	r.conv.vmap = vm
}
