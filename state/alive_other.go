//go:build !unix && !windows

package state

// alive cannot tell on this system, so it takes every holder for alive: a
// stale lock must then be removed by hand rather than taken over by mistake.
func alive(pid int) bool { return true }
