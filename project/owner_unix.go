//go:build unix

package project

import (
	"io/fs"
	"os"
	"syscall"
)

// keepOwner gives f the owner and group of like where permitted; a user can usually keep the
// group (if a member) but not another owner, and losing either is not worth failing for.
func keepOwner(f *os.File, like fs.FileInfo) {
	if st, ok := like.Sys().(*syscall.Stat_t); ok {
		if f.Chown(int(st.Uid), int(st.Gid)) != nil {
			f.Chown(-1, int(st.Gid))
		}
	}
}
