package project

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/daemongen/daemongen/generator"
)

// The checks in this file decide, without writing anything, whether a write would succeed as
// far as the file system can tell beforehand. The writers run them first, and --dry-run runs
// the same functions, so a dry run refuses exactly what the real run refuses, with the same
// words. Their errors are one line, name the path the user knows (never a temporary file) and
// say what to do; they replace the raw system call errors the writes would otherwise end with.

// CheckWritable reports a directory daemongen cannot create, rename or remove entries in.
func CheckWritable(dir string) error {
	if err := canWrite(dir); err != nil {
		return fmt.Errorf("cannot write in %s: %v; make it writable (or run daemongen as a user who may write there) and run again (nothing was written)", dir, errText(err))
	}
	return nil
}

// errText is the system's reason without the operation and path Go wraps around it.
func errText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

// checkTarget checks the directory a new project goes into. It reports whether it exists (and
// is a directory, or a symlink to one); a path that does not exist must be creatable.
func checkTarget(dir string) (exists bool, err error) {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, checkCreatable(dir)
	case err != nil:
		return false, describe(dir, dir, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		st, err := os.Stat(dir)
		if err != nil {
			return false, describe(dir, dir, err)
		}
		fi = st
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("%s is a file, not a directory; choose another name or --output (nothing was written)", dir)
	}
	return true, nil
}

// checkCreatable checks that the missing dir can be made: its nearest existing ancestor is a
// directory daemongen may write in.
func checkCreatable(dir string) error {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		switch {
		case err == nil && fi.IsDir():
			return CheckWritable(d)
		case err == nil:
			return fmt.Errorf("%s is a file, not a directory, so %s cannot be created in it (nothing was written)", d, dir)
		case !errors.Is(err, fs.ErrNotExist):
			return describe(d, d, err)
		}
		if _, lerr := os.Lstat(d); lerr == nil {
			return describe(d, d, err) // a symlink to nowhere: mkdir would fail on it
		}
		if filepath.Dir(d) == d {
			return err
		}
	}
}

// describe turns the error of stat-ing p (shown to the user as name) into a reason.
func describe(p, name string, err error) error {
	switch {
	case errors.Is(err, syscall.ELOOP):
		return fmt.Errorf("%s is a symbolic link that loops; remove it or point it at a real directory or file (nothing was written)", name)
	case errors.Is(err, fs.ErrNotExist):
		if target, lerr := os.Readlink(p); lerr == nil {
			return fmt.Errorf("%s is a symbolic link to %s, which does not exist; remove the link or create what it points to (nothing was written)", name, target)
		}
	case errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("%s: a part of the path is a file, not a directory (nothing was written)", name)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("cannot read %s: %v (nothing was written)", name, errText(err))
	}
	return fmt.Errorf("%s: %v (nothing was written)", name, errText(err))
}

// where is what checkPath found about one project file.
type where struct {
	exists bool
	// dir is the directory the write creates or renames an entry in: the directory of the
	// file's (symlink-resolved) target, or the nearest existing ancestor of a missing one.
	dir  string
	info fs.FileInfo // of the target, when it exists
}

// checkPath checks that the project file rel under dir can be a file: every existing
// directory on the way is a directory, and the file itself, if there, is a file or a symlink
// to one. Paths in messages are relative to the project, prefixed by it.
func checkPath(dir, rel string) (where, error) {
	if target, out := leadsOutside(dir, rel); out {
		return where{}, &OutsideError{Path: filepath.Join(dir, rel), Target: target}
	}
	parts := strings.Split(rel, "/")
	cur := dir
	for i, part := range parts[:len(parts)-1] {
		next := filepath.Join(cur, part)
		name := filepath.Join(dir, strings.Join(parts[:i+1], "/"))
		fi, err := os.Stat(next)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if _, lerr := os.Lstat(next); lerr == nil {
				return where{}, describe(next, name, err) // a symlink to nowhere
			}
			return where{dir: cur}, nil
		case err != nil:
			return where{}, describe(next, name, err)
		case !fi.IsDir():
			return where{}, fmt.Errorf("%s is a file where daemongen needs a directory (for %s); move it aside and run again (nothing was written)", name, rel)
		}
		cur = next
	}
	p := filepath.Join(dir, filepath.FromSlash(rel))
	name := filepath.Join(dir, rel)
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		return where{dir: cur}, nil
	}
	fi, err := os.Stat(p)
	if err != nil {
		return where{}, describe(p, name, err)
	}
	if fi.IsDir() {
		return where{}, fmt.Errorf("%s is a directory where daemongen writes a file; move it aside and run again (nothing was written)", name)
	}
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		return where{}, describe(p, name, err)
	}
	return where{exists: true, dir: filepath.Dir(target), info: fi}, nil
}

