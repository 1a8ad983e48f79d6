// Package emulator is a local ONLYOFFICE CRM portal: the endpoints oppimport uses, with the
// real server's parameter binding, validation order, error bodies and response shapes as
// ../shared/ONLYOFFICE_API.md describes them, an in-memory store, seeded users, contacts,
// stages, currencies and custom fields, and faults on demand (latency, rate limit, failures,
// dropped connections, proxies and gateways answering in HTML). It is an independent reading
// of the server: it shares no code with the client, or it would test nothing.
//
// Users and rights: every seeded user can log in (or be given a token by TokenFor) and acts
// with its own rights. Administrators (the Options token's user unless Options.NotAdmin, and
// Viktor Petrov) see every deal and may create custom fields; anyone else sees public deals
// and the private ones whose access list names them, and a deal they may not see answers
// 404 everywhere and is left out of lists, exactly as a deleted one. Edit changes a deal as
// a user does in the web UI, for tests of what portal users do between two runs.
//
// Faults: Latency delays every request. The others apply to every request except POST
// api/2.0/authentication (logging in is never refused or failed on purpose), in the order a
// request meets them on its way in: HTMLRate (an SSO gateway in front of the portal answers
// 200 with its login page; nothing reaches the portal), RateLimit, FailRate (the portal
// answers 500 without acting), then the portal acts, then DropRate (successful creates and
// updates of opportunities only: the connection is dropped unanswered) and GatewayRate (a
// reverse proxy gave up waiting and answers 502 or 504 with its own HTML page, the portal's
// work done). One seeded die serves them all: the same Seed and request order give the same
// faults, and a fault whose rate is 0 throws no die, so adding one leaves the others' draws
// as they were.
package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. The zero value is a well-behaved portal in UTC whose token
// belongs to an administrator.
type Options struct {
	Token     string        // the API token accepted for the first seeded user; "" = a random one
	Latency   time.Duration // added to every request
	RateLimit float64       // requests per second allowed; 0 = unlimited; over it: 503 + Retry-After: 1
	FailRate  float64       // share of requests answered 500 without being applied, 0..1
	DropRate  float64       // share of successful creates and updates applied, then dropped unanswered
	Seed      int64         // seed of the fault dice; the same seed and request order give the same faults
	// Location is the portal's time zone: dates sent without a zone are read in it and every
	// date is written in it. nil = UTC.
	Location *time.Location
	// RateLimitStatus is the status of a refused request; 0 = 503 (what the server sends).
	// 429 emulates a proxy in front of the portal.
	RateLimitStatus int
	// GatewayRate is the share of requests a reverse proxy answers 502 or 504 with an HTML
	// page after the portal has acted on them (created, changed or deleted), 0..1.
	GatewayRate float64
	// HTMLRate is the share of requests an SSO gateway whose session expired answers 200 with
	// an HTML login page, passing nothing on to the portal, 0..1.
	HTMLRate float64
	// ProxyRoutes, when not empty, aims GatewayRate and HTMLRate at these routes only,
	// named as Stats.ByRoute names them ("POST crm/opportunity", "PUT crm/opportunity/{id}",
	// "DELETE crm/opportunity/{id}"): the other requests pass the proxy untouched.
	ProxyRoutes []string
	// CountPaths makes Stats.ByPath count requests by method and path, ids included ("PUT
	// crm/opportunity/17"): off by default, as a benchmark's million requests would fill it.
	CountPaths bool
	// NotAdmin makes the Options token's user (the first seeded user) an ordinary portal
	// user instead of an administrator: custom field creation is refused (403), private deals
	// without the user on their access list are invisible (404), and a PUT leaves the access
	// list of deals the user did not create alone.
	NotAdmin bool
	// EncodeTitles makes the portal echo opportunity titles HTML-encoded (& as &amp;, ' as
	// &#39;, and so on) in every answer, as some portals have been seen to do. Nothing in
	// ONLYOFFICE_API.md says the server encodes titles (it says so of users' displayName
	// only), so it is off by default; tests turn it on to prove a client decodes what it
	// compares. The store keeps the title as sent either way.
	EncodeTitles bool
}

