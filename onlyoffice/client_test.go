package onlyoffice

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
	"golang.org/x/time/rate"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	testToken    = "tok-S3CRET-7f3a9"
	testPassword = "pw-S3CRET-b41c"
)

// waits records the backoff waits of a client whose sleep returns at once.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waits) get() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// newTestClient is a client of url with a token, 3 retries and a sleep that does not wait.
func newTestClient(t *testing.T, url string, mod func(*Config)) (*Client, *waits) {
	t.Helper()
	cfg := Config{BaseURL: url, Token: testToken, Retries: 3, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	w := &waits{}
	c.sleep = w.sleep
	t.Cleanup(c.CloseIdleConnections)
	return c, w
}

// server answers with handle, given the 1-based number of the request; it counts requests.
func server(t *testing.T, handle func(n int, w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var count atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handle(int(count.Add(1)), w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &count
}

func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func created(w http.ResponseWriter, id int) {
	reply(w, 201, fmt.Sprintf(`{"count":1,"status":0,"statusCode":201,"response":{"id":%d,"title":"Deal"}}`, id))
}

func failure(w http.ResponseWriter, status int, msg string) {
	reply(w, status, fmt.Sprintf(`{"status":1,"statusCode":%d,"error":{"message":%q,"hresult":-2147024809,"data":{}}}`, status, msg))
}

// hangUp reads the request and drops the connection without an answer.
func hangUp(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

func minimal() Opportunity {
	return Opportunity{Title: "Deal", ResponsibleID: "9924256a-739c-462b-af15-e652a3b1b6eb", StageID: 3, BidCurrencyAbbr: "USD"}
}

func ptr[T any](v T) *T { return &v }

func TestCreateOpportunityOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		timeout  time.Duration
		handle   func(n int, w http.ResponseWriter, r *http.Request)
		want     Outcome
		requests int
		wantErr  string // "" = success
		apiErr   *APIError
		inDoubt  bool
		// checkWaits judges the backoff waits; nil = there must be none.
		checkWaits func(t *testing.T, d []time.Duration)
	}{
		{
			name:     "201 created",
			handle:   func(n int, w http.ResponseWriter, r *http.Request) { created(w, 42) },
			want:     Outcome{ID: 42, Attempts: 1, HTTPStatus: 201},
			requests: 1,
		},
		{
			name:     "400 envelope is final",
			handle:   func(n int, w http.ResponseWriter, r *http.Request) { failure(w, 400, "Deal milestone is not found") },
			want:     Outcome{Attempts: 1, HTTPStatus: 400},
			requests: 1,
			wantErr:  "HTTP 400: Deal milestone is not found",
			apiErr:   &APIError{StatusCode: 400, Message: "Deal milestone is not found", HResult: -2147024809},
		},
		{
			name: "401 plain text",
			handle: func(n int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("WWW-Authenticate", `Basic Realm="portal"`)
				w.WriteHeader(401)
				io.WriteString(w, "Unauthorized")
			},
			want:     Outcome{Attempts: 1, HTTPStatus: 401},
			requests: 1,
			wantErr:  "HTTP 401: Unauthorized (the token is wrong or has expired)",
			apiErr:   &APIError{StatusCode: 401, Message: "Unauthorized"},
		},
		{
			name:     "403 is final",
			handle:   func(n int, w http.ResponseWriter, r *http.Request) { failure(w, 403, "Access Denied") },
			want:     Outcome{Attempts: 1, HTTPStatus: 403},
			requests: 1,
			wantErr:  "HTTP 403: Access Denied",
			apiErr:   &APIError{StatusCode: 403, Message: "Access Denied", HResult: -2147024809},
		},
		{
			name:     "404 is final",
			handle:   func(n int, w http.ResponseWriter, r *http.Request) { failure(w, 404, "Not found") },
			want:     Outcome{Attempts: 1, HTTPStatus: 404},
			requests: 1,
			wantErr:  "HTTP 404: Not found",
			apiErr:   &APIError{StatusCode: 404, Message: "Not found", HResult: -2147024809},
		},
		{
			name: "301 is answered, not followed",
			handle: func(n int, w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "https://portal.example.com/api/2.0/crm/opportunity", http.StatusMovedPermanently)
			},
			want:     Outcome{Attempts: 1, HTTPStatus: 301},
			requests: 1,
			wantErr:  "HTTP 301: redirected to https://portal.example.com/api/2.0/crm/opportunity: give that address as the portal URL",
		},
		{
			name: "503 with Retry-After seconds, then created",
			handle: func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", "7")
					failure(w, 503, "Portal is busy")
					return
				}
				created(w, 43)
			},
			want:     Outcome{ID: 43, Attempts: 2, HTTPStatus: 201},
			requests: 2,
			checkWaits: func(t *testing.T, d []time.Duration) {
				if diff := cmp.Diff([]time.Duration{7 * time.Second}, d); diff != "" {
					t.Errorf("waits (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "429 with Retry-After date, then created",
			handle: func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", time.Now().Add(4*time.Second).UTC().Format(http.TimeFormat))
					w.WriteHeader(429)
					return
				}
				created(w, 44)
			},
			want:     Outcome{ID: 44, Attempts: 2, HTTPStatus: 201},
			requests: 2,
			checkWaits: func(t *testing.T, d []time.Duration) {
				if len(d) != 1 || d[0] < 2*time.Second || d[0] > 4*time.Second {
					t.Errorf("waits %v, want one of 2s to 4s", d)
				}
			},
		},
		{
			name: "500 retried with backoff",
			handle: func(n int, w http.ResponseWriter, r *http.Request) {
				if n < 3 {
					failure(w, 500, "Object reference not set")
					return
				}
				created(w, 45)
			},
			want:     Outcome{ID: 45, Attempts: 3, HTTPStatus: 201},
			requests: 3,
			checkWaits: func(t *testing.T, d []time.Duration) {
				if len(d) != 2 || d[0] > 500*time.Millisecond || d[1] > time.Second {
					t.Errorf("waits %v, want 2, at most 500ms then 1s", d)
				}
			},
		},
		{
			name: "502 html from a proxy: in doubt, never sent again",
			handle: func(n int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(502)
				io.WriteString(w, "<html>\n<head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1><hr>nginx</body></html>")
			},
			want:     Outcome{Attempts: 1, HTTPStatus: 502},
			requests: 1,
			wantErr:  ErrInDoubt.Error() + ` (HTTP 502 from something in front of the portal, not its JSON: "502 Bad Gateway")`,
			inDoubt:  true,
		},
		{
			name:     "504 without a body: in doubt",
			handle:   func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(504) },
			want:     Outcome{Attempts: 1, HTTPStatus: 504},
			requests: 1,
			wantErr:  ErrInDoubt.Error() + " (HTTP 504 from something in front of the portal, not its JSON)",
			inDoubt:  true,
		},
		{
			name: "200 with a login page: in doubt",
			handle: func(n int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				io.WriteString(w, "<html><head><title>Sign in - Example SSO</title></head><body>...</body></html>")
			},
			want:     Outcome{Attempts: 1, HTTPStatus: 200},
			requests: 1,
			wantErr:  ErrInDoubt.Error() + ` (HTTP 200 from something in front of the portal, not its JSON: "Sign in - Example SSO")`,
			inDoubt:  true,
		},
		{
			name: "500 in the portal's envelope is retried",
			handle: func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					failure(w, 500, "Object reference not set")
					return
				}
				created(w, 46)
			},
			want:     Outcome{ID: 46, Attempts: 2, HTTPStatus: 201},
			requests: 2,
			checkWaits: func(t *testing.T, d []time.Duration) {
				if len(d) != 1 {
					t.Errorf("waits %v, want 1", d)
				}
			},
		},
		{
			name:    "no answer in time after the request was written: in doubt",
			timeout: 300 * time.Millisecond,
			handle: func(n int, w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				<-r.Context().Done()
			},
			want:     Outcome{Attempts: 1},
			requests: 1,
			wantErr:  ErrInDoubt.Error() + " (no answer within 300ms)",
			inDoubt:  true,
		},
		{
			name:     "connection dropped after the body was read: in doubt",
			handle:   func(n int, w http.ResponseWriter, r *http.Request) { hangUp(w, r) },
			want:     Outcome{Attempts: 1},
			requests: 1,
			inDoubt:  true,
		},
		{
			name:     "201 without an id: in doubt",
			handle:   func(n int, w http.ResponseWriter, r *http.Request) { reply(w, 201, `{"status":0,"statusCode":201}`) },
			want:     Outcome{Attempts: 1, HTTPStatus: 201},
			requests: 1,
			wantErr:  ErrInDoubt.Error() + " (HTTP 201 without an opportunity id)",
			inDoubt:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, count := server(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/api/2.0/crm/opportunity" {
					t.Errorf("request %s %s, want POST /api/2.0/crm/opportunity", r.Method, r.URL.Path)
				}
				if got := r.Header.Get("Authorization"); got != testToken {
					t.Errorf("Authorization %q, want the raw token", got)
				}
				if got := r.Header.Get("User-Agent"); got != "oppimport" {
					t.Errorf("User-Agent %q, want oppimport", got)
				}
				tt.handle(n, w, r)
			})
			var throttled atomic.Int32
			c, w := newTestClient(t, srv.URL, func(cfg *Config) {
				if tt.timeout > 0 {
					cfg.Timeout = tt.timeout
				}
				cfg.OnThrottle = func(time.Duration) { throttled.Add(1) }
			})
			got, err := c.CreateOpportunity(context.Background(), minimal())
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
			if n := int(count.Load()); n != tt.requests {
				t.Errorf("server saw %d requests, want %d", n, tt.requests)
			}
			switch {
			case tt.wantErr == "" && !tt.inDoubt && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			if errors.Is(err, ErrInDoubt) != tt.inDoubt {
				t.Errorf("errors.Is(%v, ErrInDoubt) = %v, want %v", err, !tt.inDoubt, tt.inDoubt)
			}
			if tt.apiErr != nil {
				var apiErr *APIError
				if !errors.As(err, &apiErr) {
					t.Fatalf("error %v is no *APIError", err)
				}
				if diff := cmp.Diff(tt.apiErr, apiErr); diff != "" {
					t.Errorf("APIError (-want +got):\n%s", diff)
				}
			}
			if tt.checkWaits != nil {
				tt.checkWaits(t, w.get())
			} else if d := w.get(); len(d) != 0 {
				t.Errorf("waited %v, want no retry", d)
			}
			if strings.Contains(tt.name, "429") || strings.Contains(tt.name, "503") {
				if throttled.Load() != 1 {
					t.Errorf("OnThrottle called %d times, want 1", throttled.Load())
				}
			} else if throttled.Load() != 0 {
				t.Errorf("OnThrottle called %d times, want 0", throttled.Load())
			}
		})
	}
}

