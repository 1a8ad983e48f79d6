// Package mapping reads the mapping file (YAML) that says where each field of an opportunity
// comes from, checks it against an input's header, and maps and validates rows.
//
// The flow: Load (or Parse) reads and checks the file and reports every problem at once,
// each with its line; Mapping.Bind resolves the columns against the input's header and
// compiles a Plan; Plan.Apply turns one row's cells into a Record or into the row's field
// errors. Nothing here talks to the portal: the rules checked are the offline ones of
// PRODUCT.md "Validation".
package mapping

import (
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // "timezone: Europe/Berlin" must work where the system has no zone database (Windows)
)

// Mapping is a loaded, checked mapping file. It is read-only once loaded; Bind compiles it
// against an input.
type Mapping struct {
	File    string   // the name given to Load or Parse, used in errors
	Version int      // always 1
	Input   Input    // how to read the input
	Key     []string // columns identifying a row across runs; nil when none
	// KeyField is the label of the text custom field of the portal's opportunities that
	// holds each row's key (KeyValue), so that the portal itself knows which row each deal
	// came from; "" when none.
	KeyField string
	Timezone *time.Location
	Locale   string // "de", "fr", ...: the language of month names besides English; "" = English only
	// Fields are the API fields' rules in file order; CustomFields the custom fields' rules.
	Fields       []Rule
	CustomFields []Rule
	// Tags is the rule of the deal's tags (tags:), Created the one of its legacy creation
	// date (created:); nil when the mapping has none.
	Tags, Created *Rule

	keyLines     []int // line of each Key entry
	keyFieldLine int
}

// Input is the mapping's "input:" section. Zero values mean the defaults of source.Options.
type Input struct {
	Sheet     string // XLSX sheet name; "" = the first sheet
	HeaderRow int    // 1-based; 0 = 1
	Delimiter rune   // CSV; 0 = detected
	Encoding  string // CSV; "" = UTF-8
}

// Rule says where one field's value comes from and how it is read. Exactly one of Column,
// Value and Template is set.
type Rule struct {
	Field    string            // API field name ("title"), or "customField:ID" for a custom field ("customField:LABEL" before Bind finds a label's id)
	ID       int64             // custom fields: the field's id on the portal; 0 when given by Label
	Label    string            // custom fields: the field's label, its id found on the portal by Bind
	Lookup   string            // LookupUser, LookupStage, LookupContact: the value is a name resolved to an id; "" = none
	Column   string            // the input column
	Value    *string           // a constant
	Template string            // text with {Column} placeholders
	Default  *string           // fills an empty value; taken as written, not through Map
	Map      map[string]string // translations of non-empty values (list items one by one), keys matched ignoring case
	Formats  []string          // date patterns, tried in order
	Decimal  rune              // decimal separator of numbers: '.' or ','
	Split    string            // list separator
	Line     int               // the line of the rule in the mapping file

	fid      fieldID
	conv     conv
	lines    map[string]int // line of each key's value
	tmpl     []tmplPart
	constVal val // parsed Value
	defVal   val // parsed Default
}

// BindOptions says how the input stores dates, and how names are looked up on the portal.
type BindOptions struct {
	SerialDates bool // XLSX: a plain number in a date field is an Excel serial date
	Date1904    bool // XLSX: the workbook uses the 1904 date system
	// Resolver finds the ids of the names that lookup: rules and custom field labels give.
	// nil: look-ups are not checked (a validate without --url): a looked-up value counts
	// as present and valid, labels stay unresolved, and Plan.Unchecked lists them. A plan
	// bound without a Resolver must not be posted.
	Resolver Resolver
	// KeyFieldID is the id on the portal of the custom field KeyField names: Apply writes
	// the row's key into it. 0: the key is not written (no key_field, or a dry run).
	KeyFieldID int64
}

// The kinds of look-up, as lookup: spells them, and the kind Bind asks a Resolver for to
// find a custom field's id by its label.
const (
	LookupUser        = "user"
	LookupStage       = "stage"
	LookupContact     = "contact"
	LookupCustomField = "customfield"
)

// Resolver finds a portal id by a name. kind is one of the Lookup constants, name is
// trimmed and non-empty. id is a GUID for users and a positive integer otherwise. A name
// that matches nothing or several entries gives a *LookupError; any other error (the portal
// unreachable) is reported on the row as a look-up failure. Plan caches the answers: each
// distinct name (ignoring case) is asked once per plan. It must be safe for concurrent use.
type Resolver interface {
	Resolve(kind, name string) (id string, err error)
}

// LookupError is a name that matched no entry of the portal, or more than one.
type LookupError struct {
	Kind       string   // "user", "stage", "contact", "custom field"
	Name       string   // the name as given
	Candidates []string // ambiguous: the entries it matched; not found: entries to suggest (may be empty)
	Ambiguous  bool
}

