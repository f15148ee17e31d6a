package generator

import (
	"fmt"
	"strconv"
	"strings"
)

// memoryLimit is the one setting behind every memory figure a deployment file states: the hard
// limit (systemd MemoryMax, Kubernetes limits.memory), the point where the kernel starts
// reclaiming (MemoryHigh) and GOMEMLIMIT, from which the Go GC works harder. Deriving them from
// one value keeps them in the order that works: GOMEMLIMIT < MemoryHigh < MemoryMax.
// Both the systemd and the k8s feature declare it; Settings asks it once.
var memoryLimit = Setting{
	Key:     "memory-limit",
	Prompt:  "Memory limit",
	Help:    "The most memory the daemon may use, e.g. 128MiB or 1GiB. Deployment files set it as the hard limit (systemd MemoryMax, Kubernetes limits.memory), with MemoryHigh at 95% and GOMEMLIMIT at 90%, so the GC works harder before the kernel throttles or kills.",
	Default: "128MiB",
	Check:   checkMemory,
}

// parseMiB reads a size in MiB or GiB ("128MiB", "2GiB") as a number of MiB.
func parseMiB(s string) (int, error) {
	for suffix, mult := range map[string]int{"MiB": 1, "GiB": 1024} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			switch {
			case err != nil:
			case strconv.Itoa(v) != n && v > 0:
				// The value is copied into deployment files as written.
				return 0, fmt.Errorf("write the number plainly (no sign or leading zero): use %d%s", v, suffix)
			default:
				return v * mult, nil // checkMemory refuses 0 and below as out of range
			}
		}
	}
	return 0, fmt.Errorf("%q is not a size; use a value like 128MiB or 2GiB", s)
}

func checkMemory(s string) error {
	mib, err := parseMiB(s)
	if err != nil {
		return err
	}
	if mib < 32 || mib > 1024*1024 {
		return fmt.Errorf("%s is out of range; use a value from 32MiB to 1024GiB", s)
	}
	return nil
}

// MemoryMiB returns percent of a size setting in whole MiB, rounded down, for deployment files:
// {{ .MemoryMiB "memory-limit" 90 }} is the GOMEMLIMIT for that limit.
func (a Answers) MemoryMiB(key string, percent int) (int, error) {
	v, err := a.Get(key)
	if err != nil {
		return 0, err
	}
	mib, err := parseMiB(v)
	if err != nil {
		return 0, fmt.Errorf("setting %q: %w", key, err)
	}
	return mib * percent / 100, nil
}