// A connection that is refused never reached the portal: it is retried, each attempt
// after the limiter.
func TestCreateOpportunityConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	lim := rate.NewLimiter(rate.Every(time.Hour), 10)
	c, w := newTestClient(t, "http://"+addr, func(cfg *Config) { cfg.Retries = 2; cfg.Limiter = lim })
	got, err := c.CreateOpportunity(context.Background(), minimal())
	if diff := cmp.Diff(Outcome{Attempts: 3}, got); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
	if err == nil || !strings.HasPrefix(err.Error(), "gave up after 3 attempts: ") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %v, want gave up after 3 attempts ... connection refused", err)
	}
	if errors.Is(err, ErrInDoubt) {
		t.Errorf("error %v is in doubt, want not: nothing was sent", err)
	}
	if d := w.get(); len(d) != 2 {
		t.Errorf("waited %v, want 2 waits", d)
	}
	if taken := 10 - int(math.Round(lim.Tokens())); taken != 3 {
		t.Errorf("limiter taken %d times, want 3 (once per attempt)", taken)
	}
}

func TestLimiterBeforeEveryAttempt(t *testing.T) {
	srv, _ := server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n < 3 {
			w.WriteHeader(503)
			return
		}
		created(w, 7)
	})
	lim := rate.NewLimiter(rate.Every(time.Hour), 10)
	c, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Limiter = lim })
	if _, err := c.CreateOpportunity(context.Background(), minimal()); err != nil {
		t.Fatal(err)
	}
	if taken := 10 - int(math.Round(lim.Tokens())); taken != 3 {
		t.Errorf("limiter taken %d times, want 3 (once per attempt)", taken)
	}
}