// Error reads as a FieldError's reason: `matches 2 users: "John Smith" <a@x>, ...`.
func (e *LookupError) Error() string {
	const show = 10
	list := e.Candidates
	more := ""
	if len(list) > show {
		more = " and " + strconv.Itoa(len(list)-show) + " more"
		list = list[:show]
	}
	if e.Ambiguous {
		return "matches " + strconv.Itoa(len(e.Candidates)) + " " + e.Kind + "s: " + strings.Join(list, ", ") + more +
			"; give one of them by a unique name or e-mail"
	}
	msg := "matches no " + e.Kind + " on the portal"
	switch {
	case len(list) == 1:
		msg += " (did you mean " + list[0] + "?)"
	case len(list) > 1:
		msg += " (it has " + strings.Join(list, ", ") + more + ")"
	}
	return msg
}

// Error is one problem in a mapping file, or one mismatch between a mapping and an input.
// Line 0 means no particular line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e Error) Error() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.File + ": " + e.Msg
}

// Errors is every problem found, in line order. Load, Parse and Bind return it as *Errors.
type Errors []Error

// Error prints one problem per line.
func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, x := range e {
		lines[i] = x.Error()
	}
	return strings.Join(lines, "\n")
}

// Load reads and checks the mapping file at path. A file that cannot be read gives the
// os error; a file with problems gives *Errors holding every problem, each with its line.
func Load(path string) (*Mapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMappingBytes+1))
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// maxMappingBytes bounds a mapping file: the longest maps (tens of thousands of entries)
// stay far below it.
const maxMappingBytes = 8 << 20

// Parse checks a mapping held in memory; name stands for the file in errors. The error is
// *Errors.
func Parse(data []byte, name string) (*Mapping, error) {
	l := &loader{file: name}
	if len(data) > maxMappingBytes {
		l.errf(1, "the mapping is over %d MiB: a mapping is a short YAML file (is this the input?)", maxMappingBytes>>20)
		return nil, &l.errs
	}
	m := l.load(data)
	if len(l.errs) > 0 {
		l.errs.sort()
		return nil, &l.errs
	}
	m.File = name
	return m, nil
}

func (e Errors) sort() {
	slices.SortStableFunc(e, func(a, b Error) int { return a.Line - b.Line })
}

// fieldID names the API fields; the order is the one of the seed.
type fieldID int

const (
	fTitle fieldID = iota
	fDescription
	fContactID
	fMembers
	fResponsibleID
	fBidType
	fBidValue
	fBidCurrencyAbbr
	fPerPeriodValue
	fStageID
	fSuccessProbability
	fActualCloseDate
	fExpectedCloseDate
	fIsPrivate
	fAccessList
	fIsNotify
	fCustom
)

// kind is how a field's text is read.
type kind int

const (
	kText     kind = iota // title, description
	kCurrency             // three letters, upper-cased
	kID                   // positive integer
	kCount                // integer >= 0
	kPercent              // integer 0..100, "65%" too
	kMoney                // decimal >= 0
	kGUID                 // canonical dashed lower-case, not all zeros
	kBidType              // enum name or number
	kBool                 // true/false yes/no 1/0 y/n x
	kDate                 // date or date-time
	kCustom               // any text
)

type fieldInfo struct {
	name     string
	kind     kind
	list     bool // split applies; the Record holds a slice
	required bool // the server refuses the opportunity without it
}

var fields = [...]fieldInfo{
	fTitle:              {name: "title", kind: kText, required: true},
	fDescription:        {name: "description", kind: kText},
	fContactID:          {name: "contactid", kind: kID},
	fMembers:            {name: "members", kind: kID, list: true},
	fResponsibleID:      {name: "responsibleid", kind: kGUID, required: true},
	fBidType:            {name: "bidType", kind: kBidType},
	fBidValue:           {name: "bidValue", kind: kMoney},
	fBidCurrencyAbbr:    {name: "bidCurrencyAbbr", kind: kCurrency, required: true},
	fPerPeriodValue:     {name: "perPeriodValue", kind: kCount},
	fStageID:            {name: "stageid", kind: kID, required: true},
	fSuccessProbability: {name: "successProbability", kind: kPercent},
	fActualCloseDate:    {name: "actualCloseDate", kind: kDate},
	fExpectedCloseDate:  {name: "expectedCloseDate", kind: kDate},
	fIsPrivate:          {name: "isPrivate", kind: kBool},
	fAccessList:         {name: "accessList", kind: kGUID, list: true},
	fIsNotify:           {name: "isNotify", kind: kBool},
}

// FieldNames is the API fields a mapping may set, in the order of the API's documentation.
func FieldNames() []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return names
}

func fieldByName(name string) (fieldID, bool) {
	for i, f := range fields {
		if f.name == name {
			return fieldID(i), true
		}
	}
	return 0, false
}
