package project

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// LockName is the lock file beside the manifest. It is never deleted: deleting a flock(2) file
// lets a third run lock a new inode while the second still holds the old one.
const LockName = ".daemongen.lock"

// DefaultWait is how long a command waits for another daemongen run on the same project
// before giving up. Adding a feature takes well under a second.
const DefaultWait = 10 * time.Second

// BusyError reports a project another daemongen run kept locked for longer than the wait.
type BusyError struct {
	Dir    string
	Holder string // "pid N" as written by the holder, or ""
	Waited time.Duration
}

func (e *BusyError) Error() string {
	who := "another daemongen run"
	if e.Holder != "" {
		who += " (" + e.Holder + ")"
	}
	return fmt.Sprintf("%s is changing %s; gave up after waiting %s: run the command again when it has finished (lock: %s)",
		who, e.Dir, e.Waited, filepath.Join(e.Dir, LockName))
}

// Lock is a lock on a project, held until Unlock.
type Lock struct{ f *os.File }

// Acquire takes the exclusive lock on the project in dir, waiting up to wait for another
// holder, or until ctx is done; waiting is announced through notify (called at most once). The
// kernel releases the lock when the process dies, so a crashed run never leaves it locked.
func Acquire(ctx context.Context, dir string, wait time.Duration, notify func(string)) (*Lock, error) {
	p := filepath.Join(dir, LockName)
	if err := plainLockFile(p); err != nil {
		return nil, err
	}
	// noFollow: a lock file swapped for a symlink after the check is not followed either.
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|noFollow, 0o644)
	if err != nil {
		if werr := CheckWritable(dir); werr != nil {
			return nil, werr // the same words as --dry-run's check
		}
		return nil, fmt.Errorf("locking the project: %w", err)
	}
	if err := waitFor(ctx, f, tryLock, dir, wait, notify); err != nil {
		return nil, err
	}
	// The PID is for the message a waiting run prints, never for deciding who holds the lock.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte("pid "+strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// AcquireShared takes the lock for reading: it waits, as Acquire does, while a writer holds
// the project, and lets other readers in. It writes nothing: without a lock file (no run has
// written the project yet) there is no writer to wait for; one that cannot be opened (a
// read-only checkout) is no lock at all.
func AcquireShared(ctx context.Context, dir string, wait time.Duration, notify func(string)) (*Lock, error) {
	p := filepath.Join(dir, LockName)
	if err := plainLockFile(p); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return &Lock{}, nil
	}
	if err := waitFor(ctx, f, tryLockShared, dir, wait, notify); err != nil {
		return nil, err
	}
	return &Lock{f: f}, nil
}

// waitFor takes the lock on f with try, retrying until wait has passed or ctx is done; f is
// closed on failure.
func waitFor(ctx context.Context, f *os.File, try func(*os.File) error, dir string, wait time.Duration, notify func(string)) error {
	p := f.Name()
	deadline := time.Now().Add(wait)
	announced := false
	for {
		err := try(f)
		if err == nil {
			return nil
		}
		if !errors.Is(err, errBusy) {
			f.Close()
			return fmt.Errorf("locking %s: %w", p, err)
		}
		if time.Now().After(deadline) {
			holder := holderOf(p)
			f.Close()
			return &BusyError{Dir: dir, Holder: holder, Waited: wait}
		}
		if !announced && notify != nil {
			who := "another daemongen run"
			if h := holderOf(p); h != "" {
				who += " (" + h + ")"
			}
			notify(fmt.Sprintf("waiting up to %s for %s on %s", wait, who, dir))
			announced = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return fmt.Errorf("stopped waiting for the lock on %s: %w", dir, context.Cause(ctx))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Unlock releases the lock. The file stays.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)    // no pid: a later wait must not name this run (fails on a reader's lock, harmlessly)
	err := l.f.Close() // closing the last descriptor releases the flock
	l.f = nil
	return err
}

func holderOf(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// plainLockFile refuses a lock file that is anything but a plain file (or absent): daemongen
// writes its pid into it, and through a symlink committed to a repository that would
// overwrite any file the link points at; a FIFO would block the open.
func plainLockFile(p string) error {
	fi, err := os.Lstat(p)
	if err != nil || fi.Mode().IsRegular() {
		return nil
	}
	return fmt.Errorf("%s is not a plain file (%s): it is daemongen's lock file, which daemongen writes; remove it and run again (nothing was written)", p, fi.Mode().Type())
}
