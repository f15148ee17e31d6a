//go:build !linux

package project

import (
	"io/fs"
	"os"
)

// durable fsyncs each file and directory: there is no syncfs(2) here.
func durable(paths []string) error {
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// renameNoReplace renames oldpath to newpath after checking that newpath does not exist (a
// race remains where there is no renameat2(2)).
func renameNoReplace(oldpath, newpath string) error {
	if _, err := os.Lstat(newpath); err == nil {
		return fs.ErrExist
	}
	return os.Rename(oldpath, newpath)
}
