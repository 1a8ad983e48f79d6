package scaffold

import (
	"strings"

	"github.com/oppimport/oppimport/mapping"
)

// classify finds the column of each field: by the export tables' names first, then by a
// word of the name for the fields still open when the column's content fits, then by
// content alone (a column of e-mails that repeat is the owner). It also picks the key
// column. The first column found for a field wins; a second contact column is returned
// to become members.
func (p *proposal) classify() (map[string]*column, []*column) {
	byField := map[string]*column{}
	var extraContacts []*column
	take := func(c *column, field string) {
		if field == "key" {
			if p.key == "" {
				p.key = c.name
				p.used[c.index] = true
				if d := repeated(c.values); d != "" {
					p.keyNote = "named like an id, but the sample holds " + q(d) + " more than once; TODO: check: a key must be unique, or the later rows are invalid"
				}
			}
			return
		}
		if _, taken := byField[field]; taken {
			if field == "contactid" {
				extraContacts = append(extraContacts, c)
				p.used[c.index] = true
			}
			return
		}
		byField[field] = c
		p.used[c.index] = true
	}
	for i := range p.cols {
		if field := fieldOf(p.cols[i].name); field != "" {
			take(&p.cols[i], field)
		}
	}
	for i := range p.cols {
		c := &p.cols[i]
		if p.used[c.index] {
			continue
		}
		field := fieldByKeyword(c.name)
		if _, taken := byField[field]; field == "" || taken || !fits(field, c.values) {
			continue
		}
		take(c, field)
	}
	// An owner column found by its content: e-mails, the same few again and again (a
	// contact's e-mail is mostly different on each row).
	if _, ok := byField["responsibleid"]; !ok {
		if c := p.ownerByContent(); c != nil {
			byField["responsibleid"] = c
			p.used[c.index] = true
		}
	}
	if p.key == "" {
		p.keyByContent()
	}
	if p.key != "" {
		p.keyField = "Legacy ID"
		if p.portal != nil {
			for _, label := range p.portal.CustomFields {
				if n := norm(label); n == norm(p.key) || n == norm("Legacy ID") {
					p.keyField = label
				}
			}
		}
	}
	return byField, extraContacts
}

// repeated is a value that occurs twice in values (ignoring case), "" when none does.
func repeated(values []string) string {
	seen := map[string]bool{}
	for _, v := range values {
		k := strings.ToLower(v)
		if seen[k] {
			return v
		}
		seen[k] = true
	}
	return ""
}

// ownerByContent is the unmapped column of e-mails that repeat, nil when none.
func (p *proposal) ownerByContent() *column {
	for i := range p.cols {
		c := &p.cols[i]
		if p.used[c.index] || len(c.values) == 0 || !mostly(c.values, isEmail) {
			continue
		}
		if f := fieldByKeyword(c.name); f == "contactid" || creatorRE.get().MatchString(fold(c.name)) {
			continue // "Contact Email"; "Created By" and "Modified By" name who typed, not who owns
		}
		if len(c.values) < 4 || len(distinct(c.values))*2 <= len(c.values) {
			return c
		}
	}
	return nil
}

var (
	creatorRE = &lazyRE{expr: `\bby\b|\bvon\b|\bpar\b|\bpor\b|создал|изменил|автор|author|\bcreator\b|ersteller`}
	emailRE   = &lazyRE{expr: `^[^@\s<>()]+@[^@\s<>()]+\.[^@\s<>()]{2,}$`}
	idLikeRE  = &lazyRE{expr: `^[\p{L}]{0,8}[-_#/.:]?\d{1,18}$`}
	idHintRE  = &lazyRE{expr: `(?i)(^|[^\p{L}])(id|nr|no|nummer|number|num|code|ref|key|№)([^\p{L}]|$)|номер|код|идентификатор`}
	numberRE  = &lazyRE{expr: `^[-+]?[\d\s.,'\x{a0}]*\d[\d\s.,'\x{a0}]*\s*(%|[\p{Sc}]|[A-Z]{3}|[\p{L}]{1,4}\.?)?$|^[\p{Sc}]\s*[-+]?[\d\s.,'\x{a0}]*\d$`}
)

func isEmail(v string) bool { return emailRE.get().MatchString(strings.TrimSpace(v)) }

// mostly reports whether at least 9 in 10 values pass (all of them, up to nine values).
func mostly(values []string, ok func(string) bool) bool {
	if len(values) == 0 {
		return false
	}
	n := 0
	for _, v := range values {
		if ok(v) {
			n++
		}
	}
	return n*10 >= len(values)*9
}

// isIDLike reports a value that looks like a record's id: a number, a GUID, or a short
// prefix and a number (D-1001, #12, OPP/77).
func isIDLike(v string) bool {
	v = strings.TrimSpace(v)
	return isGUID(v) || idLikeRE.get().MatchString(v) && !numericDate.get().MatchString(v)
}

// keyByContent takes as the key the column whose every sample row holds a different,
// id-like value: the one whose name says id (ID, Nr., Номер) first, else the leftmost.
// A column mapped to a field is never the key, nor one of fewer than two sample rows.
func (p *proposal) keyByContent() {
	var best *column
	for i := range p.cols {
		c := &p.cols[i]
		if p.used[c.index] || len(p.in.Rows) < 2 || len(c.values) != len(p.in.Rows) {
			continue
		}
		if !mostly(c.values, isIDLike) || len(distinct(c.values)) != len(c.values) {
			continue
		}
		for _, v := range c.values {
			if !isIDLike(v) {
				return
			}
		}
		if idHintRE.get().MatchString(c.name) || doNotModify(c.name) {
			best = c
			break
		}
		if best == nil {
			best = c
		}
	}
	if best == nil {
		return
	}
	p.key = best.name
	p.used[best.index] = true
	p.keyNote = "found by its content: every sample row holds a different id-like value; check"
}

// fits reports whether a column's sample fits a field found by a word of its name: dates
// for dates, numbers for numbers, e-mails or names for the owner. An empty sample fits.
func fits(field string, values []string) bool {
	if len(values) == 0 {
		return true
	}
	switch field {
	case "expectedCloseDate", "actualCloseDate", "created":
		return mostly(values, looksLikeDate)
	case "bidValue", "successProbability":
		return mostly(values, func(v string) bool { return numberRE.get().MatchString(strings.TrimSpace(v)) })
	case "bidCurrencyAbbr":
		return mostly(values, func(v string) bool {
			return currencyCodeOf(v) != "" || currencyCode.get().MatchString(v) && len(strings.TrimSpace(v)) == 3
		})
	case "responsibleid", "contactid", "title", "tags", "stageid":
		return !mostly(values, looksLikeDate)
	}
	return true
}

// looksLikeDate reports a value that reads as a date: numeric (31.12.2024, 2024-12-31
// 10:00), an Excel serial in a plausible range, or one that names its month.
func looksLikeDate(v string) bool {
	v = strings.TrimSpace(v)
	if numericDate.get().MatchString(v) || isoDateTime.get().MatchString(v) {
		return true
	}
	if isID(v) {
		n := strings.TrimSuffix(v, ".0")
		return len(n) == 5 && n >= "20000" && n <= "73050" // 1954 to 2099
	}
	return mapping.MonthLocale(v) != "" || englishMonth.get().MatchString(strings.ToLower(v))
}

var (
	isoDateTime  = &lazyRE{expr: `^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$`}
	englishMonth = &lazyRE{expr: `\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b.*\d`}
)