// The real sleep honours Retry-After.
func TestRetryAfterIsWaited(t *testing.T) {
	srv, _ := server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(503)
			return
		}
		created(w, 9)
	})
	c, _ := newTestClient(t, srv.URL, nil)
	c.sleep = sleep
	start := time.Now()
	got, err := c.CreateOpportunity(context.Background(), minimal())
	if err != nil || got.ID != 9 {
		t.Fatalf("got %+v, %v, want id 9", got, err)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("took %v, want at least the 1s asked for", el)
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	defer goleak.VerifyNone(t)
	var count atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		count.Add(1)
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(503)
	}))
	defer srv.Close()
	c, err := NewClient(Config{BaseURL: srv.URL, Token: testToken, Retries: 5, Limiter: rate.NewLimiter(10, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(200*time.Millisecond, cancel)
	defer timer.Stop()
	start := time.Now()
	got, err := c.CreateOpportunity(ctx, minimal())
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("returned after %v, want promptly after the cancel", el)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if errors.Is(err, ErrInDoubt) {
		t.Errorf("error %v is in doubt, want not: the portal answered 503", err)
	}
	if diff := cmp.Diff(Outcome{Attempts: 1, HTTPStatus: 503}, got); diff != "" {
		t.Errorf("outcome (-want +got):\n%s", diff)
	}
	if n := count.Load(); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

// A create cancelled after it was written is in doubt as well as cancelled.
func TestCancelAfterWrite(t *testing.T) {
	release := make(chan struct{})
	srv, _ := server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		close(release)
		<-r.Context().Done()
	})
	c, _ := newTestClient(t, srv.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-release; cancel() }()
	_, err := c.CreateOpportunity(ctx, minimal())
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrInDoubt) {
		t.Errorf("error %v, want context.Canceled and ErrInDoubt", err)
	}
}

