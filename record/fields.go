package record

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oppimport/oppimport/mapping"
)

// The fields a person sees on a deal, by their API names. A custom field is
// "customField:ID", as mapping names it.
const (
	Title              = "title"
	Description        = "description"
	ContactID          = "contactid"
	ResponsibleID      = "responsibleid"
	StageID            = "stageid"
	BidType            = "bidType"
	BidValue           = "bidValue"
	BidCurrencyAbbr    = "bidCurrencyAbbr"
	PerPeriodValue     = "perPeriodValue"
	SuccessProbability = "successProbability"
	ExpectedCloseDate  = "expectedCloseDate"
	ActualCloseDate    = "actualCloseDate"
	IsPrivate          = "isPrivate"
	AccessList         = "accessList"
	Members            = "members"
)

// Core are the fields every deal has and a create always sets, in the order a person reads
// them: what tells one deal from another.
var Core = []string{Title, Description, ContactID, ResponsibleID, StageID, BidType, BidValue,
	BidCurrencyAbbr, PerPeriodValue, SuccessProbability, ExpectedCloseDate, ActualCloseDate, IsPrivate}

// Fields are Core, then the access list and the participants; custom fields follow them in
// Diff, by id.
var Fields = append(slices.Clone(Core), AccessList, Members)

// CustomField is the field name of custom field id.
func CustomField(id int64) string { return "customField:" + strconv.FormatInt(id, 10) }

