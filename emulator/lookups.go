package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"slices"
	"strings"
	"time"
)

const (
	maxLoginFailures = 5
	loginWindow      = 60 * time.Second
	tokenLifetime    = 365 * 24 * time.Hour
)

type tokenView struct {
	Token   *string `json:"token"`
	Expires string  `json:"expires,omitempty"`
	TFA     bool    `json:"tfa,omitempty"`
}

// newToken is a random API token.
func newToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// login is POST api/2.0/authentication: userName (login or e-mail) and password. More than
// 5 failures in 60 s for one login from one address block that pair while they last.
func (s *Server) login(c *call) reply {
	r := &reader{p: c.p}
	name, _ := read(r, "username", value.toString)
	pass, _ := read(r, "password", value.toString)
	if r.err != nil {
		return reply{err: r.err}
	}
	ip, _, splitErr := net.SplitHostPort(c.r.RemoteAddr)
	if splitErr != nil {
		ip = c.r.RemoteAddr
	}
	key := strings.ToLower(name) + "|" + ip
	now := s.now()

	s.mu.Lock()
	defer s.mu.Unlock()
	recent := slices.DeleteFunc(s.failures[key], func(t time.Time) bool { return now.Sub(t) >= loginWindow })
	s.failures[key] = recent
	if len(recent) >= maxLoginFailures {
		return reply{err: errServer("Login Fail. Too many attempts")}
	}
	u, ok := s.userByLogin(name)
	if !ok || name == "" || u.Password != pass {
		s.failures[key] = append(recent, now)
		return reply{err: errServer("User authentication failed")}
	}
	delete(s.failures, key)
	if u.TwoFactor {
		return reply{response: tokenView{TFA: true}}
	}
	tok := newToken()
	expires := now.Add(tokenLifetime)
	s.issued[tok] = issuedToken{userID: u.ID, expires: expires}
	return reply{response: tokenView{Token: &tok, Expires: formatAPIDate(expires, s.loc)}}
}

func (s *Server) listStages(*call) reply {
	out := make([]stageView, 0, len(s.stages))
	for _, st := range s.stages {
		out = append(out, viewStage(st))
	}
	return reply{response: out}
}

func (s *Server) listCurrencies(*call) reply {
	out := make([]currencyView, 0, len(s.currencies))
	for _, c := range s.currencies {
		out = append(out, viewCurrency(c))
	}
	return reply{response: out}
}

type contactInfoView struct {
	ID        int    `json:"id"`
	InfoType  int    `json:"infoType"`
	Category  int    `json:"category"`
	Data      string `json:"data"`
	IsPrimary bool   `json:"isPrimary"`
}

type contactView struct {
	ID            int               `json:"id"`
	DisplayName   string            `json:"displayName"`
	IsCompany     bool              `json:"isCompany"`
	FirstName     string            `json:"firstName,omitempty"`
	LastName      string            `json:"lastName,omitempty"`
	CompanyName   string            `json:"companyName,omitempty"`
	Company       *contactRef       `json:"company,omitempty"`
	CommonData    []contactInfoView `json:"commonData"`
	IsPrivate     bool              `json:"isPrivate"`
	IsShared      bool              `json:"isShared"`
	ShareType     int               `json:"shareType"`
	AccessList    []userView        `json:"accessList,omitempty"`
	CanEdit       bool              `json:"canEdit"`
	CanDelete     bool              `json:"canDelete"`
	SmallFotoURL  string            `json:"smallFotoUrl"`
	MediumFotoURL string            `json:"mediumFotoUrl"`
}

type contactRef struct {
	ID          int    `json:"id"`
	DisplayName string `json:"displayName"`
}

const emailInfoType = 1

var infoTypeNames = []string{"Phone", "Email", "Website", "Skype", "Twitter", "LinkedIn", "Facebook", "Address",
	"LiveJournal", "MySpace", "GMail", "Blogger", "Yahoo", "MSN", "ICQ", "Jabber", "AIM", "VK"}

func (s *Server) contactView(c Contact, u User) contactView {
	v := contactView{
		ID: c.ID, DisplayName: c.DisplayName(), IsCompany: c.IsCompany,
		FirstName: c.FirstName, LastName: c.LastName, CompanyName: c.CompanyName,
		CommonData: []contactInfoView{}, IsPrivate: c.IsPrivate,
		CanEdit: canSeeContact(c, u), CanDelete: canSeeContact(c, u),
		SmallFotoURL:  "/skins/default/images/empty_people_logo_40_40.png",
		MediumFotoURL: "/skins/default/images/empty_people_logo_82_82.png",
	}
	if co, ok := s.contact(c.CompanyID); ok && c.CompanyID != 0 {
		v.Company = &contactRef{ID: co.ID, DisplayName: co.DisplayName()}
	}
	if c.Email != "" {
		v.CommonData = append(v.CommonData, contactInfoView{ID: c.ID * 10, InfoType: emailInfoType, Data: c.Email, IsPrimary: true})
	}
	for _, id := range c.AccessList {
		v.AccessList = append(v.AccessList, s.userView(id))
	}
	return v
}