func TestCreateOpportunityBody(t *testing.T) {
	full := Opportunity{
		Title:              "Hotel catalogue <R&D>",
		Description:        ptr("Two lines\nand \"quotes\""),
		ContactID:          1234,
		Members:            []int64{1234, 5678},
		ResponsibleID:      "9924256a-739c-462b-af15-e652a3b1b6eb",
		BidType:            "PerMonth",
		BidValue:           ptr("1000000"),
		BidCurrencyAbbr:    "EUR",
		PerPeriodValue:     ptr(int64(12)),
		StageID:            3,
		SuccessProbability: ptr(int64(0)),
		ActualCloseDate:    "2024-03-15",
		ExpectedCloseDate:  "2024-03-15T10:30:00Z",
		CustomFields:       []CustomField{{ID: 14, Value: "yes"}, {ID: 15, Value: "2024-01-01"}},
		IsPrivate:          ptr(true),
		AccessList:         []string{"9924256a-739c-462b-af15-e652a3b1b6eb"},
		IsNotify:           ptr(false),
	}
	cents := minimal()
	cents.BidValue = ptr("1234.50")
	tests := []struct {
		golden string
		o      Opportunity
	}{
		{"create_full.json", full},
		{"create_minimal.json", minimal()},
		{"create_cents.json", cents},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var body []byte
			srv, _ := server(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if ct := r.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q, want application/json", ct)
				}
				body, _ = io.ReadAll(r.Body)
				created(w, 1)
			})
			c, _ := newTestClient(t, srv.URL, nil)
			if _, err := c.CreateOpportunity(context.Background(), tt.o); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, append(body, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if diff := cmp.Diff(string(bytes.TrimSpace(want)), string(body)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCreateOpportunityRefusesUnformattedValues(t *testing.T) {
	srv, count := server(t, func(n int, w http.ResponseWriter, r *http.Request) { created(w, 1) })
	c, _ := newTestClient(t, srv.URL, nil)
	tests := []struct {
		name string
		mod  func(*Opportunity)
		want string
	}{
		{"fraction of a second", func(o *Opportunity) { o.ExpectedCloseDate = "2024-03-15T10:00:00.120Z" },
			`expectedCloseDate "2024-03-15T10:00:00.120Z": want yyyy-MM-dd or yyyy-MM-ddTHH:mm:ssZ`},
		{"local date form", func(o *Opportunity) { o.ActualCloseDate = "15.03.2024" },
			`actualCloseDate "15.03.2024": want yyyy-MM-dd or yyyy-MM-ddTHH:mm:ssZ`},
		{"no such day", func(o *Opportunity) { o.ActualCloseDate = "2024-02-30" },
			`actualCloseDate "2024-02-30": want yyyy-MM-dd or yyyy-MM-ddTHH:mm:ssZ`},
		{"offset", func(o *Opportunity) { o.ActualCloseDate = "2024-03-15T10:00:00+01:00" },
			`actualCloseDate "2024-03-15T10:00:00+01:00": want yyyy-MM-dd or yyyy-MM-ddTHH:mm:ssZ`},
		{"exponent", func(o *Opportunity) { o.BidValue = ptr("1e6") }, `bidValue "1e6": want a decimal like 1234.5`},
		{"decimal comma", func(o *Opportunity) { o.BidValue = ptr("1,5") }, `bidValue "1,5": want a decimal like 1234.5`},
		{"leading zero", func(o *Opportunity) { o.BidValue = ptr("01") }, `bidValue "01": want a decimal like 1234.5`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := minimal()
			tt.mod(&o)
			got, err := c.CreateOpportunity(context.Background(), o)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %s", err, tt.want)
			}
			if got != (Outcome{}) {
				t.Errorf("outcome %+v, want zero: nothing sent", got)
			}
		})
	}
	if n := count.Load(); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}

func TestAuthenticate(t *testing.T) {
	tests := []struct {
		name     string
		handle   func(w http.ResponseWriter, r *http.Request)
		wantErr  string
		requests int
	}{
		{
			name: "token kept",
			handle: func(w http.ResponseWriter, r *http.Request) {
				reply(w, 201, `{"count":1,"status":0,"statusCode":201,"response":{"token":"`+testToken+`","expires":"2026-01-01T00:00:00.0000000Z"}}`)
			},
			requests: 1,
		},
		{
			name:     "bad password is not retried",
			handle:   func(w http.ResponseWriter, r *http.Request) { failure(w, 500, "User authentication failed") },
			wantErr:  `log in as "bob": HTTP 500: User authentication failed`,
			requests: 1,
		},
		{
			name:     "dropped connection is not retried",
			handle:   hangUp,
			wantErr:  `log in as "bob": Post "`,
			requests: 1,
		},
		{
			name: "two-factor",
			handle: func(w http.ResponseWriter, r *http.Request) {
				reply(w, 201, `{"count":1,"status":0,"statusCode":201,"response":{"token":null,"tfa":true,"tfaKey":"x"}}`)
			},
			wantErr:  "two-factor authentication is on for this account: use --token",
			requests: 1,
		},
		{
			name: "sms",
			handle: func(w http.ResponseWriter, r *http.Request) {
				reply(w, 201, `{"count":1,"status":0,"statusCode":201,"response":{"token":null,"sms":true}}`)
			},
			wantErr:  "two-factor authentication is on for this account: use --token",
			requests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logins atomic.Int32
			srv, count := server(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api/2.0/authentication" {
					logins.Add(1)
					if a := r.Header.Get("Authorization"); a != "" {
						t.Errorf("log-in sent Authorization %q, want none", a)
					}
					body, _ := io.ReadAll(r.Body)
					if want := `{"userName":"bob","password":"` + testPassword + `"}`; string(body) != want {
						t.Errorf("log-in body %s, want %s", body, want)
					}
					tt.handle(w, r)
					return
				}
				if a := r.Header.Get("Authorization"); a != testToken {
					t.Errorf("create sent Authorization %q, want the token from the log-in", a)
				}
				created(w, 5)
			})
			c, w := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Token = ""; cfg.User = "bob"; cfg.Password = testPassword })
			err := c.Authenticate(context.Background())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Authenticate: %v", err)
				}
				if _, err := c.CreateOpportunity(context.Background(), minimal()); err != nil {
					t.Errorf("create after log-in: %v", err)
				}
				tt.requests++
			} else if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) || errors.Is(err, ErrInDoubt) {
				t.Errorf("error %v, want %s... and not in doubt", err, tt.wantErr)
			}
			if n := int(count.Load()); n != tt.requests || logins.Load() != 1 {
				t.Errorf("server saw %d requests, %d log-ins, want %d and 1", n, logins.Load(), tt.requests)
			}
			if d := w.get(); len(d) != 0 {
				t.Errorf("waited %v, want no retry", d)
			}
		})
	}
}

