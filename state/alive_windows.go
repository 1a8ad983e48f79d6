//go:build windows

package state

import (
	"errors"

	"golang.org/x/sys/windows"
)

// alive reports whether process pid exists on this host: Windows is asked for the
// process, and a process that has exited but whose handle someone still holds reports an
// exit code other than STILL_ACTIVE. Access denied means it exists under another user.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return errors.Is(err, windows.ERROR_ACCESS_DENIED)
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return true
	}
	const stillActive = 259
	return code == stillActive
}
