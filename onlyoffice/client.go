// Package onlyoffice is the client of the ONLYOFFICE CRM API: log-in, creating opportunities
// and the look-ups an import needs. One retry loop (see retry.go) serves every call: it takes
// the shared rate limiter before each attempt, retries what provably did not reach the portal
// or was refused by it, and never sends a create twice.
package onlyoffice

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
	"golang.org/x/time/rate"
)

// Config configures a Client. Only BaseURL and a credential (Token, or User and Password)
// are required.
type Config struct {
	BaseURL  string // https://portal.example.com; a pasted /api/2.0 is dropped with a warning
	Token    string // or User+Password
	User     string
	Password string
	Timeout  time.Duration // one request's limit; 0 = 30 s
	Retries  int           // retries of one call (not counting the first attempt); < 0 = 0
	Limiter  *rate.Limiter // shared; Wait before every attempt, retries included; nil = none
	MaxConns int           // connections per host; 0 = 8
	Logger   *slog.Logger  // never given a secret; nil = no logs

	InsecureSkipVerify bool // do not check the portal's TLS certificate
	AllowHTTP          bool // plain http to a non-loopback host

	// OnThrottle, when set, is called on every 429 and 503 answer with the wait the portal
	// asked for (0 when it named none). It must be quick and safe for concurrent use.
	OnThrottle func(retryAfter time.Duration)
	// OnSuccess, when set, is called on every 2xx answer with the attempt's round trip (the
	// limiter's wait not included). It must be quick and safe for concurrent use.
	OnSuccess func(elapsed time.Duration)
	// Gate, when set, bounds the attempts in flight: a slot is taken before the limiter and
	// given back when the answer is in, so a retry's backoff holds none.
	Gate Gate
}

// Gate is a semaphore whose size may change while in use; *pace.Gate is one.
type Gate interface {
	Acquire(ctx context.Context) error
	Release()
}

const (
	defaultTimeout  = 30 * time.Second
	defaultMaxConns = 8
	maxBodyBytes    = 64 << 20 // an answer larger than this is refused
)

// Client talks to one portal. Safe for concurrent use once Authenticate (when needed) has
// returned.
type Client struct {
	rc         *resty.Client
	base       string
	transport  *http.Transport
	timeout    time.Duration
	retries    int
	limiter    *rate.Limiter
	log        *slog.Logger
	onThrottle func(time.Duration)
	onSuccess  func(time.Duration)
	gate       Gate
	user       string
	password   string

	mu    sync.RWMutex
	token string

	policy retryPolicy
	// sleep waits d or until ctx is done; a field so that tests need not wait.
	sleep func(ctx context.Context, d time.Duration) error
}

// NewClient checks cfg and returns a client. It sends nothing.
func NewClient(cfg Config) (*Client, error) {
	base, pastedAPI, err := baseURL(cfg.BaseURL, cfg.AllowHTTP)
	if err != nil {
		return nil, err
	}
	if cfg.Token == "" && (cfg.User == "" || cfg.Password == "") {
		return nil, errors.New("no credentials: give a token, or a user and a password")
	}
	c := &Client{
		timeout:    cfg.Timeout,
		retries:    max(cfg.Retries, 0),
		limiter:    cfg.Limiter,
		log:        cfg.Logger,
		onThrottle: cfg.OnThrottle,
		onSuccess:  cfg.OnSuccess,
		gate:       cfg.Gate,
		user:       cfg.User,
		password:   cfg.Password,
		token:      cfg.Token,
		policy:     defaultPolicy,
		sleep:      sleep,
	}
	if c.timeout <= 0 {
		c.timeout = defaultTimeout
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if pastedAPI {
		c.log.Warn("the portal URL ends in /api/2.0, which is the API's path, not the portal's: using "+base, "url", base)
	}
	c.base = base
	conns := cfg.MaxConns
	if conns <= 0 {
		conns = defaultMaxConns
	}
	c.transport = http.DefaultTransport.(*http.Transport).Clone()
	c.transport.MaxIdleConnsPerHost = conns
	c.transport.MaxConnsPerHost = conns
	c.transport.TLSClientConfig = &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: cfg.InsecureSkipVerify, //nolint:gosec // the user's explicit choice, warned about by main
	}
	hc := &http.Client{
		Transport: c.transport,
		// A redirect is answered, not followed: it would turn a POST into a GET, and
		// the portal's address is better fixed in the configuration.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	// Never SetDebug nor curl generation: both would write the token out.
	c.rc = resty.NewWithClient(hc).
		SetBaseURL(base).
		SetHeader("User-Agent", "oppimport").
		SetHeader("Accept", "application/json").
		SetLogger(discardLogger{}).
		SetDisableWarn(true).
		SetResponseBodyLimit(maxBodyBytes)
	return c, nil
}

// baseURL checks the portal's address and returns it in one spelling: scheme and host in
// lower case, no default port, no trailing slash, and without the /api/2.0 that users
// paste from the API docs (pastedAPI says it was there).
func baseURL(raw string, allowHTTP bool) (base string, pastedAPI bool, err error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", false, errors.New("no portal URL: give one like https://example.onlyoffice.com")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", false, errors.New("the portal URL does not parse: want one like https://example.onlyoffice.com")
	}
	// shown is the URL for messages: without user info and query, which may hold secrets.
	shown := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, Opaque: u.Opaque}).String()
	if u.User != nil {
		return "", false, fmt.Errorf("portal URL %q holds credentials: give them as a token or user and password instead", shown)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", false, fmt.Errorf("portal URL %q: want http:// or https:// and a host, like https://example.onlyoffice.com", shown)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", false, fmt.Errorf("portal URL %q: want no query or fragment", shown)
	}
	if u.Scheme == "http" && !allowHTTP && !isLoopback(u.Hostname()) {
		return "", false, fmt.Errorf("portal URL %q is plain http: the token would travel in clear; use https, or allow http explicitly", shown)
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6
	}
	if port := u.Port(); port != "" && !(scheme == "https" && port == "443") && !(scheme == "http" && port == "80") {
		host += ":" + port
	}
	path := strings.TrimRight(u.Path, "/")
	for _, suffix := range []string{"/api/2.0", "/api/2.0.json"} {
		if len(path) >= len(suffix) && strings.EqualFold(path[len(path)-len(suffix):], suffix) {
			path, pastedAPI = strings.TrimRight(path[:len(path)-len(suffix)], "/"), true
			break
		}
	}
	return scheme + "://" + host + path, pastedAPI, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// BaseURL is the portal's base URL as the client spells it: see Config.BaseURL.