// Neither the token nor the password may show in an error or a log line, whatever the
// portal or a proxy echoes back.
func TestSecretsNeverShown(t *testing.T) {
	echo := func(n int, w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		echoed := r.Header.Get("Authorization") + " " + string(body)
		switch {
		case r.URL.Path == "/api/2.0/authentication":
			failure(w, 500, "User authentication failed for "+echoed)
		case n%3 == 1:
			failure(w, 400, "bad request "+echoed)
		case n%3 == 2:
			w.WriteHeader(502)
			io.WriteString(w, "<html><body>upstream said "+echoed+"</body></html>")
		default:
			hangUp(w, r)
		}
	}
	srv, _ := server(t, echo)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errs []error
	ctx := context.Background()

	c, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.User = "bob"; cfg.Password = testPassword; cfg.Logger = logger })
	for range 4 {
		_, err := c.CreateOpportunity(ctx, minimal())
		errs = append(errs, err)
	}
	_, err := c.ListStages(ctx)
	errs = append(errs, err)
	errs = append(errs, c.Authenticate(ctx))

	timeout, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Logger = logger; cfg.Timeout = time.Nanosecond })
	_, err = timeout.CreateOpportunity(ctx, minimal())
	errs = append(errs, err)

	for _, u := range []string{"https://bob:" + testPassword + "@portal.example.com", "http://portal.example.com/?token=" + testToken} {
		_, err = NewClient(Config{BaseURL: u, Token: testToken})
		errs = append(errs, err)
	}

	for _, err := range errs {
		if err == nil {
			t.Errorf("an error is missing: the scenarios must all fail")
			continue
		}
		for _, secret := range []string{testToken, testPassword} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows a secret: %v", err)
			}
		}
	}
	if logs.Len() == 0 {
		t.Fatal("nothing was logged: the test proves nothing")
	}
	for _, secret := range []string{testToken, testPassword} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log shows a secret:\n%s", logs.String())
		}
	}
}

func TestTLS(t *testing.T) {
	var count atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		count.Add(1)
		created(w, 3)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	defer srv.Close()
	strict, w := newTestClient(t, srv.URL, nil)
	_, err := strict.CreateOpportunity(context.Background(), minimal())
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error %v, want a certificate error", err)
	}
	if d := w.get(); len(d) != 0 {
		t.Errorf("waited %v, want no retry of a certificate error", d)
	}
	lax, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.InsecureSkipVerify = true })
	if got, err := lax.CreateOpportunity(context.Background(), minimal()); err != nil || got.ID != 3 {
		t.Errorf("with InsecureSkipVerify: %+v, %v, want id 3", got, err)
	}
	if n := count.Load(); n != 1 {
		t.Errorf("server saw %d requests, want 1 (from the client that skips the check)", n)
	}
}

func TestNewClientURL(t *testing.T) {
	tests := []struct {
		url, allow string
		want       string // base URL, or the error
	}{
		{url: "https://portal.example.com", want: "https://portal.example.com"},
		{url: "https://portal.example.com/", want: "https://portal.example.com"},
		{url: "https://portal.example.com/api/2.0/", want: "https://portal.example.com"},
		{url: "https://portal.example.com/API/2.0.json", want: "https://portal.example.com"},
		{url: "HTTPS://Portal.Example.COM:443/", want: "https://portal.example.com"},
		{url: "https://portal.example.com.:8443//", want: "https://portal.example.com:8443"},
		{url: "http://LOCALHOST:80", want: "http://localhost"},
		{url: "https://example.com/crm", want: "https://example.com/crm"},
		{url: "http://127.0.0.1:8089", want: "http://127.0.0.1:8089"},
		{url: "http://localhost:8089", want: "http://localhost:8089"},
		{url: "http://[::1]:8089", want: "http://[::1]:8089"},
		{url: "http://portal.example.com", allow: "yes", want: "http://portal.example.com"},
		{url: "http://portal.example.com",
			want: `portal URL "http://portal.example.com" is plain http: the token would travel in clear; use https, or allow http explicitly`},
		{url: "ftp://portal.example.com",
			want: `portal URL "ftp://portal.example.com": want http:// or https:// and a host, like https://example.onlyoffice.com`},
		{url: "portal.example.com",
			want: `portal URL "portal.example.com": want http:// or https:// and a host, like https://example.onlyoffice.com`},
		{url: "", want: "no portal URL: give one like https://example.onlyoffice.com"},
	}
	for _, tt := range tests {
		c, err := NewClient(Config{BaseURL: tt.url, Token: "t", AllowHTTP: tt.allow != ""})
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = c.rc.BaseURL
		}
		if got != tt.want {
			t.Errorf("NewClient(%q): got %s, want %s", tt.url, got, tt.want)
		}
	}
	var logs bytes.Buffer
	if _, err := NewClient(Config{BaseURL: "https://portal.example.com/api/2.0", Token: "t", Logger: slog.New(slog.NewTextHandler(&logs, nil))}); err != nil {
		t.Fatal(err)
	}
	if got, want := logs.String(), "ends in /api/2.0"; !strings.Contains(got, want) || !strings.Contains(got, "level=WARN") {
		t.Errorf("log %q, want a warning saying %q", got, want)
	}
	if _, err := NewClient(Config{BaseURL: "https://portal.example.com", User: "bob"}); err == nil {
		t.Error("NewClient without a password or token: no error, want one")
	}
}

