package emulator

import (
	"os"
	"os/exec"
	"regexp"
	"testing"
)

// TestNoInit: the package runs no init, which every command of the program would pay
// (its code's pages touched at start-up, its tables built): package-level regular
// expressions and tables are built on first use (the route names: on the first request).
func TestNoInit(t *testing.T) {
	t.Parallel()
	if os.Getenv("NO_INIT_CHILD") == "1" {
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoInit$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "NO_INIT_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !regexp.MustCompile(`(?m)^init testing @`).Match(out) {
		t.Fatalf("no init trace in:\n%s", out)
	}
	if m := regexp.MustCompile(`(?m)^init github\.com/oppimport/oppimport/emulator @.*$`).Find(out); m != nil {
		t.Errorf("the package runs an init: %s; want none", m)
	}
}
