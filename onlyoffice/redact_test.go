package onlyoffice

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestErrorsRedactEchoedSecrets: a server or proxy that quotes the request in its error
// page must not get the token into an error message, not even a piece of it that the
// message's shortening cut off.
func TestErrorsRedactEchoedSecrets(t *testing.T) {
	srv, _ := server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusBadRequest, strings.Repeat("e", n)+" Authorization: "+r.Header.Get("Authorization"))
	})
	c, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Retries = 0 })
	for pad := 1; pad <= 130; pad++ { // the shortened message ends anywhere in the token
		_, err := c.CreateOpportunity(context.Background(), minimal())
		if err == nil {
			t.Fatalf("pad %d: got no error", pad)
		}
		for i := 0; i+8 <= len(testToken); i++ {
			if piece := testToken[i : i+8]; strings.Contains(err.Error(), piece) {
				t.Errorf("pad %d: error %q holds %q, a piece of the token", pad, err, piece)
				break
			}
		}
	}
}

// TestSuccessPagesRedactEchoedSecrets: a 200 that is not the portal's JSON (a proxy's page
// quoting the request) is an error that holds no piece of the token either.
func TestSuccessPagesRedactEchoedSecrets(t *testing.T) {
	srv, _ := server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(strings.Repeat("p", n) + " Authorization: " + r.Header.Get("Authorization")))
	})
	c, _ := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Retries = 0 })
	for pad := 1; pad <= 130; pad++ {
		for _, call := range []func() error{
			func() error { _, err := c.ListStages(context.Background()); return err },
			func() error { _, err := c.ListUsers(context.Background()); return err },
			func() error { _, err := c.GetOpportunity(context.Background(), 1); return err },
		} {
			err := call()
			if err == nil {
				t.Fatalf("pad %d: got no error", pad)
			}
			for i := 0; i+8 <= len(testToken); i++ {
				if piece := testToken[i : i+8]; strings.Contains(err.Error(), piece) {
					t.Errorf("pad %d: error %q holds %q, a piece of the token", pad, err, piece)
					break
				}
			}
		}
	}
}
