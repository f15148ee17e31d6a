package project

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/daemongen/daemongen/generator"
)

// ErrNotEmpty is returned when a new project's directory exists and is not empty.
var ErrNotEmpty = errors.New("directory exists and is not empty")

// ErrUnchanged is returned by WriteNew when the directory already holds exactly the project:
// nothing was written (a re-run of a `new` that completed, or completed through recovery).
var ErrUnchanged = errors.New("the directory already holds exactly this project; nothing was written")

// tempPrefix starts the name of every temporary file daemongen creates inside a project. Any
// such file found while holding the project lock is left over from an interrupted run.
const tempPrefix = ".daemongen-"

// StepHook, when set, is called before every step that changes the disk, with a short
// description; an error it returns fails that step. Tests set it to inject a failure at each
// step in turn, or to end the process there (a crash); it is nil otherwise.
var StepHook func(step string) error

func step(format string, args ...any) error {
	if StepHook != nil {
		return StepHook(fmt.Sprintf(format, args...))
	}
	return nil
}

// ExistingFilesError lists files --force would have to overwrite; it never does.
type ExistingFilesError struct {
	Dir   string
	Paths []string
}

func (e *ExistingFilesError) Error() string {
	return fmt.Sprintf("%s: %d file(s) already exist with different content and were left alone: %s; move them aside and run again (nothing was written)",
		e.Dir, len(e.Paths), strings.Join(e.Paths, ", "))
}

// ChangedError reports a file that changed on disk after add read it.
type ChangedError struct{ Path string }

func (e *ChangedError) Error() string {
	return fmt.Sprintf("%s changed while daemongen was working (or since it was read); nothing was written: run the command again", e.Path)
}

// WriteNew creates a new project in dir.
//
// A dir that does not exist is built in a temporary sibling directory and renamed into place,
// so a failure or crash at any point leaves no project; the sibling of a crashed run is removed
// by the next one. An existing dir is never replaced (it may be a symlink, a mount point, or
// carry the user's group, mode and ACLs): its files are written into it under the project lock
// and journal, like add's, so a crash is completed by the next run. dir must be empty, or hold
// exactly this project already (ErrUnchanged), unless force: then files that exist with
// identical content are skipped and any that differ make WriteNew fail before writing anything.
//
// ctx only bounds the wait for the lock (announced through notify, which may be nil); once
// writing has begun it runs to the end.
func WriteNew(ctx context.Context, dir string, changes generator.Changes, force bool, notify func(string)) error {
	exists, err := checkTarget(dir)
	if err != nil {
		return err
	}
	if !exists {
		return createFresh(dir, changes)
	}
	// Refusals come first, without the lock, so a refused run leaves no lock file behind; a
	// journal means an interrupted run to complete first, which needs the lock.
	if err := checkInto(dir, changes, force); err != nil {
		return err
	}
	lock, err := Acquire(ctx, dir, DefaultWait, notify)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	if _, err := Recover(dir); err != nil {
		return err
	}
	todo, err := planInto(dir, changes, force)
	if err != nil {
		return err
	}
	return Apply(dir, todo)
}

// checkInto is what WriteNew checks of an existing dir before it locks it: that it can write
// there, and, unless an interrupted run is to be completed first, what planInto refuses.
func checkInto(dir string, changes generator.Changes, force bool) error {
	if err := CheckWritable(dir); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, JournalName)); err == nil {
		return nil
	}
	_, err := planInto(dir, changes, force)
	return err
}

