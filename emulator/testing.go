package emulator

import "net/http"

// Refuse answers r as the portal's rate limit does (Options.RateLimit): status (0 = 503, as
// Options.RateLimitStatus), Retry-After: 1 and the portal's busy message, counted in
// Stats.Refused. A test in front of the emulator's Handler calls it to refuse the requests
// it chooses, whatever the client's speed, where a rate limit refuses only a client faster
// than the limit. The request is not counted in Stats.Total or ByRoute: it never reached
// the portal.
func (s *Server) Refuse(w http.ResponseWriter, r *http.Request, status int) {
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	s.mu.Lock()
	s.stats.Refused++
	s.mu.Unlock()
	w.Header().Set("Retry-After", "1")
	s.write(w, r, reply{err: &apiError{status, "Portal is busy: too many requests, try again later", hresultException}})
}
