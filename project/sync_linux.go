package project

import (
	"errors"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// durable makes the given files and directories (their content and the names in them)
// durable with one syncfs(2) per file system: on ext4 each fsync(2) is a journal commit, and
// an add of a dozen files took ten times longer with one fsync per file.
func durable(paths []string) error {
	done := map[uint64]bool{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || done[st.Dev] {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = unix.Syncfs(int(f.Fd()))
		f.Close()
		if err != nil {
			return err
		}
		done[st.Dev] = true
	}
	return nil
}

// renameNoReplace renames oldpath to newpath, failing if newpath exists: a plain rename(2)
// silently replaces an empty directory another run has just created.
func renameNoReplace(oldpath, newpath string) error {
	err := unix.Renameat2(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		// A file system or kernel without RENAME_NOREPLACE: check, then rename.
		if _, lerr := os.Lstat(newpath); lerr == nil {
			return fs.ErrExist
		}
		return os.Rename(oldpath, newpath)
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}