// planInto returns the changes still to write into the existing dir, or why not to write.
func planInto(dir string, changes generator.Changes, force bool) (generator.Changes, error) {
	// A directory counts as empty when it holds no file: only (empty) directories, the lock
	// file, or temporary files and directories of an interrupted run, which are daemongen's.
	empty := true
	root, err := filepath.EvalSymlinks(dir) // a symlink to a directory is walked as that directory
	if err != nil {
		return nil, err
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() || d.Name() == LockName || strings.HasPrefix(d.Name(), tempPrefix):
			return nil
		}
		empty = false
		return filepath.SkipAll
	})
	if err != nil {
		return nil, describe(root, dir, err)
	}
	var conflicts []string
	var todo generator.Changes
	var pathErr error
	writeIn := map[string]bool{}
	for _, c := range changes {
		w, err := checkPath(dir, c.Path)
		switch {
		case err != nil:
			pathErr = cmp.Or(pathErr, err)
			continue
		case !w.exists:
			todo = append(todo, c)
			writeIn[w.dir] = true
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(c.Path)))
		switch {
		case err != nil:
			pathErr = cmp.Or(pathErr, describe(filepath.Join(dir, filepath.FromSlash(c.Path)), filepath.Join(dir, c.Path), err))
		case !bytes.Equal(got, c.New):
			conflicts = append(conflicts, c.Path)
		}
	}
	switch {
	case pathErr == nil && len(todo) == 0 && len(conflicts) == 0:
		return nil, ErrUnchanged
	case !empty && !force:
		return nil, fmt.Errorf("%s: %w; choose another name or --output, or pass --force to add files without overwriting any", dir, ErrNotEmpty)
	case pathErr != nil:
		return nil, pathErr
	case len(conflicts) > 0:
		return nil, &ExistingFilesError{Dir: dir, Paths: conflicts}
	}
	for _, d := range slices.Sorted(maps.Keys(writeIn)) {
		if err := CheckWritable(d); err != nil {
			return nil, err
		}
	}
	return todo, nil
}

// createFresh builds the project in a hidden temporary directory and renames it into place.
// The temporary directory is made in the nearest existing ancestor of dir (its parent, unless
// --output names directories still to be made: those are made only just before the rename,
// so a crash leaves no empty directory). It is flock(2)ed while it is being built, so the next
// run can tell a crashed run's leftover (unlocked) from a concurrent run's work in progress
// (locked) and remove only the former.
func createFresh(dir string, changes generator.Changes) error {
	parent := filepath.Dir(dir)
	base := nearestDir(parent)
	removeStaleSiblings(base, "")
	// A run that crashed just after making --output's missing directories left its temporary
	// directory higher up, where this run's nearest directory was the nearest then.
	for d := base; filepath.Dir(d) != d; {
		d = filepath.Dir(d)
		removeStaleSiblings(d, filepath.Base(dir))
	}
	tmp, hold, err := lockedTempDir(base, "."+filepath.Base(dir)+tempPrefix)
	if err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	defer hold.Close()
	defer os.RemoveAll(tmp) // a no-op after the rename succeeded
	var madeParents []string
	fail := func(err error) error {
		os.RemoveAll(tmp)
		removeEmpty(madeParents)
		return err
	}
	made := map[string]bool{}
	written := []string{tmp}
	for _, c := range changes {
		// Plain writes: nobody can see the temporary directory until the final rename.
		p := filepath.Join(tmp, filepath.FromSlash(c.Path))
		if d := filepath.Dir(p); !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return fail(err)
			}
			made[d] = true
		}
		if err := errors.Join(step("write %s", c.Path), os.WriteFile(p, c.New, 0o644)); err != nil {
			return fail(fmt.Errorf("writing %s: %w", c.Path, unwrapLink(err)))
		}
		written = append(written, p)
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp creates 0700
		return fail(err)
	}
	// The content must be on disk before the name is: otherwise a power loss just after the
	// rename can leave the project with empty files, which nothing would ever repair.
	if err := errors.Join(step("sync the project"), durable(written)); err != nil {
		return fail(fmt.Errorf("syncing the new project: %w", unwrapLink(err)))
	}
	madeParents, err = mkdirAll(parent)
	if err != nil {
		return fail(fmt.Errorf("creating %s: %w", parent, err))
	}
	if err := step("rename the project into place"); err != nil {
		return fail(err)
	}
	if err := renameNoReplace(tmp, dir); err != nil {
		if _, serr := os.Lstat(dir); serr == nil {
			return fail(fmt.Errorf("%s appeared while daemongen was creating it (another run?); nothing was written: run the command again", dir))
		}
		return fail(fmt.Errorf("moving the new project into place at %s: %w", dir, unwrapLink(err)))
	}
	syncDir(parent)
	return nil
}

