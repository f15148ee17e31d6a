package project

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// scratchPrefix starts the names of the private temporary directories a run keeps in the
// system's temporary directory (base renders, merge inputs): they hold copies of the user's
// files, so they must not outlive the run, even a killed one.
const scratchPrefix = "daemongen-scratch-"

// sweepOnce removes, once per process, the scratch directories of runs that were killed.
var sweepOnce sync.Once

// Scratch makes a private temporary directory (mode 0700) for one run's intermediate files and
// holds its flock(2) until release, which removes it. The first call in a process first removes
// the scratch directories whose lock is free: a run killed with SIGKILL could not remove its own.
func Scratch() (dir string, release func(), err error) {
	sweepOnce.Do(func() { removeStaleScratch(os.TempDir()) })
	dir, hold, err := lockedTempDir(os.TempDir(), scratchPrefix)
	if err != nil {
		return "", nil, err
	}
	return dir, func() {
		os.RemoveAll(dir)
		hold.Close()
	}, nil
}

// removeStaleScratch removes the scratch directories in parent that no live run holds.
func removeStaleScratch(parent string) {
	if !canLock {
		return
	}
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), scratchPrefix)
		if !ok || !e.IsDir() || rest == "" || strings.Trim(rest, "0123456789") != "" {
			continue
		}
		p := filepath.Join(parent, e.Name())
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		if tryLock(f) == nil {
			os.RemoveAll(p)
		}
		f.Close()
	}
}
