package mapping

import (
	"errors"
	"strconv"
	"strings"
)

// Plan is a mapping bound to one input's header: every column resolved to its index and
// every constant already read. Apply and Key are safe for concurrent use.
type Plan struct {
	steps     []step
	checked   []*step // the steps Validate reads: all but the unchecked, in p.steps
	keyCols   []int
	customs   int      // custom fields a record can hold: the steps, and the key field
	keyField  int64    // the custom field Apply writes the key into; 0 = none
	unchecked []string // look-ups not checked: bound without a Resolver
}

// step maps one field.
type step struct {
	field    string // API field, or "customField:ID"
	fid      fieldID
	id       int64
	required bool
	column   string // the source column; "" for value: and template:
	col      int    // its index; -1 when none
	hasConst bool
	constRaw string
	constVal val
	tmpl     []tmplPart
	hasDef   bool
	defVal   val
	conv     conv
	// kept says the value is read even by Validate, which keeps the title, and reads the
	// access list and isPrivate for their check together, and tags for theirs.
	kept bool
	// skim says Validate may pass over the step when its template's parts are good
	// (partsGood): a text or custom field it does not keep, made of a template without a map.
	skim bool
	// litsFilled says a literal part of the template is not all spaces; litsBad that one
	// fails checkText (so that partsGood gives no verdict).
	litsFilled, litsBad bool
	// unchecked says Validate passes over the step: nothing of it is kept, and nothing
	// can be wrong with it (a constant, read when the mapping was; a custom field without
	// a map, whose text is taken as it is).
	unchecked bool
}

// Record is one row mapped to the API's fields. Pointer and slice fields are nil, and
// strings "", when the field is left out. A Record is meaningful only when Apply returned
// no errors; its slices may be shared with other Records and must not be modified.
type Record struct {
	Title              string
	Description        *string
	ContactID          int64 // 0 = none
	Members            []int64
	ResponsibleID      string // canonical dashed lower-case GUID
	BidType            string // "" or one of FixedBid PerHour PerDay PerWeek PerMonth PerYear
	BidValue           *string
	BidCurrencyAbbr    string // upper case
	PerPeriodValue     *int64
	StageID            int64
	SuccessProbability *int64
	ActualCloseDate    string // "" or "2006-01-02" or "2006-01-02T15:04:05Z"
	ExpectedCloseDate  string
	IsPrivate          *bool
	AccessList         []string // GUIDs
	IsNotify           *bool
	CustomFields       []CustomValue
	// Tags are the deal's tags (tags:), each once ignoring case; Created its legacy creation
	// date (created:), "" or as ActualCloseDate. Neither is part of the create's body: both
	// are set after it. Left out of the JSON when empty, so that the content hash of a
	// mapping without them is what it always was.
	Tags    []string `json:",omitempty"`
	Created string   `json:",omitempty"`
}

// CustomValue is one custom field's value; empty values are never included.
type CustomValue struct {
	ID    int64
	Value string
}

// FieldError is one problem with one field of one row.
type FieldError struct {
	Field  string // API field, e.g. "expectedCloseDate" or "customField:14"
	Column string // source column name, "" for value/template-only problems
	Col    int    // 0-based column index, -1 when no single column
	Value  string // the offending value as found
	Reason string // lower case, e.g. "is not a date (want DD.MM.YYYY)"
}

