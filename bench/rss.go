package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// rssSplit is a child's resident set at the largest of its samples, split into
// anonymous memory (the heap, stacks, the runtime's own structures) and file-backed pages
// (the binary's code, read-only data and tables, the shared libraries), which a peak RSS
// counts alike: a page of the binary touched once, by a package's init say, stays
// resident.
type rssSplit struct{ total, anon, file int64 }

func (s rssSplit) String() string {
	if s.total == 0 {
		return "not sampled"
	}
	return mb(s.total) + " = " + mb(s.anon) + " + " + mb(s.file)
}

// watchRSS samples the resident set of the process pid every 5 ms (of its child when
// underTime: the program GNU time runs) until done is closed, then sends the sample of
// the largest total. Polling can miss a peak shorter than its period: the split says what
// the peak is made of, GNU time's %M how high it is.
func watchRSS(pid int, underTime bool, done <-chan struct{}) <-chan rssSplit {
	out := make(chan rssSplit, 1)
	go func() {
		var best rssSplit
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		target := pid
		for {
			select {
			case <-done:
				out <- best
				return
			case <-tick.C:
			}
			if underTime && target == pid {
				target = firstChild(pid)
				if target == 0 {
					target = pid
					continue
				}
			}
			if s, ok := readRSS(target); ok && s.total > best.total {
				best = s
			}
		}
	}()
	return out
}

// firstChild is the first child of pid, 0 when it has none (yet).
func firstChild(pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(pid) + "/children")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0
	}
	child, _ := strconv.Atoi(f[0])
	return child
}

// readRSS reads VmRSS, RssAnon and RssFile of pid.
func readRSS(pid int) (rssSplit, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return rssSplit{}, false
	}
	var s rssSplit
	for line := range strings.SplitSeq(string(data), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var field *int64
		switch name {
		case "VmRSS":
			field = &s.total
		case "RssAnon":
			field = &s.anon
		case "RssFile":
			field = &s.file
		default:
			continue
		}
		if f := strings.Fields(v); len(f) > 0 {
			kb, _ := strconv.ParseInt(f[0], 10, 64)
			*field = kb * 1024
		}
	}
	return s, s.total > 0
}
