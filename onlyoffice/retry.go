package onlyoffice

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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

// retryStatus is the policy: the answers that are worth another attempt. The portal says
// 503 when busy or over its rate limit, proxies in front of it may say 429, and 500, 502
// and 504 are taken as passing trouble. 400-404 are final.
var retryStatus = map[int]bool{
	http.StatusTooManyRequests:     true,
	http.StatusInternalServerError: true,
	http.StatusBadGateway:          true,
	http.StatusServiceUnavailable:  true,
	http.StatusGatewayTimeout:      true,
}

// shouldRetry decides on one attempt's outcome: status is the HTTP status (0 when no
// answer came), err the transport's error, wrote whether the whole request was written to
// the connection. A request that never left is retried; one that was written and got no
// answer may have been acted on: it is in doubt, and only an idempotent call may be sent
// again. It does not look at the caller's context: the loop stops on that first.
func shouldRetry(status int, err error, wrote bool) (retry, inDoubt bool) {
	if err != nil && status < 300 {
		// No answer, or a success whose body was lost.
		if permanent(err) {
			return false, false
		}
		if !wrote {
			return true, false
		}
		return false, true
	}
	return retryStatus[status], false
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

// idempotent says whether sending the call twice does what sending it once does: a read, a
// full-record update, a delete. Only a create (POST) is not.
func (r call) idempotent() bool { return r.method != http.MethodPost }

// result is what the loop got: the last status and body, and the number of attempts.
type result struct {
	status   int
	body     []byte
	attempts int
}

// do runs a call: the limiter before every attempt, one attempt at a time, retries by
// shouldRetry and the backoff policy. A non-success answer comes back as *APIError,
// a create in doubt wraps ErrInDoubt, and a cancelled ctx wraps ctx.Err().
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
		c.log.Debug("request", "method", r.method, "path", r.path, "attempt", res.attempts,
			"status", status, "elapsed", time.Since(started).Round(time.Millisecond))
		if err == nil && status >= 200 && status < 300 {
			if c.onSuccess != nil {
				c.onSuccess(time.Since(started))
			}
			return res, nil
		}
		if err != nil && ctx.Err() != nil {
			if wrote && !r.idempotent() {
				return res, fmt.Errorf("%w: %w", ErrInDoubt, ctx.Err())
			}
			return res, fmt.Errorf("interrupted: %w", ctx.Err())
		}

		retry, inDoubt := shouldRetry(status, err, wrote)
		if inDoubt && r.idempotent() {
			retry, inDoubt = true, false
		}
		if r.login && status >= 500 && status != http.StatusServiceUnavailable {
			retry = false
		}
		var failure error
		switch {
		case inDoubt && r.login:
			return res, err // a log-in creates nothing; sent again, it may count as a second failure
		case inDoubt:
			return res, fmt.Errorf("%w (%s)", ErrInDoubt, c.noAnswer(err))
		case err != nil && status < 300:
			failure = err
		default:
			failure = apiError(status, header, body, c.redact)
		}

		retryAfter, hasRetryAfter := parseRetryAfter(header.Get("Retry-After"), time.Now())
		if (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && c.onThrottle != nil {
			c.onThrottle(retryAfter)
		}
		if !retry {
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