// Opportunity is a deal as the portal stores it (not as the API shows it).
type Opportunity struct {
	ID                 int
	Title              string  // as stored: cut to 255 characters, 4-byte characters as "?"
	Description        *string // nil = none
	ContactID          int     // 0 = none
	Members            []int   // known contact ids, the contact included
	ResponsibleID      string  // as sent (dashed lower case), even when no such user exists
	BidType            int     // 0..5 by name, any number as sent
	BidValue           string  // canonical decimal: "1234.5", "-3", "0" when omitted
	BidCurrency        string  // upper case
	PerPeriodValue     int
	StageID            int
	SuccessProbability int       // clamped to 0..100
	ExpectedCloseDate  time.Time // zero = unset; in the portal's time zone
	ActualCloseDate    time.Time
	IsPrivate          bool
	AccessList         []string       // user ids; empty when public
	CustomFields       map[int]string // field id -> trimmed value
	CreatedAt          time.Time      // set on create, or by PUT crm/opportunity/{id}/creationdate
	CreatedBy          string         // user id
	Tags               []string       // tag names as first spelled on the portal, in the order added
}

// Stats counts the requests a Server has seen since New or Reset.
type Stats struct {
	Total    int            // every request received
	ByRoute  map[string]int // by method and route pattern, e.g. "POST crm/opportunity", "GET crm/opportunity/{id}"
	ByPath   map[string]int // by method and path, e.g. "PUT crm/opportunity/17"; only with Options.CountPaths
	ByStatus map[int]int    // by the status answered (dropped requests have none)
	Refused  int            // refused by the rate limit
	Failed   int            // answered 500 by FailRate
	Dropped  int            // applied, then the connection dropped by DropRate
	Gateway  int            // applied, then answered 502 or 504 with HTML by GatewayRate
	HTML     int            // answered 200 with an HTML login page by HTMLRate, not applied
}

// Server is the emulated portal. Its methods are safe for concurrent use.
type Server struct {
	opts    Options
	loc     *time.Location
	handler http.Handler
	now     func() time.Time

	mu           sync.Mutex
	token        string
	tokenExpired bool
	issued       map[string]issuedToken
	failures     map[string][]time.Time // login failures by login+IP
	opps         map[int]*Opportunity
	order        []int // ids in creation order, so ascending; deleted ones are skipped
	nextID       int
	modified     map[int]time.Time // last modification of each opportunity
	tags         []string          // every opportunity tag the portal knows, first spelling
	nextFieldID  int
	stats        Stats
	rng          *mrand.Rand
	window       []time.Time // accepted requests in the rate-limit window

	users        []User
	contacts     []Contact
	stages       []Stage
	currencies   []Currency
	customFields []CustomField

	closing   chan struct{}
	closeOnce sync.Once
	srv       *http.Server
	url       string
	served    chan struct{}
}

type issuedToken struct {
	userID  string
	expires time.Time
}

// New returns a portal holding the seed data and no opportunities.
func New(opts Options) *Server {
	s := &Server{
		opts:         opts,
		loc:          opts.Location,
		now:          time.Now,
		users:        seedUsers(),
		contacts:     seedContacts(),
		stages:       seedStages(),
		currencies:   seedCurrencies(),
		customFields: seedCustomFields(),
		closing:      make(chan struct{}),
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if opts.NotAdmin {
		s.users[0].IsAdmin = false
	}
	if opts.Token == "" {
		s.opts.Token = newToken()
	}
	s.handler = http.HandlerFunc(s.serve)
	s.Reset()
	return s
}

// Reset empties the store (opportunities, tags, custom fields beyond the seeded ones), forgets logins, issued tokens and statistics, makes the
// Options token valid again and restarts the fault dice from the seed.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = s.opts.Token
	s.tokenExpired = false
	s.issued = map[string]issuedToken{}
	s.failures = map[string][]time.Time{}
	s.opps = map[int]*Opportunity{}
	s.order = nil
	s.nextID = 1
	s.modified = map[int]time.Time{}
	s.tags = nil
	s.customFields = seedCustomFields()
	s.nextFieldID = 1
	for _, f := range s.customFields {
		s.nextFieldID = max(s.nextFieldID, f.ID+1)
	}
	s.stats = Stats{ByRoute: map[string]int{}, ByStatus: map[int]int{}, ByPath: map[string]int{}}
	seed := uint64(s.opts.Seed)
	s.rng = mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s.window = nil
}

