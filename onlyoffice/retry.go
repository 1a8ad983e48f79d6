package onlyoffice

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"
)

// The retry policy is data: classify names what one attempt got back (an answer), and
// onAnswer says, for each answer and each kind of call, what the loop does next. Only the
// portal's own JSON envelope is an answer from the portal: a 502 or 504, or any body that
// is not that envelope (a proxy's error page, an SSO gateway's login page served with 200),
// came from something in front of it, which may or may not have passed the request on.

// answer is what one attempt got back, as the policy sees it.
type answer int

const (
	portalAnswer answer = iota // the portal's own: its JSON envelope (success or refusal), its plain 401, a redirect
	portalBusy                 // "not now": 429 or 503 from the portal or a proxy, 500 in the portal's envelope; nothing was done
	foreign                    // 502, 504, or a body that is not the portal's envelope: the portal may have acted
	unsent                     // no answer, and the request was not written in full: nothing was done
	lost                       // no answer after the request was written: the portal may have acted
	broken                     // a transport error another attempt would only repeat (TLS, a body too large)
)

var answerNames = [...]string{"portal answer", "busy", "not the portal's answer", "not sent", "answer lost", "broken"}

func (a answer) String() string { return answerNames[a] }

// kind is what a call does, as far as sending it twice goes.
type kind int

const (
	read   kind = iota // GET, and the log-in: sending it again changes nothing
	write              // PUT, DELETE: idempotent, but a foreign answer proves nothing either way
	create             // POST: sent twice, it may make two records
)

// action is what the loop does after an attempt.
type action int

const (
	stop   action = iota // return: the answer is final (success, or the portal's refusal)
	again                // send it again, after the backoff
	doubt                // return an error wrapping ErrInDoubt: the caller settles it, never re-sends it blindly
	verify               // return an error wrapping ErrUnverified: the caller checks with a GET
)

// onAnswer is the table: what to do with each answer, for each kind of call (an array,
// which the linker lays out; a map would be built in the package's init).
var onAnswer = [...][3]action{
	//            read   write   create
	portalAnswer: {stop, stop, stop},
	portalBusy:   {again, again, again},
	foreign:      {again, verify, doubt},
	unsent:       {again, again, again},
	lost:         {again, again, doubt},
	broken:       {stop, stop, stop},
}

// classify names one attempt's outcome: status is the HTTP status (0 when no answer came),
// body the answer's body, err the transport's error, wrote whether the whole request was
// written to the connection. It does not look at the caller's context: the loop stops on
// that first.
func classify(status int, body []byte, err error, wrote bool) answer {
	if err != nil && status < 300 {
		// No answer, or a success whose body was lost.
		switch {
		case permanent(err):
			return broken
		case !wrote:
			return unsent
		}
		return lost
	}
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		// A refusal, the portal's (busy, over its rate limit) or a proxy's (rate limit, no
		// portal to pass it to, maintenance), whatever the body: given before anything was done.
		return portalBusy
	case status == http.StatusBadGateway || status == http.StatusGatewayTimeout:
		// The portal itself never says either: a proxy that gave up waiting, perhaps after
		// the portal acted.
		return foreign
	case status == http.StatusUnauthorized, status >= 300 && status < 400:
		// The portal's 401 is plain text; a redirect is answered, not followed.
		return portalAnswer
	case err != nil:
		// An error status whose body was cut short: judged by the status alone.
		if status == http.StatusInternalServerError {
			return portalBusy
		}
		return portalAnswer
	case !isEnvelope(body):
		// An HTML error page of the server itself, a gateway's login page: whatever sent
		// it, the portal may have acted.
		return foreign
	case status == http.StatusInternalServerError:
		// The portal's own error: the request failed there and is worth another try.
		return portalBusy
	}
	return portalAnswer
}