// lockedTempDir makes a temporary directory in parent and flock(2)s it. Another run's
// removeStaleSiblings may take the directory between the mkdir and the flock (it looks like a
// crashed run's): then this one tries again with a new directory.
func lockedTempDir(parent, prefix string) (string, *os.File, error) {
	for attempt := 0; ; attempt++ {
		if err := step("create the temporary directory"); err != nil {
			return "", nil, err
		}
		tmp, err := os.MkdirTemp(parent, prefix+"*")
		if err != nil {
			return "", nil, unwrapLink(err)
		}
		hold, err := os.Open(tmp)
		if err == nil {
			err = tryLock(hold)
			if err == nil {
				if st, serr := os.Stat(tmp); serr == nil {
					if hst, herr := hold.Stat(); herr == nil && os.SameFile(st, hst) {
						return tmp, hold, nil // locked, and still the directory named tmp
					}
				}
			}
			hold.Close()
		}
		if attempt == 10 {
			os.RemoveAll(tmp)
			return "", nil, fmt.Errorf("another daemongen run kept removing the temporary directory: %w", err)
		}
	}
}

// removeStaleSiblings removes, in parent, the hidden temporary project directories of crashed
// new runs (.NAME.daemongen-*, for NAME starting with name, or any NAME when name is "")
// whose flock can be taken, so no live run is building them.
func removeStaleSiblings(parent, name string) {
	if !canLock {
		return
	}
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		n := e.Name()
		i := strings.LastIndex(n, tempPrefix)
		if !e.IsDir() || i < 2 || n[0] != '.' || strings.Trim(n[i+len(tempPrefix):], "0123456789") != "" || (name != "" && n[1:i] != name) {
			continue
		}
		p := filepath.Join(parent, n)
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		if tryLock(f) == nil && step("remove %s", n) == nil {
			os.RemoveAll(p)
		}
		f.Close()
	}
}

// Apply writes changes to the existing project in dir, which the caller has locked. Every
// target is checked to still hold the content it had when rendering read it (Old; nil means
// absent). Every new content is staged in a temporary file beside its target, and the whole
// set is recorded in the journal; the staged files and the journal are made durable with one
// sync, and the journal is renamed into place: the commit point. Only then are the targets
// replaced, the manifest last. A failure restores what was already replaced; a crash is
// completed by Recover in the next run.
func Apply(dir string, changes generator.Changes) error {
	ordered := ordered(changes)
	if err := Check(dir, ordered); err != nil {
		return err
	}
	var made []string
	var all []staged
	cleanup := func(err error) error {
		for _, s := range all {
			os.Remove(s.tmp)
		}
		removeEmpty(made)
		return err
	}
	for _, c := range ordered {
		if c.Delete {
			// A symlink is removed itself, not its target: the link is the project's file.
			all = append(all, staged{rel: c.Path, final: filepath.Join(dir, filepath.FromSlash(c.Path)), remove: true})
			continue
		}
		s, err := prepare(dir, c.Path, c.Old != nil, c.New)
		if err != nil {
			return cleanup(fmt.Errorf("writing %s: %w", c.Path, unwrapLink(err)))
		}
		all = append(all, s)
	}
	journal, err := stageJournal(dir, ordered)
	if err != nil {
		return cleanup(err)
	}
	all = append(all, journal)
	var tmps []string
	for _, s := range all {
		if s.tmp != "" {
			tmps = append(tmps, s.tmp)
		}
	}
	if err := durable(tmps); err != nil {
		return cleanup(fmt.Errorf("syncing the staged files: %w", err))
	}
	// Staging big files takes time; an edit saved meanwhile would be overwritten. Check again
	// right before the commit point, which leaves only the renames' milliseconds uncovered.
	if err := step("check the files again"); err != nil {
		return cleanup(err)
	}
	for _, c := range ordered {
		if err := checkOld(dir, c); err != nil {
			return cleanup(err)
		}
	}
	if err := journal.commit(nil); err != nil {
		return cleanup(fmt.Errorf("writing the journal: %w", unwrapLink(err)))
	}
	all = all[:len(all)-1]
	syncDir(dir)
	var dirs []string
	for i, s := range all {
		if err := s.commit(&made); err != nil {
			for _, rest := range all[i:] {
				os.Remove(rest.tmp)
			}
			if rerr := rollback(dir, ordered[:i], made); rerr != nil {
				return fmt.Errorf("writing %s: %w; putting back what was already written failed too (%v): run the same command again to complete it", s.rel, unwrapLink(err), rerr)
			}
			return fmt.Errorf("writing %s: %w (the files already written were restored; nothing changed)", s.rel, unwrapLink(err))
		}
		dirs = append(dirs, filepath.Dir(s.final))
	}
	for _, d := range made {
		dirs = append(dirs, filepath.Dir(d)) // where the new directory's name is
	}
	// The renames must be durable before the journal goes; otherwise a power loss could undo
	// some of them with no journal left to redo them.
	if err := durable(dirs); err != nil {
		return fmt.Errorf("every file is written, but syncing failed: %w (the journal stays; the next daemongen run completes the change)", err)
	}
	if err := removeJournal(dir); err != nil {
		return fmt.Errorf("every file is written, but removing %s failed: %w (the next daemongen run removes it)", JournalName, err)
	}
	for _, c := range ordered {
		if c.Delete {
			removeEmptyParents(dir, c.Path)
		}
	}
	return nil
}