// store adds a new opportunity. The caller holds s.mu.
func (s *Server) store(o *Opportunity) {
	s.opps[o.ID] = o
	s.order = append(s.order, o.ID)
	s.modified[o.ID] = o.CreatedAt
}

// remove deletes an opportunity. The caller holds s.mu.
func (s *Server) remove(id int) {
	delete(s.opps, id)
	delete(s.modified, id)
	if len(s.order) > 64 && len(s.order) > 2*len(s.opps) {
		s.order = slices.DeleteFunc(s.order, func(id int) bool { return s.opps[id] == nil })
	}
}

// Handler serves the portal's API, for httptest.NewServer.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves in a goroutine until
// Close. It returns the base URL, such as http://127.0.0.1:41234.
func (s *Server) Start(addr string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return "", errors.New("emulator: already started")
	}
	select {
	case <-s.closing:
		return "", errors.New("emulator: closed")
	default:
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("emulator: %w", err)
	}
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + ln.Addr().String()
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln)
	}()
	return s.url, nil
}

// URL is the base URL Start listens on; "" before Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops the server: requests waiting out their latency are cut off, the others
// finish (for at most 5 s), and Close returns when the serving goroutine has exited.
// Later calls do nothing; a closed Server cannot Start again.
func (s *Server) Close() error {
	first := false
	s.closeOnce.Do(func() { close(s.closing); first = true })
	s.mu.Lock()
	srv, served := s.srv, s.served
	s.mu.Unlock()
	if srv == nil || !first {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		err = srv.Close()
	}
	<-served
	return err
}

// Token is the API token currently accepted for the first seeded user.
func (s *Server) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// SetToken replaces the API token of the first seeded user: the old one stops working.
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
	s.tokenExpired = false
}

// ExpireToken makes every token refused (401) from now on: the Options token and those
// issued by POST api/2.0/authentication. Logging in again, SetToken or Reset make new ones.
func (s *Server) ExpireToken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenExpired = true
	s.issued = map[string]issuedToken{}
}

// Opportunities returns copies of the stored opportunities, sorted by id.
func (s *Server) Opportunities() []Opportunity {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Opportunity, 0, len(s.opps))
	for _, o := range s.opps {
		out = append(out, o.clone())
	}
	slices.SortFunc(out, func(a, b Opportunity) int { return a.ID - b.ID })
	return out
}

// Stats returns a copy of the request counts.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ByRoute = make(map[string]int, len(s.stats.ByRoute))
	for k, v := range s.stats.ByRoute {
		st.ByRoute[k] = v
	}
	st.ByPath = maps.Clone(s.stats.ByPath)
	st.ByStatus = make(map[int]int, len(s.stats.ByStatus))
	for k, v := range s.stats.ByStatus {
		st.ByStatus[k] = v
	}
	return st
}

// Users returns the seeded users; the first one owns the Options token.
func (s *Server) Users() []User { return slices.Clone(s.users) }

// Contacts returns the seeded contacts, the private one (invisible to the first user) included.
func (s *Server) Contacts() []Contact { return slices.Clone(s.contacts) }

// Stages returns the deal milestones.
func (s *Server) Stages() []Stage { return slices.Clone(s.stages) }

// Currencies returns the currency list, sorted by abbreviation.
func (s *Server) Currencies() []Currency { return slices.Clone(s.currencies) }

// CustomFields returns the opportunity custom field definitions, those created through the
// API included.
func (s *Server) CustomFields() []CustomField {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.customFields)
}

func (o *Opportunity) clone() Opportunity {
	c := *o
	c.Members = slices.Clone(o.Members)
	c.AccessList = slices.Clone(o.AccessList)
	c.Tags = slices.Clone(o.Tags)
	if o.Description != nil {
		d := *o.Description
		c.Description = &d
	}
	c.CustomFields = make(map[int]string, len(o.CustomFields))
	for k, v := range o.CustomFields {
		c.CustomFields[k] = v
	}
	return c
}