// isEnvelope tells the portal's own JSON frame: {"status":0,"statusCode":N,...} for a
// success, {"status":1,"statusCode":N,"error":{...}} for a refusal. It reads the top-level
// members only until it knows: the portal writes status and statusCode before a response
// of a thousand deals, which is then not scanned twice (decoding reads it anyway).
func isEnvelope(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	var status, code *int
	errorObject := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return false
		}
		switch t {
		case "status", "statusCode":
			var n int
			if json.Unmarshal(raw, &n) != nil {
				return false
			}
			if t == "status" {
				status = &n
			} else {
				code = &n
			}
		case "error":
			errorObject = len(raw) > 0 && raw[0] == '{'
		}
		if status != nil && code != nil && (*status == 0 || *status == 1 && errorObject) {
			return true
		}
	}
	return false
}

// permanent tells the transport errors that another attempt would only repeat.
func permanent(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		hostname x509.HostnameError
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
	)
	return errors.As(err, &verify) || errors.As(err, &hostname) || errors.As(err, &unknown) ||
		errors.As(err, &invalid) || errors.As(err, &record) || errors.Is(err, resty.ErrResponseBodyTooLarge)
}

// retryPolicy is the backoff: exponential from base, capped at max, full jitter; a
// Retry-After takes precedence, capped at maxRetryAfter.
type retryPolicy struct {
	base, max, maxRetryAfter time.Duration
}

var defaultPolicy = retryPolicy{base: 500 * time.Millisecond, max: 30 * time.Second, maxRetryAfter: 5 * time.Minute}

// wait is how long to wait before retry number n (1 for the first retry). retryAfter is
// the portal's wish when ok.
func (p retryPolicy) wait(n int, retryAfter time.Duration, ok bool) time.Duration {
	if ok {
		return min(retryAfter, p.maxRetryAfter)
	}
	ceiling := p.max
	if n <= 30 {
		ceiling = min(p.base<<(n-1), p.max)
	}
	return rand.N(ceiling + 1)
}

// parseRetryAfter reads a Retry-After header: delta seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// call is one API call for the retry loop.
type call struct {
	method string
	path   string     // relative to the base URL: api/2.0/...
	query  url.Values // nil = none
	body   []byte     // JSON; nil = none
	login  bool       // the log-in: no token sent, and a 5xx is final (it may be a refused password)
}

// kind is the call's row in the policy: a log-in creates nothing and counts as a read.
func (r call) kind() kind {
	switch {
	case r.login || r.method == http.MethodGet:
		return read
	case r.method == http.MethodPost:
		return create
	}
	return write
}

// result is what the loop got: the last status and body, and the number of attempts.
type result struct {
	status   int
	body     []byte
	attempts int
}

