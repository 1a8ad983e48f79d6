package emulator

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

var bidTypeNames = []string{"FixedBid", "PerHour", "PerDay", "PerWeek", "PerMonth", "PerYear"}

// dealInput is the body of a create or an update once bound to the server's parameter types.
type dealInput struct {
	contactID    int
	members      []int
	title        string
	description  *string
	responsible  string
	bidType      int
	bidValue     string
	currency     string
	perPeriod    int
	stageID      int
	probability  int
	actualClose  time.Time
	expectClose  time.Time
	customFields []customValue
	isPrivate    bool
	accessList   []string
}

type customValue struct {
	id    int
	value string
	set   bool
}

// bindDeal converts the parameters of a create or an update, in the order the server binds
// them; the first value that does not convert is a 400.
func bindDeal(p *params, loc *time.Location) (dealInput, *apiError) {
	var in dealInput
	var err *apiError
	get := func(name string) value { v, _ := p.get(name); return v }
	if in.contactID, _, err = get("contactid").toInt(); err != nil {
		return in, err
	}
	if in.members, err = listOf(p, "members", value.toInt); err != nil {
		return in, err
	}
	if in.title, _, err = get("title").toString(); err != nil {
		return in, err
	}
	desc, present, err := get("description").toString()
	if err != nil {
		return in, err
	}
	if present {
		in.description = &desc
	}
	if in.responsible, _, err = get("responsibleid").toGUID(); err != nil {
		return in, err
	}
	if in.bidType, _, err = get("bidtype").toEnum("BidType", bidTypeNames); err != nil {
		return in, err
	}
	if in.bidValue, _, err = get("bidvalue").toDecimal(); err != nil {
		return in, err
	}
	if in.currency, _, err = get("bidcurrencyabbr").toString(); err != nil {
		return in, err
	}
	if in.perPeriod, _, err = get("perperiodvalue").toInt(); err != nil {
		return in, err
	}
	if in.stageID, _, err = get("stageid").toInt(); err != nil {
		return in, err
	}
	if in.probability, _, err = get("successprobability").toInt(); err != nil {
		return in, err
	}
	if in.actualClose, _, err = get("actualclosedate").toDate(loc); err != nil {
		return in, err
	}
	if in.expectClose, _, err = get("expectedclosedate").toDate(loc); err != nil {
		return in, err
	}
	if v, ok := p.get("customfieldlist"); ok {
		if in.customFields, err = bindCustomFields(v); err != nil {
			return in, err
		}
	}
	if in.isPrivate, _, err = get("isprivate").toBool(); err != nil {
		return in, err
	}
	if in.accessList, err = listOf(p, "accesslist", value.toGUID); err != nil {
		return in, err
	}
	if _, _, err = get("isnotify").toBool(); err != nil {
		return in, err
	}
	return in, nil
}

// bindCustomFields reads [{"key": ID, "value": "text"}, ...] (names in any case) or an
// object {"ID": "text"}. A value of any JSON type is taken as its text: no type check.
func bindCustomFields(v value) ([]customValue, *apiError) {
	if !v.json {
		return nil, nil // no form binding of a dictionary
	}
	var out []customValue
	add := func(key, val value) *apiError {
		id, present, err := key.toInt()
		if err != nil {
			return err
		}
		text, kind, ok := val.scalar()
		if kind == kindOther {
			return notValid(text, "String")
		}
		if present {
			out = append(out, customValue{id: id, value: text, set: ok})
		}
		return nil
	}
	raw := strings.TrimSpace(string(v.raw))
	switch {
	case strings.HasPrefix(raw, "["):
		for _, e := range v.list() {
			obj, err := parseJSONObject(e.raw)
			if err != nil {
				return nil, errArgument("customFieldList: want [{\"key\": id, \"value\": text}]")
			}
			if err := add(obj["key"], obj["value"]); err != nil {
				return nil, err
			}
		}
	case strings.HasPrefix(raw, "{"):
		dec := json.NewDecoder(strings.NewReader(raw))
		_, _ = dec.Token()
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, errArgument("customFieldList: " + err.Error())
			}
			var val json.RawMessage
			if err := dec.Decode(&val); err != nil {
				return nil, errArgument("customFieldList: " + err.Error())
			}
			key, _ := tok.(string)
			if err := add(value{texts: []string{key}}, value{raw: val, json: true}); err != nil {
				return nil, err
			}
		}
	case raw == "null" || raw == `""`:
	default:
		return nil, notValid(raw, "IEnumerable`1")
	}
	return out, nil
}

