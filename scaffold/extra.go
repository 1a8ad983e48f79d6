package scaffold

import (
	"strings"
	"sync"

	"github.com/oppimport/oppimport/mapping"
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
		if len(v) == 3 && currencyCode.MatchString(strings.ToUpper(v)) {
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
	p.topLevel("tags", "tags: { column: "+q(c.name)+", split: "+q(sep)+" }  # the deal's tags, also found by them in the web UI")
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
	p.topLevel("created", lines...)
}

// topLevel adds a top-level key's lines, active when this oppimport's mapping reads the
// key and as comments otherwise, so that the proposal always loads.
func (p *proposal) topLevel(key string, lines ...string) {
	if !loaderReads(key) {
		out := []string{"# This build of oppimport does not read " + key + ": yet; uncomment the line below once it does."}
		for _, l := range lines {
			if !strings.HasPrefix(l, "#") {
				l = "# " + l
			}
			out = append(out, l)
		}
		lines = out
	}
	p.top = append(p.top, lines...)
}

// loaderReads reports whether the mapping loader of this build takes key at the top of
// a mapping: the proposal never holds a key that validate would refuse.
func loaderReads(key string) bool {
	readsOnce.Do(func() {
		reads = map[string]bool{}
		for _, k := range []string{"tags", "created"} {
			doc := "version: 1\nfields:\n  title: { value: x }\n" + k + ": { column: \"C\" }\n"
			_, err := mapping.Parse([]byte(doc), "probe.yaml")
			reads[k] = err == nil
		}
	})
	return reads[key]
}

var (
	readsOnce sync.Once
	reads     map[string]bool
)