// customID is the id of a custom field's name, ok false for any other field.
func customID(f string) (int64, bool) {
	s, ok := strings.CutPrefix(f, "customField:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil
}

// field is how one field is read and copied.
type field struct {
	// value is the field as compared: two records hold the same when their values are
	// equal; "" is unset.
	value func(r *mapping.Record) string
	// put copies the field from src into dst.
	put func(dst, src *mapping.Record)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func num(p *int64) string {
	if p == nil || *p == 0 {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

func id(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func private(r *mapping.Record) bool {
	return r.IsPrivate != nil && *r.IsPrivate && len(r.AccessList) > 0
}

var fields = map[string]field{
	Title: {func(r *mapping.Record) string { return r.Title }, func(d, s *mapping.Record) { d.Title = s.Title }},
	Description: {func(r *mapping.Record) string { return strings.TrimSpace(str(r.Description)) },
		func(d, s *mapping.Record) { d.Description = s.Description }},
	ContactID: {func(r *mapping.Record) string { return id(r.ContactID) }, func(d, s *mapping.Record) { d.ContactID = s.ContactID }},
	ResponsibleID: {func(r *mapping.Record) string { return strings.ToLower(r.ResponsibleID) },
		func(d, s *mapping.Record) { d.ResponsibleID = s.ResponsibleID }},
	StageID: {func(r *mapping.Record) string { return id(r.StageID) }, func(d, s *mapping.Record) { d.StageID = s.StageID }},
	BidType: {func(r *mapping.Record) string {
		if r.BidType == "" {
			return "FixedBid"
		}
		return r.BidType
	}, func(d, s *mapping.Record) { d.BidType = s.BidType }},
	BidValue:        {func(r *mapping.Record) string { return decimal(str(r.BidValue)) }, func(d, s *mapping.Record) { d.BidValue = s.BidValue }},
	BidCurrencyAbbr: {func(r *mapping.Record) string { return strings.ToUpper(r.BidCurrencyAbbr) }, func(d, s *mapping.Record) { d.BidCurrencyAbbr = s.BidCurrencyAbbr }},
	PerPeriodValue:  {func(r *mapping.Record) string { return num(r.PerPeriodValue) }, func(d, s *mapping.Record) { d.PerPeriodValue = s.PerPeriodValue }},
	SuccessProbability: {func(r *mapping.Record) string { return num(r.SuccessProbability) },
		func(d, s *mapping.Record) { d.SuccessProbability = s.SuccessProbability }},
	ExpectedCloseDate: {func(r *mapping.Record) string { return date(r.ExpectedCloseDate) },
		func(d, s *mapping.Record) { d.ExpectedCloseDate = s.ExpectedCloseDate }},
	ActualCloseDate: {func(r *mapping.Record) string { return date(r.ActualCloseDate) },
		func(d, s *mapping.Record) { d.ActualCloseDate = s.ActualCloseDate }},
	IsPrivate: {func(r *mapping.Record) string {
		if private(r) {
			return "true"
		}
		return ""
	}, func(d, s *mapping.Record) { d.IsPrivate = s.IsPrivate }},
	// The access list of a public deal means nothing to the portal.
	AccessList: {func(r *mapping.Record) string {
		if !private(r) {
			return ""
		}
		return set(r.AccessList, strings.ToLower)
	}, func(d, s *mapping.Record) { d.AccessList = s.AccessList }},
	// The contact is always among the participants: the portal adds it.
	Members: {func(r *mapping.Record) string {
		ms := slices.Clone(r.Members)
		if r.ContactID != 0 {
			ms = append(ms, r.ContactID)
		}
		return set(ms, func(n int64) string { return strconv.FormatInt(n, 10) })
	}, func(d, s *mapping.Record) { d.Members = s.Members }},
}

// set is the list as a set: its distinct items, sorted, joined with ", ".
func set[T any](list []T, show func(T) string) string {
	var out []string
	for _, v := range list {
		if s := show(v); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// decimal is a decimal's canonical form ("1000.5" for "1000.50"); "" for none or zero, the
// text itself when it is no number.
func decimal(s string) string {
	if s == "" {
		return ""
	}
	r, ok := new(big.Rat).SetString(s)
	switch {
	case !ok:
		return s
	case r.Sign() == 0:
		return ""
	case r.IsInt():
		return r.RatString()
	}
	for prec := 1; prec <= 30; prec++ {
		if f := r.FloatString(prec); prec == 30 || mustRat(f).Cmp(r) == 0 {
			return f
		}
	}
	return s // not reached
}

func mustRat(s string) *big.Rat {
	r, _ := new(big.Rat).SetString(s)
	return r
}

// date is a date's canonical form: a date stays yyyy-MM-dd, a date-time is its instant in
// UTC.
func date(s string) string {
	if len(s) <= len("2006-01-02") {
		return s
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// custom is custom field id's value in r, trimmed; "" when r has none.
func custom(r *mapping.Record, id int64) string {
	for _, cf := range r.CustomFields {
		if cf.ID == id {
			return strings.TrimSpace(cf.Value)
		}
	}
	return ""
}

// Value is field f of r as compared and as a person reads it ("" when unset): a decimal in
// its shortest form, a date-time in UTC, a list as a sorted set.
func Value(r mapping.Record, f string) string {
	if cid, ok := customID(f); ok {
		return custom(&r, cid)
	}
	if fl, ok := fields[f]; ok {
		return fl.value(&r)
	}
	return ""
}

// Same reports whether a and b hold the same field f, as the portal keeps it.
func Same(a, b mapping.Record, f string) bool { return Value(a, f) == Value(b, f) }

// Diff names the fields in which a and b differ: Fields in their order, then the custom
// fields by id.
func Diff(a, b mapping.Record) []string {
	var out []string
	for _, f := range Fields {
		if !Same(a, b, f) {
			out = append(out, f)
		}
	}
	for _, cid := range customIDs(a, b) {
		if custom(&a, cid) != custom(&b, cid) {
			out = append(out, CustomField(cid))
		}
	}
	return out
}

// customIDs are the ids of the custom fields either record holds, sorted.
func customIDs(rs ...mapping.Record) []int64 {
	var ids []int64
	for _, r := range rs {
		for _, cf := range r.CustomFields {
			if !slices.Contains(ids, cf.ID) {
				ids = append(ids, cf.ID)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// Put copies field f from src into dst. A custom field src lacks is taken out of dst.
func Put(dst *mapping.Record, src mapping.Record, f string) {
	if cid, ok := customID(f); ok {
		dst.CustomFields = slices.DeleteFunc(slices.Clone(dst.CustomFields), func(cf mapping.CustomValue) bool { return cf.ID == cid })
		if v := custom(&src, cid); v != "" {
			dst.CustomFields = append(dst.CustomFields, mapping.CustomValue{ID: cid, Value: v})
			slices.SortFunc(dst.CustomFields, func(a, b mapping.CustomValue) int { return cmp.Compare(a.ID, b.ID) })
		}
		return
	}
	if fl, ok := fields[f]; ok {
		fl.put(dst, &src)
	}
}

// Applied is what a full-record PUT of sent leaves on the portal over before (nil for a
// create): every field sent, but the portal keeps the participants when none are sent, and
// it never clears a custom field, it only sets the ones sent.
func Applied(before *mapping.Record, sent mapping.Record) mapping.Record {
	after := sent
	if before == nil {
		return after
	}
	if len(sent.Members) == 0 {
		after.Members = before.Members
	}
	after.CustomFields = slices.Clone(before.CustomFields)
	for _, cf := range sent.CustomFields {
		Put(&after, sent, CustomField(cf.ID))
	}
	return after
}

// WithCaller is what the portal makes of r when caller writes it: a private deal gets the
// caller on its access list (the server adds whoever sets the list).
func WithCaller(r mapping.Record, caller string) mapping.Record {
	if !private(&r) || caller == "" || slices.ContainsFunc(r.AccessList, func(g string) bool { return strings.EqualFold(g, caller) }) {
		return r
	}
	r.AccessList = append(slices.Clone(r.AccessList), caller)
	return r
}

// Show is field f of r for a message: quoted, or "empty".
func Show(r mapping.Record, f string) string {
	if v := Value(r, f); v != "" {
		return strconv.Quote(v)
	}
	return "empty"
}

// Changes words the fields in which now differs from was: `title "A" -> "B"; stageid 3 -> 5`.
func Changes(was, now mapping.Record, fs []string) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("%s %s -> %s", f, Show(was, f), Show(now, f)))
	}
	return strings.Join(parts, "; ")
}
