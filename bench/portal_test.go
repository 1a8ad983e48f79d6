package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestCloudWindow: the bench's stand-in for the cloud accepts n requests in any span, then
// answers 503 with the seconds until there is room, without passing the request on.
func TestCloudWindow(t *testing.T) {
	t.Parallel()
	passed := 0
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		passed++
		w.WriteHeader(http.StatusOK)
	}))
	defer backend.Close()
	front, cw, stop, err := startCloud(backend.URL, 2, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	var statuses []int
	var retryAfter string
	for range 3 {
		res, err := http.Get(front + "/api/2.0/crm/opportunity")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		statuses = append(statuses, res.StatusCode)
		retryAfter = res.Header.Get("Retry-After")
	}
	if diff := cmp.Diff([]int{200, 200, 503}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if secs, err := strconv.Atoi(retryAfter); err != nil || secs < 3590 || secs > 3600 {
		t.Errorf("got Retry-After %q, want about 3600 (the seconds until the first ages out)", retryAfter)
	}
	if passed != 2 || cw.refused != 1 {
		t.Errorf("got %d passed to the portal and %d refused, want 2 and 1", passed, cw.refused)
	}
}

// TestCPUOf: the CPU time of a process, read from /proc, grows as it works.
func TestCPUOf(t *testing.T) {
	t.Parallel()
	start, err := cpuOf(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for x := 1; ; x = x*31 + 7 { // work until a tick of CPU time is counted
		now, err := cpuOf(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now > start {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU time still %v after 20 s of work (%d)", now, x)
		}
	}
	if _, err := cpuOf(-1); err == nil {
		t.Error("no process -1: got no error")
	}
}
