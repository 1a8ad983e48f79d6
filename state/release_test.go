package state

import (
	"context"
	"errors"
	"os"
	"testing"
)

// Release removes a lock nothing else would take over (another host's, a dead process's)
// and refuses the lock of a process of this host that lives.
func TestRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const host = "this-host"
	tests := []struct {
		name     string
		pid      int
		host     string // "": no lock at all
		wantHeld bool
		refused  bool
	}{
		{"no lock", 0, "", false, false},
		{"another host", os.Getpid(), "another-host", true, false},
		{"a dead process here", 1 << 30, host, true, false},
		{"a live process here", os.Getpid(), host, true, true},
	}
	for _, tt := range tests {
		path := tempPath(t)
		holder := openTest(t, path)
		if tt.host != "" {
			if _, err := holder.Lock(ctx, tt.pid, tt.host); err != nil {
				t.Fatal(err)
			}
		}
		h, held, err := openTest(t, path).Release(ctx, host)
		var locked *LockedError
		switch {
		case tt.refused && !errors.As(err, &locked):
			t.Errorf("%s: got error %v, want a *LockedError", tt.name, err)
		case !tt.refused && err != nil:
			t.Errorf("%s: got error %v, want none", tt.name, err)
		case held != tt.wantHeld || (held && (h.PID != tt.pid || h.Host != tt.host)):
			t.Errorf("%s: got holder %+v held %v, want pid %d on %q held %v", tt.name, h, held, tt.pid, tt.host, tt.wantHeld)
		}
		// Released means free: another process takes the lock at once.
		if _, err := openTest(t, path).Lock(ctx, 4242, "elsewhere"); (err == nil) == tt.refused {
			t.Errorf("%s: taking the lock after Release: got error %v, want it refused only when Release was", tt.name, err)
		}
	}
}