func TestPolicy(t *testing.T) {
	netErr := errors.New("dial tcp: connection refused")
	envelope := `{"status":1,"statusCode":%d,"error":{"message":"m","hresult":0}}`
	env := func(status int) string { return fmt.Sprintf(envelope, status) }
	const (
		html     = "<html><head><title>Sign in</title></head><body>login</body></html>"
		ok       = `{"count":1,"status":0,"statusCode":200,"response":{"id":1}}`
		otherAPI = `{"timestamp":"2026-01-01","status":502,"error":"Bad Gateway"}`
	)
	tests := []struct {
		status              int
		body                string
		err                 error
		wrote               bool
		get, update, create action // GET; PUT and DELETE; POST
	}{
		{status: 200, body: ok, get: stop, update: stop, create: stop},
		{status: 201, body: ok, get: stop, update: stop, create: stop},
		{status: 400, body: env(400)}, {status: 402, body: env(402)}, {status: 403, body: env(403)}, {status: 404, body: env(404)},
		{status: 401, body: "Unauthorized"},
		{status: 301, body: html},
		{status: 501, body: env(501)},
		{status: 429, get: again, update: again, create: again},
		{status: 429, body: html, get: again, update: again, create: again},
		{status: 500, body: env(500), get: again, update: again, create: again},
		{status: 503, body: env(503), get: again, update: again, create: again},
		// Only the portal's own JSON is an answer from the portal.
		{status: 502, body: html, get: again, update: verify, create: doubt},
		{status: 504, body: html, get: again, update: verify, create: doubt},
		{status: 502, body: env(502), get: again, update: verify, create: doubt},
		{status: 200, body: html, get: again, update: verify, create: doubt},
		{status: 201, body: "", get: again, update: verify, create: doubt},
		{status: 200, body: otherAPI, get: again, update: verify, create: doubt},
		{status: 200, body: `{"status":0}`, get: again, update: verify, create: doubt},
		{status: 500, body: html, get: again, update: verify, create: doubt},
		{status: 503, body: html, get: again, update: again, create: again}, // a refusal, whoever sent it
		{status: 503, get: again, update: again, create: again},
		{status: 404, body: html, get: again, update: verify, create: doubt},
		// No answer.
		{err: netErr, get: again, update: again, create: again},
		{err: context.DeadlineExceeded, get: again, update: again, create: again},
		{err: context.DeadlineExceeded, wrote: true, get: again, update: again, create: doubt},
		{err: io.EOF, wrote: true, get: again, update: again, create: doubt},
		{status: 201, err: io.ErrUnexpectedEOF, wrote: true, get: again, update: again, create: doubt},
		{status: 503, err: io.ErrUnexpectedEOF, wrote: true, get: again, update: again, create: again},
		{status: 502, err: io.ErrUnexpectedEOF, wrote: true, get: again, update: verify, create: doubt},
		{err: x509.UnknownAuthorityError{}, wrote: false},
	}
	for _, tt := range tests {
		got := classify(tt.status, []byte(tt.body), tt.err, tt.wrote)
		for _, k := range []struct {
			method string
			want   action
		}{{http.MethodGet, tt.get}, {http.MethodPut, tt.update}, {http.MethodDelete, tt.update}, {http.MethodPost, tt.create}} {
			if a := onAnswer[got][call{method: k.method}.kind()]; a != k.want {
				t.Errorf("%s answered %d %.20q (err %v, wrote %v): %s, action %d, want %d", k.method, tt.status, tt.body, tt.err, tt.wrote, got, a, k.want)
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"5", 5 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"Sat, 01 Mar 2025 12:00:30 GMT", 30 * time.Second, true},
		{"Sat, 01 Mar 2025 11:00:00 GMT", 0, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v, want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBackoff(t *testing.T) {
	p := defaultPolicy
	for n, ceiling := range map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 4: 4 * time.Second, 7: 30 * time.Second, 60: 30 * time.Second} {
		for range 100 {
			if d := p.wait(n, 0, false); d < 0 || d > ceiling {
				t.Fatalf("wait(%d) = %v, want 0 to %v", n, d, ceiling)
			}
		}
	}
	if d := p.wait(1, 10*time.Minute, true); d != 5*time.Minute {
		t.Errorf("wait with Retry-After 10m = %v, want the 5m cap", d)
	}
	if d := p.wait(5, 2*time.Second, true); d != 2*time.Second {
		t.Errorf("wait with Retry-After 2s = %v, want 2s", d)
	}
}

func TestReads(t *testing.T) {
	srv, count := server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			t.Errorf("method %s, want GET", r.Method)
		}
		switch r.URL.Path {
		case "/api/2.0/crm/opportunity/stage":
			if n == 1 {
				hangUp(w, r) // a read is idempotent: retried even after it was written
				return
			}
			reply(w, 200, `{"count":2,"status":0,"statusCode":200,"response":[
				{"id":1,"title":"Initial contact","description":"","color":"#e795c1","successProbability":1,"stageType":0},
				{"id":8,"title":"Closure/Transaction","color":"#6bbd72","successProbability":100,"stageType":1}]}`)
		case "/api/2.0/crm/settings/currency":
			reply(w, 200, `{"count":1,"status":0,"statusCode":200,"response":[{"title":"Euro","symbol":"€","abbreviation":"EUR","cultureName":"EU","isConvertable":true,"isBasic":true}]}`)
		case "/api/2.0/people":
			reply(w, 200, `{"count":1,"status":0,"statusCode":200,"response":[{"id":"9924256a-739c-462b-af15-e652a3b1b6eb","userName":"mike","firstName":"Mike","lastName":"O&#39;Neil","email":"mike@example.com","displayName":"Mike O&#39;Neil &amp; Co"}]}`)
		case "/api/2.0/crm/opportunity/customfield/definitions":
			reply(w, 200, `{"count":1,"status":0,"statusCode":200,"response":[{"id":14,"label":"Source","fieldType":2,"position":0,"mask":"[\"Web\",\"Fair\"]","entityId":0}]}`)
		case "/api/2.0/crm/opportunity/77":
			reply(w, 200, `{"status":0,"statusCode":200,"response":{"id":77,"title":"Deal","contact":{"id":12,"displayName":"ACME"},
				"responsible":{"id":"9924256a-739c-462b-af15-e652a3b1b6eb"},"bidType":4,"bidValue":1234.50,
				"bidCurrency":{"abbreviation":"EUR"},"perPeriodValue":12,"stage":{"id":3},"successProbability":20,
				"actualCloseDate":"0001-01-01T00:00:00.0000000Z","expectedCloseDate":"2024-03-15T00:00:00.0000000+01:00",
				"isPrivate":true,"accessList":[{"id":"9924256a-739c-462b-af15-e652a3b1b6eb"}],
				"customFields":[{"id":14,"label":"Source","fieldValue":"Web","fieldType":2}]}}`)
		default:
			failure(w, 404, "Not found")
		}
	})
	c, _ := newTestClient(t, srv.URL, nil)
	ctx := context.Background()

	stages, err := c.ListStages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantStages := []Stage{
		{ID: 1, Title: "Initial contact", Color: "#e795c1", SuccessProbability: 1},
		{ID: 8, Title: "Closure/Transaction", Color: "#6bbd72", SuccessProbability: 100, StageType: 1},
	}
	if diff := cmp.Diff(wantStages, stages); diff != "" {
		t.Errorf("stages (-want +got):\n%s", diff)
	}
	if n := count.Load(); n != 2 {
		t.Errorf("server saw %d requests for the stages, want 2", n)
	}

	cur, err := c.ListCurrencies(ctx)
	if diff := cmp.Diff([]Currency{{Title: "Euro", Symbol: "€", Abbreviation: "EUR", CultureName: "EU", IsConvertable: true, IsBasic: true}}, cur); err != nil || diff != "" {
		t.Errorf("currencies (%v) (-want +got):\n%s", err, diff)
	}
	users, err := c.ListUsers(ctx)
	wantUsers := []User{{ID: "9924256a-739c-462b-af15-e652a3b1b6eb", UserName: "mike", FirstName: "Mike", LastName: "O&#39;Neil", Email: "mike@example.com", DisplayName: "Mike O'Neil & Co"}}
	if diff := cmp.Diff(wantUsers, users); err != nil || diff != "" {
		t.Errorf("users (%v) (-want +got):\n%s", err, diff)
	}
	defs, err := c.ListCustomFields(ctx)
	if diff := cmp.Diff([]CustomFieldDef{{ID: 14, Label: "Source", FieldType: 2, Mask: `["Web","Fair"]`}}, defs); err != nil || diff != "" {
		t.Errorf("custom fields (%v) (-want +got):\n%s", err, diff)
	}
	o, err := c.GetOpportunity(ctx, 77)
	wantOpp := StoredOpportunity{
		ID: 77, Title: "Deal", ContactID: 12, ResponsibleID: "9924256a-739c-462b-af15-e652a3b1b6eb", BidType: 4,
		BidValue: "1234.50", BidCurrencyAbbr: "EUR", PerPeriodValue: 12, StageID: 3, SuccessProbability: 20,
		ActualCloseDate: "0001-01-01T00:00:00.0000000Z", ExpectedCloseDate: "2024-03-15T00:00:00.0000000+01:00",
		IsPrivate: true, AccessList: []string{"9924256a-739c-462b-af15-e652a3b1b6eb"},
		CustomFields: []CustomField{{ID: 14, Value: "Web"}},
	}
	if diff := cmp.Diff(wantOpp, o); err != nil || diff != "" {
		t.Errorf("opportunity (%v) (-want +got):\n%s", err, diff)
	}
	_, err = c.GetOpportunity(ctx, 78)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Errorf("missing opportunity: error %v, want an APIError 404", err)
	}
}