// checkDeal runs the server's checks in order; the first failure is the answer.
func (s *Server) checkDeal(in dealInput, caller User) *apiError {
	if in.title == "" || in.responsible == "" || in.responsible == emptyGUID || in.stageID <= 0 || in.currency == "" {
		return errGeneric()
	}
	if _, ok := s.stage(in.stageID); !ok {
		return errArgument("Deal milestone is not found")
	}
	if in.contactID != 0 {
		c, ok := s.contact(in.contactID)
		if !ok {
			return errGeneric()
		}
		if !canSeeContact(c, caller) {
			return errDenied()
		}
	}
	if _, ok := s.currency(strings.ToUpper(in.currency)); !ok {
		return errGeneric()
	}
	return nil
}

// applyFields overwrites the fields every create and update sets, with what was sent:
// omitted is reset. The caller holds s.mu.
func (s *Server) applyFields(o *Opportunity, in dealInput) {
	o.Title = storedTitle(in.title)
	o.Description = nil
	if in.description != nil {
		d := *in.description
		o.Description = &d
	}
	o.ContactID = in.contactID
	o.ResponsibleID = in.responsible
	o.BidType = in.bidType
	o.BidValue = cmp.Or(in.bidValue, "0")
	o.BidCurrency = strings.ToUpper(in.currency)
	o.PerPeriodValue = in.perPeriod
	o.StageID = in.stageID
	o.SuccessProbability = min(max(in.probability, 0), 100)
	o.ExpectedCloseDate = in.expectClose
	o.ActualCloseDate = in.actualClose
}

// setMembers replaces the participants with the contacts of ids the caller may see; others
// are dropped without a word.
func (s *Server) setMembers(o *Opportunity, ids []int, caller User) {
	members := []int{}
	for _, id := range ids {
		if c, ok := s.contact(id); ok && canSeeContact(c, caller) && !slices.Contains(members, id) {
			members = append(members, id)
		}
	}
	slices.Sort(members)
	o.Members = members
}

// setAccess is the server's SetAccessToDeal: private with a non-empty list (the caller
// added to it), public otherwise.
func setAccess(o *Opportunity, private bool, list []string, caller User) {
	o.IsPrivate, o.AccessList = false, nil
	if !private || len(list) == 0 {
		return
	}
	o.IsPrivate = true
	for _, g := range append(slices.Clone(list), caller.ID) {
		if !slices.Contains(o.AccessList, g) {
			o.AccessList = append(o.AccessList, g)
		}
	}
}

// setCustomFields sets the values sent for known fields, trimmed; an empty value or an
// unknown id is skipped, so nothing is ever cleared. The caller holds s.mu.
func (s *Server) setCustomFields(o *Opportunity, values []customValue) {
	if o.CustomFields == nil {
		o.CustomFields = map[int]string{}
	}
	for _, cf := range values {
		v := strings.TrimSpace(cf.value)
		if !cf.set || v == "" {
			continue
		}
		if _, ok := s.customField(cf.id); ok {
			o.CustomFields[cf.id] = v
		}
	}
}