// removeEmptyParents removes the directories above rel, inside dir, that its deletion left
// empty: they held a file daemongen no longer generates, and git does not keep an empty
// directory anyway. It stops at the first that is not empty or is a symlink (the user's).
func removeEmptyParents(dir, rel string) {
	for d := filepath.Dir(filepath.FromSlash(rel)); d != "."; d = filepath.Dir(d) {
		p := filepath.Join(dir, d)
		if fi, err := os.Lstat(p); err != nil || !fi.IsDir() || os.Remove(p) != nil {
			return
		}
	}
}

// rollback undoes the changes already applied and removes the directories made for them, then
// drops the journal. If that fails the journal stays, and the next run completes the change.
func rollback(dir string, applied generator.Changes, made []string) error {
	var errs []error
	for _, c := range slices.Backward(applied) {
		p := filepath.Join(dir, filepath.FromSlash(c.Path))
		if c.Delete {
			if err := putFile(dir, c.Path, false, c.Old, nil); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if c.Old == nil {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		if err := putFile(dir, c.Path, true, c.Old, nil); err != nil {
			errs = append(errs, err)
		}
	}
	removeEmpty(made)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return removeJournal(dir)
}

// staged is a file's new content in a temporary file beside where it goes.
type staged struct {
	rel, tmp, final string
	create          bool // final must not exist: link, never replace
	remove          bool // final is removed; there is no tmp
}

// prepare stages content for the project file rel. An existing file is replaced where it really
// lives (a symlink stays a symlink, its target gets the content) and keeps its mode and, where
// permitted, its owner and group; a new file is created 0644 and never replaces one that
// appeared in the meantime. A new file's missing directories are made only by commit, after
// the commit point, so a run that dies before it leaves no empty directory: until then the
// file is staged in the nearest directory that exists (the same file system as the new ones).
func prepare(dir, rel string, exists bool, content []byte) (staged, error) {
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if !exists {
		tmp, err := stage(nearestDir(filepath.Dir(p)), rel, content, 0o644, nil)
		return staged{rel: rel, tmp: tmp, final: p, create: true}, err
	}
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		return staged{}, err
	}
	info, err := os.Stat(target)
	if err != nil {
		return staged{}, err
	}
	mode := info.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	tmp, err := stage(filepath.Dir(target), rel, content, mode, info)
	return staged{rel: rel, tmp: tmp, final: target}, err
}

// nearestDir returns d or its nearest ancestor that exists.
func nearestDir(d string) string {
	for {
		if _, err := os.Stat(d); err == nil || filepath.Dir(d) == d {
			return d
		}
		d = filepath.Dir(d)
	}
}

// commit moves the staged file into place: a rename, or for a new file a hard link, which
// fails if the file appeared in the meantime instead of replacing it. The directories it makes
// for a new file are appended to made, for a rollback to remove.
func (s staged) commit(made *[]string) error {
	if s.remove {
		if err := step("remove %s", s.rel); err != nil {
			return err
		}
		return removeFile(s.final)
	}
	if !s.create {
		if err := step("rename %s", s.rel); err != nil {
			os.Remove(s.tmp)
			return err
		}
		if err := os.Rename(s.tmp, s.final); err != nil {
			os.Remove(s.tmp)
			return err
		}
		return nil
	}
	defer os.Remove(s.tmp)
	dirs, err := mkdirAll(filepath.Dir(s.final))
	if made != nil {
		*made = append(*made, dirs...)
	}
	if err != nil {
		return err
	}
	if err := step("link %s", s.rel); err != nil {
		return err
	}
	if err := os.Link(s.tmp, s.final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &ChangedError{Path: s.rel}
		}
		// A file system without hard links: rename, after checking once more.
		if _, lerr := os.Lstat(s.final); !errors.Is(lerr, fs.ErrNotExist) {
			return &ChangedError{Path: s.rel}
		}
		return os.Rename(s.tmp, s.final)
	}
	return nil
}

