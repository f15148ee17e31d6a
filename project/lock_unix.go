//go:build unix

package project

import (
	"errors"
	"os"
	"syscall"
)

var errBusy = errors.New("locked by another process")

// canLock: flock(2) works, so a temporary directory whose lock is free belongs to no live run.
const canLock = true

// noFollow makes opening the lock file fail rather than follow a symlink.
const noFollow = syscall.O_NOFOLLOW

func tryLock(f *os.File) error { return tryFlock(f, syscall.LOCK_EX) }

func tryLockShared(f *os.File) error { return tryFlock(f, syscall.LOCK_SH) }

func tryFlock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return errBusy
		}
		return err
	}
}
