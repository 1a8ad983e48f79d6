package emulator

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Refuse answers as the rate limit does: the same status, Retry-After and body.
func TestRefuseAnswersAsTheRateLimit(t *testing.T) {
	t.Parallel()
	for _, status := range []int{0, http.StatusTooManyRequests} {
		limited := New(Options{RateLimit: 1, RateLimitStatus: status, Token: "tok"})
		var want *httptest.ResponseRecorder
		for range 3 { // the first is let through
			want = httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/api/2.0/crm/opportunity/stage", nil)
			r.Header.Set("Authorization", "tok")
			limited.Handler().ServeHTTP(want, r)
		}
		if wantCode := map[int]int{0: http.StatusServiceUnavailable}[status]; want.Code != max(wantCode, status) {
			t.Fatalf("status %d: the rate limit answered %d to the third request in a second", status, want.Code)
		}
		srv := New(Options{Token: "tok"})
		got := httptest.NewRecorder()
		srv.Refuse(got, httptest.NewRequest(http.MethodGet, "/api/2.0/crm/opportunity/stage", nil), status)
		if got.Code != want.Code || got.Header().Get("Retry-After") != want.Header().Get("Retry-After") ||
			got.Body.String() != want.Body.String() {
			t.Errorf("status %d: got %d %q %s, want %d %q %s", status, got.Code, got.Header().Get("Retry-After"), got.Body,
				want.Code, want.Header().Get("Retry-After"), want.Body)
		}
		if n := srv.Stats().Refused; n != 1 {
			t.Errorf("status %d: Stats.Refused = %d, want 1", status, n)
		}
	}
}
