package mapping

import (
	"errors"
	"strconv"
	"strings"
	"sync"
)

// lookupCache asks a Resolver once per distinct kind and name (ignoring case) and keeps the
// answer, errors included, for the plan's life. Safe for concurrent use; two rows asking
// for the same new name at once wait for one answer.
type lookupCache struct {
	r  Resolver
	mu sync.Mutex
	m  map[string]*lookupEntry
}

type lookupEntry struct {
	once sync.Once
	id   string
	err  error
}

func newLookupCache(r Resolver) *lookupCache {
	return &lookupCache{r: r, m: map[string]*lookupEntry{}}
}

func (c *lookupCache) resolve(kind, name string) (string, error) {
	key := kind + "\x00" + strings.ToLower(name)
	c.mu.Lock()
	e := c.m[key]
	if e == nil {
		e = &lookupEntry{}
		c.m[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.id, e.err = c.r.Resolve(kind, name) })
	return e.id, e.err
}

// resolveOr is what a value that is not an id (notID says why) gives: the id of its name
// when the field has a lookup: rule, else the reason with a hint at the rule.
func (c *conv) resolveOr(out *val, v, notID string) (reason string) {
	if c.lookup != "" {
		*out, reason = c.resolve(v)
		return reason
	}
	return notID + c.lookupHint(v)
}

// resolve reads a name of a lookup: rule. Without a resolver the name is taken as it is,
// unchecked (the Record is then not fit for posting: Bind's documentation says so).
func (c *conv) resolve(name string) (val, string) {
	if c.res == nil {
		return val{s: name}, ""
	}
	id, err := c.res.resolve(c.lookup, name)
	if err != nil {
		var le *LookupError
		if errors.As(err, &le) {
			return val{}, le.Error()
		}
		return val{}, "could not be looked up: " + err.Error()
	}
	if c.kind == kGUID {
		g, r := guid(id)
		if r != "" {
			return val{}, "was looked up as " + strconv.Quote(id) + ", which " + r
		}
		return val{s: g}, ""
	}
	n, r := wholeNumber(id)
	if r != "" || n <= 0 {
		return val{}, "was looked up as " + strconv.Quote(id) + ", which is not a positive id"
	}
	return val{n: n}, ""
}

// lookupHint suggests lookup: when a field that wants ids holds what looks like a name.
func (c *conv) lookupHint(v string) string {
	if c.lookup != "" || strings.IndexFunc(v, func(r rune) bool { return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r > 0x7f }) < 0 {
		return ""
	}
	switch c.field {
	case fResponsibleID, fAccessList:
		return " (for user names or e-mails, add lookup: user)"
	case fStageID:
		return " (for stage names, add lookup: stage)"
	case fContactID, fMembers:
		return " (for contact names or e-mails, add lookup: contact)"
	}
	return ""
}

// Unchecked lists, for people, what the plan could not check because it was bound without
// a Resolver: the look-up columns and the custom fields given by label. Empty when every
// look-up is resolved.
func (p *Plan) Unchecked() []string {
	return p.unchecked
}