// storedTitle is what a varchar(255) column of a 3-byte utf8 MySQL table in non-strict mode
// keeps [inferred]: 4-byte characters become "?", then the first 255 characters.
func storedTitle(t string) string {
	var b strings.Builder
	n := 0
	for _, r := range t {
		if n == 255 {
			break
		}
		if r > 0xFFFF {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

func (s *Server) createDeal(c *call) reply {
	in, err := bindDeal(c.p, s.loc)
	if err != nil {
		return reply{err: err}
	}
	if err := s.checkDeal(in, c.user); err != nil {
		return reply{err: err}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := &Opportunity{ID: s.nextID, CreatedAt: s.now().In(s.loc), CreatedBy: c.user.ID}
	s.nextID++
	s.applyFields(o, in)
	members := slices.Clone(in.members)
	if in.contactID > 0 {
		members = append(members, in.contactID)
	}
	s.setMembers(o, members, c.user)
	setAccess(o, in.isPrivate, in.accessList, c.user)
	s.setCustomFields(o, in.customFields)
	s.store(o)
	return reply{response: s.view(o, c.user)}
}

// updateDeal is the server's UpdateDeal ("What a PUT really does"): the fields are
// overwritten (omitted = reset); members replaced only by a non-empty list; the access list
// set only by an administrator or the deal's creator; custom fields set, never cleared. A
// deal the caller may not see is 404, as a missing one.
func (s *Server) updateDeal(c *call) reply {
	in, err := bindDeal(c.p, s.loc)
	if err != nil {
		return reply{err: err}
	}
	id, _, err := mustGet(c.p, "opportunityid").toInt()
	if err != nil {
		return reply{err: err}
	}
	return s.onDeal(id, c.user, func(o *Opportunity) reply {
		if err := s.checkDeal(in, c.user); err != nil {
			return reply{err: err}
		}
		s.applyFields(o, in)
		if len(in.members) > 0 {
			s.setMembers(o, in.members, c.user)
		}
		if c.user.IsAdmin || o.CreatedBy == c.user.ID {
			setAccess(o, in.isPrivate, in.accessList, c.user)
		}
		s.setCustomFields(o, in.customFields)
		s.modified[o.ID] = s.now().In(s.loc)
		return reply{response: s.view(o, c.user)}
	})
}

func (s *Server) getDeal(c *call) reply {
	id, _, err := mustGet(c.p, "opportunityid").toInt()
	if err != nil {
		return reply{err: err}
	}
	return s.onDeal(id, c.user, func(o *Opportunity) reply { return reply{response: s.view(o, c.user)} })
}

func (s *Server) deleteDeal(c *call) reply {
	id, _, err := mustGet(c.p, "opportunityid").toInt()
	if err != nil {
		return reply{err: err}
	}
	return s.onDeal(id, c.user, func(o *Opportunity) reply {
		s.remove(id)
		return reply{response: s.view(o, c.user)}
	})
}

// deleteDeals is PUT api/2.0/crm/opportunity without an id: it deletes the opportunities
// named by opportunityids (unknown ones ignored) and returns them.
func (s *Server) deleteDeals(c *call) reply {
	ids, err := idList(c.p, "opportunityids")
	if err != nil {
		return reply{err: err}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []dealView{}
	for _, id := range ids {
		if o, ok := s.opps[id]; ok && canSeeDeal(o, c.user) {
			s.remove(id)
			out = append(out, s.view(o, c.user))
		}
	}
	return reply{response: out}
}

func mustGet(p *params, name string) value {
	v, _ := p.get(name)
	return v
}

func errDealNotFound() *apiError { return errNotFound("The opportunity was not found") }

// onDeal runs do, holding s.mu, on the deal id if u may see it; else it is 404.
func (s *Server) onDeal(id int, u User, do func(o *Opportunity) reply) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.visibleDeal(id, u)
	if !ok {
		return reply{err: errDealNotFound()}
	}
	return do(o)
}

// visibleDeal finds the deal id if the caller may see it. The caller holds s.mu.
func (s *Server) visibleDeal(id int, u User) (*Opportunity, bool) {
	o, ok := s.opps[id]
	return o, ok && canSeeDeal(o, u)
}

// canSeeDeal: a public deal, any deal for an administrator, a private one for the users on
// its access list (its creator is on it unless someone took them off).
func canSeeDeal(o *Opportunity, u User) bool {
	return !o.IsPrivate || u.IsAdmin || slices.Contains(o.AccessList, u.ID)
}

func canSeeContact(c Contact, u User) bool {
	return !c.IsPrivate || slices.Contains(c.AccessList, u.ID)
}

const defaultPage = 1000

// dealFilter is what GET crm/opportunity/filter selects by; a has* false is not given.
type dealFilter struct {
	responsible                string
	stageID, contactID         int
	stageType                  int
	from, to                   time.Time
	text                       string
	tags                       []string
	alsoMember                 bool
	hasResp, hasStage, hasType bool
	hasContact, hasDates       bool
}

var stageTypeNames = []string{"Open", "ClosedAndWon", "ClosedAndLost"}

// filterDeals is GET api/2.0/crm/opportunity/filter.
func (s *Server) filterDeals(c *call) reply {
	var f dealFilter
	r := &reader{p: c.p}
	var hasFrom, hasTo bool
	f.responsible, f.hasResp = read(r, "responsibleid", value.toGUID)
	f.stageID, f.hasStage = read(r, "opportunitystagesid", value.toInt)
	f.contactID, f.hasContact = read(r, "contactid", value.toInt)
	f.alsoMember, _ = read(r, "contactalsoisparticipant", value.toBool)
	f.stageType, f.hasType = read(r, "stagetype", func(v value) (int, bool, *apiError) { return v.toEnum("DealMilestoneStatus", stageTypeNames) })
	date := func(v value) (time.Time, bool, *apiError) { return v.toDate(s.loc) }
	f.from, hasFrom = read(r, "fromdate", date)
	f.to, hasTo = read(r, "todate", date)
	f.hasDates = hasFrom && hasTo // one alone selects nothing
	f.text, _ = read(r, "filtervalue", value.toString)
	sortBy, _ := read(r, "sortby", value.toString)
	order, _ := read(r, "sortorder", value.toString)
	if r.err == nil {
		f.tags, r.err = listOf(c.p, "tags", value.toString)
	}
	if r.err != nil {
		return reply{err: r.err}
	}
	start, count, perr := paging(c.p)
	if perr != nil {
		return reply{err: perr}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	by, descending := strings.ToLower(sortBy), strings.EqualFold(order, "descending")
	var page []*Opportunity
	var total int
	if by == "id" && c.user.IsAdmin && f.none() {
		page, total = s.idPage(start, count, descending)
	} else {
		hits := s.hits(f, c.user, by, descending)
		page, total = pageOf(hits, start, count), len(hits)
	}
	out := make([]dealView, 0, len(page))
	for _, o := range page {
		v := s.view(o, c.user)
		if !o.IsPrivate {
			v.AccessList = nil // a list shows the access list of private deals only
		}
		out = append(out, v)
	}
	return pagedReply(out, start, len(page), total)
}

// hits is every deal u sees that f selects, in the order by names (descending: the other
// way round), the answer before its paging. The caller holds s.mu.
func (s *Server) hits(f dealFilter, u User, by string, descending bool) []*Opportunity {
	var hits []*Opportunity
	for _, id := range s.order {
		if o := s.opps[id]; o != nil && canSeeDeal(o, u) && s.selects(f, o) {
			hits = append(hits, o)
		}
	}
	// hits are in id order: a stable sort leaves ties so.
	if compare := s.dealOrder(by); compare != nil {
		slices.SortStableFunc(hits, compare)
	}
	if descending {
		slices.Reverse(hits)
	}
	return hits
}

// none reports whether f selects every deal.
func (f dealFilter) none() bool {
	return !f.hasResp && !f.hasStage && !f.hasContact && !f.hasType && !f.hasDates && f.text == "" && len(f.tags) == 0
}

// selects reports whether f selects o. The caller holds s.mu.
func (s *Server) selects(f dealFilter, o *Opportunity) bool {
	switch {
	case f.hasResp && o.ResponsibleID != f.responsible,
		f.hasStage && o.StageID != f.stageID,
		f.hasContact && o.ContactID != f.contactID && !(f.alsoMember && slices.Contains(o.Members, f.contactID)),
		f.hasDates && (o.ExpectedCloseDate.Before(f.from) || o.ExpectedCloseDate.After(f.to)):
		return false
	}
	if f.hasType {
		if st, _ := s.stage(o.StageID); st.StageType != f.stageType {
			return false
		}
	}
	if f.text != "" && !wordPrefixMatch(f.text, o.Title, deref(o.Description)) {
		return false
	}
	return !slices.ContainsFunc(f.tags, func(t string) bool { return !hasTag(o, t) })
}

// idPage is the page of every deal in id order, as an administrator, who sees them all,
// gets it unfiltered: read straight off s.order, without a pass over the portal, so that
// paging through it all costs each page its own length. The caller holds s.mu.
func (s *Server) idPage(start, count int, descending bool) ([]*Opportunity, int) {
	if len(s.order) != len(s.opps) { // deleted ones are still in it
		s.order = slices.DeleteFunc(s.order, func(id int) bool { return s.opps[id] == nil })
	}
	n := len(s.order)
	if start >= n {
		return nil, n
	}
	page := make([]*Opportunity, 0, min(count, n-start))
	for i := start; i < min(start+count, n); i++ {
		if descending {
			page = append(page, s.opps[s.order[n-1-i]])
		} else {
			page = append(page, s.opps[s.order[i]])
		}
	}
	return page, n
}

// dealOrder compares by a sortBy name; the default is the stage's sort order; nil for id.
func (s *Server) dealOrder(by string) func(a, b *Opportunity) int {
	switch by {
	case "title":
		return func(a, b *Opportunity) int {
			return strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title))
		}
	case "responsible":
		return func(a, b *Opportunity) int {
			return strings.Compare(strings.ToLower(s.userName(a.ResponsibleID)), strings.ToLower(s.userName(b.ResponsibleID)))
		}
	case "bidvalue":
		return func(a, b *Opportunity) int {
			x, _ := strconv.ParseFloat(a.BidValue, 64)
			y, _ := strconv.ParseFloat(b.BidValue, 64)
			return cmp.Compare(x, y)
		}
	case "dateandtime":
		return func(a, b *Opportunity) int { return a.ExpectedCloseDate.Compare(b.ExpectedCloseDate) }
	case "id":
		return nil // the order they are kept in
	default:
		return func(a, b *Opportunity) int {
			x, _ := s.stage(a.StageID)
			y, _ := s.stage(b.StageID)
			return x.SortOrder - y.SortOrder
		}
	}
}

// paging reads count and startIndex, from the query only: count defaults to and is capped
// at 1000.
func paging(p *params) (start, count int, err *apiError) {
	if v, ok := p.getQuery("startindex"); ok {
		if start, _, err = v.toInt(); err != nil {
			return 0, 0, err
		}
	}
	if v, ok := p.getQuery("count"); ok {
		if count, _, err = v.toInt(); err != nil {
			return 0, 0, err
		}
	}
	start = max(start, 0)
	if count <= 0 || count > defaultPage {
		count = defaultPage
	}
	return start, count, nil
}

func pageOf[T any](all []T, start, count int) []T {
	if start >= len(all) {
		return nil
	}
	return all[start:min(start+count, len(all))]
}

// pagedReply sets total and, when more rows follow, nextIndex: one past where the next page
// really starts, as the server's off-by-one has it (page with startIndex += count instead).
func pagedReply[T any](page []T, start, n, total int) reply {
	rep := reply{response: page, start: start, total: total}
	if start+n < total {
		rep.next = start + n + 1
	}
	return rep
}

// wordPrefixMatch: every word of query starts some word of one of the texts (any case).
func wordPrefixMatch(query string, texts ...string) bool {
	words := strings.FieldsFunc(strings.ToLower(strings.Join(texts, " ")), isSeparator)
	for _, q := range strings.FieldsFunc(strings.ToLower(query), isSeparator) {
		found := false
		for _, w := range words {
			if strings.HasPrefix(w, q) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func isSeparator(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == ';' }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// The shapes the API answers with (camelCase).

type userView struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Title       string `json:"title,omitempty"`
	AvatarSmall string `json:"avatarSmall"`
	ProfileURL  string `json:"profileUrl"`
}

type stageView struct {
	ID                 int    `json:"id"`
	Title              string `json:"title"`
	Description        string `json:"description"`
	Color              string `json:"color"`
	SuccessProbability int    `json:"successProbability"`
	StageType          int    `json:"stageType"`
	SortOrder          int    `json:"sortOrder"`
}

type currencyView struct {
	Title         string `json:"title"`
	Symbol        string `json:"symbol"`
	Abbreviation  string `json:"abbreviation"`
	CultureName   string `json:"cultureName"`
	IsConvertable bool   `json:"isConvertable"`
	IsBasic       bool   `json:"isBasic"`
}

type customFieldView struct {
	ID         int     `json:"id"`
	EntityID   int     `json:"entityId"`
	Label      string  `json:"label"`
	FieldValue *string `json:"fieldValue"`
	FieldType  int     `json:"fieldType"`
	Position   int     `json:"position"`
	Mask       string  `json:"mask"`
}

type dealView struct {
	ID                 int               `json:"id"`
	CreateBy           userView          `json:"createBy"`
	Created            string            `json:"created"`
	Members            []contactView     `json:"members"`
	Contact            *contactView      `json:"contact,omitempty"`
	Title              string            `json:"title"`
	Description        *string           `json:"description,omitempty"`
	Responsible        userView          `json:"responsible"`
	BidType            int               `json:"bidType,omitempty"`
	BidValue           json.Number       `json:"bidValue,omitempty"`
	BidCurrency        *currencyView     `json:"bidCurrency,omitempty"`
	PerPeriodValue     int               `json:"perPeriodValue,omitempty"`
	Stage              stageView         `json:"stage"`
	SuccessProbability int               `json:"successProbability,omitempty"`
	ActualCloseDate    string            `json:"actualCloseDate"`
	ExpectedCloseDate  string            `json:"expectedCloseDate"`
	IsPrivate          bool              `json:"isPrivate"`
	AccessList         any               `json:"accessList,omitempty"` // []userView; nil = left out
	CanEdit            bool              `json:"canEdit"`
	CustomFields       []customFieldView `json:"customFields"`
}

// view is the API shape of o for the caller u, as GET crm/opportunity/{id} shows it. The
// caller holds s.mu.
func (s *Server) view(o *Opportunity, u User) dealView {
	v := dealView{
		ID:                 o.ID,
		CreateBy:           s.userView(o.CreatedBy),
		Created:            formatAPIDate(o.CreatedAt, s.loc),
		Members:            []contactView{},
		Title:              o.Title,
		Description:        o.Description,
		Responsible:        s.userView(o.ResponsibleID),
		BidType:            o.BidType,
		PerPeriodValue:     o.PerPeriodValue,
		SuccessProbability: o.SuccessProbability,
		ActualCloseDate:    formatAPIDate(o.ActualCloseDate, s.loc),
		ExpectedCloseDate:  formatAPIDate(o.ExpectedCloseDate, s.loc),
		IsPrivate:          o.IsPrivate,
		CanEdit:            true,
		CustomFields:       []customFieldView{},
	}
	if o.BidValue != "0" {
		v.BidValue = json.Number(o.BidValue)
	}
	for _, id := range o.Members {
		if c, ok := s.contact(id); ok {
			v.Members = append(v.Members, s.contactView(c, u))
		}
	}
	if c, ok := s.contact(o.ContactID); ok {
		cv := s.contactView(c, u)
		v.Contact = &cv
	}
	if cur, ok := s.currency(o.BidCurrency); ok {
		cv := viewCurrency(cur)
		v.BidCurrency = &cv
	}
	if st, ok := s.stage(o.StageID); ok {
		v.Stage = viewStage(st)
	}
	access := []userView{}
	for _, id := range o.AccessList {
		access = append(access, s.userView(id))
	}
	v.AccessList = access
	if s.opts.EncodeTitles {
		v.Title = htmlEncode(o.Title)
	}
	for _, f := range s.customFields {
		if val, ok := o.CustomFields[f.ID]; ok {
			fv := viewCustomField(f, o.ID)
			fv.FieldValue = &val
			v.CustomFields = append(v.CustomFields, fv)
		}
	}
	return v
}

// userView is the short user shape; an unknown id shows as the removed profile.
func (s *Server) userView(id string) userView {
	u, ok := s.userByID(id)
	if !ok {
		return userView{ID: lostUserID, DisplayName: lostUserName, AvatarSmall: "/skins/default/images/default_user_photo_size_32-32.png",
			ProfileURL: ""}
	}
	return userView{ID: u.ID, DisplayName: htmlEncode(u.DisplayName()), Title: u.Title,
		AvatarSmall: "/skins/default/images/default_user_photo_size_32-32.png",
		ProfileURL:  "/Products/People/Profile.aspx?user=" + u.UserName}
}

func (s *Server) userName(id string) string {
	if u, ok := s.userByID(id); ok {
		return u.DisplayName()
	}
	return lostUserName
}

func viewStage(st Stage) stageView {
	return stageView(st)
}

func viewCurrency(c Currency) currencyView {
	return currencyView{Title: c.Title, Symbol: c.Symbol, Abbreviation: c.Abbreviation, CultureName: c.CultureName,
		IsConvertable: c.IsConvertable, IsBasic: c.IsBasic}
}

func viewCustomField(f CustomField, entityID int) customFieldView {
	return customFieldView{ID: f.ID, EntityID: entityID, Label: f.Label, FieldType: f.FieldType, Position: f.Position, Mask: f.Mask}
}

func (s *Server) stage(id int) (Stage, bool) {
	return first(s.stages, func(st Stage) bool { return st.ID == id })
}

func (s *Server) contact(id int) (Contact, bool) {
	return first(s.contacts, func(c Contact) bool { return c.ID == id })
}

func (s *Server) currency(abbr string) (Currency, bool) {
	return first(s.currencies, func(c Currency) bool { return c.Abbreviation == abbr })
}

func (s *Server) customField(id int) (CustomField, bool) {
	return first(s.customFields, func(f CustomField) bool { return f.ID == id })
}

// first is the first of xs that match accepts.
func first[T any](xs []T, match func(T) bool) (T, bool) {
	if i := slices.IndexFunc(xs, match); i >= 0 {
		return xs[i], true
	}
	var zero T
	return zero, false
}

// htmlEncode is .NET's WebUtility.HtmlEncode: < > & " ' as entities, and the characters
// U+00A0..U+00FF and those beyond U+FFFF as numeric entities.
func htmlEncode(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\'':
			b.WriteString("&#39;")
		case r >= 0xA0 && r <= 0xFF || r > 0xFFFF && r != utf8.RuneError:
			b.WriteString("&#" + strconv.Itoa(int(r)) + ";")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
