//go:build unix

package state

import (
	"errors"
	"syscall"
)

// alive reports whether process pid exists on this host. Signal 0 checks
// without sending anything; EPERM means it exists under another user.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return !errors.Is(err, syscall.ESRCH)
}
