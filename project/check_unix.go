//go:build unix

package project

import (
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// canWrite asks the kernel whether this process may create and remove entries in dir: the
// mode bits for a normal user, and for root a read-only mount or the immutable attribute.
func canWrite(dir string) error {
	return unix.Access(dir, unix.W_OK|unix.X_OK)
}

// links is the number of hard links to the file described by fi (1 when unknown).
func links(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}