// apiError is an error answer: an HTTP status with the JSON error envelope.
type apiError struct {
	status  int
	message string
	hresult int
}

const (
	hresultArgument  = -2147024809 // System.ArgumentException
	hresultException = -2146233088 // System.Exception
	hresultSecurity  = -2146233078 // System.Security.SecurityException
	msgArgument      = "Value does not fall within the expected range."
)

func errArgument(msg string) *apiError { return &apiError{http.StatusBadRequest, msg, hresultArgument} }
func errGeneric() *apiError            { return errArgument(msgArgument) }
func errNotFound(msg string) *apiError { return &apiError{http.StatusNotFound, msg, hresultException} }
func errDenied() *apiError {
	return &apiError{http.StatusForbidden, "Access Denied", hresultSecurity}
}
func errServer(msg string) *apiError {
	return &apiError{http.StatusInternalServerError, msg, hresultException}
}

// reply is a handler's answer before it is written.
type reply struct {
	status   int // 0 = 201 for POST, 200 otherwise
	response any
	err      *apiError
	start    int
	total    int
	next     int
}

// call is one authenticated request.
type call struct {
	r    *http.Request
	p    *params
	user User
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rt, vals := match(r.Method, r.URL.Path)
	name := "(unknown)"
	if rt != nil {
		name = rt.name
	}
	s.mu.Lock()
	s.stats.Total++
	s.stats.ByRoute[r.Method+" "+name]++
	if s.opts.CountPaths {
		s.stats.ByPath[r.Method+" "+apiPath(r.URL.Path)]++
	}
	s.mu.Unlock()

	if d := s.opts.Latency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			panic(http.ErrAbortHandler) // the client has gone: nobody to answer
		case <-s.closing:
			t.Stop()
			panic(http.ErrAbortHandler)
		}
	}
	if rt == nil {
		s.write(w, r, reply{err: errNotFound("Method not found: " + r.Method + " " + r.URL.Path)})
		return
	}
	c := &call{r: r}
	proxied := !rt.public && (len(s.opts.ProxyRoutes) == 0 || slices.Contains(s.opts.ProxyRoutes, r.Method+" "+name))
	if !rt.public {
		if proxied && s.roll(&s.opts.HTMLRate, func(st *Stats) { st.HTML++ }) {
			s.writeHTML(w, http.StatusOK, loginPage)
			return
		}
		if s.refuse() {
			status := s.opts.RateLimitStatus
			if status == 0 {
				status = http.StatusServiceUnavailable
			}
			w.Header().Set("Retry-After", "1")
			s.write(w, r, reply{err: &apiError{status, "Portal is busy: too many requests, try again later", hresultException}})
			return
		}
		u, ok := s.authenticate(r)
		if !ok {
			s.unauthorized(w, r)
			return
		}
		c.user = u
		if s.roll(&s.opts.FailRate, func(st *Stats) { st.Failed++ }) {
			s.write(w, r, reply{err: errServer("Internal server error (emulated fault)")})
			return
		}
	}
	p, perr := readParams(r, vals)
	if perr != nil {
		s.write(w, r, reply{err: perr})
		return
	}
	c.p = p
	rep := rt.handle(s, c)
	if rt.drops && rep.err == nil && s.roll(&s.opts.DropRate, func(st *Stats) { st.Dropped++ }) {
		dropConnection(w)
		return
	}
	if proxied && s.roll(&s.opts.GatewayRate, func(st *Stats) { st.Gateway++ }) {
		status, page := http.StatusBadGateway, badGatewayPage
		if half := 0.5; s.roll(&half, func(*Stats) {}) {
			status, page = http.StatusGatewayTimeout, gatewayTimeoutPage
		}
		s.writeHTML(w, status, page)
		return
	}
	s.write(w, r, rep)
}

// refuse applies the rate limit: ceil(RateLimit) requests per window of
// ceil(RateLimit)/RateLimit seconds (1 s for whole rates), counting accepted requests.
func (s *Server) refuse() bool {
	limit := s.opts.RateLimit
	if limit <= 0 {
		return false
	}
	n := int(math.Ceil(limit))
	span := time.Duration(float64(n) / limit * float64(time.Second))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	i := 0
	for i < len(s.window) && now.Sub(s.window[i]) >= span {
		i++
	}
	s.window = s.window[i:]
	if len(s.window) >= n {
		s.stats.Refused++
		return true
	}
	s.window = append(s.window, now)
	return false
}