func (c *Client) BaseURL() string { return c.base }

// CloseIdleConnections closes the connections kept for reuse. The client stays usable.
func (c *Client) CloseIdleConnections() {
	c.transport.CloseIdleConnections()
}

func (c *Client) currentToken() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.token
}

// redact removes the secrets from text that came from outside (an answer's body).
func (c *Client) redact(s string) string {
	for _, secret := range []string{c.currentToken(), c.password} {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// Authenticate logs in with the configured user and password and keeps the token for the
// calls that follow. It does nothing when no user is configured. A refused log-in is never
// tried again: the portal blocks a login after 5 failures in a minute. An account with
// two-factor authentication cannot log in through the API: use a token.
func (c *Client) Authenticate(ctx context.Context) error {
	if c.user == "" {
		return nil
	}
	body, err := json.Marshal(struct {
		UserName string `json:"userName"`
		Password string `json:"password"`
	}{c.user, c.password})
	if err != nil {
		return err
	}
	res, err := c.do(ctx, call{method: http.MethodPost, path: "api/2.0/authentication", body: body, login: true})
	if err != nil {
		return fmt.Errorf("log in as %q: %w", c.user, err)
	}
	var auth struct {
		Token   *string `json:"token"`
		Expires string  `json:"expires"`
		TFA     bool    `json:"tfa"`
		SMS     bool    `json:"sms"`
	}
	if err := c.decode(res.body, &auth); err != nil {
		return fmt.Errorf("log in as %q: %w", c.user, err)
	}
	if auth.Token == nil || *auth.Token == "" {
		if auth.TFA || auth.SMS {
			return errors.New("two-factor authentication is on for this account: use --token")
		}
		return fmt.Errorf("log in as %q: the portal answered without a token", c.user)
	}
	c.mu.Lock()
	c.token = *auth.Token
	c.mu.Unlock()
	c.log.Info("logged in", "user", c.user, "expires", auth.Expires)
	return nil
}

// decodeResponse decodes the "response" member of a success answer into v.
func (c *Client) decode(body []byte, v any) error {
	if err := decodeResponse(body, v); err != nil {
		// The error may quote the body, which a proxy may have filled with the request:
		// quote it redacted, and redacted before it is cut short.
		if err := decodeResponse([]byte(c.redact(string(body))), new(json.RawMessage)); err != nil {
			return err
		}
		return errors.New(c.redact(err.Error()))
	}
	return nil
}

// errNoResponse: a success envelope without a "response" (the portal leaves an empty list
// out).
var errNoResponse = errors.New("the answer holds no response")

// decodeResponse reads the "response" of a success envelope into v.
func decodeResponse(body []byte, v any) error {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("the answer is not the portal's JSON: %q", snippet(body))
	}
	if len(env.Response) == 0 || string(env.Response) == "null" {
		return errNoResponse
	}
	if err := json.Unmarshal(env.Response, v); err != nil {
		return fmt.Errorf("reading the answer: %v", err)
	}
	return nil
}

// discardLogger silences resty: nothing of the requests is ever logged by the library.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}
