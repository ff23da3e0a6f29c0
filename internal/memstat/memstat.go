// Package memstat reads this process's resident memory, for the worker's
// per-step usage records and for the memory benchmark.
package memstat

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ResidentKB is this process's resident set size in KiB (VmRSS in
// /proc/self/status).
func ResidentKB() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read resident memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse %q: %w", sc.Text(), err)
			}
			return kb, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read resident memory: %w", err)
	}
	return 0, fmt.Errorf("no VmRSS in /proc/self/status")
}