// roll throws the fault dice for the rate *p (read under s.mu, as SetProxyFaults writes
// it); on a hit it counts the fault with mark.
func (s *Server) roll(p *float64, mark func(*Stats)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *p <= 0 {
		return false
	}
	if s.rng.Float64() >= *p {
		return false
	}
	mark(&s.stats)
	return true
}

// dropConnection closes the connection without answering.
func dropConnection(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

type envelope struct {
	Count      int    `json:"count,omitempty"`
	StartIndex int    `json:"startIndex,omitempty"`
	NextIndex  int    `json:"nextIndex,omitempty"`
	Total      int    `json:"total,omitempty"`
	Status     int    `json:"status"`
	StatusCode int    `json:"statusCode"`
	Response   any    `json:"response,omitempty"`
	Error      *apiEr `json:"error,omitempty"`
}

type apiEr struct {
	Message string   `json:"message"`
	HResult int      `json:"hresult"`
	Data    struct{} `json:"data"`
}

func (s *Server) write(w http.ResponseWriter, r *http.Request, rep reply) {
	var env envelope
	if rep.err != nil {
		env = envelope{Status: 1, StatusCode: rep.err.status, Error: &apiEr{Message: rep.err.message, HResult: rep.err.hresult}}
	} else {
		code := rep.status
		if code == 0 {
			code = http.StatusOK
			if r.Method == http.MethodPost {
				code = http.StatusCreated
			}
		}
		env = envelope{StatusCode: code, Response: rep.response, StartIndex: rep.start, Total: rep.total, NextIndex: rep.next}
		env.Count = countOf(rep.response)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		env = envelope{Status: 1, StatusCode: 500, Error: &apiEr{Message: err.Error(), HResult: hresultException}}
		buf.Reset()
		_ = enc.Encode(env)
	}
	s.mu.Lock()
	s.stats.ByStatus[env.StatusCode]++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(env.StatusCode)
	_, _ = w.Write(buf.Bytes())
}

// countOf is the envelope's count: a list's length, 1 for one object, 0 for none.
func countOf(v any) int {
	if v == nil {
		return 0
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice {
		return rv.Len()
	}
	return 1
}

// unauthorized answers 401 in plain text, as the server does before any API code runs.
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		w.Header().Set("WWW-Authenticate", `Basic Realm="`+host+`"`)
	}
	s.mu.Lock()
	s.stats.ByStatus[http.StatusUnauthorized]++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte("Unauthorized"))
}

// authenticate finds the caller from the Authorization header (raw token, Bearer token or
// Basic credentials) or the asc_auth_key cookie.
func (s *Server) authenticate(r *http.Request) (User, bool) {
	var candidates []string
	if h := strings.TrimSpace(r.Header.Get("Authorization")); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		switch {
		case strings.EqualFold(scheme, "Basic"):
			if name, pass, ok := r.BasicAuth(); ok {
				if u, ok := s.userByLogin(name); ok && u.Password == pass && !u.TwoFactor {
					return u, true
				}
			}
		case strings.EqualFold(scheme, "Bearer"):
			candidates = append(candidates, strings.TrimSpace(rest))
		default:
			candidates = append(candidates, h)
		}
	}
	if ck, err := r.Cookie("asc_auth_key"); err == nil && ck.Value != "" {
		candidates = append(candidates, ck.Value)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tok := range candidates {
		if tok == s.token && !s.tokenExpired {
			return s.users[0], true
		}
		if it, ok := s.issued[tok]; ok && s.now().Before(it.expires) {
			if u, ok := s.userByID(it.userID); ok {
				return u, true
			}
		}
	}
	return User{}, false
}

func (s *Server) userByLogin(login string) (User, bool) {
	return first(s.users, func(u User) bool {
		return strings.EqualFold(u.UserName, login) || strings.EqualFold(u.Email, login)
	})
}

func (s *Server) userByID(id string) (User, bool) {
	return first(s.users, func(u User) bool { return u.ID == id })
}
