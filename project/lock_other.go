//go:build !unix

package project

import (
	"errors"
	"os"
)

var errBusy = errors.New("locked by another process")

// canLock: tryLock always succeeds here, so it cannot tell a crashed run's temporary
// directory from a live one's; none is removed.
const canLock = false

// noFollow: no O_NOFOLLOW here; plainLockFile's check stands alone.
const noFollow = 0

// tryLock does not lock where flock(2) is missing: daemongen's concurrency guarantee holds on
// Unix systems only (README says so). The on-disk checks of the writer still refuse a file
// that changed under it.
func tryLock(*os.File) error { return nil }

func tryLockShared(*os.File) error { return nil }