// do runs a call: the limiter before every attempt, one attempt at a time, each outcome
// classified and acted on by the policy table, retries by the backoff policy. A refusal
// comes back as *APIError; a create that may have been acted on wraps ErrInDoubt; an update
// or delete answered by something other than the portal wraps ErrUnverified; a cancelled
// ctx wraps ctx.Err().
func (c *Client) do(ctx context.Context, r call) (result, error) {
	var res result
	for {
		if err := c.await(ctx); err != nil {
			return res, err
		}
		res.attempts++
		started := time.Now()
		status, header, body, wrote, err := c.attempt(ctx, r)
		if c.gate != nil {
			c.gate.Release()
		}
		res.status, res.body = status, body
		got := classify(status, body, err, wrote)
		c.log.Debug("request", "method", r.method, "path", r.path, "attempt", res.attempts,
			"status", status, "answer", got.String(), "elapsed", time.Since(started).Round(time.Millisecond))
		if got == portalAnswer && status >= 200 && status < 300 {
			if c.onSuccess != nil {
				c.onSuccess(time.Since(started))
			}
			return res, nil
		}
		if err != nil && ctx.Err() != nil {
			if wrote && r.kind() == create {
				return res, fmt.Errorf("%w: %w", ErrInDoubt, ctx.Err())
			}
			return res, fmt.Errorf("interrupted: %w", ctx.Err())
		}

		next := onAnswer[got][r.kind()]
		if r.login && got == portalBusy && status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests {
			next = stop // a 500 to a log-in is a refused password: never sent again
		}
		var failure error
		switch {
		case got == lost && r.login:
			return res, err // a log-in creates nothing; sent again, it may count as a second failure
		case next == doubt && got == lost:
			return res, fmt.Errorf("%w (%s)", ErrInDoubt, c.noAnswer(err))
		case next == doubt:
			return res, fmt.Errorf("%w (%s)", ErrInDoubt, c.foreignAnswer(status, body))
		case next == verify:
			return res, fmt.Errorf("%w (%s)", ErrUnverified, c.foreignAnswer(status, body))
		case err != nil && status < 300:
			failure = err
		case got == foreign && status < 300:
			failure = fmt.Errorf("the answer is not the portal's JSON: %q", snippet([]byte(c.redact(string(body)))))
		default:
			failure = apiError(status, header, body, c.redact)
		}

		retryAfter, hasRetryAfter := parseRetryAfter(header.Get("Retry-After"), time.Now())
		if (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && c.onThrottle != nil {
			c.onThrottle(retryAfter)
		}
		if next != again {
			return res, failure
		}
		if res.attempts > c.retries {
			if c.retries == 0 {
				return res, failure
			}
			return res, fmt.Errorf("gave up after %d attempts: %w", res.attempts, failure)
		}
		wait := c.policy.wait(res.attempts, retryAfter, hasRetryAfter)
		c.log.Debug("retrying", "method", r.method, "path", r.path, "attempt", res.attempts,
			"status", status, "error", failure.Error(), "wait", wait.Round(time.Millisecond))
		if err := c.sleep(ctx, wait); err != nil {
			return res, fmt.Errorf("interrupted after %d attempts (last: %v): %w", res.attempts, failure, err)
		}
	}
}

// foreignAnswer describes an answer that did not come from the portal, for an error message.
func (c *Client) foreignAnswer(status int, body []byte) string {
	s := fmt.Sprintf("HTTP %d from something in front of the portal, not its JSON", status)
	if sn := snippet([]byte(c.redact(string(body)))); sn != "" {
		s += ": " + strconv.Quote(sn)
	}
	return s
}

// await takes a slot of the gate, then the rate limiter's: the slot is held through the
// attempt, not through a retry's backoff.
func (c *Client) await(ctx context.Context) error {
	if c.gate != nil {
		if err := c.gate.Acquire(ctx); err != nil {
			return fmt.Errorf("waiting for a slot: %w", err)
		}
	}
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			if c.gate != nil {
				c.gate.Release()
			}
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return fmt.Errorf("waiting for the rate limit: %w", err)
		}
	}
	return nil
}

// noAnswer describes a transport error for an in-doubt message.
func (c *Client) noAnswer(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %v", c.timeout)
	}
	return err.Error()
}

// attempt sends the request once, under the per-attempt time limit, and tells whether the
// request was written in full (httptrace's WroteRequest).
func (c *Client) attempt(ctx context.Context, r call) (status int, header http.Header, body []byte, wrote bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var written atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			// A partly written request cannot be acted on; a transport retry of it may
			// still be written in full and set this.
			if info.Err == nil {
				written.Store(true)
			}
		},
	})
	req := c.rc.R().SetContext(ctx)
	if !r.login {
		if tok := c.currentToken(); tok != "" {
			req.SetHeader("Authorization", tok)
		}
	}
	if r.query != nil {
		req.SetQueryParamsFromValues(r.query)
	}
	if r.body != nil {
		req.SetHeader("Content-Type", "application/json").SetBody(r.body)
	}
	resp, err := req.Execute(r.method, r.path)
	header = http.Header{}
	if resp != nil && resp.RawResponse != nil {
		status, header, body = resp.StatusCode(), resp.Header(), resp.Body()
	}
	return status, header, body, written.Load(), err
}