// Error reads like: column "Close Date" (expectedCloseDate): "31.02.2024" is not a date
// (want DD.MM.YYYY). The value is shortened to 80 characters.
func (e FieldError) Error() string {
	var b strings.Builder
	if e.Column != "" {
		b.WriteString("column ")
		b.WriteString(strconv.Quote(e.Column))
		b.WriteString(" (")
		b.WriteString(e.Field)
		b.WriteString("): ")
	} else {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	if e.Value != "" {
		v := e.Value
		if n := 0; len(v) > 80 {
			for i := range v {
				if n == 80 {
					v = v[:i] + "…"
					break
				}
				n++
			}
		}
		b.WriteString(strconv.Quote(v))
		b.WriteByte(' ')
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Bind checks that every column the mapping names (column:, template placeholders, key:)
// is in header, and compiles the plan. header is the input's column names; a column is
// matched exactly. The error is *Errors: every missing column with its line, then the
// columns the input has.
func (m *Mapping) Bind(header []string, opts BindOptions) (*Plan, error) {
	var errs Errors
	index := make(map[string]int, len(header))
	twice := map[string][]int{}
	for i, h := range header {
		if first, ok := index[h]; ok {
			if twice[h] == nil {
				twice[h] = []int{first}
			}
			twice[h] = append(twice[h], i)
			continue
		}
		index[h] = i
	}
	missing := false
	find := func(name string, line int, what string) int {
		i, ok := index[name]
		if !ok {
			missing = true
			errs = append(errs, Error{File: m.File, Line: line, Msg: what + "column " + strconv.Quote(name) + " is not in the input" + columnHint(name, header)})
			return -1
		}
		if cols := twice[name]; cols != nil {
			nums := make([]string, len(cols))
			for j, c := range cols {
				nums[j] = strconv.Itoa(c + 1)
			}
			errs = append(errs, Error{File: m.File, Line: line, Msg: what + "column " + strconv.Quote(name) +
				" appears " + strconv.Itoa(len(cols)) + " times in the input (columns " + strings.Join(nums, ", ") + "); rename all but one"})
		}
		return i
	}

	p := &Plan{customs: len(m.CustomFields), keyField: opts.KeyFieldID}
	if p.keyField != 0 {
		p.customs++
	}
	var cache *lookupCache
	if opts.Resolver != nil {
		cache = newLookupCache(opts.Resolver)
	}
	customIDs := map[int64]int{}
	for i, k := range m.Key {
		p.keyCols = append(p.keyCols, find(k, m.keyLines[i], "key: "))
	}
	rules := append(append(append([]Rule(nil), m.Fields...), m.CustomFields...), m.extraRules()...)
	for i := range rules {
		r := &rules[i]
		what := r.Field + ": "
		if r.fid == fCustom {
			what = "custom field " + strconv.FormatInt(r.ID, 10) + ": "
		}
		s := step{field: r.Field, fid: r.fid, id: r.ID, col: -1, conv: r.conv}
		s.kept = r.fid == fTitle || r.fid == fAccessList || r.fid == fTags || r.fid == fIsPrivate
		if r.fid != fCustom {
			s.required = fieldOf(r.fid).required
		}
		s.conv.serial, s.conv.date1904 = opts.SerialDates, opts.Date1904
		s.conv.parseMapped()
		source := "value: " + strconv.Quote(derefOr(r.Value, ""))
		switch {
		case r.Column != "":
			source = "column " + strconv.Quote(r.Column)
		case r.Template != "":
			source = "template: " + strconv.Quote(r.Template)
		}
		if r.Label != "" && r.ID == 0 {
			what = "custom field " + strconv.Quote(r.Label) + ": "
			if cache == nil {
				p.unchecked = append(p.unchecked, source+" (custom field "+strconv.Quote(r.Label)+"): the field's id is found by its label")
			} else if id, err := cache.resolve(LookupCustomField, r.Label); err != nil {
				errs = append(errs, Error{File: m.File, Line: r.lines["label"], Msg: what + "label: " + strconv.Quote(r.Label) + " " + err.Error()})
			} else if n, bad := wholeNumber(id); bad != "" || n <= 0 {
				errs = append(errs, Error{File: m.File, Line: r.lines["label"], Msg: what + "label: was looked up as " + strconv.Quote(id) + ", which is not a custom field id"})
			} else {
				s.id, s.field = n, "customField:"+id
			}
		}
		if r.fid == fCustom && s.id != 0 && s.id == p.keyField {
			errs = append(errs, Error{File: m.File, Line: r.Line, Msg: what + "is the key_field " + strconv.Quote(m.KeyField) + ", which holds the row's key: map it nowhere else"})
		}
		if r.fid == fCustom && s.id != 0 {
			if line, dup := customIDs[s.id]; dup {
				name := "custom field " + strconv.FormatInt(s.id, 10)
				if r.Label != "" {
					name = "custom field " + strconv.Quote(r.Label) + " is custom field " + strconv.FormatInt(s.id, 10) + ", which"
				}
				errs = append(errs, Error{File: m.File, Line: r.Line, Msg: name + " is mapped twice (first at line " + strconv.Itoa(line) + ")"})
			}
			customIDs[s.id] = r.Line
		}
		if r.Lookup != "" {
			if cache == nil {
				p.unchecked = append(p.unchecked, source+" ("+r.Field+"): lookup: "+r.Lookup)
			} else {
				s.conv.res = cache
				// Constants were taken as names when the file was read; now they are
				// resolved, so that a bad one is a mapping error with its line.
				if r.Value != nil {
					s.constVal = bindConst(m, &s.conv, &errs, what, "value", *r.Value, r.lines["value"])
				}
				if r.Default != nil {
					r.defVal = bindConst(m, &s.conv, &errs, what, "default", *r.Default, r.lines["default"])
				}
			}
		}
		switch {
		case r.Column != "":
			s.column, s.col = r.Column, find(r.Column, r.lines["column"], what)
		case r.Value != nil:
			s.hasConst, s.constRaw = true, *r.Value
			if r.Lookup == "" || cache == nil {
				s.constVal = r.constVal
			}
		default:
			s.tmpl = make([]tmplPart, len(r.tmpl))
			copy(s.tmpl, r.tmpl)
			for j := range s.tmpl {
				if t := &s.tmpl[j]; t.name != "" {
					t.col = find(t.name, r.lines["template"], what+"template: ")
				}
			}
		}
		if r.Default != nil {
			s.hasDef, s.defVal = true, r.defVal
		}
		for _, t := range s.tmpl {
			if t.name == "" {
				s.litsFilled = s.litsFilled || strings.TrimSpace(t.lit) != ""
				s.litsBad = s.litsBad || s.conv.kind == kText && s.conv.checkText(t.lit) != ""
			}
		}
		s.skim = s.fid != fIsPrivate && s.fid != fAccessList && (pointerField(s.fid) || s.fid == fCustom) &&
			s.tmpl != nil && s.conv.vmap == nil
		s.unchecked = !s.kept && (s.hasConst || s.conv.kind == kCustom && s.conv.vmap == nil && !s.conv.list && !s.required)
		p.steps = append(p.steps, s)
	}
	for i := range p.steps {
		if !p.steps[i].unchecked {
			p.checked = append(p.checked, &p.steps[i])
		}
	}
	if len(errs) > 0 {
		errs.sort()
		if missing {
			// A wide or hostile header must not flood the terminal.
			const show, width = 50, 60
			quoted := make([]string, 0, min(len(header), show)+1)
			for i, h := range header {
				if i == show {
					quoted = append(quoted, "and "+strconv.Itoa(len(header)-show)+" more")
					break
				}
				if len(h) > width {
					h = strings.ToValidUTF8(h[:width], "") + "…"
				}
				quoted = append(quoted, strconv.Quote(h))
			}
			errs = append(errs, Error{File: m.File, Msg: "the input's columns are " + strings.Join(quoted, ", ")})
		}
		return nil, &errs
	}
	return p, nil
}

// bindConst resolves a lookup: rule's value: or default:.
func bindConst(m *Mapping, c *conv, errs *Errors, what, key, raw string, line int) val {
	v, _, reasons := c.read(strings.TrimSpace(raw), false)
	for _, reason := range reasons {
		*errs = append(*errs, Error{File: m.File, Line: line, Msg: what + key + " " + strconv.Quote(raw) + " " + reason})
	}
	return v
}

func derefOr(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

// Column says which input column a field reads: its name and 0-based index. ok is false
// when the field is not mapped or takes a value: or template:. field is an API field name
// or "customField:ID".
func (p *Plan) Column(field string) (name string, col int, ok bool) {
	for _, s := range p.steps {
		if s.field == field {
			return s.column, s.col, s.col >= 0
		}
	}
	return "", -1, false
}

// keySep joins the cells of a key of several columns.
const keySep = "\x1f"

// ShowKey is a key as a person reads it: the cells of a key of several columns joined by
// " | " instead of the unit separator Key joins them with; any other key as it is.
func ShowKey(key string) string {
	if strings.IndexByte(key, keySep[0]) < 0 {
		return key // the usual key, of one column: no count of separators to replace
	}
	return strings.ReplaceAll(key, keySep, " | ")
}

// KeyValue is a key as the key_field holds it on the portal: as a person reads it
// (ShowKey), trimmed as the portal trims custom field values.
func KeyValue(key string) string { return strings.TrimSpace(ShowKey(key)) }

// KeyFieldID is the custom field Apply writes the row's key into (BindOptions.KeyFieldID).
func (p *Plan) KeyFieldID() int64 { return p.keyField }

// Fields names the API fields the plan maps, in mapping order, custom fields as
// "customField:ID" (the key field among them): what a sync may change on the portal.
func (p *Plan) Fields() []string {
	out := make([]string, 0, len(p.steps)+1)
	for _, s := range p.steps {
		out = append(out, s.field)
	}
	if p.keyField != 0 {
		out = append(out, "customField:"+strconv.FormatInt(p.keyField, 10))
	}
	return out
}

// Key is the row's key: the mapping's key columns, trimmed and joined with the unit
// separator (U+001F); "" when the mapping has no key or every key cell is empty.
func (p *Plan) Key(cells []string) string {
	switch len(p.keyCols) {
	case 0:
		return ""
	case 1:
		return trim(cell(cells, p.keyCols[0]))
	}
	var b strings.Builder
	empty := true
	for i, c := range p.keyCols {
		if i > 0 {
			b.WriteString(keySep)
		}
		v := strings.TrimSpace(cell(cells, c))
		empty = empty && v == ""
		b.WriteString(v)
	}
	if empty {
		return ""
	}
	return b.String()
}

// trim is strings.TrimSpace, at once for text that starts and ends with a character that
// is not a space, as cells mostly do.
func trim(s string) string {
	if !trimmed(s) {
		return strings.TrimSpace(s)
	}
	return s
}

// trimmed says that s starts and ends with a byte of 0x21 to 0x7F, no space: (b - 0x21)
// < 0x5F, unsigned. Inlined, so that the usual cell costs Validate no call.
func trimmed(s string) bool {
	n := len(s)
	return n > 0 && s[0]-0x21 < 0x5F && s[n-1]-0x21 < 0x5F
}

func cell(cells []string, i int) string {
	if i < 0 || i >= len(cells) {
		return ""
	}
	return unquote(cells[i])
}

// unquote drops the quote a spreadsheet-safe file (such as oppimport's own rejects file)
// puts before a value that starts with = + - @, tab or carriage return, so that the value
// is read as it was written.
func unquote(v string) string {
	if len(v) > 1 && v[0] == '\'' {
		switch v[1] {
		case '=', '+', '-', '@', '\t', '\r':
			return v[1:]
		}
	}
	return v
}

// ptrs holds the targets of a Record's pointer fields and its first custom fields: one
// allocation per row.
type ptrs struct {
	description, bidValue  string
	perPeriod, probability int64
	isPrivate, isNotify    bool
	custom                 [inlineCustom]CustomValue
}

// inlineCustom is how many custom fields a row's ptrs holds; a record with more has them
// in a slice of its own.
const inlineCustom = 2

// at sets *p to v and returns p: a pointer field's value, kept in the row's ptrs.
func at[T any](p *T, v T) *T {
	*p = v
	return p
}

// Apply maps one row's cells (in header order) to a Record, checking every offline rule.
// All of the row's problems come back at once, one FieldError each; the Record is
// meaningful only when there are none. Safe for concurrent use.
func (p *Plan) Apply(cells []string) (Record, []FieldError) {
	var rec Record
	errs := p.apply(&rec, cells)
	return rec, errs
}

// Validate runs every check Apply runs, with the same errors, and returns the record's
// title only: for a run that keeps nothing else of the record (a validate that sends
// nothing), it builds none of the rest (measured: a template's text and the record's
// pointer fields were a third of a 10^6-row validate's allocations). Safe for concurrent
// use.
func (p *Plan) Validate(cells []string) (title string, errs []FieldError) {
	var private *step // isPrivate's step, when it read true
	accessBad, accessEmpty := false, true
	var buf val // what the step reads, unless the plan holds it
	// The same checks as apply's without build, in the same order, over the steps that
	// have any (checked, made at Bind), in a loop that does nothing else: apply's loop, with
	// its branches for building, was a quarter of Validate's instructions. FuzzApply and
	// the tests' applied hold the two to the same errors and title: a check changed in
	// apply is changed here too.
	for _, s := range p.checked {
		v := &s.constVal
		if s.skim && s.partsGood(cells) {
			continue
		}
		if !s.hasConst {
			var raw string
			if s.tmpl == nil {
				raw = cell(cells, s.col) // source's, without the call
			} else {
				raw = s.source(cells)
			}
			t := raw
			if !trimmed(t) {
				t = strings.TrimSpace(t)
			}
			empty := t == ""
			if !empty && s.conv.mapped != nil && !s.conv.list {
				// one's look-up in a map whose values were read at Bind, without the call.
				switch k := s.conv.vmap.index(t); {
				case k < 0:
					errs = append(errs, s.fail(raw, s.conv.vmap.unlisted))
					continue
				case s.conv.vmap.vals[k] == "":
					empty = true
				default:
					v = &s.conv.mapped[k]
				}
			} else if !empty && !s.conv.list {
				var reason string
				if v, empty, _, reason = s.conv.one(&buf, s.conv.vmap, t, s.kept); reason != "" {
					errs = append(errs, s.fail(raw, reason))
					continue
				}
			} else if !empty {
				var reasons []string
				if v, empty, reasons = s.conv.readTo(&buf, t, true, s.kept); len(reasons) > 0 {
					for _, r := range reasons {
						errs = append(errs, s.fail(raw, r))
					}
					accessBad = accessBad || s.fid == fAccessList
					continue
				}
			}
			if empty {
				if !s.hasDef {
					if s.required {
						errs = append(errs, s.fail(raw, reasonRequired))
					}
					continue
				}
				v = &s.defVal
			}
		}
		switch s.fid {
		case fTitle:
			title = v.s
		case fIsPrivate:
			if private = nil; v.b {
				private = s
			}
		case fAccessList:
			accessEmpty = len(v.strs) == 0
		case fTags:
			for _, t := range v.strs {
				if reason := tagReason(t); reason != "" {
					errs = append(errs, s.fail(s.source(cells), reason))
					break
				}
			}
		}
	}
	if private != nil && accessEmpty && !accessBad {
		s := private
		raw := s.constRaw
		if !s.hasConst {
			raw = s.source(cells)
		}
		errs = append(errs, s.fail(raw, "is true, but accessList is empty (the portal would make the deal public)"))
	}
	return title, errs
}

// apply is Apply into rec, which is zero.
func (p *Plan) apply(rec *Record, cells []string) []FieldError {
	var errs []FieldError
	var box *ptrs
	private, isPrivate, accessBad := -1, false, false
	var buf val // what the step reads, unless the plan holds it
	for i := range p.steps {
		s := &p.steps[i]
		v := &s.constVal
		if !s.hasConst {
			raw := s.source(cells)
			t := trim(raw)
			empty := t == ""
			var reasons []string
			if !empty && !s.conv.list {
				// A scalar is read at once (readTo's first step, without its slice
				// of reasons).
				var reason string
				if v, empty, _, reason = s.conv.one(&buf, s.conv.vmap, t, true); reason != "" {
					errs = append(errs, s.fail(raw, reason))
					continue
				}
			} else if !empty {
				v, empty, reasons = s.conv.readTo(&buf, t, true, true)
			}
			if len(reasons) > 0 {
				for _, r := range reasons {
					errs = append(errs, s.fail(raw, r))
				}
				accessBad = accessBad || s.fid == fAccessList
				continue
			}
			if empty {
				if !s.hasDef {
					if s.required {
						errs = append(errs, s.fail(raw, reasonRequired))
					}
					continue
				}
				v = &s.defVal
			}
		}
		if s.fid == fIsPrivate {
			private, isPrivate = i, v.b
		}
		if box == nil && (pointerField(s.fid) || s.fid == fCustom && p.customs <= inlineCustom) {
			box = new(ptrs)
		}
		switch s.fid {
		case fTitle:
			rec.Title = v.s
		case fDescription:
			rec.Description = at(&box.description, v.s)
		case fContactID:
			rec.ContactID = v.n
		case fMembers:
			rec.Members = v.ids
		case fResponsibleID:
			rec.ResponsibleID = v.s
		case fBidType:
			rec.BidType = v.s
		case fBidValue:
			rec.BidValue = at(&box.bidValue, v.s)
		case fBidCurrencyAbbr:
			rec.BidCurrencyAbbr = v.s
		case fPerPeriodValue:
			rec.PerPeriodValue = at(&box.perPeriod, v.n)
		case fStageID:
			rec.StageID = v.n
		case fSuccessProbability:
			rec.SuccessProbability = at(&box.probability, v.n)
		case fActualCloseDate:
			rec.ActualCloseDate = v.s
		case fExpectedCloseDate:
			rec.ExpectedCloseDate = v.s
		case fIsPrivate:
			rec.IsPrivate = at(&box.isPrivate, v.b)
		case fAccessList:
			rec.AccessList = v.strs
		case fIsNotify:
			rec.IsNotify = at(&box.isNotify, v.b)
		case fTags:
			bad := false
			for _, t := range v.strs {
				if reason := tagReason(t); reason != "" {
					errs, bad = append(errs, s.fail(s.source(cells), reason)), true
					break
				}
			}
			if !bad {
				rec.Tags = tags(v.strs)
			}
		case fCreated:
			rec.Created = v.s
		case fCustom:
			if rec.CustomFields == nil {
				rec.CustomFields = p.customFields(box)
			}
			rec.CustomFields = append(rec.CustomFields, CustomValue{ID: s.id, Value: v.s})
		}
	}
	if p.keyField != 0 {
		if k := KeyValue(p.Key(cells)); k != "" {
			if rec.CustomFields == nil {
				rec.CustomFields = p.customFields(box)
			}
			rec.CustomFields = append(rec.CustomFields, CustomValue{ID: p.keyField, Value: k})
		}
	}
	if private >= 0 && isPrivate && len(rec.AccessList) == 0 && !accessBad {
		s := &p.steps[private]
		raw := s.constRaw
		if !s.hasConst {
			raw = s.source(cells)
		}
		errs = append(errs, s.fail(raw, "is true, but accessList is empty (the portal would make the deal public)"))
	}
	return errs
}

// customFields is where a row's custom fields go: in its ptrs when they fit.
func (p *Plan) customFields(box *ptrs) []CustomValue {
	if box != nil && p.customs <= inlineCustom {
		return box.custom[:0:p.customs]
	}
	return make([]CustomValue, 0, p.customs)
}

func pointerField(f fieldID) bool {
	switch f {
	case fDescription, fBidValue, fPerPeriodValue, fSuccessProbability, fIsPrivate, fIsNotify:
		return true
	}
	return false
}

// source is the step's text as found: the cell, or the template filled in.
func (s *step) source(cells []string) string {
	if s.tmpl == nil {
		return cell(cells, s.col)
	}
	n := 0
	for _, t := range s.tmpl {
		if t.name != "" {
			n += len(cell(cells, t.col))
		} else {
			n += len(t.lit)
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, t := range s.tmpl {
		if t.name != "" {
			b.WriteString(cell(cells, t.col))
		} else {
			b.WriteString(t.lit)
		}
	}
	return b.String()
}

// partsGood says, without making it, that a template's text is not empty and passes
// checkText (each part is whole UTF-8, so a character needing 4 bytes lies in one part): a
// text field other than the title (whose length counts), or a custom field. False is no
// verdict: the text is then made and read as usual.
func (s *step) partsGood(cells []string) bool {
	if s.conv.kind != kCustom && (s.conv.kind != kText || s.fid == fTitle) || s.litsBad {
		return false
	}
	filled := s.litsFilled // the literals were looked at once, at Bind
	for _, t := range s.tmpl {
		if t.name == "" {
			continue
		}
		v := cell(cells, t.col)
		if s.conv.kind == kText && s.conv.checkText(v) != "" {
			return false
		}
		filled = filled || strings.TrimSpace(v) != ""
	}
	return filled
}

func (s *step) fail(raw, reason string) FieldError {
	return FieldError{Field: s.field, Column: s.column, Col: s.col, Value: raw, Reason: reason}
}

// read reads a trimmed, non-empty value: through the map (when useMap and the rule has
// one), split into items for list fields, each item parsed. empty is true when nothing is
// left: the map gave "" or the list has no items. reasons are the problems, lower case.
func (c *conv) read(v string, useMap bool) (out val, empty bool, reasons []string) {
	var buf val
	x, empty, reasons := c.readTo(&buf, v, useMap, true)
	return *x, empty, reasons
}

// readTo is read for the rows: the value is parsed into buf, or is one the plan holds (a
// map's value read once), never copied. Without want only the verdict is wanted (parseTo).
func (c *conv) readTo(buf *val, v string, useMap, want bool) (out *val, empty bool, reasons []string) {
	vm := c.vmap
	if !useMap {
		vm = nil
	}
	if !c.list {
		out, empty, _, reason := c.one(buf, vm, v, want)
		if reason != "" {
			return out, false, []string{reason}
		}
		return out, empty, nil
	}
	n := 1
	if c.split != "" {
		n += strings.Count(v, c.split)
	}
	*buf = val{}
	if c.kind == kID {
		buf.ids = make([]int64, 0, n)
	} else {
		buf.strs = make([]string, 0, n)
	}
	var item val
	rest := v
	for rest != "" {
		next := rest
		rest = ""
		if c.split != "" {
			next, rest, _ = strings.Cut(next, c.split)
		}
		next = strings.TrimSpace(next)
		if next == "" {
			continue
		}
		x, none, about, reason := c.one(&item, vm, next, want)
		switch {
		case reason != "":
			reasons = append(reasons, "has "+strconv.Quote(about)+", which "+reason)
			continue
		case none:
			continue
		}
		if c.kind == kID {
			buf.ids = append(buf.ids, x.n)
		} else {
			buf.strs = append(buf.strs, x.s)
		}
	}
	if len(reasons) > 0 {
		*buf = val{}
		return buf, false, reasons
	}
	if len(buf.ids)+len(buf.strs) == 0 {
		*buf = val{}
		return buf, true, nil
	}
	buf.ids = buf.ids[:len(buf.ids):len(buf.ids)]
	buf.strs = buf.strs[:len(buf.strs):len(buf.strs)]
	return buf, false, nil
}

// one reads a scalar or a list's item through vm (nil: none), into buf or as a value the
// plan holds. empty is true when the map gives ""; reason says what is wrong with about:
// the value, or what the map made of it. want is parseTo's.
func (c *conv) one(buf *val, vm *valueMap, v string, want bool) (x *val, empty bool, about, reason string) {
	if vm != nil {
		i := vm.index(v)
		if i < 0 {
			return buf, false, v, vm.unlisted
		}
		if v = vm.vals[i]; v == "" {
			return buf, true, "", ""
		}
		if c.mapped != nil {
			return &c.mapped[i], false, "", ""
		}
	}
	reason = c.parseTo(buf, v, want)
	return buf, false, v, reason
}

// parseMapped reads the map's values once, for a rule whose values need no look-up: each
// is the same on every row (the loader checked that each parses).
func (c *conv) parseMapped() {
	if c.vmap == nil || c.lookup != "" {
		return
	}
	c.mapped = make([]val, len(c.vmap.vals))
	for i, v := range c.vmap.vals {
		if v != "" {
			c.mapped[i], _ = c.parse(v)
		}
	}
}

// setReasons prepares the messages that name the rule's settings, once.
func (c *conv) setReasons() {
	switch c.kind {
	case kDate:
		if len(c.formats) == 0 {
			c.notDate = "is not a date (want YYYY-MM-DD or YYYY-MM-DDTHH:mm:ss)"
			break
		}
		pats := make([]string, len(c.formats))
		for i, f := range c.formats {
			pats[i] = f.text
		}
		c.notDate = "is not a date (want " + strings.Join(pats, " or ") + ")"
	case kMoney, kPercent, kCount:
		if c.decimal == ',' {
			c.notNumber = `is not a number (decimal separator ","; set decimal: "." for 1,234.50)`
		} else {
			c.notNumber = `is not a number (decimal separator "."; set decimal: "," for 1.234,50)`
		}
	}
}

// valueMap is a rule's map:, looked up ignoring case.
type valueMap struct {
	keys, vals []string
	folded     map[string]int // lower-cased keys to their index, for long maps
	unlisted   string         // the reason for a value the map lacks
}

const shortMap = 16 // up to this many keys, a scan with EqualFold beats lower-casing

func (m *valueMap) add(key, value string) {
	m.keys = append(m.keys, key)
	m.vals = append(m.vals, value)
}

func (m *valueMap) finish() {
	if len(m.keys) > shortMap {
		m.folded = make(map[string]int, len(m.keys))
		for i, k := range m.keys {
			m.folded[strings.ToLower(k)] = i
		}
	}
	const show = 10
	quoted := make([]string, 0, show+1)
	for i, k := range m.keys {
		if i == show {
			quoted = append(quoted, "and "+strconv.Itoa(len(m.keys)-show)+" more")
			break
		}
		quoted = append(quoted, strconv.Quote(k))
	}
	m.unlisted = "is not listed in map (allowed: " + strings.Join(quoted, ", ") + ")"
}

// index returns the index of v's key, -1 when the map lacks it. A value written as its
// key is (the usual case) is found without folding case.
func (m *valueMap) index(v string) int {
	if m.folded != nil {
		if i, ok := m.folded[strings.ToLower(v)]; ok {
			return i
		}
		return -1
	}
	for i, k := range m.keys {
		if k == v {
			return i
		}
	}
	for i, k := range m.keys {
		if strings.EqualFold(k, v) {
			return i
		}
	}
	return -1
}

// tmplPart is a template's literal text, or a placeholder naming a column.
type tmplPart struct {
	lit  string
	name string
	col  int
}

// compileTemplate reads "{Column}" placeholders; "{{" and "}}" stand for braces.
func compileTemplate(s string) ([]tmplPart, error) {
	var parts []tmplPart
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, tmplPart{lit: lit.String(), col: -1})
			lit.Reset()
		}
	}
	placeholders := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '}':
			return nil, errors.New(`a "}" without its "{" (write }} for a brace)`)
		case c == '{':
			end := strings.IndexAny(s[i+1:], "{}")
			if end < 0 || s[i+1+end] != '}' {
				return nil, errors.New(`a "{" without its "}" (write {{ for a brace)`)
			}
			name := s[i+1 : i+1+end]
			if strings.TrimSpace(name) == "" {
				return nil, errors.New(`an empty placeholder "{}"; put a column name between the braces`)
			}
			flush()
			parts = append(parts, tmplPart{name: name})
			placeholders++
			i += 1 + end
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	if placeholders == 0 {
		return nil, errors.New("has no {Column} placeholder; use value: for a constant")
	}
	return parts, nil
}