// removeFile removes p; a file already gone is fine (the change is what was wanted).
func removeFile(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// putFile writes one project file durably (prepare, sync, commit, sync): for recovery and
// rollback, which handle few files.
func putFile(dir, rel string, exists bool, content []byte, made *[]string) error {
	s, err := prepare(dir, rel, exists, content)
	if err != nil {
		return err
	}
	if err := durable([]string{s.tmp}); err != nil {
		os.Remove(s.tmp)
		return err
	}
	if err := s.commit(made); err != nil {
		return err
	}
	return durable([]string{filepath.Dir(s.final)})
}

// stage writes content to a new temporary file in dir and returns its name. It does not sync:
// callers make a whole set of staged files durable at once (durable).
func stage(dir, rel string, content []byte, mode fs.FileMode, like fs.FileInfo) (string, error) {
	if err := step("stage %s", rel); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return "", unwrapLink(err)
	}
	_, werr := f.Write(content)
	cerr := f.Chmod(mode)
	if like != nil {
		keepOwner(f, like)
	}
	if err := errors.Join(werr, cerr, f.Close()); err != nil {
		os.Remove(f.Name())
		return "", unwrapLink(err)
	}
	return f.Name(), nil
}

// mkdirAll is os.MkdirAll that returns the directories it created, outermost first, so a
// failed run can remove them again.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	slices.Reverse(missing)
	var made []string
	for _, d := range missing {
		if err := step("mkdir %s", filepath.Base(d)); err != nil {
			return made, err
		}
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return made, err
		}
		made = append(made, d)
	}
	return made, nil
}

// removeEmpty removes the directories in made, innermost first, if they are empty.
func removeEmpty(made []string) {
	for _, d := range slices.Backward(made) {
		os.Remove(d) // fails, harmlessly, on a directory that is not empty
	}
}

// syncDir makes a rename or link in dir durable. Errors are ignored: some file systems cannot
// sync a directory, and the write itself has succeeded.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

// unwrapLink drops the names of temporary files from an error (*os.LinkError, or a
// *fs.PathError about one), which mean nothing to a user; callers name the project file.
func unwrapLink(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && strings.Contains(filepath.Base(pe.Path), tempPrefix) {
		return pe.Err
	}
	return err
}

// CheckNew reports what WriteNew would refuse, without writing anything: for --dry-run, which
// should fail when the real run would, with the same message.
func CheckNew(dir string, changes generator.Changes, force bool) error {
	exists, err := checkTarget(dir)
	if err != nil || !exists {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, JournalName)); err == nil {
		// What the real run does depends on the change it completes first, a write.
		return PendingError{Dir: dir}
	}
	return checkInto(dir, changes, force)
}

// PendingError refuses a dry run on a directory an interrupted run left half-changed: only
// completing that change, which a dry run may not do, would show what the real run writes.
type PendingError struct{ Dir string }

func (e PendingError) Error() string {
	return fmt.Sprintf("an interrupted daemongen run left a change half-applied in %s (daemongen status shows it); run the command without --dry-run or --check to complete it first", e.Dir)
}