func (s *Server) getContact(c *call) reply {
	id, _, err := mustGet(c.p, "contactid").toInt()
	if err != nil {
		return reply{err: err}
	}
	ct, ok := s.contact(id)
	if !ok {
		return reply{err: errNotFound("The contact was not found")}
	}
	if !canSeeContact(ct, c.user) {
		return reply{err: errDenied()}
	}
	return reply{response: s.contactView(ct, c.user)}
}

// filterContacts is GET api/2.0/crm/contact/filter: word-prefix match of filterValue on the
// display name, paged.
func (s *Server) filterContacts(c *call) reply {
	text, _, err := mustGet(c.p, "filtervalue").toString()
	if err != nil {
		return reply{err: err}
	}
	start, count, err := paging(c.p)
	if err != nil {
		return reply{err: err}
	}
	var hits []Contact
	for _, ct := range s.contacts {
		if canSeeContact(ct, c.user) && (text == "" || wordPrefixMatch(text, ct.DisplayName())) {
			hits = append(hits, ct)
		}
	}
	page := pageOf(hits, start, count)
	out := make([]contactView, 0, len(page))
	for _, ct := range page {
		out = append(out, s.contactView(ct, c.user))
	}
	return pagedReply(out, start, len(page), len(hits))
}

// contactsByInfo is GET api/2.0/crm/contact/bycontactinfo: contacts whose contact information
// of infoType contains data (any case).
func (s *Server) contactsByInfo(c *call) reply {
	r := &reader{p: c.p}
	typ, hasType := read(r, "infotype", func(v value) (int, bool, *apiError) { return v.toEnum("ContactInfoType", infoTypeNames) })
	data, _ := read(r, "data", value.toString)
	if r.err != nil {
		return reply{err: r.err}
	}
	if !hasType || data == "" {
		return reply{err: errGeneric()}
	}
	out := []contactView{}
	for _, ct := range s.contacts {
		if typ == emailInfoType && canSeeContact(ct, c.user) && ct.Email != "" &&
			strings.Contains(strings.ToLower(ct.Email), strings.ToLower(data)) {
			out = append(out, s.contactView(ct, c.user))
		}
	}
	return reply{response: out}
}

type personView struct {
	ID               string `json:"id"`
	UserName         string `json:"userName"`
	FirstName        string `json:"firstName"`
	LastName         string `json:"lastName"`
	Email            string `json:"email"`
	DisplayName      string `json:"displayName"`
	Title            string `json:"title,omitempty"`
	Status           int    `json:"status"`
	ActivationStatus int    `json:"activationStatus"`
	IsAdmin          bool   `json:"isAdmin"`
	AvatarSmall      string `json:"avatarSmall"`
	ProfileURL       string `json:"profileUrl"`
}

func (s *Server) personView(u User) personView {
	uv := s.userView(u.ID)
	return personView{ID: u.ID, UserName: u.UserName, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email,
		DisplayName: uv.DisplayName, Title: u.Title, Status: 1, ActivationStatus: 1, IsAdmin: u.IsAdmin,
		AvatarSmall: uv.AvatarSmall, ProfileURL: uv.ProfileURL}
}

func (s *Server) listPeople(c *call) reply {
	return s.people(c, func(User) bool { return true })
}

// filterPeople is GET api/2.0/people/filter: filterValue found (any case) in the name,
// the user name or the e-mail.
func (s *Server) filterPeople(c *call) reply {
	text, _, err := mustGet(c.p, "filtervalue").toString()
	if err != nil {
		return reply{err: err}
	}
	text = strings.ToLower(text)
	return s.people(c, func(u User) bool {
		return text == "" || strings.Contains(strings.ToLower(u.DisplayName()+" "+u.UserName+" "+u.Email), text)
	})
}

func (s *Server) people(c *call, keep func(User) bool) reply {
	start, count, err := paging(c.p)
	if err != nil {
		return reply{err: err}
	}
	var hits []User
	for _, u := range s.users {
		if keep(u) {
			hits = append(hits, u)
		}
	}
	page := pageOf(hits, start, count)
	out := make([]personView, 0, len(page))
	for _, u := range page {
		out = append(out, s.personView(u))
	}
	return pagedReply(out, start, len(page), len(hits))
}

// personByEmail is GET api/2.0/people/email?email=: exact match in any case.
func (s *Server) personByEmail(c *call) reply {
	email, _, err := mustGet(c.p, "email").toString()
	if err != nil {
		return reply{err: err}
	}
	for _, u := range s.users {
		if email != "" && strings.EqualFold(u.Email, strings.TrimSpace(email)) {
			return reply{response: s.personView(u)}
		}
	}
	return reply{err: errNotFound("User not found")}
}
