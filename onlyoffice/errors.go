package onlyoffice

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// ErrInDoubt is wrapped by the error of a create that reached the portal but got no usable
// answer (a time-out or a dropped connection after the request was written, or a success
// without an id): the opportunity may exist. Such a create is never sent again.
var ErrInDoubt = errors.New("request was sent but no answer came: the opportunity may exist on the portal")

// ErrUnverified is wrapped by the error of an update or a delete answered by something in
// front of the portal rather than by the portal (a proxy's 502 or 504, a gateway's HTML
// page): the portal may or may not have acted. It is never success: the caller checks with
// a GET (the portal holds what was sent; the deal is gone) before recording anything.
var ErrUnverified = errors.New("the answer did not come from the portal: whether it acted is unknown until checked")

// APIError is an answer of the portal other than a success: its JSON error envelope, the
// plain-text body of a 401, or a short piece of any other body.
type APIError struct {
	StatusCode int    // the HTTP status
	Message    string // the portal's message, or a short piece of a body that is not its JSON
	HResult    int    // the server's HRESULT (-2147024809 for bad arguments); 0 when none
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	s := fmt.Sprintf("HTTP %d", e.StatusCode)
	if msg != "" {
		s += ": " + msg
	}
	if e.StatusCode == http.StatusUnauthorized {
		s += " (the token is wrong or has expired)"
	}
	return s
}

// envelope is the frame of every JSON answer.
type envelope struct {
	Status   int             `json:"status"`
	Response json.RawMessage `json:"response"`
	Error    *struct {
		Message string `json:"message"`
		HResult int    `json:"hresult"`
	} `json:"error"`
}

// apiError reads a failed answer. redact removes the secrets from whatever text the body
// holds: a proxy or a buggy server may echo a request back.
func apiError(status int, header http.Header, body []byte, redact func(string) string) *APIError {
	e := &APIError{StatusCode: status}
	// Redacted before the body is cut short: half a token cut off by snippet would escape
	// a redaction of the message.
	body = []byte(redact(string(body)))
	var env envelope
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		e.Message, e.HResult = env.Error.Message, env.Error.HResult
	}
	if e.Message == "" {
		e.Message = snippet(body)
	}
	if status >= 300 && status < 400 {
		if loc := header.Get("Location"); loc != "" {
			e.Message = "redirected to " + loc + ": give that address as the portal URL"
		}
	}
	e.Message = redact(e.Message)
	return e
}

// htmlRE holds the expressions snippet reads an HTML page with, compiled on first use: a
// regexp.MustCompile at package level runs in the package's init, in every command.
var htmlRE struct {
	once       sync.Once
	title, tag *regexp.Regexp
}

// snippet is a short, one-line piece of a body for an error message: an HTML page's title,
// or its first words.
func snippet(body []byte) string {
	const max = 120
	htmlRE.once.Do(func() {
		htmlRE.title = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
		htmlRE.tag = regexp.MustCompile(`(?s)<[^>]*>`)
	})
	s := string(body)
	if m := htmlRE.title.FindStringSubmatch(s); m != nil {
		s = m[1]
	} else if len(s) > 4096 {
		s = s[:4096]
	}
	s = htmlRE.tag.ReplaceAllString(s, " ")
	s = strings.ToValidUTF8(strings.Join(strings.Fields(s), " "), "?")
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