// ordered returns changes in the order Apply writes them: writes, then removals, then the
// manifest, so the manifest is the last thing to change.
func ordered(changes generator.Changes) generator.Changes {
	out := slices.Clone(changes)
	rank := func(c generator.Change) int {
		switch {
		case c.Path == generator.ManifestName:
			return 2
		case c.Delete:
			return 1
		}
		return 0
	}
	slices.SortStableFunc(out, func(x, y generator.Change) int { return rank(x) - rank(y) })
	return out
}

// Check reports why Apply would refuse or fail to write changes into the project in dir, as
// far as can be known without writing: a file changed since it was read (ChangedError), a
// path that is not what it must be, a directory daemongen cannot write in, a hard-linked file
// (replacing it would leave its other names with the old content). Apply runs it first;
// --dry-run runs it to refuse what the real run would.
func Check(dir string, changes generator.Changes) error {
	if err := CheckWritable(dir); err != nil {
		return err
	}
	checked := map[string]bool{dir: true}
	for _, c := range ordered(changes) {
		w, err := checkPath(dir, c.Path)
		if err != nil {
			return err
		}
		if w.exists && !c.Delete && c.Old != nil {
			if n := links(w.info); n > 1 {
				return fmt.Errorf("%s has %d hard links: daemongen replaces the files it changes, which would leave the other links with the old content; replace the other links with copies or symbolic links and run again (nothing was written)", filepath.Join(dir, c.Path), n)
			}
		}
		in := w.dir
		if c.Delete {
			in = filepath.Dir(filepath.Join(dir, filepath.FromSlash(c.Path))) // a symlink is removed itself
		}
		if !checked[in] {
			if err := CheckWritable(in); err != nil {
				return err
			}
			checked[in] = true
		}
		if err := checkOld(dir, c); err != nil {
			return err
		}
	}
	return nil
}

// checkOld reports a ChangedError unless the target holds c.Old (or is absent when Old is nil).
func checkOld(dir string, c generator.Change) error {
	got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(c.Path)))
	switch {
	case errors.Is(err, fs.ErrNotExist) && c.Old == nil:
		return nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return describe(filepath.Join(dir, filepath.FromSlash(c.Path)), filepath.Join(dir, c.Path), err)
	case err != nil || c.Old == nil || !bytes.Equal(got, c.Old):
		return &ChangedError{Path: c.Path}
	}
	return nil
}

// OutsideError reports a project path that a symbolic link (the file itself or a directory on
// its way) leads out of the project. daemongen writes only inside the project: a link committed
// to a repository must not make it overwrite, say, ~/.bashrc.
type OutsideError struct{ Path, Target string }

func (e *OutsideError) Error() string {
	return fmt.Sprintf("%s leads outside the project (to %s) through a symbolic link; daemongen writes only inside the project: replace the link with a copy and run again (nothing was written)", e.Path, e.Target)
}

// leadsOutside reports where rel's target lies, resolving symbolic links as far as the path
// exists, when that is outside the project in dir.
func leadsOutside(dir, rel string) (string, bool) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", false
	}
	for q := filepath.Join(dir, filepath.FromSlash(rel)); ; q = filepath.Dir(q) {
		if r, err := filepath.EvalSymlinks(q); err == nil {
			if r != root && !strings.HasPrefix(r, root+string(filepath.Separator)) {
				return r, true
			}
			return "", false
		}
		if len(q) <= len(dir) {
			return "", false
		}
	}
}
