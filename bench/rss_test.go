package main

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// TestWatchRSS: the sampler finds the program that GNU time (here: a shell) runs and
// splits its resident set into anonymous and file-backed pages that add up to it.
func TestWatchRSS(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	if s, ok := readRSS(os.Getpid()); !ok || s.anon <= 0 || s.file <= 0 || s.anon+s.file > s.total+1<<20 {
		t.Errorf("readRSS(self) = %+v, %v; want anonymous and file-backed parts of the total", s, ok)
	}
	// sh runs sleep as its child, as GNU time runs the program.
	cmd := exec.Command("sh", "-c", "sleep 0.3; true")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	done := make(chan struct{})
	sampled := watchRSS(cmd.Process.Pid, true, done)
	child := 0
	for deadline := time.Now().Add(5 * time.Second); child == 0 && time.Now().Before(deadline); {
		child = firstChild(cmd.Process.Pid)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	close(done)
	got := <-sampled
	if child == 0 {
		t.Fatalf("firstChild(%d) found no child while it ran sleep", cmd.Process.Pid)
	}
	if got.total <= 0 || got.anon <= 0 || got.file <= 0 {
		t.Errorf("watchRSS = %+v, want a sample with both parts", got)
	}
	if want := (rssSplit{}).String(); want != "not sampled" {
		t.Errorf("an empty sample reads %q, want %q", want, "not sampled")
	}
}
