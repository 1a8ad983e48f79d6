package scaffold

import (
	"strings"
)

// Currency is one of the portal's currencies.
type Currency struct {
	Code, Title, Symbol string
}

// currency proposes the currency column: as it is when it holds ISO codes, else a map
// from the file's names and symbols ("US Dollar", "руб.", "€") to codes, checked against
// the portal's list when known.
func (p *proposal) currency(c *column) {
	var entries, unknown, missing []string
	named := false
	for _, v := range distinct(c.values) {
		code := ""
		if len(v) == 3 && currencyCode.get().MatchString(strings.ToUpper(v)) {
			code = strings.ToUpper(v)
		} else {
			named = true
			code = p.portalCurrency(v, false)
			if code == "" {
				code = currencyCodeOf(v)
			}
			if code == "" {
				code = p.portalCurrency(v, true)
			}
		}
		if code == "" {
			unknown = append(unknown, v)
			continue
		}
		if p.portal != nil && len(p.portal.Currencies) > 0 && p.portalCurrency(code, false) == "" {
			missing = append(missing, code)
		}
		entries = append(entries, "      "+q(v)+": "+code)
	}
	var lines []string
	if len(missing) > 0 {
		lines = append(lines, "  # TODO: check: the portal has no currency "+strings.Join(distinct(missing), ", ")+" (see its CRM settings)")
	}
	if !named && len(unknown) == 0 {
		p.set("bidCurrencyAbbr", append(lines, "  bidCurrencyAbbr: { column: "+q(c.name)+" }")...)
		return
	}
	lines = append(lines, "  bidCurrencyAbbr:", "    column: "+q(c.name),
		"    map:  # the file's currency names -> ISO codes; a value not listed here makes its row invalid")
	lines = append(lines, entries...)
	for _, v := range unknown {
		lines = append(lines, "      # "+q(v)+": \"\"  # TODO: decide: which ISO code (EUR, USD, ...)?")
	}
	p.set("bidCurrencyAbbr", lines...)
}

// portalCurrency is the code of the portal currency that v names by code or title, or
// with bySymbol by a symbol that one currency of the portal alone has (£ is the Egyptian
// pound's too, $ a dozen currencies'); "" when none or no portal.
func (p *proposal) portalCurrency(v string, bySymbol bool) string {
	if p.portal == nil {
		return ""
	}
	f := fold(strings.TrimSpace(v))
	found := ""
	for _, c := range p.portal.Currencies {
		switch {
		case !bySymbol && (f == fold(c.Code) || f == fold(c.Title)):
			return strings.ToUpper(c.Code)
		case bySymbol && c.Symbol != "" && f == fold(c.Symbol):
			if found != "" {
				return "" // several currencies write it
			}
			found = strings.ToUpper(c.Code)
		}
	}
	return found
}

// tags proposes tags: from the column, cut at the separator its sample uses.
func (p *proposal) tags(c *column) {
	sep, best := ",", 0
	for _, s := range []string{",", ";", "|"} {
		n := 0
		for _, v := range c.values {
			n += strings.Count(v, s)
		}
		if n > best {
			sep, best = s, n
		}
	}
	p.topLevel("tags: { column: " + q(c.name) + ", split: " + q(sep) + " }  # the deal's tags, also found by them in the web UI")
}

// created proposes created: the legacy creation date, read as the column's dates are.
func (p *proposal) created(c *column) {
	scratch := &proposal{in: p.in, fields: map[string][]string{}}
	scratch.date("created", c)
	if scratch.locale != "" {
		p.locale = scratch.locale
	}
	var lines []string
	for _, l := range scratch.fields["created"] {
		lines = append(lines, strings.TrimPrefix(l, "  "))
	}
	lines[len(lines)-1] += "  # the deal's real age on the portal"
	p.topLevel(lines...)
}

// topLevel adds a top-level key's lines (tags:, created:) to the proposal.
func (p *proposal) topLevel(lines ...string) {
	p.top = append(p.top, lines...)
}