func TestSnippet(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Unauthorized", "Unauthorized"},
		{"  line one\n\tline two  ", "line one line two"},
		{"<html><head><title>503 Service Temporarily Unavailable</title></head><body>x</body></html>", "503 Service Temporarily Unavailable"},
		{"<p>Bad <b>gateway</b></p>", "Bad gateway"},
		{strings.Repeat("é", 100), strings.Repeat("é", 60) + "…"},
	}
	for _, tt := range tests {
		if got := snippet([]byte(tt.in)); got != tt.want {
			t.Errorf("snippet(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// An update or a delete answered by something in front of the portal is never success: an
// update says so (ErrUnverified) for the caller to read the deal back; a delete reads it
// back itself, and deletes again what is still there.
func TestWritesAnsweredByAProxy(t *testing.T) {
	t.Parallel()
	loginPage := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><head><title>Sign in</title></head></html>")
	}
	badGateway := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head></html>")
	}
	deal := func(w http.ResponseWriter) {
		reply(w, 200, `{"status":0,"statusCode":200,"response":{"id":5,"title":"Deal"}}`)
	}
	tests := []struct {
		name       string
		method     string
		answers    []func(w http.ResponseWriter) // in order; the last one repeats
		want       Outcome
		calls      []string // METHOD of each request the server saw
		unverified bool
		wantErr    bool
	}{
		{name: "update answered by a login page", method: http.MethodPut,
			answers: []func(http.ResponseWriter){loginPage},
			want:    Outcome{ID: 5, Attempts: 1, HTTPStatus: 200}, calls: []string{"PUT"}, unverified: true, wantErr: true},
		{name: "update answered 502", method: http.MethodPut,
			answers: []func(http.ResponseWriter){badGateway},
			want:    Outcome{ID: 5, Attempts: 1, HTTPStatus: 502}, calls: []string{"PUT"}, unverified: true, wantErr: true},
		{name: "update answered by the portal", method: http.MethodPut,
			answers: []func(http.ResponseWriter){deal},
			want:    Outcome{ID: 5, Attempts: 1, HTTPStatus: 200}, calls: []string{"PUT"}},
		{name: "delete answered by a login page, then gone", method: http.MethodDelete,
			answers: []func(http.ResponseWriter){loginPage, func(w http.ResponseWriter) { failure(w, 404, "Not found") }},
			want:    Outcome{ID: 5, Attempts: 2, HTTPStatus: 200}, calls: []string{"DELETE", "GET"}},
		{name: "delete answered 502 and still there: deleted again", method: http.MethodDelete,
			answers: []func(http.ResponseWriter){badGateway, deal, deal},
			want:    Outcome{ID: 5, Attempts: 3, HTTPStatus: 200}, calls: []string{"DELETE", "GET", "DELETE"}},
		{name: "delete never answered by the portal", method: http.MethodDelete,
			answers: []func(http.ResponseWriter){loginPage, deal, loginPage, deal, loginPage, deal, loginPage, deal},
			want:    Outcome{ID: 5, Attempts: 8, HTTPStatus: 200},
			calls:   []string{"DELETE", "GET", "DELETE", "GET", "DELETE", "GET", "DELETE", "GET"}, unverified: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var calls []string
			srv, _ := server(t, func(n int, w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				mu.Lock()
				calls = append(calls, r.Method)
				mu.Unlock()
				if r.URL.Path != "/api/2.0/crm/opportunity/5" {
					t.Errorf("path %s, want /api/2.0/crm/opportunity/5", r.URL.Path)
				}
				tt.answers[min(n, len(tt.answers))-1](w)
			})
			c, waits := newTestClient(t, srv.URL, nil)
			var got Outcome
			var err error
			if tt.method == http.MethodPut {
				got, err = c.UpdateOpportunity(context.Background(), 5, minimal())
			} else {
				got, err = c.DeleteOpportunity(context.Background(), 5)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
			mu.Lock()
			if diff := cmp.Diff(tt.calls, calls); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			mu.Unlock()
			if (err != nil) != tt.wantErr {
				t.Errorf("error %v, want error %v", err, tt.wantErr)
			}
			if errors.Is(err, ErrUnverified) != tt.unverified {
				t.Errorf("errors.Is(%v, ErrUnverified) = %v, want %v", err, !tt.unverified, tt.unverified)
			}
			if errors.Is(err, ErrInDoubt) {
				t.Errorf("error %v wraps ErrInDoubt, want not: only a create is in doubt", err)
			}
			if d := waits.get(); len(d) != 0 {
				t.Errorf("waited %v, want no backoff", d)
			}
		})
	}
}

// A read answered by a login page is retried, then fails saying what came back.
func TestReadAnsweredByALoginPage(t *testing.T) {
	t.Parallel()
	srv, count := server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><head><title>Sign in</title></head></html>")
	})
	c, _ := newTestClient(t, srv.URL, nil)
	_, err := c.ListStages(context.Background())
	want := `gave up after 4 attempts: the answer is not the portal's JSON: "Sign in"`
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if n := count.Load(); n != 4 {
		t.Errorf("server saw %d requests, want 4", n)
	}
}

func TestIsEnvelope(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]bool{
		`{"count":1,"status":0,"statusCode":200,"response":[{"id":1}]}`:     true,
		`{"response":[{"id":1}],"statusCode":200,"status":0}`:               true,
		`{"status":1,"statusCode":400,"error":{"message":"m","hresult":1}}`: true,
		`{"statusCode":400,"error":{"message":"m"},"status":1}`:             true,
		`{"status":1,"statusCode":400}`:                                     false,
		`{"status":1,"statusCode":502,"error":"Bad Gateway"}`:               false,
		`{"status":0}`:                                             false,
		`{"status":502,"statusCode":502}`:                          false,
		`{"message":"upstream timed out"}`:                         false,
		`<html><head><title>502 Bad Gateway</title></head></html>`: false,
		``:                                false,
		`[{"status":0,"statusCode":200}]`: false,
		`{"status":"0","statusCode":200}`: false,
	} {
		if got := isEnvelope([]byte(body)); got != want {
			t.Errorf("isEnvelope(%s) = %v, want %v", body, got, want)
		}
	}
}
